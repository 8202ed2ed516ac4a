// SPDX-License-Identifier: Apache-2.0
// Constant control throughput: readings applied per second by the occupancy estimator (target:
// 1 million/s on one core), plus the cost of validation, JSON parsing, a state snapshot and a
// full evaluation (rules + alerts). Every sensor of the venue (default: the concert-hall
// example) reports every 100 ms; 10 % of readings arrive up to 3 s late, 1 % are retries.
// A second case ("high rate") fills the 10 s reorder window at --rate readings/s of simulated
// time (default 200 000; many clients, so 30 % arrive up to 20 ms out of order, --hr-far
// (0.1 %) up to 3 s, 1 % are retries) and then calls state() after every batch of --hr-batch
// (100) readings for --hr-seconds (1) of simulated time, as the server does after each batch.
//   build/release/bench/bench_ops [VENUE.geojson] [--readings N] [--batch B] [--rate R]
//                                 [--hr-batch B] [--hr-seconds S] [--hr-far FRACTION]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "ops/monitor.hpp"
#include "ops/occupancy.hpp"
#include "venue/load.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

// Random values for a reading of a sensor of this type (timestamp and seq are the caller's).
void random_values(vigil::ops::Reading& r, vigil::venue::SensorType type, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u01(0, 1);
  switch (type) {
    case vigil::venue::SensorType::line_counter:
      r.kind = vigil::ops::ReadingKind::in_out;
      r.in = std::floor(u01(rng) * 3);
      r.out = std::floor(u01(rng) * 2.9);
      break;
    case vigil::venue::SensorType::zone_counter:
      r.kind = vigil::ops::ReadingKind::count;
      r.count = std::floor(100 + u01(rng) * 200);
      break;
    case vigil::venue::SensorType::density:
      r.kind = vigil::ops::ReadingKind::density;
      r.density = 0.5 + u01(rng);
      break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vigil;
  std::string path = std::string(VIGIL_SOURCE_DIR) + "/examples/concert-hall.geojson";
  std::size_t n_readings = 4'000'000;
  std::size_t batch = 500;
  double rate = 200'000;
  std::size_t hr_batch = 100;
  double hr_seconds = 1;
  double hr_far = 0.001;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--readings") == 0 && i + 1 < argc)
      n_readings = std::strtoul(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
      rate = std::max(1.0, std::strtod(argv[++i], nullptr));
    else if (std::strcmp(argv[i], "--hr-batch") == 0 && i + 1 < argc)
      hr_batch = std::max<std::size_t>(1, std::strtoul(argv[++i], nullptr, 10));
    else if (std::strcmp(argv[i], "--hr-far") == 0 && i + 1 < argc)
      hr_far = std::clamp(std::strtod(argv[++i], nullptr), 0.0, 0.3);
    else if (std::strcmp(argv[i], "--hr-seconds") == 0 && i + 1 < argc)
      hr_seconds = std::max(0.01, std::strtod(argv[++i], nullptr));
    else if (std::strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
      batch = std::max<std::size_t>(1, std::strtoul(argv[++i], nullptr, 10));
    else
      path = argv[i];
  }
  const venue::LoadResult loaded = venue::load_venue_file(path);
  if (!loaded.ok()) {
    for (const auto& issue : loaded.issues) std::fprintf(stderr, "%s\n", issue.to_string().c_str());
    return 1;
  }
  const venue::Venue& v = *loaded.venue;

  // Synthetic telemetry.
  const ops::TimeMs t0 = 1'700'000'000'000;
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> u01(0, 1);
  std::vector<ops::Reading> readings;
  readings.reserve(n_readings);
  std::vector<std::int64_t> seq(v.sensors.size(), 0);
  ops::TimeMs t = t0;
  while (readings.size() < n_readings) {
    t += 100;
    for (std::size_t s = 0; s < v.sensors.size() && readings.size() < n_readings; ++s) {
      const venue::Sensor& sensor = v.sensors[s];
      ops::Reading r;
      r.sensor = sensor.id;
      r.seq = ++seq[s];
      r.ts_ms = t;
      if (u01(rng) < 0.10) r.ts_ms -= static_cast<ops::TimeMs>(u01(rng) * 3000);  // late
      random_values(r, sensor.type, rng);
      readings.push_back(r);
      if (u01(rng) < 0.01 && readings.size() < n_readings) readings.push_back(r);  // a retry
    }
  }

  // Apply in batches, the clock following the telemetry.
  ops::ManualClock clock(t0);
  ops::Monitor monitor(v, clock);
  ops::ApplyResult total;
  const auto apply_start = Clock::now();
  for (std::size_t i = 0; i < readings.size(); i += batch) {
    const std::size_t n = std::min(batch, readings.size() - i);
    clock.set(readings[i + n - 1].ts_ms);
    const ops::ApplyResult r = monitor.apply(std::span<const ops::Reading>(&readings[i], n));
    total.accepted += r.accepted;
    total.duplicates += r.duplicates;
    total.late += r.late;
  }
  const double apply_s = seconds_since(apply_start);

  // Validation (what the server does before apply) on the same readings.
  const std::size_t n_validate = std::min<std::size_t>(readings.size(), 1'000'000);
  clock.set(t);
  const auto val_start = Clock::now();
  std::size_t errors = 0;
  for (std::size_t i = 0; i < n_validate; i += batch) {
    const std::size_t n = std::min(batch, n_validate - i);
    errors += monitor.validate(std::span<const ops::Reading>(&readings[i], n)).size();
  }
  const double validate_s = seconds_since(val_start);

  // JSON parsing of telemetry bodies.
  nlohmann::json body = {{"readings", nlohmann::json::array()}};
  for (std::size_t i = 0; i < batch && i < readings.size(); ++i)
    body["readings"].push_back(ops::to_json(readings[i]));
  const std::string text = body.dump();
  const int parse_rounds = 200;
  const auto parse_start = Clock::now();
  std::size_t parsed = 0;
  for (int k = 0; k < parse_rounds; ++k) {
    auto r = ops::parse_telemetry(nlohmann::json::parse(text));
    parsed += r ? r->size() : 0;
  }
  const double parse_s = seconds_since(parse_start);
  // The server's ingest path: simdjson first (falls back to the above only for bad bodies).
  const auto fast_start = Clock::now();
  std::size_t parsed_fast = 0;
  for (int k = 0; k < parse_rounds; ++k) {
    auto r = ops::parse_telemetry_fast(text);
    parsed_fast += r ? r->size() : 0;
  }
  const double fast_s = seconds_since(fast_start);

  // State snapshots and full evaluations (rules + alert engine), once per simulated second.
  std::vector<double> state_us, eval_us;
  for (int k = 0; k < 300; ++k) {
    clock.advance(1000);
    auto s0 = Clock::now();
    const ops::VenueState st = monitor.state();
    state_us.push_back(seconds_since(s0) * 1e6);
    s0 = Clock::now();
    const auto ev = monitor.evaluate();
    eval_us.push_back(seconds_since(s0) * 1e6);
    if (st.zones.empty() && ev.state.zones.empty()) std::printf("(no zones)\n");
  }

  std::printf("venue %s: %zu zones, %zu sensors\n", v.id.c_str(), v.zones.size(), v.sensors.size());
  std::printf(
      "apply     %zu readings in batches of %zu: %.3f s = %.2f M readings/s "
      "(accepted %zu, duplicates %zu, late %zu)\n",
      readings.size(), batch, apply_s, static_cast<double>(readings.size()) / apply_s / 1e6,
      total.accepted, total.duplicates, total.late);
  std::printf("validate  %zu readings: %.3f s = %.2f M readings/s (%zu errors)\n", n_validate,
              validate_s, static_cast<double>(n_validate) / validate_s / 1e6, errors);
  std::printf("parse     %zu readings from JSON (nlohmann + parse_telemetry): %.3f s = %.2f M "
              "readings/s\n",
              parsed, parse_s, static_cast<double>(parsed) / parse_s / 1e6);
  std::printf("parse     %zu readings from JSON (parse_telemetry_fast, simdjson): %.3f s = %.2f M "
              "readings/s\n",
              parsed_fast, fast_s, static_cast<double>(parsed_fast) / fast_s / 1e6);
  std::printf("state()   p50 %.1f us, p99 %.1f us\n", percentile(state_us, 0.5),
              percentile(state_us, 0.99));
  std::printf("evaluate  p50 %.1f us, p99 %.1f us (state + rules + alerts)\n",
              percentile(eval_us, 0.5), percentile(eval_us, 0.99));

  // High rate: a full reorder window, state() after every ingest batch.
  {
    ops::ManualClock hclock(t0);
    ops::OccupancyEstimator est(v, hclock);
    std::vector<std::int64_t> hseq(v.sensors.size(), 0);
    std::vector<ops::Reading> b;
    std::size_t next = 0;  // readings generated so far (their nominal time is next / rate)
    std::size_t sensor_rr = 0;
    const double window_s = est.config().reorder_window_s;
    auto make_batch = [&] {
      b.clear();
      while (b.size() < hr_batch) {
        const auto nominal =
            t0 + static_cast<ops::TimeMs>(static_cast<double>(next) * 1000.0 / rate);
        ++next;
        const std::size_t s = sensor_rr++ % v.sensors.size();
        const venue::Sensor& sensor = v.sensors[s];
        ops::Reading r;
        r.sensor = sensor.id;
        r.seq = ++hseq[s];
        r.ts_ms = nominal;
        const double x = u01(rng);
        if (x < hr_far) {
          r.ts_ms -= static_cast<ops::TimeMs>(u01(rng) * 3000);
        } else if (x < 0.30) {
          r.ts_ms -= static_cast<ops::TimeMs>(u01(rng) * 20);
        }
        random_values(r, sensor.type, rng);
        b.push_back(r);
        if (u01(rng) < 0.01 && b.size() < hr_batch) b.push_back(r);  // a retry
      }
      hclock.set(t0 + static_cast<ops::TimeMs>(static_cast<double>(next) * 1000.0 / rate));
    };
    // Fill the window (plus a second, so commits happen) without timing.
    const auto fill = static_cast<std::size_t>((window_s + 1) * rate);
    while (next < fill) {
      make_batch();
      est.apply(b);
    }
    double occ = est.state().occupancy;  // the first state() after the fill
    std::vector<double> st_us;
    double apply_total = 0, state_total = 0;
    std::size_t applied = 0;
    const auto end = next + static_cast<std::size_t>(hr_seconds * rate);
    const double cpu0 = cpu_seconds();
    while (next < end) {
      make_batch();
      auto s0 = Clock::now();
      est.apply(b);
      const auto s1 = Clock::now();
      occ += est.state().occupancy;
      const auto s2 = Clock::now();
      const double a_s = std::chrono::duration<double>(s1 - s0).count();
      const double st_s = std::chrono::duration<double>(s2 - s1).count();
      apply_total += a_s;
      state_total += st_s;
      st_us.push_back(st_s * 1e6);
      applied += b.size();
    }
    const double cpu = cpu_seconds() - cpu0;  // includes generating the readings
    std::printf(
        "high rate %.0f readings/s (simulated), window %.0f s = %.0f readings, batches of %zu, "
        "%.2f %% up to 3 s out of order, state() after each (%zu calls):\n",
        rate, window_s, window_s * rate, hr_batch, hr_far * 100, st_us.size());
    std::printf("  state() p50 %.1f us, p99 %.1f us, mean %.1f us\n", percentile(st_us, 0.5),
                percentile(st_us, 0.99), state_total / static_cast<double>(st_us.size()) * 1e6);
    std::printf(
        "  apply + state: %.3f s for %zu readings = %.3f M readings/s end to end "
        "(apply alone %.2f M/s); CPU %.2f us per reading incl. generation%s\n",
        apply_total + state_total, applied,
        static_cast<double>(applied) / (apply_total + state_total) / 1e6,
        static_cast<double>(applied) / apply_total / 1e6, cpu / static_cast<double>(applied) * 1e6,
        occ < 0 ? " (negative?)" : "");
  }
  return 0;
}
