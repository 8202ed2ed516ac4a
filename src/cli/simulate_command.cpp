// SPDX-License-Identifier: Apache-2.0
// `vigil simulate SCENARIO [--out DIR] [--threads N] [--trajectories] [--fps N] [--quiet]`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "sim/run.hpp"

namespace vigil::cli {
namespace {

struct SimulateArgs {
  std::string scenario;
  std::string out = "results";
  int threads = 0;
  bool trajectories = false;
  double fps = 10;
  bool quiet = false;
};

// A one-line progress bar on a terminal: run, simulated time, people out, ETA.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(const sim::Progress& p) {
    if (!enabled_) return;
    const double wall = std::chrono::duration<double>(Clock::now() - start_).count();
    // Fraction done: people out, or the simulated time against the limit, whichever is further.
    const double by_people = p.agents ? static_cast<double>(p.evacuated) / static_cast<double>(p.agents) : 0;
    const double by_time = p.max_time_s > 0 ? p.time_s / p.max_time_s : 0;
    const double run_done = std::max(by_people, by_time);
    const double done = ((p.run - 1) + run_done) / std::max(1, p.runs);
    const int width = 30;
    const int filled = static_cast<int>(done * width);
    const std::string eta =
        done > 0.01 ? fmt::format("ETA {:.0f} s", wall * (1 - done) / done) : "ETA --";
    std::fprintf(stderr, "\r[%s%s] run %d/%d  t=%6.1f s  out %zu/%zu  %s   ",
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '.').c_str(), p.run, p.runs,
                 p.time_s, p.evacuated, p.agents, eta.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  void finish() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_;
};

int simulate(const SimulateArgs& a) {
  ProgressBar bar(!a.quiet && isatty(STDERR_FILENO));
  sim::RunOptions opt;
  opt.out_dir = a.out;
  opt.threads = a.threads;
  opt.trajectories = a.trajectories;
  opt.fps = a.fps;
  opt.quiet = a.quiet;
  opt.progress = [&bar](const sim::Progress& p) { bar.update(p); };
  auto result = sim::run_scenario_file(a.scenario, opt);
  bar.finish();
  if (!result) {
    for (const Error& e : result.error()) std::cerr << a.scenario << ": " << e.to_string() << "\n";
    return 1;
  }
  for (const std::string& note : result->notes) std::cerr << a.scenario << ": " << note << "\n";
  if (!a.quiet) {
    std::cout << result->json.dump(2) << "\n";
    std::cout << "results in " << a.out << "/:";
    for (const auto& f : result->files) std::cout << " " << f.filename().string();
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

void register_simulate_command(CLI::App& app, int& status) {
  static SimulateArgs args;
  auto* sim = app.add_subcommand("simulate", "Run an evacuation scenario and write its results");
  sim->add_option("SCENARIO", args.scenario, "Scenario file (JSON)")->required();
  sim->add_option("--out", args.out, "Directory for the results")->capture_default_str();
  sim->add_option("--threads", args.threads, "Worker threads (0: all cores)")
      ->check(CLI::Range(0, 256));
  sim->add_flag("--trajectories", args.trajectories, "Also write trajectories.sqlite");
  sim->add_option("--fps", args.fps, "Trajectory frames per second")
      ->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
  sim->add_flag("--quiet", args.quiet, "No progress and no summary on stdout");
  sim->callback([&status] { status = simulate(args); });
}

}  // namespace vigil::cli
