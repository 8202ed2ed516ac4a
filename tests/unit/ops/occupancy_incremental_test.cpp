// SPDX-License-Identifier: Apache-2.0
// state() is incremental (it continues from its last result or a checkpoint): property tests
// against the full replay of the reorder window, bit for bit, under random interleavings of
// in-order appends, slightly and far out-of-order inserts, late readings behind the committed
// horizon, duplicates, sequence resets, zone counts, densities, commits mid-stream and health
// configuration changes.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "ops/occupancy.hpp"
#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using test::kT0;

// Bit-identical doubles (0.0 and -0.0 differ, as do NaNs with different payloads).
::testing::AssertionResult same_bits(const char* what, double a, double b) {
  if (std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": incremental " << a << " vs full replay " << b
                                       << " (difference " << a - b << ")";
}

// Every field of the two states; the first difference, named.
::testing::AssertionResult same_state(const VenueState& a, const VenueState& b) {
  auto fail = [](const std::string& what) { return ::testing::AssertionFailure() << what; };
#define VIGIL_SAME_BITS(what, x, y)                                 \
  do {                                                              \
    if (auto r = same_bits((what).c_str(), (x), (y)); !r) return r; \
  } while (0)
#define VIGIL_SAME(what, x, y)            \
  do {                                    \
    if (!((x) == (y))) return fail(what); \
  } while (0)
  VIGIL_SAME(std::string("venue"), a.venue, b.venue);
  VIGIL_SAME(std::string("at_ms"), a.at_ms, b.at_ms);
  VIGIL_SAME(std::string("started_ms"), a.started_ms, b.started_ms);
  VIGIL_SAME_BITS(std::string("occupancy"), a.occupancy, b.occupancy);
  VIGIL_SAME_BITS(std::string("net_entered"), a.net_entered, b.net_entered);
  VIGIL_SAME(std::string("zones.size"), a.zones.size(), b.zones.size());
  for (std::size_t i = 0; i < a.zones.size(); ++i) {
    const ZoneEstimate& x = a.zones[i];
    const ZoneEstimate& y = b.zones[i];
    const std::string z = "zone " + y.id + ".";
    VIGIL_SAME(z + "id", x.id, y.id);
    VIGIL_SAME(z + "use", x.use, y.use);
    VIGIL_SAME_BITS(z + "occupancy", x.occupancy, y.occupancy);
    VIGIL_SAME_BITS(z + "sigma", x.sigma, y.sigma);
    VIGIL_SAME_BITS(z + "area_m2", x.area_m2, y.area_m2);
    VIGIL_SAME_BITS(z + "capacity", x.capacity, y.capacity);
    VIGIL_SAME_BITS(z + "density_p_m2", x.density_p_m2, y.density_p_m2);
    VIGIL_SAME(z + "level_of_service", x.level_of_service, y.level_of_service);
    VIGIL_SAME_BITS(z + "capacity_pct", x.capacity_pct, y.capacity_pct);
    VIGIL_SAME_BITS(z + "trend_p_per_min", x.trend_p_per_min, y.trend_p_per_min);
    VIGIL_SAME(z + "last_measured_ms", x.last_measured_ms, y.last_measured_ms);
  }
  VIGIL_SAME(std::string("sensors.size"), a.sensors.size(), b.sensors.size());
  for (std::size_t i = 0; i < a.sensors.size(); ++i) {
    const SensorHealth& x = a.sensors[i];
    const SensorHealth& y = b.sensors[i];
    const std::string s = "sensor " + y.id + ".";
    VIGIL_SAME(s + "id", x.id, y.id);
    VIGIL_SAME(s + "type", x.type, y.type);
    VIGIL_SAME(s + "zone", x.zone, y.zone);
    VIGIL_SAME(s + "status", x.status, y.status);
    VIGIL_SAME(s + "last_seen_ms", x.last_seen_ms, y.last_seen_ms);
    VIGIL_SAME(s + "implausible", x.implausible, y.implausible);
    VIGIL_SAME(s + "rate_exceeded", x.rate_exceeded, y.rate_exceeded);
    VIGIL_SAME(s + "negative_occupancy", x.negative_occupancy, y.negative_occupancy);
    VIGIL_SAME(s + "disagrees", x.disagrees, y.disagrees);
    VIGIL_SAME(s + "reasons", x.reasons, y.reasons);
    VIGIL_SAME(s + "readings", x.readings, y.readings);
    VIGIL_SAME(s + "duplicates", x.duplicates, y.duplicates);
    VIGIL_SAME(s + "resets", x.resets, y.resets);
    VIGIL_SAME_BITS(s + "negative_persons", x.negative_persons, y.negative_persons);
  }
  VIGIL_SAME(std::string("disagreements.size"), a.disagreements.size(), b.disagreements.size());
  for (std::size_t i = 0; i < a.disagreements.size(); ++i) {
    const Disagreement& x = a.disagreements[i];
    const Disagreement& y = b.disagreements[i];
    const std::string d = "disagreement " + y.zone + ".";
    VIGIL_SAME(d + "zone", x.zone, y.zone);
    VIGIL_SAME(d + "sensor", x.sensor, y.sensor);
    VIGIL_SAME(d + "line_counters", x.line_counters, y.line_counters);
    VIGIL_SAME_BITS(d + "count", x.count, y.count);
    VIGIL_SAME_BITS(d + "flow_estimate", x.flow_estimate, y.flow_estimate);
    VIGIL_SAME(d + "since_ms", x.since_ms, y.since_ms);
    VIGIL_SAME(d + "active", x.active, y.active);
  }
#undef VIGIL_SAME
#undef VIGIL_SAME_BITS
  return ::testing::AssertionSuccess();
}

// Random telemetry for `venue`: a stream of batches, each a few readings around the current
// time, most in order, some out of order, some behind the committed horizon, some duplicated,
// some from a rebooted sensor.
class Stream {
 public:
  Stream(const venue::Venue& v, std::uint64_t seed) : venue_(v), rng_(seed) {
    seq_.assign(v.sensors.size(), 0);
    level_.assign(v.sensors.size(), 50.0);
  }

  // Each batch has a character: in order only (the cheap path), a little out of order
  // (concurrent clients: inserts near the buffer's end), some readings far back in the window
  // (inserts before most checkpoints), or one reading behind the committed horizon (late).
  std::vector<Reading> batch(TimeMs now, std::size_t n) {
    std::vector<Reading> out;
    const double mode = u(rng_);
    const bool jitter = mode >= 0.40;
    const bool far = mode >= 0.75 && mode < 0.90;
    const std::size_t late_at = mode >= 0.90 ? pick(n) : n;
    for (std::size_t k = 0; k < n; ++k) {
      if (u(rng_) < 0.03 && !sent_.empty()) {  // a retry of something sent lately (a duplicate)
        out.push_back(sent_[sent_.size() - 1 - pick(std::min<std::size_t>(sent_.size(), 50))]);
        continue;
      }
      const std::size_t s = pick(venue_.sensors.size());
      const venue::Sensor& sensor = venue_.sensors[s];
      Reading r;
      r.sensor = sensor.id;
      TimeMs ts = now;
      if (k == late_at) {
        ts -= 10'000 + static_cast<TimeMs>(u(rng_) * 20'000);  // behind the committed horizon
      } else if (far && u(rng_) < 0.1) {
        ts -= static_cast<TimeMs>(u(rng_) * 9'000);  // far back, still in the reorder window
      } else if (jitter && u(rng_) < 0.5) {
        ts -= static_cast<TimeMs>(u(rng_) * 40);  // a little out of order
      }
      r.ts_ms = ts;
      if (u(rng_) < 0.01) {
        seq_[s] = static_cast<std::int64_t>(pick(5));  // the device rebooted: seq restarts
        r.ts_ms = now;  // newer than its last reading, or the restart would look like a retry
      }
      r.seq = ++seq_[s];
      switch (sensor.type) {
        case venue::SensorType::line_counter:
          r.kind = ReadingKind::in_out;
          // Sometimes more out than in: clamps at zero (and negative evidence) happen.
          r.in = static_cast<double>(pick(6));
          r.out = static_cast<double>(pick(u(rng_) < 0.2 ? 40 : 6));
          break;
        case venue::SensorType::zone_counter: {
          r.kind = ReadingKind::count;
          double& lvl = level_[s];
          lvl = std::max(0.0, lvl + (u(rng_) - 0.5) * 30);
          // Now and then a jump (gated) or a reset to 0, the rest noisy around the level.
          r.count = u(rng_) < 0.05   ? 0
                    : u(rng_) < 0.05 ? std::floor(lvl + 200)
                                     : std::floor(lvl + (u(rng_) - 0.5) * 10);
          break;
        }
        case venue::SensorType::density:
          r.kind = ReadingKind::density;
          r.density = std::floor(u(rng_) * 300) / 100;  // 0 .. 3 persons/m²
          break;
      }
      out.push_back(r);
      sent_.push_back(r);
      if (sent_.size() > 2000) sent_.erase(sent_.begin(), sent_.begin() + 1000);
    }
    return out;
  }

  double u01() { return u(rng_); }
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

 private:
  const venue::Venue& venue_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> u{0.0, 1.0};
  std::vector<std::int64_t> seq_;
  std::vector<double> level_;
  std::vector<Reading> sent_;
};

// Two estimators fed the same readings at the same clock times: `a` answers with state()
// (incremental), `b` only ever with state_full_replay() (it never builds a replay it could
// reuse). Both commit at the same moments (apply() and both state calls commit up to now − 10 s),
// so the committed states agree and the two answers must agree bit for bit. `a` is also checked
// against its own full replay, which must leave its incremental state intact.
struct RunStats {
  std::size_t calls = 0;   // state() comparisons
  std::size_t late = 0;    // readings behind the committed horizon
  std::size_t resets = 0;  // sequence restarts
  std::size_t dups = 0;    // duplicates
  std::size_t health = 0;  // set_health_config calls
};

RunStats run_property(const venue::Venue& v, std::uint64_t seed, std::size_t steps,
                      std::size_t max_batch, TimeMs max_step_ms) {
  ManualClock clock(kT0);
  OccupancyEstimator a(v, clock);
  OccupancyEstimator b(v, clock);
  Stream stream(v, seed);
  RunStats run;
  for (std::size_t step = 0; step < steps; ++step) {
    // The clock moves on by a little (most steps: commits trickle, the buffer's front is erased
    // now and then), not at all, or rarely a lot (commits most or all of the window at once).
    const double x = stream.u01();
    clock.advance(x < 0.1     ? 0
                  : x < 0.997 ? static_cast<TimeMs>(stream.pick(max_step_ms + 1))
                              : static_cast<TimeMs>(stream.pick(15'000)));
    const std::vector<Reading> rs = stream.batch(clock.now_ms(), 1 + stream.pick(max_batch));
    const ApplyResult ra = a.apply(rs);
    const ApplyResult rb = b.apply(rs);
    EXPECT_EQ(ra.accepted, rb.accepted);
    EXPECT_EQ(ra.late, rb.late);
    run.late += ra.late;
    run.resets += ra.resets;
    run.dups += ra.duplicates;
    if (stream.u01() < 0.01) {
      // Changes the zones' disagreement arithmetic (and the health ring size).
      HealthConfig h;
      // From "everything disagrees" to "nothing does", so the replayed window's disagreement
      // tracks differ between the old and the new thresholds.
      static constexpr double kPersons[] = {0, 5, 20, 60, 1e9};
      static constexpr double kPct[] = {0, 20, 90};
      h.disagree_persons = kPersons[stream.pick(std::size(kPersons))];
      h.disagree_pct = kPct[stream.pick(std::size(kPct))];
      h.negative_events = 1 + static_cast<int>(stream.pick(4));
      a.set_health_config(h);
      b.set_health_config(h);
      ++run.health;
    }
    // state() at random points (and so at random distances from the last one).
    if (stream.u01() < 0.4) {
      const VenueState sa = a.state();
      const VenueState sb = b.state_full_replay();
      ++run.calls;
      const auto same = same_state(sa, sb);
      if (!same) {
        ADD_FAILURE() << "seed " << seed << ", step " << step << ": " << same.message();
        return run;
      }
      if (stream.u01() < 0.1) {
        EXPECT_TRUE(same_state(a.state_full_replay(), sa)) << "seed " << seed << " step " << step;
        EXPECT_TRUE(same_state(a.state(), sa)) << "seed " << seed << " step " << step;
      }
    }
  }
  return run;
}

// The small test venue: two zones, a zone counter, a density sensor, three line counters
// (one between the zones), ~1,700 readings per second of clock time, so the window holds
// ~15,000 events and checkpoints (at multiples of 2,048 × 2^L) are made, thinned, invalidated
// and shifted by commits.
TEST(OccupancyIncremental, MatchesFullReplaySmallVenue) {
  const venue::Venue v = test::small_venue();
  RunStats total;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const RunStats r = run_property(v, seed, 3000, 60, 40);
    total.calls += r.calls;
    total.late += r.late;
    total.resets += r.resets;
    total.dups += r.dups;
    total.health += r.health;
    if (HasFailure()) return;
  }
  // The interleavings did exercise what they are meant to.
  EXPECT_GT(total.calls, 4000u);
  EXPECT_GT(total.late, 100u);
  EXPECT_GT(total.resets, 50u);
  EXPECT_GT(total.dups, 100u);
  EXPECT_GT(total.health, 20u);
}

// The concert hall (11 zones, 27 sensors), larger batches: a window of ~60,000 events, so the
// checkpoint grid has several levels.
TEST(OccupancyIncremental, MatchesFullReplayConcertHall) {
  const venue::Venue v = test::concert_hall();
  for (std::uint64_t seed = 100; seed < 102; ++seed) {
    run_property(v, seed, 1500, 120, 15);
    if (HasFailure()) return;
  }
}

// Only in-order appends and state() after each batch: the cheap path (continuing from the
// last result) stays exact over many commits and front erasures of the buffer.
TEST(OccupancyIncremental, AppendsOnlyStayExact) {
  const venue::Venue v = test::small_venue();
  ManualClock clock(kT0);
  OccupancyEstimator a(v, clock);
  OccupancyEstimator b(v, clock);
  std::vector<std::int64_t> seq(v.sensors.size(), 0);
  std::mt19937_64 rng(7);
  for (int step = 0; step < 4000; ++step) {
    clock.advance(5);
    std::vector<Reading> rs;
    for (std::size_t s = 0; s < v.sensors.size(); ++s) {
      const venue::Sensor& sensor = v.sensors[s];
      const auto r = static_cast<double>(rng() % 5);
      if (sensor.type == venue::SensorType::line_counter)
        rs.push_back(test::flow(sensor.id, ++seq[s], clock.now_ms(), r, 2));
      else if (sensor.type == venue::SensorType::zone_counter)
        rs.push_back(test::count(sensor.id, ++seq[s], clock.now_ms(), 40 + r));
      else
        rs.push_back(test::density(sensor.id, ++seq[s], clock.now_ms(), r / 10));
    }
    a.apply(rs);
    b.apply(rs);
    const auto same = same_state(a.state(), b.state_full_replay());
    ASSERT_TRUE(same) << "step " << step;
  }
}

// The clock jumps past the last snapshot: everything is committed and the buffer emptied, the
// snapshot is behind the committed state and must not be continued from (nor its position
// shifted below zero); then appends only, so nothing else would invalidate it.
TEST(OccupancyIncremental, CommitPastTheLastSnapshot) {
  const venue::Venue v = test::small_venue();
  ManualClock clock(kT0);
  OccupancyEstimator a(v, clock);
  OccupancyEstimator b(v, clock);
  std::int64_t seq = 0;
  auto feed = [&](int n) {
    for (int k = 0; k < n; ++k) {
      clock.advance(10);
      const std::vector<Reading> rs = {test::flow("lc-in", ++seq, clock.now_ms(), 3, 1),
                                       test::count("zc-hall", seq, clock.now_ms(), 20)};
      a.apply(rs);
      b.apply(rs);
    }
  };
  for (int round = 0; round < 3; ++round) {
    feed(5000);  // 10,000 buffered events: checkpoints exist
    ASSERT_TRUE(same_state(a.state(), b.state_full_replay())) << "round " << round;
    clock.advance(test::sec(25));  // commits all of it at the next apply
    feed(300);
    ASSERT_TRUE(same_state(a.state(), b.state_full_replay())) << "round " << round;
  }
}

}  // namespace
}  // namespace vigil::ops
