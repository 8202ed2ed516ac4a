// SPDX-License-Identifier: Apache-2.0
// Cost of solving the navigation field for a large hall: a 200 m x 150 m single-level venue
// with a stage, bars and pillars and eight exits, built in code. Reports the grid size, the time
// per NavField::compute and the cells solved per second. Run from a release build:
//   build/release/bench/bench_nav_field
#include <benchmark/benchmark.h>

#include <string>

#include "venue/nav_field.hpp"

namespace {

using vigil::geom::Polygon;
using vigil::geom::Ring;
using vigil::geom::Segment;
using vigil::venue::Hazard;
using vigil::venue::NavField;
using vigil::venue::NavOptions;
using vigil::venue::Opening;
using vigil::venue::Venue;

Ring rect(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

Venue hall() {
  Polygon floor{rect(0, 0, 200, 150), {}};
  floor.holes.push_back(rect(70, 125, 130, 140));  // stage
  floor.holes.push_back(rect(10, 60, 14, 90));      // bars along the side walls
  floor.holes.push_back(rect(186, 60, 190, 90));
  for (int i = 0; i < 5; ++i)  // a row of pillars
    for (int j = 0; j < 2; ++j) {
      const double x = 30.0 + 35.0 * i;
      const double y = 40.0 + 50.0 * j;
      floor.holes.push_back(rect(x, y, x + 1.2, y + 1.2));
    }
  Venue v;
  v.id = "bench-hall";
  vigil::venue::Level level;
  level.index = 0;
  level.areas = {floor};
  level.walkable = {floor};
  v.levels[0] = level;
  auto exit = [&](const std::string& id, Segment line) {
    Opening o;
    o.id = id;
    o.level = 0;
    o.line = line;
    o.width_m = line.length();
    v.exits.push_back(o);
  };
  exit("S1", {{30, 0}, {33, 0}});
  exit("S2", {{98, 0}, {102, 0}});
  exit("S3", {{167, 0}, {170, 0}});
  exit("N1", {{20, 150}, {23, 150}});
  exit("N2", {{177, 150}, {180, 150}});
  exit("N3", {{140, 150}, {142.4, 150}});
  exit("W1", {{0, 110}, {0, 113}});
  exit("E1", {{200, 110}, {200, 113}});
  return v;
}

void report(benchmark::State& state, const NavField& f) {
  double cells = 0;
  double walkable = 0;
  for (const auto& layer : f.layers()) {
    cells += static_cast<double>(layer.grid.size());
    for (const auto w : layer.walkable) walkable += w;
  }
  state.counters["cells"] = cells;
  state.counters["walkable"] = walkable;
  state.counters["cells/s"] = benchmark::Counter(cells, benchmark::Counter::kIsIterationInvariantRate);
}

// Argument: the cell size in millimetres (250: the default; 175: about a million cells).
void BM_NavFieldCompute(benchmark::State& state) {
  const Venue v = hall();
  NavOptions opt;
  opt.cell_m = static_cast<double>(state.range(0)) / 1000.0;
  NavField f;
  for (auto _ : state) {
    f = NavField::compute(v, opt);
    benchmark::DoNotOptimize(f.layers().data());
  }
  report(state, f);
}
BENCHMARK(BM_NavFieldCompute)->Arg(250)->Arg(175)->Unit(benchmark::kMillisecond);

// Recomputation during an incident: two exits closed and a hazard across part of the hall.
void BM_NavFieldRecomputeWithClosures(benchmark::State& state) {
  const Venue v = hall();
  NavOptions opt;
  opt.cell_m = static_cast<double>(state.range(0)) / 1000.0;
  opt.closed = {"S2", "N3"};
  opt.hazards.push_back(Hazard{0, Polygon{rect(80, 50, 120, 70), {}}});
  NavField f;
  for (auto _ : state) {
    f = NavField::compute(v, opt);
    benchmark::DoNotOptimize(f.layers().data());
  }
  report(state, f);
}
BENCHMARK(BM_NavFieldRecomputeWithClosures)->Arg(250)->Arg(175)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
