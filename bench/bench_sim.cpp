// SPDX-License-Identifier: Apache-2.0
// Simulation throughput, comparable with the peer figures in ref/verification.md: a 100 m x
// 100 m room with four 2 m exits (one per wall), N people, 200 steps of 0.05 s (CFSM), and a
// full evacuation of N = 1000. Prints agent-steps per second of the step loop (navigation field
// set-up excluded) and the share of each stage.
//   build/release/bench/bench_sim [--benchmark_filter=...]
#include <cstdio>
#include <string>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

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

Scenario make_scenario(int people, double max_time_s) {
  json features = json::array();
  features.push_back(feature({{"kind", "area"}, {"level", 0}},
                             {{"type", "Polygon"}, {"coordinates", json::array({rect(0, 0, 100, 100)})}}));
  features.push_back(feature({{"kind", "zone"}, {"id", "hall"}, {"level", 0}},
                             {{"type", "Polygon"}, {"coordinates", json::array({rect(5, 5, 95, 95)})}}));
  features.push_back(exit_line("N", 49, 100, 51, 100));
  features.push_back(exit_line("S", 49, 0, 51, 0));
  features.push_back(exit_line("E", 100, 49, 100, 51));
  features.push_back(exit_line("W", 0, 49, 0, 51));
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

void report(benchmark::State& state, const RunResult& r) {
  const double loop_s = r.loop_wall_s();
  state.counters["agent_steps_per_s"] = loop_s > 0 ? static_cast<double>(r.agent_steps) / loop_s : 0;
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
  vigil::sim::SimOptions opt;
  opt.threads = threads;
  RunResult last;
  for (auto _ : state) last = vigil::sim::simulate(sc, 1, *agents, opt);
  report(state, last);
}
BENCHMARK(BM_Steps)->Args({1000, 1})->Args({1000, 2})->Args({10000, 1})->Args({10000, 2})
    ->Unit(benchmark::kSecond)->Iterations(1);

void BM_FullEvacuation(benchmark::State& state) {
  const Scenario sc = make_scenario(static_cast<int>(state.range(0)), 600);
  auto agents = vigil::sim::place_population(sc, 1);
  vigil::sim::SimOptions opt;
  opt.threads = static_cast<int>(state.range(1));
  RunResult last;
  for (auto _ : state) last = vigil::sim::simulate(sc, 1, *agents, opt);
  report(state, last);
}
BENCHMARK(BM_FullEvacuation)->Args({1000, 2})->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
