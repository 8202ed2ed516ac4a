// SPDX-License-Identifier: Apache-2.0
// Virtual sensors (docs/live-egress.md): the telemetry a venue's sensors would have sent during
// a simulation run — line counters (crossings of the sensor's line; walking along the line from
// its first to its second point, crossing from right to left is `in`), zone counters (persons
// in the zone) and density sensors (persons/m² of the zone's walkable area) — every reporting
// period, with seeded counting noise and dropouts. For testing the occupancy estimator and the
// dashboard against a known truth, and for demonstrations.
//
// Use: pass a VirtualSensors as SimOptions::frames (frame_every_steps = 1 is best: a line is
// crossed between two frames), run sim::simulate, call finish(), read readings() and truth().
// sim does not depend on ops: VirtualReading mirrors ops::Reading field for field and the
// caller maps it (kind: in_out / count / density as ops::ReadingKind).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/random.hpp"
#include "sim/simulation.hpp"
#include "venue/venue.hpp"

namespace vigil::sim {

using geom::Vec2;

struct VirtualReading {
  enum class Kind { in_out, count, density };
  std::string sensor;
  std::int64_t seq = 0;
  std::int64_t ts_ms = 0;  // start_ms + simulated time
  Kind kind = Kind::in_out;
  double in = 0;  // in_out: crossings since the sensor's previous reading
  double out = 0;
  double count = 0;    // count: persons in the zone
  double density = 0;  // density: persons/m²
};

// A sensor that stops reporting from `from_s` (simulated time) on.
struct SensorDropout {
  std::string sensor;
  double from_s = 0;
};

struct VirtualSensorOptions {
  double period_s = 1.0;         // every sensor reports at t = 0, period, 2 period, ...
  std::int64_t start_ms = 0;     // timestamp of simulated t = 0
  std::int64_t first_seq = 1;    // each sensor's first seq; +1 per reading
  double miss_rate = 0;          // line counters: share of crossings not counted
  double extra_rate = 0;         // line counters: spurious extra crossings per real crossing
  double count_sigma_rel = 0;    // zone counters: relative sd of the count (rounded)
  double density_sigma_rel = 0;  // density sensors: relative sd
  std::uint64_t seed = 1;
  std::vector<SensorDropout> dropouts;
};

// The true state at each report time (no noise): persons per zone (Venue::zones order) and
// true crossings per line counter since the start.
struct SensorTruth {
  std::int64_t ts_ms = 0;
  std::vector<double> zone_persons;
  std::vector<double> line_in;  // per sensor index (Venue::sensors), cumulative; 0 for others
  std::vector<double> line_out;
};

class VirtualSensors final : public FrameSink {
 public:
  // `frame_time_s`: simulated seconds between two frames (time_step_s × frame_every_steps).
  // Throws std::invalid_argument for a non-positive period or frame time, rates outside [0, 1],
  // or a dropout naming an unknown sensor (programming errors of the caller).
  // REQUIRES: `venue` outlives this object.
  VirtualSensors(const venue::Venue& venue, double frame_time_s, VirtualSensorOptions options = {});

  void frame(std::int64_t frame, const std::vector<FrameAgent>& agents) override;
  // Emits a last report at the time of the last frame if it has crossings not yet reported.
  void finish();

  const std::vector<VirtualReading>& readings() const { return readings_; }
  const std::vector<SensorTruth>& truth() const { return truth_; }
  // Move out the readings (the truth) gathered so far, for long runs that hand them on as they
  // come (sim::LiveCrowd); later ones start a new list.
  std::vector<VirtualReading> take_readings() { return std::exchange(readings_, {}); }
  std::vector<SensorTruth> take_truth() { return std::exchange(truth_, {}); }

 private:
  struct Track {
    double x = 0;
    double y = 0;
    int level = 0;
    std::int64_t seen = -1;  // last frame
  };
  void count_move(Vec2 p, Vec2 q, int level);
  void report(double t_s);
  bool dropped(std::size_t sensor, double t_s) const;

  const venue::Venue& venue_;
  double frame_time_s_;
  VirtualSensorOptions opt_;
  Rng rng_;
  std::unordered_map<std::int64_t, Track> tracks_;
  std::vector<double> pending_in_, pending_out_;  // counted (noisy) since the last report
  std::vector<double> true_in_, true_out_;        // true, cumulative
  std::vector<std::int64_t> seq_;
  std::vector<double> dropout_s_;
  std::vector<double> zone_persons_;  // at the last frame
  double last_t_s_ = -1;
  double next_report_s_ = 0;
  double last_report_s_ = -1;
  std::vector<VirtualReading> readings_;
  std::vector<SensorTruth> truth_;
};

}  // namespace vigil::sim
