// SPDX-License-Identifier: Apache-2.0
#include "ops/occupancy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace vigil::ops {

char fruin_level_of_service(double d) {
  if (d < 0.31) return 'A';
  if (d < 0.43) return 'B';
  if (d < 0.72) return 'C';
  if (d < 1.08) return 'D';
  if (d <= 2.17) return 'E';
  return 'F';
}

const char* to_string(SensorStatus s) {
  switch (s) {
    case SensorStatus::ok:
      return "ok";
    case SensorStatus::stale:
      return "stale";
    case SensorStatus::silent:
      return "silent";
    case SensorStatus::implausible:
      return "implausible";
  }
  return "ok";
}

const ZoneEstimate* VenueState::zone(std::string_view zid) const {
  for (const ZoneEstimate& z : zones)
    if (z.id == zid) return &z;
  return nullptr;
}

const SensorHealth* VenueState::sensor(std::string_view sid) const {
  for (const SensorHealth& s : sensors)
    if (s.id == sid) return &s;
  return nullptr;
}

namespace {

constexpr TimeMs kNever = std::numeric_limits<TimeMs>::min();
constexpr std::int64_t kDedupWindow = 1024;  // seqs remembered per sensor
// Incremental snapshot (docs/occupancy.md, "Snapshots between commits"): checkpoints of the
// replayed state at buffer positions that are multiples of kCheckpointEvery × 2^L, where 2^L
// grows with the distance from the buffer's end (dense near the end, where out-of-order readings
// land, sparse further back), at most kMaxCheckpoints of them.
constexpr std::size_t kCheckpointEvery = 2048;
constexpr std::size_t kMaxCheckpoints = 16;
constexpr std::size_t kMaxSpare = 4;  // released checkpoint allocations kept for reuse

TimeMs to_ms(double s) { return static_cast<TimeMs>(std::llround(s * 1000.0)); }
double to_s(TimeMs ms) { return static_cast<double>(ms) / 1000.0; }

// Rounds for presentation (JSON): to `decimals` places.
double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

// Recent (sensor, seq) pairs of one sensor: the highest seq, and a bitmap of the 1024 below it.
struct Dedup {
  std::int64_t max_seq = -1;
  TimeMs ts_at_max = kNever;
  std::array<std::uint64_t, kDedupWindow / 64> bits{};

  bool test(std::int64_t s) const {
    const auto i = static_cast<std::size_t>(s % kDedupWindow);
    return (bits[i / 64] >> (i % 64)) & 1U;
  }
  void set(std::int64_t s) {
    const auto i = static_cast<std::size_t>(s % kDedupWindow);
    bits[i / 64] |= std::uint64_t{1} << (i % 64);
  }
  void clear(std::int64_t s) {
    const auto i = static_cast<std::size_t>(s % kDedupWindow);
    bits[i / 64] &= ~(std::uint64_t{1} << (i % 64));
  }
  void restart(std::int64_t s, TimeMs ts) {
    bits.fill(0);
    max_seq = s;
    ts_at_max = ts;
    set(s);
  }

