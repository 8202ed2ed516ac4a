// SPDX-License-Identifier: Apache-2.0
// The built-in rules of constant control and their per-venue thresholds. A rule looks at a
// VenueState (and the egress estimate another layer computes) and reports the conditions that
// hold now; the AlertEngine (ops/alerts.hpp) turns conditions into alerts.
#pragma once

#include <array>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "ops/occupancy.hpp"
#include "venue/venue.hpp"

namespace vigil::ops {

enum class Severity { warn, critical };
const char* to_string(Severity s);
std::optional<Severity> severity_from_string(std::string_view s);

// Rule names, as they appear in alerts.
namespace rule {
inline constexpr std::string_view capacity = "capacity";                      // key: zone
inline constexpr std::string_view density = "density";                        // key: zone
inline constexpr std::string_view rising = "rising";                          // key: zone
inline constexpr std::string_view sensor_stale = "sensor_stale";              // key: sensor
inline constexpr std::string_view sensor_implausible = "sensor_implausible";  // key: sensor
inline constexpr std::string_view counters_disagree = "counters_disagree";    // key: zone
inline constexpr std::string_view egress = "egress";                          // key: "venue"
}  // namespace rule

struct WarnCritical {
  double warn = 0;
  double critical = 0;
};

// Per-venue thresholds. A condition fires at or above its threshold. JSON form: see
// thresholds_from_json(); every field is optional and defaults to the value here.
struct Thresholds {
  struct Capacity {
    bool enabled = true;
    double warn_pct = 90;  // of zone capacity
    double critical_pct = 100;
  } capacity;
  struct Density {
    bool enabled = true;
    // Persons/m² per zone use (index: venue::ZoneUse); nullopt: no density alert for that use.
    std::array<std::optional<WarnCritical>, 6> by_use = default_by_use();
    static std::array<std::optional<WarnCritical>, 6> default_by_use();
    const std::optional<WarnCritical>& for_use(venue::ZoneUse u) const {
      return by_use[static_cast<std::size_t>(u)];
    }
  } density;
  struct Rising {
    bool enabled = true;
    double warn_pct_per_min = 10;  // net inflow per minute, as % of zone capacity
    double critical_pct_per_min = 20;
    double min_p_per_min = 20;  // warn never below this many persons/min (small zones);
                                // critical never below it × critical/warn
  } rising;
  struct Sensors {
    bool enabled = true;      // sensor_stale: stale = warn, silent = critical (a sensor
                              // never seen only from silent_after_s after start)
    bool implausible = true;  // sensor_implausible (rate, negative occupancy): warn
    HealthConfig health;      // what stale / silent / implausible mean
  } sensors;
  struct CountersDisagree {
    bool enabled = true;  // limits are in sensors.health.disagree_*
  } counters_disagree;
  struct Egress {
    bool enabled = true;
    double warn_pct = 90;  // of the venue's egress_limit_s
    double critical_pct = 100;
  } egress;
  double clear_hold_s = 60;  // a condition must stay clear this long to resolve its alert
};

// JSON:
//   { "capacity": { "enabled", "warn_pct", "critical_pct" },
//     "density": { "enabled", "standing": { "warn", "critical" } | null, "seated": ..., ... },
//     "rising": { "enabled", "warn_pct_per_min", "critical_pct_per_min", "min_p_per_min" },
//     "sensors": { "enabled", "implausible", "stale_after_s", "silent_after_s",
//                  "max_flow_p_per_m_s", "min_rate_interval_s", "negative_events",
//                  "negative_window_s", "negative_min_persons", "implausible_hold_s" },
//     "counters_disagree": { "enabled", "pct", "persons", "for_s" },
//     "egress": { "enabled", "warn_pct", "critical_pct" },
//     "clear_hold_s": 60 }
// Missing fields keep their defaults; unknown fields, wrong types, out-of-range values and
// warn above critical are errors, each with its path (`density.standing.warn: ...`).
Expected<Thresholds, std::vector<Error>> thresholds_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Thresholds& t);

// A rule's finding: this condition holds now.
struct Condition {
  std::string rule;    // one of rule::*
  std::string key;     // dedup key within the rule: zone id, sensor id or "venue"
  std::string zone;    // the zone concerned ("" for none)
  std::string sensor;  // the sensor concerned ("" for none)
  Severity severity = Severity::warn;
  double value = 0;      // what was measured (%, persons/m², persons/min, s)
  double threshold = 0;  // the threshold crossed
  std::string message;
};

// Every condition that holds in `state`, in a deterministic order (rule by rule, zones and
// sensors in venue order). `egress_time_s` is the current estimate of the time to clear the
// venue (absent: the egress rule is not evaluated); `egress_limit_s` the venue's limit.
std::vector<Condition> evaluate_rules(const VenueState& state, const Thresholds& t,
                                      std::optional<double> egress_time_s, double egress_limit_s);

}  // namespace vigil::ops
