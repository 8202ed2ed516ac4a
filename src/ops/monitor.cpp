// SPDX-License-Identifier: Apache-2.0
#include "ops/monitor.hpp"

namespace vigil::ops {

namespace {
EstimatorConfig with_health(EstimatorConfig c, const HealthConfig& h) {
  c.health = h;
  return c;
}
}  // namespace

Monitor::Monitor(const venue::Venue& venue, const Clock& clock, Thresholds thresholds,
                 EscalationPolicy policy, EstimatorConfig estimator, ReadingLimits limits)
    : venue_(venue),
      clock_(clock),
      thresholds_(std::move(thresholds)),
      limits_(limits),
      estimator_(venue_, clock, with_health(std::move(estimator), thresholds_.sensors.health)),
      alerts_(venue_.id, clock, std::move(policy), thresholds_.clear_hold_s) {}

std::vector<Error> Monitor::validate(std::span<const Reading> readings) const {
  return validate_readings(venue_, readings, clock_.now_ms(), limits_);
}

Monitor::Evaluation Monitor::evaluate() {
  Evaluation e;
  e.state = estimator_.state();
  e.conditions = evaluate_rules(e.state, thresholds_, egress_time_s_, venue_.egress_limit_s);
  e.events = alerts_.evaluate(e.conditions);
  return e;
}

void Monitor::set_thresholds(Thresholds t) {
  thresholds_ = std::move(t);
  estimator_.set_health_config(thresholds_.sensors.health);
  alerts_.set_clear_hold_s(thresholds_.clear_hold_s);
}

}  // namespace vigil::ops