  enum class Verdict { fresh, duplicate, reset };
  // A seq below the highest one but with a newer timestamp means the device restarted its
  // sequence (reboot): the window starts again there.
  Verdict check(std::int64_t s, TimeMs ts) {
    if (max_seq < 0) {
      restart(s, ts);
      return Verdict::fresh;
    }
    if (s > max_seq) {
      if (s - max_seq >= kDedupWindow) {
        bits.fill(0);
      } else {
        for (std::int64_t k = max_seq + 1; k <= s; ++k) clear(k);
      }
      set(s);
      max_seq = s;
      ts_at_max = ts;
      return Verdict::fresh;
    }
    if (ts > ts_at_max) {
      restart(s, ts);
      return Verdict::reset;
    }
    if (max_seq - s >= kDedupWindow) return Verdict::fresh;  // beyond the window: trust the store
    if (test(s)) return Verdict::duplicate;
    set(s);
    return Verdict::fresh;
  }
};

struct SensorInfo {
  std::string id;
  venue::SensorType type = venue::SensorType::zone_counter;
  int into = -1;  // zone index; -1 for "outside" / none
  int from = -1;
  int zone = -1;  // counter / density: measured zone
  double width_m = 0;
};

struct SensorRt {
  Dedup dedup;
  TimeMs last_seen = kNever;  // newest ts, capped at arrival time
  TimeMs last_ts = kNever;    // newest ts (for the rate check)
  TimeMs rate_flag_ms = kNever;
  double rate_value = 0;               // crossings/(m·s) of the last violation
  std::vector<TimeMs> negative_times;  // ring of the last `negative_events` clamp times
  std::size_t negative_next = 0;
  TimeMs negative_flag_ms = kNever;
  double negative_persons = 0;
  std::uint64_t readings = 0, duplicates = 0, resets = 0;
};

struct Bucket {
  std::int64_t sec = std::numeric_limits<std::int64_t>::min();
  double sum = 0;
};

struct ZoneRt {
  double x = 0;           // estimate (persons)
  double var = 0;         // its variance
  bool anchored = false;  // an absolute measurement has been applied
  TimeMs updated = kNever;
  TimeMs last_measured = kNever;
  TimeMs gate_since = kNever;  // a held-back jump started here ...
  int gate_sign = 0;           // ... in this direction
  int innovation_sign = 0;     // of the last measurements' surprises ...
  int innovation_run = 0;      // ... and how many in a row had it
  // Flow-only track for "counters that disagree".
  double xf = 0;
  bool xf_anchored = false;
  TimeMs xf_ts = kNever;
  TimeMs disagree_since = kNever;
  double last_count = 0;
  TimeMs last_count_ts = kNever;
  int count_sensor = -1;
  std::vector<Bucket> trend;  // 1 s buckets of the net change, ring indexed by second
};

// A reading reduced to what the estimator integrates. For counts `a` is persons (density ×
// area already applied); for flows `a` = in, `b` = out.
struct Event {
  TimeMs ts;
  std::uint32_t sensor;
  double a;
  double b;
  // At the same timestamp flows come first: a line counter's crossings up to ts are already
  // in a zone count taken at ts, so the count must be applied after them, not before.
  bool measurement;
};

// Buffer order: by time, flows before measurements of the same time, otherwise as they came.
bool event_before(const Event& x, const Event& y) {
  return x.ts != y.ts ? x.ts < y.ts : (!x.measurement && y.measurement);
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

struct OccupancyEstimator::Impl {
  const Clock& clock;
  EstimatorConfig cfg;
  std::string venue_id;
  std::vector<venue::Zone> zone_defs;  // polygons dropped
  std::vector<SensorInfo> sensors;
  std::vector<std::vector<std::uint32_t>> zone_line_counters;  // per zone
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> sensor_index;

  std::vector<SensorRt> srt;
  std::vector<ZoneRt> zones;  // committed state
  double net_entered = 0;
  std::vector<Event> buffer;  // sorted by ts; [head, end) pending
  std::size_t head = 0;
  std::uint64_t erased = 0;  // events erased from the buffer's front so far

  // The committed state with buffer[head, idx) applied in buffer order: what state() shows
  // (idx = buffer.size()) and what it can continue from. Valid while nothing before idx has
  // changed: an insert at position p invalidates replays with idx > p, a late reading (applied to
  // `zones` directly) and a change of the arithmetic (set_health_config) invalidate all.
  // Committing events does not change them (committed + buffer[head, idx) is the same sum), so
  // commit() only drops those it passes and shifts the positions when the front is erased.
  struct Replay {
    std::size_t idx = 0;
    std::vector<ZoneRt> zs;
    double net = 0;
  };
  Replay tail;  // the newest replay (the end of the buffer at the last state())
  bool tail_valid = false;
  std::vector<Replay> checkpoints;  // sorted by idx, all <= tail.idx, each idx > head
  std::vector<Replay> spare;        // released checkpoints, their allocations reused
  TimeMs committed_until = kNever;
  std::int64_t bucket_mask = 0;
  TimeMs started = 0;

  Impl(const venue::Venue& v, const Clock& c, EstimatorConfig config)
      : clock(c), cfg(std::move(config)), venue_id(v.id), started(c.now_ms()) {
    auto zone_of = [&](const std::string& zid) -> int {
      for (std::size_t i = 0; i < v.zones.size(); ++i)
        if (v.zones[i].id == zid) return static_cast<int>(i);
      return -1;
    };
    for (const venue::Zone& z : v.zones) {
      venue::Zone copy = z;
      copy.polygon = {};
      zone_defs.push_back(std::move(copy));
    }
    zone_line_counters.resize(v.zones.size());
    for (const venue::Sensor& s : v.sensors) {
      SensorInfo info;
      info.id = s.id;
      info.type = s.type;
      if (s.type == venue::SensorType::line_counter) {
        info.into = zone_of(s.into);
        info.from = zone_of(s.from);
        info.width_m = s.line.length();
        const auto idx = static_cast<std::uint32_t>(sensors.size());
        if (info.into >= 0) zone_line_counters[static_cast<std::size_t>(info.into)].push_back(idx);
        if (info.from >= 0) zone_line_counters[static_cast<std::size_t>(info.from)].push_back(idx);
      } else {
        info.zone = zone_of(s.zone);
      }
      sensor_index.emplace(s.id, static_cast<std::uint32_t>(sensors.size()));
      sensors.push_back(std::move(info));
    }
    srt.resize(sensors.size());
    // The trend ring covers the trend window, the reorder window and readings up to 5 min ahead.
    const auto span_s =
        static_cast<std::int64_t>(std::ceil(cfg.trend_window_s + cfg.reorder_window_s) + 300 + 2);
    std::int64_t n = 1;
    while (n < span_s) n <<= 1;
    bucket_mask = n - 1;
    zones.resize(zone_defs.size());
    for (std::size_t i = 0; i < zones.size(); ++i) {
      zones[i].var = cfg.initial_var;
      zones[i].trend.resize(static_cast<std::size_t>(n));
    }
    for (std::size_t i = 0; i < sensors.size(); ++i) {
      const SensorInfo& s = sensors[i];
      if (s.type == venue::SensorType::zone_counter && s.zone >= 0 &&
          zones[static_cast<std::size_t>(s.zone)].count_sensor < 0)
        zones[static_cast<std::size_t>(s.zone)].count_sensor = static_cast<int>(i);
    }
    reset_health_buffers();
  }

  void reset_health_buffers() {
    const auto n = static_cast<std::size_t>(std::max(1, cfg.health.negative_events));
    for (SensorRt& r : srt) {
      r.negative_times.assign(n, kNever);
      r.negative_next = 0;
    }
  }

  // ---- per-zone arithmetic (shared by the committed state and the snapshot replay) ----

  void trend_add(ZoneRt& z, TimeMs ts, double delta) const {
    if (delta == 0) return;
    const std::int64_t sec = ts >= 0 ? ts / 1000 : (ts - 999) / 1000;
    Bucket& b = z.trend[static_cast<std::size_t>(sec & bucket_mask)];
    if (b.sec == sec) {
      b.sum += delta;
    } else if (sec > b.sec) {
      b.sec = sec;
      b.sum = delta;
    }  // else: older than the ring, dropped from the trend
  }

  void predict(ZoneRt& z, TimeMs ts) const {
    if (z.updated != kNever && ts > z.updated)
      z.var += cfg.process_var_per_s * to_s(ts - z.updated);
    if (z.updated == kNever || ts > z.updated) z.updated = ts;
  }

  // Adds `delta` persons (a flow of `crossings` counted crossings) to zone `zi`; returns the
  // implied deficit when the result would have been negative (it is clamped at 0).
  double add_flow(ZoneRt& z, TimeMs ts, double delta, double crossings) const {
    predict(z, ts);
    z.var += cfg.flow_var_per_crossing * crossings;
    const double before = z.x;
    z.x += delta;
    double deficit = 0;
    if (z.x < 0) {
      deficit = -z.x;
      z.x = 0;
    }
    trend_add(z, ts, z.x - before);
    z.xf = std::max(0.0, z.xf + delta);
    return deficit;
  }

  void apply_measurement(ZoneRt& z, const SensorInfo& s, std::uint32_t sensor, TimeMs ts,
                         double c) const {
    predict(z, ts);
    const bool is_counter = s.type == venue::SensorType::zone_counter;
    const double sigma = is_counter ? cfg.count_sigma_abs + cfg.count_sigma_rel * c
                                    : cfg.density_sigma_abs + cfg.density_sigma_rel * c;
    const double r = std::max(sigma * sigma, 1e-9);
    if (!z.anchored) {
      z.x = c;
      z.var = r;
      z.anchored = true;
    } else {
      const double innovation = c - z.x;
      const double gate = std::max(cfg.gate_abs, cfg.gate_rel * std::max(z.x, c));
      if (std::abs(innovation) > gate) {
        const int sign = innovation > 0 ? 1 : -1;
        if (z.gate_since == kNever || z.gate_sign != sign) {
          z.gate_since = ts;
          z.gate_sign = sign;
        }
        if (to_s(ts - z.gate_since) >= cfg.gate_hold_s) {  // it persists: believe it
          z.x = c;
          z.var = r;
          z.gate_since = kNever;
        }
      } else {
        z.gate_since = kNever;
        // Covariance matching: a surprise this large means movement the model did not see.
        const double s2 = cfg.adapt_sigmas * cfg.adapt_sigmas * (z.var + r);
        if (cfg.adapt_sigmas > 0 && innovation * innovation > s2) {
          z.var = std::max(z.var, innovation * innovation - r);
        }
        // Surprises of one sign, measurement after measurement, are not noise but a movement
        // the flows do not see (people leaving through uncounted openings): follow the counts.
        const int sign = innovation > 0 ? 1 : innovation < 0 ? -1 : 0;
        z.innovation_run = sign != 0 && sign == z.innovation_sign ? z.innovation_run + 1 : 1;
        z.innovation_sign = sign;
        double min_gain = is_counter ? cfg.count_min_gain : cfg.density_min_gain;
        if (cfg.trend_runs > 0 && z.innovation_run >= cfg.trend_runs) {
          min_gain = std::max(min_gain, is_counter ? cfg.count_trend_gain : cfg.density_trend_gain);
        }
        const double k = std::max(z.var / (z.var + r), min_gain);
        const double before = z.x;
        z.x = std::max(0.0, z.x + k * innovation);
        z.var = (1 - k) * (1 - k) * z.var + k * k * r;
        trend_add(z, ts, z.x - before);
      }
    }
    if (z.last_measured == kNever || ts > z.last_measured) z.last_measured = ts;
    if (is_counter && static_cast<int>(sensor) == z.count_sensor) update_disagreement(z, ts, c);
  }

  void update_disagreement(ZoneRt& z, TimeMs ts, double c) const {
    z.last_count = c;
    z.last_count_ts = std::max(z.last_count_ts, ts);
    if (!z.xf_anchored) {
      z.xf = c;
      z.xf_anchored = true;
      z.xf_ts = ts;
      return;
    }
    const double d = std::abs(c - z.xf);
    const HealthConfig& h = cfg.health;
    if (d > h.disagree_persons && d > h.disagree_pct / 100.0 * std::max(c, z.xf)) {
      if (z.disagree_since == kNever) z.disagree_since = ts;
    } else {
      z.disagree_since = kNever;
    }
    if (ts > z.xf_ts) {
      const double a = 1.0 - std::exp(-to_s(ts - z.xf_ts) / cfg.disagree_anchor_tau_s);
      z.xf += a * (c - z.xf);
      z.xf_ts = ts;
    }
  }

  // Applies one event to `zs` and `net`; `evidence` (the committed pass only) records clamps
  // against the sensor.
  void apply_event(std::vector<ZoneRt>& zs, double& net_in, const Event& e, bool evidence) {
    const SensorInfo& s = sensors[e.sensor];
    if (s.type == venue::SensorType::line_counter) {
      const double net = e.a - e.b;
      const double crossings = e.a + e.b;
      double deficit = 0;
      if (s.into >= 0)
        deficit += add_flow(zs[static_cast<std::size_t>(s.into)], e.ts, net, crossings);
      if (s.from >= 0)
        deficit += add_flow(zs[static_cast<std::size_t>(s.from)], e.ts, -net, crossings);
      if (s.from < 0) net_in += net;
      if (s.into < 0) net_in -= net;
      if (evidence && deficit >= cfg.health.negative_min_persons)
        record_negative(e.sensor, e.ts, deficit);
    } else if (s.zone >= 0) {
      apply_measurement(zs[static_cast<std::size_t>(s.zone)], s, e.sensor, e.ts, e.a);
    }
  }

  void record_negative(std::uint32_t sensor, TimeMs ts, double deficit) {
    SensorRt& r = srt[sensor];
    r.negative_persons += deficit;
    const std::size_t n = r.negative_times.size();
    r.negative_times[r.negative_next] = ts;
    r.negative_next = (r.negative_next + 1) % n;
    // The oldest of the last n clamps is at negative_next now.
    const TimeMs oldest = r.negative_times[r.negative_next];
    if (oldest != kNever && to_s(ts - oldest) <= cfg.health.negative_window_s)
      r.negative_flag_ms = std::max(r.negative_flag_ms, ts);
  }

  void commit(TimeMs horizon) {
    const std::size_t head_before = head;
    while (head < buffer.size() && buffer[head].ts < horizon)
      apply_event(zones, net_entered, buffer[head++], true);
    if (head != head_before) {
      // A replay at or before the new head is still right (committed events are the same sum)
      // but worth no more than the committed state, and its position would not survive the
      // erase below: drop it (the tail only when it is behind).
      std::size_t k = 0;
      while (k < checkpoints.size() && checkpoints[k].idx <= head) ++k;
      release_checkpoints(0, k);
      if (tail_valid && tail.idx < head) tail_valid = false;
    }
    if (head > 4096 && head * 2 > buffer.size()) {
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(head));
      shift_replays(head);
      head = 0;
    }
    if (head == buffer.size()) {
      buffer.clear();
      shift_replays(head);
      head = 0;
    }
    committed_until = std::max(committed_until, horizon);
  }

  // ---- the incremental snapshot ----

  // `n` events were erased from the buffer's front (all at positions below every replay's idx,
  // which stays > head, or = head for the tail).
  void shift_replays(std::size_t n) {
    erased += n;
    for (Replay& c : checkpoints) c.idx -= n;
    if (tail_valid) tail.idx -= n;
  }

  void release_checkpoints(std::size_t from, std::size_t to) {
    if (from >= to) return;
    for (std::size_t k = from; k < to && spare.size() < kMaxSpare; ++k)
      spare.push_back(std::move(checkpoints[k]));
    checkpoints.erase(checkpoints.begin() + static_cast<std::ptrdiff_t>(from),
                      checkpoints.begin() + static_cast<std::ptrdiff_t>(to));
  }

  // Something changed at buffer position `p`: replays past it are stale.
  void invalidate_from(std::size_t p) {
    std::size_t k = checkpoints.size();
    while (k > 0 && checkpoints[k - 1].idx > p) --k;
    release_checkpoints(k, checkpoints.size());
    if (tail_valid && tail.idx > p) tail_valid = false;
  }

  void invalidate_all() {
    release_checkpoints(0, checkpoints.size());
    tail_valid = false;
  }

  // Whether position i is a checkpoint position when the buffer ends at `end`: a multiple of
  // kCheckpointEvery × 2^L, with 2^L the largest power of two such that kCheckpointEvery × 2^L
  // <= end − i. About one checkpoint per power of two of distance survives; a position that
  // leaves the grid as the end moves on stays off it.
  bool on_grid(std::size_t i, std::size_t end) const {
    const std::uint64_t pos = erased + i;
    if (pos % kCheckpointEvery != 0) return false;
    const std::size_t d = end - i;
    std::uint64_t spacing = kCheckpointEvery;
    while (spacing * 2 <= d) spacing *= 2;
    return pos % spacing == 0;
  }

  void save_checkpoint(const Replay& from) {
    Replay c;
    if (!spare.empty()) {
      c = std::move(spare.back());
      spare.pop_back();
    }
    c.idx = from.idx;
    c.zs = from.zs;  // element-wise: reuses the trend rings' allocations
    c.net = from.net;
    checkpoints.push_back(std::move(c));
  }

  // The committed state plus every pending event, continued from the newest valid replay.
  const Replay& replay_to_end() {
    const std::size_t end = buffer.size();
    if (!tail_valid) {
      if (!checkpoints.empty()) {
        tail.idx = checkpoints.back().idx;
        tail.zs = checkpoints.back().zs;
        tail.net = checkpoints.back().net;
      } else {
        tail.idx = head;
        tail.zs = zones;
        tail.net = net_entered;
      }
      tail_valid = true;
    }
    for (;;) {
      if (tail.idx > head && on_grid(tail.idx, end) &&
          (checkpoints.empty() || checkpoints.back().idx < tail.idx))
        save_checkpoint(tail);
      if (tail.idx == end) break;
      apply_event(tail.zs, tail.net, buffer[tail.idx], false);
      ++tail.idx;
    }
    // Thin out: keep the positions still on the grid, and at most kMaxCheckpoints (the newest).
    std::size_t kept = 0;
    for (std::size_t k = 0; k < checkpoints.size(); ++k) {
      if (on_grid(checkpoints[k].idx, end)) {
        if (kept != k) std::swap(checkpoints[kept], checkpoints[k]);
        ++kept;
      }
    }
    release_checkpoints(kept, checkpoints.size());
    if (checkpoints.size() > kMaxCheckpoints)
      release_checkpoints(0, checkpoints.size() - kMaxCheckpoints);
    return tail;
  }

  ApplyResult apply(std::span<const Reading> readings) {
    ApplyResult res;
    const TimeMs now = clock.now_ms();
    commit(now - to_ms(cfg.reorder_window_s));
    for (const Reading& rd : readings) {
      auto it = sensor_index.find(std::string_view(rd.sensor));
      if (it == sensor_index.end()) {
        ++res.rejected;
        continue;
      }
      const std::uint32_t si = it->second;
      const SensorInfo& s = sensors[si];
      if (reading_kind_for(s.type) != rd.kind) {
        ++res.rejected;
        continue;
      }
      const double a = rd.kind == ReadingKind::in_out  ? rd.in
                       : rd.kind == ReadingKind::count ? rd.count
                                                       : rd.density;
      const double b = rd.kind == ReadingKind::in_out ? rd.out : 0.0;
      if (!std::isfinite(a) || !std::isfinite(b) || a < 0 || b < 0 || rd.seq < 0) {
        ++res.rejected;
        continue;
      }
      SensorRt& r = srt[si];
      switch (r.dedup.check(rd.seq, rd.ts_ms)) {
        case Dedup::Verdict::duplicate:
          ++res.duplicates;
          ++r.duplicates;
          continue;
        case Dedup::Verdict::reset:
          ++res.resets;
          ++r.resets;
          break;
        case Dedup::Verdict::fresh:
          break;
      }
      ++res.accepted;
      ++r.readings;
      r.last_seen = std::max(r.last_seen, std::min(rd.ts_ms, now));
      if (s.type == venue::SensorType::line_counter) check_rate(s, r, rd);
      r.last_ts = std::max(r.last_ts, rd.ts_ms);

      Event e{rd.ts_ms, si, a, b, s.type != venue::SensorType::line_counter};
      if (rd.kind == ReadingKind::density) {
        const double area = s.zone >= 0 ? zone_defs[static_cast<std::size_t>(s.zone)].area_m2 : 0;
        if (area <= 0) continue;  // cannot turn a density into persons: health only
        e.a = a * area;
      }
      if (rd.ts_ms < committed_until) {
        ++res.late;
        apply_event(zones, net_entered, e, true);
        invalidate_all();  // every replay started from the committed state without it
      } else if (buffer.size() == head || !event_before(e, buffer.back())) {
        buffer.push_back(e);
      } else {
        auto pos = std::upper_bound(buffer.begin() + static_cast<std::ptrdiff_t>(head),
                                    buffer.end(), e, event_before);
        invalidate_from(static_cast<std::size_t>(pos - buffer.begin()));
        buffer.insert(pos, e);
      }
    }
    return res;
  }

  void check_rate(const SensorInfo& s, SensorRt& r, const Reading& rd) const {
    if (s.width_m <= 0) return;
    double interval_s = cfg.health.min_rate_interval_s;
    if (r.last_ts != kNever && rd.ts_ms > r.last_ts)
      interval_s = std::max(interval_s, to_s(rd.ts_ms - r.last_ts));
    const double rate = (rd.in + rd.out) / (s.width_m * interval_s);
    if (rate > cfg.health.max_flow_p_per_m_s) {
      r.rate_flag_ms = std::max(r.rate_flag_ms, std::min(rd.ts_ms, clock.now_ms()));
      r.rate_value = rate;
    }
  }

  VenueState state() {
    const TimeMs now = clock.now_ms();
    commit(now - to_ms(cfg.reorder_window_s));
    const Replay& r = replay_to_end();
    return make_state(now, r.zs, r.net);
  }

  // What state() computed before it was incremental: a copy of the committed state and every
  // pending event replayed on it. Leaves the replays alone.
  VenueState state_full_replay() {
    const TimeMs now = clock.now_ms();
    commit(now - to_ms(cfg.reorder_window_s));
    std::vector<ZoneRt> zs = zones;
    double net = net_entered;
    for (std::size_t i = head; i < buffer.size(); ++i) apply_event(zs, net, buffer[i], false);
    return make_state(now, zs, net);
  }

  VenueState make_state(TimeMs now, const std::vector<ZoneRt>& zs, double net) const {
    VenueState st;
    st.venue = venue_id;
    st.at_ms = now;
    st.started_ms = started;
    st.net_entered = net;
    const std::int64_t now_s = now >= 0 ? now / 1000 : (now - 999) / 1000;
    const double window_s = std::max(1.0, cfg.trend_window_s);
    const auto window_whole_s = static_cast<std::int64_t>(std::ceil(window_s));
    for (std::size_t i = 0; i < zs.size(); ++i) {
      const venue::Zone& def = zone_defs[i];
      const ZoneRt& z = zs[i];
      ZoneEstimate e;
      e.id = def.id;
      e.use = def.use;
      e.occupancy = z.x;
      e.sigma = std::sqrt(std::max(0.0, z.var));
      e.area_m2 = def.area_m2;
      e.capacity = def.capacity;
      e.density_p_m2 = def.area_m2 > 0 ? z.x / def.area_m2 : 0;
      e.level_of_service = fruin_level_of_service(e.density_p_m2);
      e.capacity_pct = def.capacity > 0 ? 100.0 * z.x / def.capacity : 0;
      double change = 0;
      for (const Bucket& b : z.trend)
        if (b.sec > now_s - window_whole_s && b.sec <= now_s) change += b.sum;
      e.trend_p_per_min = change * 60.0 / window_s;
      if (z.last_measured != kNever) e.last_measured_ms = z.last_measured;
      st.occupancy += z.x;
      st.zones.push_back(std::move(e));

      if (z.count_sensor >= 0 && !zone_line_counters[i].empty() && z.xf_anchored &&
          z.disagree_since != kNever) {
        Disagreement d;
        d.zone = def.id;
        d.sensor = sensors[static_cast<std::size_t>(z.count_sensor)].id;
        for (std::uint32_t lc : zone_line_counters[i]) d.line_counters.push_back(sensors[lc].id);
        d.count = z.last_count;
        d.flow_estimate = z.xf;
        d.since_ms = z.disagree_since;
        // Judged on the counter's own readings: a counter that stops reporting does not keep
        // accumulating disagreement (it goes stale instead).
        d.active = to_s(z.last_count_ts - z.disagree_since) >= cfg.health.disagree_for_s;
        st.disagreements.push_back(std::move(d));
      }
    }

    const HealthConfig& h = cfg.health;
    for (std::size_t i = 0; i < sensors.size(); ++i) {
      const SensorInfo& s = sensors[i];
      const SensorRt& r = srt[i];
      SensorHealth sh;
      sh.id = s.id;
      sh.type = s.type;
      const int zi = s.type == venue::SensorType::line_counter ? s.into : s.zone;
      if (zi >= 0) sh.zone = zone_defs[static_cast<std::size_t>(zi)].id;
      sh.readings = r.readings;
      sh.duplicates = r.duplicates;
      sh.resets = r.resets;
      sh.negative_persons = r.negative_persons;
      sh.rate_exceeded =
          r.rate_flag_ms != kNever && to_s(now - r.rate_flag_ms) < h.implausible_hold_s;
      sh.negative_occupancy =
          r.negative_flag_ms != kNever && to_s(now - r.negative_flag_ms) < h.implausible_hold_s;
      if (sh.rate_exceeded) {
        sh.reasons.push_back(fmt::format(
            "{:.1f} crossings per metre and second, above the {:g} a {:.1f} m line allows",
            r.rate_value, h.max_flow_p_per_m_s, s.width_m));
      }
      if (sh.negative_occupancy) {
        sh.reasons.push_back(
            fmt::format("its counts implied negative occupancy {} times within {:g} s ({:.0f} "
                        "persons in total)",
                        h.negative_events, h.negative_window_s, r.negative_persons));
      }
      for (const Disagreement& d : st.disagreements) {
        if (!d.active || d.sensor != s.id) continue;
        sh.disagrees = true;
        sh.reasons.push_back(fmt::format(
            "counts {:.0f} in zone \"{}\" while its line counters imply {:.0f}, since {}", d.count,
            d.zone, d.flow_estimate, format_time(d.since_ms)));
      }
      sh.implausible = !sh.reasons.empty();
      if (r.last_seen != kNever) sh.last_seen_ms = r.last_seen;
      const double age_s = r.last_seen == kNever ? INFINITY : to_s(now - r.last_seen);
      if (age_s >= h.silent_after_s) {
        sh.status = SensorStatus::silent;
      } else if (age_s >= h.stale_after_s) {
        sh.status = SensorStatus::stale;
      } else if (sh.implausible) {
        sh.status = SensorStatus::implausible;
      } else {
        sh.status = SensorStatus::ok;
      }
      st.sensors.push_back(std::move(sh));
    }
    return st;
  }
};

OccupancyEstimator::OccupancyEstimator(const venue::Venue& venue, const Clock& clock,
                                       EstimatorConfig config)
    : impl_(std::make_unique<Impl>(venue, clock, std::move(config))) {}
OccupancyEstimator::~OccupancyEstimator() = default;
OccupancyEstimator::OccupancyEstimator(OccupancyEstimator&&) noexcept = default;
OccupancyEstimator& OccupancyEstimator::operator=(OccupancyEstimator&&) noexcept = default;

ApplyResult OccupancyEstimator::apply(std::span<const Reading> readings) {
  return impl_->apply(readings);
}
VenueState OccupancyEstimator::state() { return impl_->state(); }
VenueState OccupancyEstimator::state_full_replay() { return impl_->state_full_replay(); }
const EstimatorConfig& OccupancyEstimator::config() const { return impl_->cfg; }
void OccupancyEstimator::set_health_config(const HealthConfig& health) {
  const bool resize = health.negative_events != impl_->cfg.health.negative_events;
  impl_->cfg.health = health;
  if (resize) impl_->reset_health_buffers();
  // The disagreement thresholds are part of the zones' arithmetic: replay with the new ones.
  impl_->invalidate_all();
}

nlohmann::json to_json(const VenueState& s) {
  using nlohmann::json;
  json zones = json::object();
  long long total = 0;
  for (const ZoneEstimate& z : s.zones) {
    const long long occ = std::llround(z.occupancy);
    total += occ;
    json jz = {{"occupancy", occ},
               {"density_p_m2", round_to(z.density_p_m2, 2)},
               {"level_of_service", std::string(1, z.level_of_service)},
               {"capacity_pct", round_to(z.capacity_pct, 1)},
               {"trend_p_per_min", round_to(z.trend_p_per_min, 1)},
               {"uncertainty", round_to(z.sigma, 1)},
               {"capacity", z.capacity},
               {"area_m2", round_to(z.area_m2, 1)}};
    jz["last_measured"] = z.last_measured_ms ? json(format_time(*z.last_measured_ms)) : json();
    zones[z.id] = std::move(jz);
  }
  json sensors = json::object();
  for (const SensorHealth& h : s.sensors) {
    json js = {{"last_seen", h.last_seen_ms ? json(format_time(*h.last_seen_ms)) : json()},
               {"status", to_string(h.status)},
               {"type", venue::to_string(h.type)},
               {"implausible", h.implausible},
               {"readings", h.readings},
               {"duplicates", h.duplicates},
               {"resets", h.resets}};
    if (!h.reasons.empty()) js["reasons"] = h.reasons;
    sensors[h.id] = std::move(js);
  }
  json dis = json::array();
  for (const Disagreement& d : s.disagreements) {
    dis.push_back({{"zone", d.zone},
                   {"sensor", d.sensor},
                   {"line_counters", d.line_counters},
                   {"count", round_to(d.count, 1)},
                   {"flow_estimate", round_to(d.flow_estimate, 1)},
                   {"since", format_time(d.since_ms)},
                   {"active", d.active}});
  }
  return {{"venue", s.venue},
          {"at", format_time(s.at_ms)},
          {"occupancy", total},
          {"net_entered", std::llround(s.net_entered)},
          {"zones", std::move(zones)},
          {"sensors", std::move(sensors)},
          {"disagreements", std::move(dis)}};
}

}  // namespace vigil::ops
