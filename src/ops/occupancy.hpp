// SPDX-License-Identifier: Apache-2.0
// Live occupancy of a venue from its sensors, and the health of each sensor. The method (a
// per-zone Kalman-style blend of flows and absolute counts, with a reorder window for late
// readings) is described in docs/occupancy.md.
//
// The estimator is plain logic: the caller feeds it validated readings (validate_readings())
// and asks for the state; time comes from the Clock given at construction. Not thread-safe:
// one estimator per venue, used by one thread (or under the caller's lock).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ops/clock.hpp"
#include "ops/reading.hpp"
#include "venue/venue.hpp"

namespace vigil::ops {

// Fruin walkway level of service for a density in persons/m² (docs/occupancy.md):
// A < 0.31 ≤ B < 0.43 ≤ C < 0.72 ≤ D < 1.08 ≤ E ≤ 2.17 < F.
char fruin_level_of_service(double density_p_m2);

enum class SensorStatus { ok, stale, silent, implausible };
const char* to_string(SensorStatus s);

// When a sensor counts as stale, silent or implausible. Part of a venue's Thresholds.
struct HealthConfig {
  double stale_after_s = 60;        // no reading for this long: stale
  double silent_after_s = 300;      // no reading for this long, or never since start: silent
  double max_flow_p_per_m_s = 2.0;  // more crossings than this × line width × interval: implausible
  double min_rate_interval_s = 1;   // a reading covers at least this long (for the rate check)
  int negative_events = 3;          // this many clamps of a negative occupancy ...
  double negative_window_s = 300;   // ... within this window: implausible
  double negative_min_persons = 1;  // a clamp is evidence only from this implied deficit on
  double disagree_pct = 20;         // zone counter vs flows differ by more than this % ...
  double disagree_persons = 20;     // ... and more than this many persons ...
  double disagree_for_s = 120;      // ... for longer than this: counters disagree
  double implausible_hold_s = 300;  // rate / negative evidence keeps a sensor implausible this long
};

// Weights and windows of the estimator (docs/occupancy.md explains each).
struct EstimatorConfig {
  double reorder_window_s = 10;  // readings are applied in timestamp order within this window
  double trend_window_s = 60;    // trend_p_per_min is the net change over this window
  double initial_var = 1e6;      // variance of a zone never measured (unknown: a first count wins)
  double flow_var_per_crossing = 0.25;  // variance each counted crossing adds (σ 0.5 person)
  double process_var_per_s = 1.0;       // variance added per second (unsensed movement)
  double count_sigma_abs = 1;           // zone counter: σ = abs + rel × count
  double count_sigma_rel = 0.01;
  double count_min_gain = 0.5;   // a zone count always moves the estimate at least half way
  // Unsensed movement is not steady (an evacuation moves people between zones without counted
  // lines at tens per second): a measurement further than this many σ from the estimate shows
  // that the zone's variance was too low, and it is raised to what the measurement implies
  // (innovation² − measurement variance) before the update. 0: off.
  double adapt_sigmas = 2;
  // Measurements that surprise in the same direction this many times in a row (white noise
  // does so 1 time in 2^(n-1)) reveal a movement the flows miss: the gain is then at least
  // count_trend_gain / density_trend_gain, so a steady drain of u persons/s leaves a lag of
  // about u (1 − gain) / gain persons instead of u at the usual floor of 0.5. 0: off.
  int trend_runs = 2;
  double count_trend_gain = 0.9;
  double density_trend_gain = 0.5;
  double density_sigma_abs = 2;  // density sensor (× zone area): σ = abs + rel × persons
  double density_sigma_rel = 0.10;
  double density_min_gain = 0.2;
  double gate_abs = 50;     // an absolute measurement jumping by more than
  double gate_rel = 0.5;    //   max(gate_abs, gate_rel × max(estimate, measured)) is held back ...
  double gate_hold_s = 30;  // ... until it has persisted this long (then it re-anchors the zone)
  double disagree_anchor_tau_s = 1200;  // time constant pulling the flow-only track toward counts
  HealthConfig health;
};

// What apply() did with a batch.
struct ApplyResult {
  std::size_t accepted = 0;    // applied (including late ones)
  std::size_t duplicates = 0;  // (sensor, seq) seen before: ignored
  std::size_t rejected = 0;    // unknown sensor or wrong kind (validate first to get reasons)
  std::size_t late = 0;        // older than the reorder window: applied at once, out of order
  std::size_t resets = 0;      // sensor sequence restarted (device reboot)
};

struct ZoneEstimate {
  std::string id;
  venue::ZoneUse use = venue::ZoneUse::standing;
  double occupancy = 0;  // persons, >= 0
  double sigma = 0;      // 1-σ uncertainty of `occupancy` (persons)
  double area_m2 = 0;
  double capacity = 0;
  double density_p_m2 = 0;  // occupancy / area_m2 (0 for a zone without area)
  char level_of_service = 'A';
  double capacity_pct = 0;  // occupancy / capacity × 100 (0 for a zone without capacity)
  double trend_p_per_min = 0;
  std::optional<TimeMs> last_measured_ms;  // last absolute count applied to this zone
};

struct SensorHealth {
  std::string id;
  venue::SensorType type = venue::SensorType::zone_counter;
  std::string zone;  // the zone it measures (line counter: the zone `in` enters)
  SensorStatus status = SensorStatus::silent;
  std::optional<TimeMs> last_seen_ms;  // newest reading timestamp (capped at arrival time)
  bool implausible = false;            // any of the three below; independent of stale/silent
  bool rate_exceeded = false;          // more crossings than the line's width allows
  bool negative_occupancy = false;     // its flows drove a zone below zero repeatedly
  bool disagrees = false;              // zone counter disagreeing with the zone's flows
  std::vector<std::string> reasons;    // why implausible, in words
  std::uint64_t readings = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t resets = 0;
  double negative_persons = 0;  // occupancy this sensor's flows implied below zero, in total
};

// A zone counter whose counts disagree with the flows of the zone's line counters.
struct Disagreement {
  std::string zone;
  std::string sensor;  // the zone counter
  std::vector<std::string> line_counters;
  double count = 0;          // the counter's last value
  double flow_estimate = 0;  // what the flows imply (docs/occupancy.md, "Counters that disagree")
  TimeMs since_ms = 0;       // disagreeing continuously since
  bool active = false;       // for longer than HealthConfig::disagree_for_s
};

struct VenueState {
  std::string venue;
  TimeMs at_ms = 0;
  TimeMs started_ms = 0;   // when the estimator started (sensors never seen since are silent)
  double occupancy = 0;    // sum over zones (space outside zones is not counted)
  double net_entered = 0;  // in − out over line counters from "outside" since start
  std::vector<ZoneEstimate> zones;    // in venue order
  std::vector<SensorHealth> sensors;  // in venue order
  std::vector<Disagreement>
      disagreements;  // zones with a counter and line counters, when differing

