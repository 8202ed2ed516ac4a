// SPDX-License-Identifier: Apache-2.0
// Constant control throughput: readings applied per second by the occupancy estimator (target:
// 1 million/s on one core), plus the cost of validation, JSON parsing, a state snapshot and a
// full evaluation (rules + alerts). Every sensor of the venue (default: the concert-hall
// example) reports every 100 ms; 10 % of readings arrive up to 3 s late, 1 % are retries.
//   build/release/bench/bench_ops [VENUE.geojson] [--readings N] [--batch B]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "ops/monitor.hpp"
#include "venue/load.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vigil;
  std::string path = std::string(VIGIL_SOURCE_DIR) + "/examples/concert-hall.geojson";
  std::size_t n_readings = 4'000'000;
  std::size_t batch = 500;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--readings") == 0 && i + 1 < argc)
      n_readings = std::strtoul(argv[++i], nullptr, 10);
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
      switch (sensor.type) {
        case venue::SensorType::line_counter:
          r.kind = ops::ReadingKind::in_out;
          r.in = std::floor(u01(rng) * 3);
          r.out = std::floor(u01(rng) * 2.9);
          break;
        case venue::SensorType::zone_counter:
          r.kind = ops::ReadingKind::count;
          r.count = std::floor(100 + u01(rng) * 200);
          break;
        case venue::SensorType::density:
          r.kind = ops::ReadingKind::density;
          r.density = 0.5 + u01(rng);
          break;
      }
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
  return 0;
}
