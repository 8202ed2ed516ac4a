// SPDX-License-Identifier: Apache-2.0
// Simulation results (docs: scenario-and-results.md, "Results in DIR"): summary.json, the CSV
// series, the JuPedSim-format trajectory database and the HTML report.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"

namespace vigil::sim {

// Summaries keep their keys in the order of the spec.
using SummaryJson = nlohmann::ordered_json;

// The summary of one run (the fields of summary.json, plus `max_time_reached`, `end_time_s`,
// `not_evacuated_reasons`, `model`, `time_step_s` and `stage_wall_s`).
SummaryJson summarize_run(const Scenario& scenario, const RunResult& run);
// Monte Carlo: each figure of the run summaries as {mean, sd, p5, p50, p95}, the per-run
// summaries under `per_run`.
SummaryJson summarize_runs(const Scenario& scenario, const std::vector<RunResult>& runs);

// Positions for the report's playback, kept small: at most 2 frames per simulated second (frames
// closer than 0.5 s are skipped), at most `max_agents` people (1 in n by id, n fixed by the
// first frame), positions quantised to 0.1 m, and no frames beyond `max_points` kept positions.
class PlaybackRecorder final : public FrameSink {
 public:
  PlaybackRecorder(double frame_dt_s, std::size_t max_points, std::size_t max_agents = 2000)
      : frame_dt_s_(frame_dt_s), max_points_(max_points), max_agents_(max_agents) {}
  void frame(std::int64_t frame, const std::vector<FrameAgent>& agents) override;
  // Seconds between kept frames.
  double frame_dt_s() const;
  // 1 in agent_stride() people is kept; agents_total(): the people of the first frame.
  std::size_t agent_stride() const { return stride_; }
  std::size_t agents_total() const { return agents_total_; }
  // Per kept frame: id, x, y (decimetres), level of each kept person, in that order.
  const std::vector<std::vector<int>>& frames() const { return frames_; }
  bool truncated() const { return truncated_; }

 private:
  double frame_dt_s_;
  std::size_t max_points_;
  std::size_t max_agents_;
  std::size_t stride_ = 1;
  std::size_t agents_total_ = 0;
  std::size_t seen_ = 0;  // frames offered
  std::size_t points_ = 0;
  bool truncated_ = false;
  std::vector<std::vector<int>> frames_;
};

// Writes summary.json, evacuation_curve.csv, exits.csv, density.csv and report.html into dir
// (created if missing). With several runs each CSV row starts with the run number.
// `playback` (optional) is the first run's recording for the report.
Expected<void, Error> write_results(const std::filesystem::path& dir, const Scenario& scenario,
                                    const std::vector<RunResult>& runs, const SummaryJson& summary,
                                    const PlaybackRecorder* playback = nullptr);

// Trajectories in the JuPedSim SQLite format version 2 (tables metadata, trajectory_data,
// geometry, frame_data), readable by PedPy. Positions of all levels share one plane.
class SqliteTrajectoryWriter final : public FrameSink {
 public:
  // Creates (replaces) the database. `fps`: frames per simulated second.
  static Expected<std::unique_ptr<SqliteTrajectoryWriter>, Error> open(const std::filesystem::path& path,
                                                                       const venue::Venue& venue, double fps);
  ~SqliteTrajectoryWriter() override;
  void frame(std::int64_t frame, const std::vector<FrameAgent>& agents) override;
  // Commits and closes; reports the first error met while writing.
  Expected<void, Error> close();

 private:
  SqliteTrajectoryWriter() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The walkable space of all levels and stairs as WKT (POLYGON or MULTIPOLYGON).
std::string venue_wkt(const venue::Venue& venue);

}  // namespace vigil::sim
