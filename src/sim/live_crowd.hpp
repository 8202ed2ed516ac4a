// SPDX-License-Identifier: Apache-2.0
// Live crowd (docs/simulation.md, "Live crowd (the demo)"): a long-lived, real-time stepping
// crowd in a venue, behind `vigil demo`. People arrive through the entrances, walk to a place in
// a zone, stand there with now and then a short walk to another spot nearby (milling), may leave
// normally, and on evacuate() head for the open exits and leave. What the venue's sensors would
// see is reported through sim::VirtualSensors (line counters, zone counters, density sensors,
// with the configured noise and dropouts), ready for the real telemetry ingest.
//
// Model: the same components as the batch engine (sim/simulation.hpp): the walls of sim::Space
// (nobody crosses a wall, obstacle, closed door or hazard outline), the `cfsm` operational model
// with its defaults (people keep their spacing), the uniform neighbour grid, and walking-distance
// fields solved by fast marching (venue::NavField): one per destination zone (NavOptions::targets)
// for the walk in, and the exits' field(s) for leaving and evacuating (`nearest`: one field;
// `quickest`: one per open exit, each person weighing walking time and the queue ahead as in
// the batch engine). Stairs are walked as in the batch engine (their own layers, speed factors).
//
// Entrances: the exit ids in LiveCrowdOptions::entrances; when empty, the exits whose id or
// name contains "entrance" (any case); when none does, every exit. A person arrives at a random
// point across an open entrance, just inside it, when nobody is within 2 r + 0.1 m of that point
// (otherwise the arrival waits outside for a later step; at most 1 s of arrivals is kept
// waiting, so a much higher rate than the entrances take is not reached; while every entrance
// is closed nobody arrives). The virtual sensors see the person step in from 0.3 m outside the
// exit line, so counters at entrances count arrivals. Only people on their way out (leaving or
// evacuating) go out through an exit; anyone else pushed over an exit line stays put.
//
// Speed (docs/simulation.md, bench/bench_live_crowd.cpp): the concert hall with 5,000 people
// on one thread steps at about 0.09-0.13 s of CPU per simulated second while people arrive and
// mill, and about 0.26 in the first 20 s of an evacuation (everyone walking at once).
//
// Determinism: the same options and the same sequence of calls give the same people at the same
// positions, for any `threads` (parallel stages write one slot per agent; random decisions are
// drawn in the serial bookkeeping stage). step(a); step(b) equals step(a + b).
//
// Thread safety: none; one owner calls everything (the demo's simulation thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "geom/geom.hpp"
#include "sim/scenario.hpp"
#include "sim/simulation.hpp"
#include "sim/virtual_sensors.hpp"
#include "venue/venue.hpp"

namespace vigil::sim {

struct LiveCrowdOptions {
  std::uint64_t seed = 1;
  double dt_s = 0.05;            // simulation step (cfsm's default)
  int threads = 1;               // threads of the parallel stages (1: the caller's thread only)
  double arrival_rate_p_s = 8;   // people arriving per second (all entrances), until target_people
                                 // have arrived
  std::size_t target_people = 0; // 0: round(80 % of the capacities of the zones people head for)
  // Zone id -> share of arriving people heading there (normalised). Empty: every zone that is not
  // circulation or stair, by its capacity. Arrivals are apportioned exactly (largest deficit
  // first), so after n arrivals zone z has been chosen round(n × share_z) times, ±1.
  std::map<std::string, double> zone_share;
  std::vector<std::string> entrances;  // exit ids; empty: see the file comment
  Profile profile;                     // walking speed, radius (pre-movement is not used)
  double mill_speed_m_s = 0.3;         // speed of the short walks while milling about
  double mill_interval_s = 60;         // mean time a person stands before a short walk
  double mill_radius_m = 3;            // how far a short walk goes at most (same zone)
  double leave_rate_p_s = 0;           // people leaving normally (to the nearest exit) before
                                       // the evacuation
  Routing routing = Routing::quickest; // exit choice when evacuating
  VirtualSensorOptions sensors;        // reporting period, noise, dropouts; its seed is mixed
                                       // with `seed`, its start_ms stamps sim time 0
  std::size_t truth_kept = 3600;       // reports of true state kept for take_truth() (older
                                       // ones are dropped, so memory stays bounded)
};

class LiveCrowd {
 public:
  enum class Phase {
    arriving,    // fewer than target_people have arrived
    event,       // everyone has arrived; milling, maybe leaving
    evacuating,  // evacuate() was called and people are still inside
    empty,       // evacuate() was called and everyone is out
  };

  // Errors (with where): no venue; a non-positive or non-finite dt_s, rate, speed, interval or
  // radius; threads < 1; an unknown zone in zone_share (`zone_share["flor"]`) or a negative
  // share, or shares that sum to 0; an unknown exit in entrances (`entrances[1]`); no open
  // entrance; a zone that cannot be reached from any entrance or has no walkable place; a
  // profile whose radius is not positive; a sensor dropout of an unknown sensor.
  static Expected<std::unique_ptr<LiveCrowd>, Errors> create(std::shared_ptr<const venue::Venue> venue,
                                                            LiveCrowdOptions options);

  LiveCrowd(const LiveCrowd&) = delete;
  LiveCrowd& operator=(const LiveCrowd&) = delete;
  ~LiveCrowd();

  // Advances simulated time by `seconds` (whole dt steps; fractions carry over to the next call).
  void step(double seconds);
  // Everyone inside heads for an open exit from now on (arrivals stop); idempotent.
  void evacuate();
  // Closes an exit or a door (by id): it becomes a wall, fields are recomputed and people
  // re-route. Error: `close_exit("E99"): no exit or door with this id`.
  Expected<void, Error> close_exit(const std::string& id);
  // An impassable region from now on (at most 64). People inside it walk straight out; people
  // whose place is in it pick another place in their zone (or leave when none is left).
  // Errors: unknown level, a polygon with fewer than 3 points, more than 64 hazards.
  Expected<void, Error> add_hazard(int level, geom::Polygon polygon);

  double time_s() const;
  Phase phase() const;
  std::size_t inside() const;          // people in the venue now
  std::size_t arrived() const;         // people who came in so far
  std::size_t left() const;            // people who went out so far (leaving or evacuating)
  std::size_t target_people() const;   // the target (given or derived)
  // Persons per zone now (every zone of the venue, by id).
  std::map<std::string, std::size_t> zone_counts() const;
  // Sensor readings produced since the last call (ts_ms = sensors.start_ms + sim time).
  std::vector<VirtualReading> take_readings();
  // The true state at each report since the last call, at most truth_kept (the latest); no
  // noise (see sim::SensorTruth).
  std::vector<SensorTruth> take_truth();
  // Everyone inside now (id, position, heading, level; people on a stair report its from_level).
  std::vector<FrameAgent> positions() const;
  // Exit ids people may still leave through (exits not closed).
  std::vector<std::string> open_exits() const;
  // Exit id -> people out through it so far.
  std::map<std::string, std::size_t> exit_counts() const;
  // Wall seconds spent in step() so far (for measuring real-time speed).
  double step_wall_s() const;

 private:
  struct Impl;
  explicit LiveCrowd(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

const char* to_string(LiveCrowd::Phase p);

}  // namespace vigil::sim
