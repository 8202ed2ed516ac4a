// SPDX-License-Identifier: Apache-2.0
// One simulation run. The step is an explicit ordered list of timed stages:
//   hazards     activate hazards whose time has come (walls, navigation fields)
//   routing     each agent's desired direction and speed (navigation field, quickest-exit
//               choice, pre-movement, stair speed factors)
//   neighbours  rebuild the uniform neighbour grid (counting sort)
//   model       each agent's new velocity from the frozen snapshot, into a separate buffer
//   movement    each agent's new position, kept inside walls
//   bookkeeping exits crossed, stair transitions, measurement lines, samples, trajectories
// The parallel stages write one slot per agent and never sum across agents, so a run gives
// byte-identical results for any number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario.hpp"

namespace vigil::sim {

struct FrameAgent {
  std::int64_t id = 0;
  double x = 0;
  double y = 0;
  double ori_x = 1;
  double ori_y = 0;
  int level = 0;
};

// Receives trajectory frames (e.g. the SQLite writer in sim/results.hpp).
class FrameSink {
 public:
  FrameSink() = default;
  FrameSink(const FrameSink&) = delete;
  FrameSink& operator=(const FrameSink&) = delete;
  virtual ~FrameSink() = default;
  virtual void frame(std::int64_t frame, const std::vector<FrameAgent>& agents) = 0;
};

struct SimOptions {
  int threads = 0;            // 0: all cores
  FrameSink* frames = nullptr;
  int frame_every_steps = 1;  // write every n-th step to `frames`
  FrameSink* playback = nullptr;  // a second, usually coarser, recording (the report's playback)
  int playback_every_steps = 10;
  // Called about once per simulated second: (time_s, evacuated, agents).
  std::function<void(double, std::size_t, std::size_t)> progress;
};

struct RunResult {
  std::uint64_t seed = 0;
  std::size_t agents = 0;
  std::vector<double> evacuation_time_s;  // per agent; NaN: not evacuated
  std::vector<int> exit_used;             // per agent: index into Venue::exits, or -1
  std::map<std::string, std::size_t> not_evacuated;  // reason -> people
  bool max_time_reached = false;
  double end_time_s = 0;
  std::size_t steps = 0;
  std::size_t agent_steps = 0;  // sum over steps of the people still inside
  double wall_s = 0;  // the whole run, set-up (walls, navigation fields) included
  int threads = 1;
  // Samples once per simulated second (t = 0, 1, 2, ...).
  std::vector<double> sample_time_s;
  std::vector<std::vector<std::uint32_t>> zone_persons;  // [sample][zone of Venue::zones]
  std::vector<std::vector<double>> line_crossing_s;      // [line of Scenario::lines]: times
  std::vector<std::pair<std::string, double>> stage_wall_s;  // stage -> seconds, in step order
  double loop_wall_s() const {
    double t = 0;
    for (const auto& [stage, secs] : stage_wall_s) t += secs;
    return t;
  }
};

// Runs the scenario once with the given people (see place_population).
RunResult simulate(const Scenario& scenario, std::uint64_t seed, const std::vector<AgentInit>& agents,
                   const SimOptions& options = {});

}  // namespace vigil::sim
