// SPDX-License-Identifier: Apache-2.0
// Running a scenario end to end: parse, place, simulate every run, write the results. This is
// the entry point for `vigil simulate` and the server.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"

namespace vigil::sim {

struct Progress {
  int run = 1;   // 1-based
  int runs = 1;
  double time_s = 0;
  double max_time_s = 0;
  std::size_t evacuated = 0;
  std::size_t agents = 0;
};

struct RunOptions {
  std::filesystem::path out_dir;  // empty: write no files
  int threads = 0;                // 0: all cores
  bool trajectories = false;      // write trajectories.sqlite (first run only)
  double fps = 10;                // trajectory frames per second (at most 1 / time_step_s)
  bool quiet = false;             // for the caller; the library itself never prints
  // Called about once per simulated second of each run.
  std::function<void(const Progress&)> progress;
};

struct Summary {
  nlohmann::ordered_json json;        // the content of summary.json (keys in the spec's order)
  std::vector<std::string> notes;     // what a person should be told: max time reached,
                                      // people not evacuated and why, venue warnings
  bool max_time_reached = false;      // in any run
  std::vector<std::filesystem::path> files;  // written
};

// Runs a parsed scenario. Errors: writing the results (the scenario itself is valid).
Expected<Summary, Errors> run_scenario(const Scenario& scenario, const RunOptions& options);
// Loads the scenario file and runs it. Errors: every problem in the scenario (each with its
// JSON path), or a failure to write the results.
Expected<Summary, Errors> run_scenario_file(const std::filesystem::path& path, const RunOptions& options);

}  // namespace vigil::sim
