// SPDX-License-Identifier: Apache-2.0
#include "sim/run.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "sim/results.hpp"
#include "sim/simulation.hpp"

namespace vigil::sim {

namespace {
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

Expected<Summary, Errors> run_scenario(const Scenario& sc, const RunOptions& options) {
  Summary summary;
  std::vector<RunResult> runs;
  // The report's playback: 2 frames per second of the first run, at most 4 million positions.
  const int playback_every = std::max(1, static_cast<int>(std::lround(0.5 / sc.time_step_s)));
  PlaybackRecorder playback(playback_every * sc.time_step_s, 4000000);
  for (int k = 0; k < sc.runs; ++k) {
    const std::uint64_t seed = sc.seed + static_cast<std::uint64_t>(k);
    auto agents = place_population(sc, seed);
    if (!agents) {
      Errors errs = std::move(agents).error();
      for (Error& e : errs) e.message = "run " + std::to_string(k + 1) + " (seed " + std::to_string(seed) + "): " + e.message;
      return unexpected(std::move(errs));
    }
    SimOptions so;
    so.threads = options.threads;
    std::unique_ptr<SqliteTrajectoryWriter> writer;
    if (k == 0 && options.trajectories && !options.out_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(options.out_dir, ec);
      const double fps = std::clamp(options.fps, 0.01, 1 / sc.time_step_s);
      so.frame_every_steps = std::max(1, static_cast<int>(std::lround(1 / (fps * sc.time_step_s))));
      auto w = SqliteTrajectoryWriter::open(options.out_dir / "trajectories.sqlite", *sc.venue,
                                            1 / (sc.time_step_s * so.frame_every_steps));
      if (!w) return unexpected(Errors{std::move(w).error()});
      writer = std::move(*w);
      so.frames = writer.get();
    }
    if (k == 0 && !options.out_dir.empty()) {
      so.playback = &playback;
      so.playback_every_steps = playback_every;
    }
    if (options.progress) {
      so.progress = [&, k](double t, std::size_t evacuated, std::size_t total) {
        options.progress({k + 1, sc.runs, t, sc.max_time_s, evacuated, total});
      };
    }
    runs.push_back(simulate(sc, seed, *agents, so));
    if (writer) {
      auto closed = writer->close();
      if (!closed) return unexpected(Errors{closed.error()});
      summary.files.push_back(options.out_dir / "trajectories.sqlite");
    }
    const RunResult& r = runs.back();
    const std::string which = sc.runs > 1 ? "run " + std::to_string(k + 1) + ": " : "";
    if (r.max_time_reached) {
      summary.max_time_reached = true;
      summary.notes.push_back(which + "max_time_s " + num(sc.max_time_s) + " s reached");
    }
    for (const auto& [reason, count] : r.not_evacuated)
      summary.notes.push_back(which + std::to_string(count) + " people not evacuated: " + reason);
  }
  if (options.trajectories && options.out_dir.empty())
    summary.notes.push_back("trajectories not written: no output directory");
  if (options.trajectories && sc.runs > 1)
    summary.notes.push_back("trajectories.sqlite holds the first run (seed " + std::to_string(sc.seed) + ")");
  for (const std::string& w : sc.warnings) summary.notes.push_back(w);
  summary.json = summarize_runs(sc, runs);
  if (!options.out_dir.empty()) {
    auto ok = write_results(options.out_dir, sc, runs, summary.json, &playback);
    if (!ok) return unexpected(Errors{ok.error()});
    for (const char* f : {"summary.json", "evacuation_curve.csv", "exits.csv", "density.csv", "report.html"})
      summary.files.push_back(options.out_dir / f);
  }
  return summary;
}

Expected<Summary, Errors> run_scenario_file(const std::filesystem::path& path, const RunOptions& options) {
  auto sc = load_scenario_file(path);
  if (!sc) return unexpected(std::move(sc).error());
  return run_scenario(*sc, options);
}

}  // namespace vigil::sim