  const ZoneEstimate* zone(std::string_view id) const;
  const SensorHealth* sensor(std::string_view id) const;
};

// The `GET /venues/{id}/state` shape (without `posture` and `egress`, which other layers add):
// { "venue", "at", "occupancy", "zones": { id: {...} }, "sensors": { id: {...} } } plus
// "net_entered" and "disagreements".
nlohmann::json to_json(const VenueState& s);

class OccupancyEstimator {
 public:
  // Copies what it needs from `venue`; `clock` must outlive the estimator.
  OccupancyEstimator(const venue::Venue& venue, const Clock& clock, EstimatorConfig config = {});
  ~OccupancyEstimator();
  OccupancyEstimator(const OccupancyEstimator&) = delete;
  OccupancyEstimator& operator=(const OccupancyEstimator&) = delete;
  OccupancyEstimator(OccupancyEstimator&&) noexcept;
  OccupancyEstimator& operator=(OccupancyEstimator&&) noexcept;

  // Applies readings (validated with validate_readings(); invalid ones are only counted as
  // rejected). Duplicates by (sensor, seq) are ignored. Order within and across batches does not
  // matter inside the reorder window.
  ApplyResult apply(std::span<const Reading> readings);
  ApplyResult apply(const Reading& reading) { return apply(std::span<const Reading>(&reading, 1)); }

  // The estimate now (clock time), including readings still in the reorder window. Computed
  // incrementally: it continues from the state it last computed (or a checkpoint before the
  // first reading that changed since), so a call costs about the readings applied in between.
  VenueState state();
  // The same figures, bit for bit, computed the slow way: the whole reorder window replayed on a
  // copy of the committed state. The reference state() is tested against; not for production.
  VenueState state_full_replay();

  const EstimatorConfig& config() const;
  void set_health_config(const HealthConfig& health);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::ops
