// SPDX-License-Identifier: Apache-2.0
// Alerts of constant control: lifecycle (firing → acknowledged → resolved), grouping and
// deduplication per (venue, rule, key), severity that can rise within one alert, and the
// venue's escalation policy with repeated notifications.
//
// The engine is pure logic. evaluate() takes the conditions the rules found (ops/rules.hpp)
// and returns events; the caller persists them (upsert the alert by id), streams them and
// delivers the notifications. Time comes from the Clock given at construction. Not
// thread-safe: one engine per venue, used under the caller's lock.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "ops/clock.hpp"
#include "ops/rules.hpp"

namespace vigil::ops {

enum class AlertState { firing, acknowledged, resolved };
const char* to_string(AlertState s);
std::optional<AlertState> alert_state_from_string(std::string_view s);

// Who is told: a role (every user holding it, for the venue) or a webhook URL. Exactly one.
struct Recipient {
  std::string role;
  std::string webhook;
  bool operator==(const Recipient&) const = default;
};

struct EscalationLevel {
  std::vector<Recipient> recipients;
  double escalate_after_s = 0;  // unacknowledged this long at this level: next level (0: never)
  double repeat_s = 300;        // notify again every repeat_s until acknowledged (0: once)
};

// Ordered levels; an alert starts at level 0. An empty policy notifies nobody.
struct EscalationPolicy {
  std::vector<EscalationLevel> levels;
  // One level: the venue's operators, reminded every 5 minutes.
  static EscalationPolicy default_policy();
};

// JSON: { "levels": [ { "recipients": [ { "role": "operator" }, { "webhook": "https://..." } ],
//                       "escalate_after_s": 300, "repeat_s": 120 }, ... ] }
// Errors carry their paths (`levels[1].recipients[0].webhook: ...`).
Expected<EscalationPolicy, std::vector<Error>> escalation_policy_from_json(const nlohmann::json& j);
nlohmann::json to_json(const EscalationPolicy& p);

struct Alert {
  std::string id;  // "{venue}:{rule}:{key}:{since_ms}" — deterministic, unique per venue
  std::string venue;
  std::string rule;
  std::string key;                             // zone id, sensor id or "venue"
  std::string zone;                            // "" → null in JSON
  std::string sensor;                          // "" → null in JSON
  Severity severity = Severity::warn;          // the highest reached
  Severity current_severity = Severity::warn;  // as of the latest evaluation
  AlertState state = AlertState::firing;
  TimeMs since_ms = 0;
  TimeMs updated_ms = 0;
  std::optional<std::string> acknowledged_by;
  std::optional<TimeMs> acknowledged_at_ms;
  std::optional<std::string> note;  // the acknowledgement note
  std::optional<TimeMs> resolved_at_ms;
  std::optional<std::string> resolved_by;  // a user, or "system" when the condition cleared
  std::optional<std::string> resolution_note;
  double value = 0;
  double threshold = 0;
  std::string message;
  // Escalation bookkeeping (persisted so that a restarted engine carries on where it was).
  int level = 0;
  TimeMs level_since_ms = 0;
  std::optional<TimeMs> last_notified_ms;
  int notifications = 0;
  std::optional<TimeMs> clear_since_ms;  // condition absent since (resolves after the hold)
};

// { "id", "venue", "rule", "zone", "severity", "state", "since", "acknowledged_by",
//   "acknowledged_at", "note" } plus "key", "sensor", "current_severity", "updated_at",
// "resolved_at", "resolved_by", "resolution_note", "value", "threshold", "message",
// "escalation_level", "level_since", "last_notified_at", "notifications", "clear_since".
nlohmann::json to_json(const Alert& a);
Expected<Alert, std::vector<Error>> alert_from_json(const nlohmann::json& j,
                                                    const std::string& path = "alert");

enum class AlertEventType { opened, updated, escalated, acknowledged, resolved, notify };
const char* to_string(AlertEventType t);

struct Notification {
  int level = 0;
  std::vector<Recipient> recipients;
  int attempt = 1;  // 1 for the first notification of this alert, counting repeats
};

struct AlertEvent {
  AlertEventType type = AlertEventType::opened;
  TimeMs at_ms = 0;
  Alert alert;                               // the alert after the change
  std::optional<Notification> notification;  // for notify
  std::string detail;                        // e.g. "severity warn → critical"
};
// { "type", "at", "alert": {...}, "notification": { "level", "recipients", "attempt" }?, "detail" }
nlohmann::json to_json(const AlertEvent& e);

// Why acknowledge() / resolve() refused (maps onto HTTP 404 / 400 / 409).
struct ActionError {
  enum class Code { not_found, invalid, conflict };
  Code code = Code::invalid;
  Error error;
};

class AlertEngine {
 public:
  // `clock` must outlive the engine.
  AlertEngine(std::string venue_id, const Clock& clock,
              EscalationPolicy policy = EscalationPolicy::default_policy(),
              double clear_hold_s = 60);

  // Applies the conditions holding now: opens alerts for new (rule, key) pairs, updates open
  // ones (severity may rise: an acknowledged alert then fires again), resolves those whose
  // condition has been absent for clear_hold_s, escalates unacknowledged ones and emits the
  // notifications due. Events come in a deterministic order.
  std::vector<AlertEvent> evaluate(std::span<const Condition> conditions);

  // REQUIRES: a non-empty `by` and `note`. Errors: unknown id (not_found), empty by/note
  // (invalid), already acknowledged or resolved (conflict).
  Expected<AlertEvent, ActionError> acknowledge(std::string_view id, std::string_view by,
                                                std::string_view note);
  // Resolves by hand a firing or acknowledged alert. Same errors as acknowledge().
  Expected<AlertEvent, ActionError> resolve(std::string_view id, std::string_view by,
                                            std::string_view note);

  // Rebuilds the engine after a restart from persisted alerts (of this venue): open ones become
  // live again with their escalation state; resolved ones are kept for alerts(true). Errors: an
  // alert of another venue, two open alerts for one (rule, key), duplicate ids.
  Expected<void, std::vector<Error>> restore(std::span<const Alert> alerts);

  // Open alerts (and, if asked, the most recent resolved ones), oldest first.
  std::vector<Alert> alerts(bool include_resolved = false) const;
  const Alert* find(std::string_view id) const;

  const EscalationPolicy& policy() const { return policy_; }
  void set_policy(EscalationPolicy p) { policy_ = std::move(p); }
  void set_clear_hold_s(double s) { clear_hold_s_ = s; }

  static constexpr std::size_t kResolvedKept = 1000;

 private:
  Alert* find_open(std::string_view id);
  void notify(Alert& a, TimeMs now, std::vector<AlertEvent>& out);
  void keep_resolved(Alert a);

  std::string venue_;
  const Clock& clock_;
  EscalationPolicy policy_;
  double clear_hold_s_;
  std::map<std::string, Alert> open_;  // by rule + '\n' + key
  std::vector<Alert> resolved_;        // most recent last, at most kResolvedKept
};

}  // namespace vigil::ops
