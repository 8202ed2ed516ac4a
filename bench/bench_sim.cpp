// SPDX-License-Identifier: Apache-2.0
// Simulation throughput, comparable with the peer figures in ref/verification.md: a 100 m x
// 100 m room with four 2 m exits (one per wall; a larger square room when N does not fit at
// 3 persons/m^2, random placement keeping centres 0.4 m apart), N = 1,000, 10,000, 30,000 and
// 100,000 people, 200 steps of 0.05 s (CFSM) at 1 and 2 threads, and full evacuations of
// N = 1,000 and 10,000. Prints agent-steps per second and ms per step of the step loop
// (navigation field set-up excluded), the share of each stage, and the memory the run allocated
// at its peak per person (all heap allocations of simulate(), set-up included, counted by the
// global operator new below).
//   build/release/bench/bench_sim [--benchmark_filter=...]
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

// Heap accounting: bytes currently allocated and the peak since the last reset.
namespace heap {
std::atomic<long long> current{0};
std::atomic<long long> peak{0};
void reset_peak() { peak.store(current.load()); }
}  // namespace heap

void* operator new(std::size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (!p) throw std::bad_alloc();
  const long long now = heap::current.fetch_add(static_cast<long long>(malloc_usable_size(p))) +
                        static_cast<long long>(malloc_usable_size(p));
  long long seen = heap::peak.load();
  while (now > seen && !heap::peak.compare_exchange_weak(seen, now)) {
  }
  return p;
}
// GCC sees free() on memory from a (replaced) operator new; that is this file's own pairing.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  if (!p) return;
  heap::current.fetch_sub(static_cast<long long>(malloc_usable_size(p)));
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
#pragma GCC diagnostic pop

namespace {

using nlohmann::json;
using vigil::sim::RunResult;
using vigil::sim::Scenario;

json rect(double x0, double y0, double x1, double y1) {
  return json::array({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}});
}
json feature(json props, json geometry) {
  return {{"type", "Feature"}, {"properties", std::move(props)}, {"geometry", std::move(geometry)}};
}
json exit_line(const char* id, double x0, double y0, double x1, double y1) {
  return feature({{"kind", "exit"}, {"id", id}, {"level", 0}},
                 {{"type", "LineString"}, {"coordinates", {{x0, y0}, {x1, y1}}}});
}

// The side of the square room: 100 m, or larger so that N people fit at 3 persons/m^2.
double room_side_m(int people) {
  const double side = 100;
  return people <= 3 * (side - 2) * (side - 2) ? side : std::ceil(std::sqrt(people / 3.0)) + 2;
}

Scenario make_scenario(int people, double max_time_s) {
  const double a = room_side_m(people);
  const double mid = a / 2;
  json features = json::array();
  features.push_back(feature({{"kind", "area"}, {"level", 0}},
                             {{"type", "Polygon"}, {"coordinates", json::array({rect(0, 0, a, a)})}}));
  features.push_back(feature({{"kind", "zone"}, {"id", "hall"}, {"level", 0}},
                             {{"type", "Polygon"}, {"coordinates", json::array({rect(1, 1, a - 1, a - 1)})}}));
  features.push_back(exit_line("N", mid - 1, a, mid + 1, a));
  features.push_back(exit_line("S", mid - 1, 0, mid + 1, 0));
  features.push_back(exit_line("E", a, mid - 1, a, mid + 1));
  features.push_back(exit_line("W", 0, mid - 1, 0, mid + 1));
  json venue = {{"type", "FeatureCollection"},
                {"vigil", {{"format", "venue"}, {"version", 1}, {"id", "bench"}}},
                {"features", features}};
  json doc = {{"venue", venue}, {"seed", 1}, {"time_step_s", 0.05}, {"max_time_s", max_time_s},
              {"population", json::array({{{"zone", "hall"}, {"count", people}}})}};
  auto sc = vigil::sim::parse_scenario(doc, ".");
  if (!sc) {
    for (const auto& e : sc.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::abort();
  }
  return std::move(*sc);
}

void report(benchmark::State& state, const RunResult& r, long long peak_bytes) {
  const double loop_s = r.loop_wall_s();
  state.counters["room_m"] = room_side_m(static_cast<int>(r.agents));
  state.counters["agent_steps_per_s"] = loop_s > 0 ? static_cast<double>(r.agent_steps) / loop_s : 0;
  state.counters["ms_per_step"] = r.steps > 0 ? 1000 * loop_s / static_cast<double>(r.steps) : 0;
  state.counters["wall_s"] = r.wall_s;
  state.counters["bytes_per_agent"] = static_cast<double>(peak_bytes) / static_cast<double>(std::max<std::size_t>(r.agents, 1));
  state.counters["simulated_s"] = r.end_time_s;
  state.counters["evacuated"] = static_cast<double>(r.agents) - static_cast<double>(
      [&] { std::size_t n = 0; for (const auto& [k, c] : r.not_evacuated) n += c; return n; }());
  for (const auto& [name, s] : r.stage_wall_s) state.counters["share_" + name] = loop_s > 0 ? s / loop_s : 0;
}

void BM_Steps(benchmark::State& state) {
  const int people = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const Scenario sc = make_scenario(people, 200 * 0.05);
  auto agents = vigil::sim::place_population(sc, 1);
  if (!agents) {
    state.SkipWithError(agents.error().front().to_string().c_str());
    return;
  }
  vigil::sim::SimOptions opt;
  opt.threads = threads;
  RunResult last;
  long long peak = 0;
  for (auto _ : state) {
    const long long base = heap::current.load();
    heap::reset_peak();
    last = vigil::sim::simulate(sc, 1, *agents, opt);
    peak = heap::peak.load() - base;
  }
  report(state, last, peak);
}
BENCHMARK(BM_Steps)->ArgsProduct({{1000, 10000, 30000, 100000}, {1, 2}})->Unit(benchmark::kSecond)->Iterations(1);

void BM_FullEvacuation(benchmark::State& state) {
  const Scenario sc = make_scenario(static_cast<int>(state.range(0)), 3600);
  auto agents = vigil::sim::place_population(sc, 1);
  if (!agents) {
    state.SkipWithError(agents.error().front().to_string().c_str());
    return;
  }
  vigil::sim::SimOptions opt;
  opt.threads = static_cast<int>(state.range(1));
  RunResult last;
  long long peak = 0;
  for (auto _ : state) {
    const long long base = heap::current.load();
    heap::reset_peak();
    last = vigil::sim::simulate(sc, 1, *agents, opt);
    peak = heap::peak.load() - base;
  }
  report(state, last, peak);
}
BENCHMARK(BM_FullEvacuation)->Args({1000, 2})->Args({10000, 2})->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
