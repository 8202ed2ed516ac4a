// SPDX-License-Identifier: Apache-2.0
// Live crowd speed (docs/simulation.md, "Live crowd (the demo)"): wall seconds per simulated
// second of sim::LiveCrowd for a venue (default: the concert-hall example) in its three phases:
// arrivals until the target (default 80 % of the zones' capacities) is in, the event (everyone
// inside, milling), and the evacuation until the venue is empty. Real time needs < 1; the demo's
// budget is < 0.3 on one core.
//   build/release/bench/bench_live_crowd [VENUE.geojson] [--threads T] [--rate P_S]
//       [--all-entrances] [--event-s S] [--people N]
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "sim/live_crowd.hpp"
#include "venue/load.hpp"

namespace {
using Clock = std::chrono::steady_clock;
double s_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
}  // namespace

int main(int argc, char** argv) {
  using namespace vigil;
  std::string path = std::string(VIGIL_SOURCE_DIR) + "/examples/concert-hall.geojson";
  sim::LiveCrowdOptions opt;
  opt.arrival_rate_p_s = 40;  // fill quickly; the entrances' room limits the real rate
  double event_s = 60;
  bool all_entrances = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) opt.threads = std::atoi(argv[++i]);
    else if (a == "--rate" && i + 1 < argc) opt.arrival_rate_p_s = std::atof(argv[++i]);
    else if (a == "--event-s" && i + 1 < argc) event_s = std::atof(argv[++i]);
    else if (a == "--people" && i + 1 < argc) opt.target_people = static_cast<std::size_t>(std::atol(argv[++i]));
    else if (a == "--all-entrances") all_entrances = true;
    else path = a;
  }
  auto loaded = venue::load_venue_file(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s: venue has errors\n", path.c_str());
    return 1;
  }
  auto v = std::make_shared<const venue::Venue>(std::move(*loaded.venue));
  if (all_entrances)
    for (const auto& e : v->exits) opt.entrances.push_back(e.id);
  auto t0 = Clock::now();
  auto created = sim::LiveCrowd::create(v, opt);
  if (!created) {
    for (const auto& e : created.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 1;
  }
  sim::LiveCrowd& crowd = **created;
  std::printf("venue %s, target %zu people, %d thread(s), dt %.2f s\n", v->id.c_str(), crowd.target_people(),
              opt.threads, opt.dt_s);
  std::printf("create (walls, %zu zone fields + exit field): %.2f s\n", v->zones.size(), s_since(t0));

  auto phase = [&](const char* name, auto&& until) {
    const double w0 = crowd.step_wall_s();
    const std::clock_t c0 = std::clock();
    const double t_start = crowd.time_s();
    std::size_t readings = 0;
    double agent_s = 0;
    while (!until()) {
      crowd.step(1);
      readings += crowd.take_readings().size();
      agent_s += static_cast<double>(crowd.inside());
    }
    const double sim_s = crowd.time_s() - t_start;
    const double wall = crowd.step_wall_s() - w0;
    // CPU seconds of the process (all threads; readings drained included): on a busy machine
    // this is the fairer figure for one thread.
    const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
    std::printf("%-11s sim %7.1f s  wall %7.2f s  wall/sim %.3f  cpu/sim %.3f  mean inside %6.0f  readings %zu\n",
                name, sim_s, wall, sim_s > 0 ? wall / sim_s : 0.0, sim_s > 0 ? cpu / sim_s : 0.0,
                sim_s > 0 ? agent_s / sim_s : 0.0, readings);
  };
  phase("arrivals", [&] { return crowd.phase() != sim::LiveCrowd::Phase::arriving || crowd.time_s() > 3600; });
  const double event_end = crowd.time_s() + event_s;
  phase("event", [&] { return crowd.time_s() >= event_end; });
  std::printf("inside %zu of %zu arrived; out before the evacuation:", crowd.inside(), crowd.arrived());
  for (const auto& [exit, people] : crowd.exit_counts()) std::printf(" %s %zu", exit.c_str(), people);
  std::printf("\n");
  t0 = Clock::now();
  crowd.evacuate();
  std::printf("evacuate() (exit fields): %.2f s\n", s_since(t0));
  const double evac_start = crowd.time_s();
  // The busiest part first: everyone walking at once.
  phase("evac 0-20 s", [&] { return crowd.inside() == 0 || crowd.time_s() - evac_start >= 20; });
  phase("evac rest", [&] { return crowd.inside() == 0 || crowd.time_s() - evac_start > 1800; });
  std::printf("evacuation time %.0f s, %zu still inside\n", crowd.time_s() - evac_start, crowd.inside());
  std::printf("out by exit in all:");
  for (const auto& [exit, people] : crowd.exit_counts()) std::printf(" %s %zu", exit.c_str(), people);
  std::printf("\n");
  return 0;
}
