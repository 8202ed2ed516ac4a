// SPDX-License-Identifier: Apache-2.0
// Constant control for one venue: the estimator, the rules and the alert engine wired
// together, which is all the server layer needs per venue. Pure logic, no I/O: the caller
// validates and persists readings, calls evaluate() periodically (e.g. every second) and
// persists / streams / delivers the events it returns. Not thread-safe (one lock per venue).
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "ops/alerts.hpp"
#include "ops/clock.hpp"
#include "ops/occupancy.hpp"
#include "ops/reading.hpp"
#include "ops/rules.hpp"
#include "venue/venue.hpp"

namespace vigil::ops {

class Monitor {
 public:
  // Keeps a copy of `venue`; `clock` must outlive the monitor. The estimator's health
  // settings are taken from thresholds.sensors.health.
  Monitor(const venue::Venue& venue, const Clock& clock, Thresholds thresholds = {},
          EscalationPolicy policy = EscalationPolicy::default_policy(),
          EstimatorConfig estimator = {}, ReadingLimits limits = {});

  // Problems of a telemetry batch (empty: apply it); see validate_readings().
  std::vector<Error> validate(std::span<const Reading> readings) const;
  ApplyResult apply(std::span<const Reading> readings) { return estimator_.apply(readings); }

  // The latest egress estimate (seconds to clear the venue), computed elsewhere; nullopt
  // switches the egress rule off until the next estimate.
  void set_egress_estimate(std::optional<double> time_s) { egress_time_s_ = time_s; }

  struct Evaluation {
    VenueState state;
    std::vector<Condition> conditions;
    std::vector<AlertEvent> events;
  };
  // The state now, the conditions holding, and the alert events they cause.
  Evaluation evaluate();

  VenueState state() { return estimator_.state(); }
  Expected<AlertEvent, ActionError> acknowledge(std::string_view id, std::string_view by,
                                                std::string_view note) {
    return alerts_.acknowledge(id, by, note);
  }
  Expected<AlertEvent, ActionError> resolve(std::string_view id, std::string_view by,
                                            std::string_view note) {
    return alerts_.resolve(id, by, note);
  }

  const Thresholds& thresholds() const { return thresholds_; }
  void set_thresholds(Thresholds t);
  const venue::Venue& venue() const { return venue_; }
  OccupancyEstimator& estimator() { return estimator_; }
  AlertEngine& alerts() { return alerts_; }

 private:
  venue::Venue venue_;
  const Clock& clock_;
  Thresholds thresholds_;
  ReadingLimits limits_;
  OccupancyEstimator estimator_;
  AlertEngine alerts_;
  std::optional<double> egress_time_s_;
};

}  // namespace vigil::ops
