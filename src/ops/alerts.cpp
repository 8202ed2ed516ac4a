// SPDX-License-Identifier: Apache-2.0
#include "ops/alerts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "ops/json_reader.hpp"

namespace vigil::ops {

using nlohmann::json;

const char* to_string(AlertState s) {
  switch (s) {
    case AlertState::firing:
      return "firing";
    case AlertState::acknowledged:
      return "acknowledged";
    case AlertState::resolved:
      return "resolved";
  }
  return "firing";
}

std::optional<AlertState> alert_state_from_string(std::string_view s) {
  if (s == "firing") return AlertState::firing;
  if (s == "acknowledged") return AlertState::acknowledged;
  if (s == "resolved") return AlertState::resolved;
  return std::nullopt;
}

const char* to_string(AlertEventType t) {
  switch (t) {
    case AlertEventType::opened:
      return "opened";
    case AlertEventType::updated:
      return "updated";
    case AlertEventType::escalated:
      return "escalated";
    case AlertEventType::acknowledged:
      return "acknowledged";
    case AlertEventType::resolved:
      return "resolved";
    case AlertEventType::notify:
      return "notify";
  }
  return "opened";
}

EscalationPolicy EscalationPolicy::default_policy() {
  EscalationPolicy p;
  p.levels.push_back({{Recipient{"operator", ""}}, 0, 300});
  return p;
}

namespace {

json recipient_json(const Recipient& r) {
  return r.webhook.empty() ? json{{"role", r.role}} : json{{"webhook", r.webhook}};
}

json opt_time(const std::optional<TimeMs>& t) { return t ? json(format_time(*t)) : json(); }
json opt_string(const std::optional<std::string>& s) { return s ? json(*s) : json(); }
json empty_null(const std::string& s) { return s.empty() ? json() : json(s); }

std::string trimmed(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string open_key(std::string_view rule_name, std::string_view key) {
  std::string k(rule_name);
  k += '\n';
  k += key;
  return k;
}

}  // namespace

Expected<EscalationPolicy, std::vector<Error>> escalation_policy_from_json(const json& j) {
  using detail::ObjectReader;
  std::vector<Error> errors;
  EscalationPolicy p;
  ObjectReader root(j, "", errors, {"levels"});
  if (!root.ok()) return unexpected(std::move(errors));
  const json* levels = root.find("levels");
  if (levels == nullptr) {
    errors.push_back({"levels", "missing"});
  } else if (!levels->is_array()) {
    errors.push_back({"levels", "must be an array"});
  } else {
    for (std::size_t i = 0; i < levels->size(); ++i) {
      const std::string at = fmt::format("levels[{}]", i);
      ObjectReader r((*levels)[i], at, errors, {"recipients", "escalate_after_s", "repeat_s"});
      EscalationLevel lv;
      r.number("escalate_after_s", lv.escalate_after_s, 0, 7 * 86400);
      r.number("repeat_s", lv.repeat_s, 0, 7 * 86400);
      if (lv.repeat_s > 0 && lv.repeat_s < 10)
        r.error("repeat_s",
                fmt::format("{:g} is too frequent (at least 10 s, or 0 for once)", lv.repeat_s));
      const json* rec = r.find("recipients");
      if (r.ok() && rec == nullptr) {
        r.error("recipients", "missing");
      } else if (rec != nullptr && (!rec->is_array() || rec->empty())) {
        r.error("recipients", "must be a non-empty array");
      } else if (rec != nullptr) {
        for (std::size_t k = 0; k < rec->size(); ++k) {
          const std::string rat = fmt::format("{}.recipients[{}]", at, k);
          ObjectReader rr((*rec)[k], rat, errors, {"role", "webhook"});
          if (!rr.ok()) continue;
          auto role = rr.string("role", false);
          auto hook = rr.string("webhook", false);
          if (role.has_value() == hook.has_value()) {
            errors.push_back({rat, "needs exactly one of \"role\" and \"webhook\""});
            continue;
          }
          Recipient rc;
          if (role) {
            if (role->empty()) rr.error("role", "must not be empty");
            rc.role = *role;
          } else {
            if (hook->rfind("https://", 0) != 0 && hook->rfind("http://", 0) != 0)
              rr.error("webhook", fmt::format("\"{}\" is not an http(s) URL", *hook));
            rc.webhook = *hook;
          }
          lv.recipients.push_back(std::move(rc));
        }
      }
      p.levels.push_back(std::move(lv));
    }
  }
  if (!errors.empty()) return unexpected(std::move(errors));
  return p;
}

json to_json(const EscalationPolicy& p) {
  json levels = json::array();
  for (const EscalationLevel& lv : p.levels) {
    json rec = json::array();
    for (const Recipient& r : lv.recipients) rec.push_back(recipient_json(r));
    levels.push_back({{"recipients", rec},
                      {"escalate_after_s", lv.escalate_after_s},
                      {"repeat_s", lv.repeat_s}});
  }
  return {{"levels", levels}};
}

json to_json(const Alert& a) {
  return {{"id", a.id},
          {"venue", a.venue},
          {"rule", a.rule},
          {"zone", empty_null(a.zone)},
          {"severity", to_string(a.severity)},
          {"state", to_string(a.state)},
          {"since", format_time(a.since_ms)},
          {"acknowledged_by", opt_string(a.acknowledged_by)},
          {"acknowledged_at", opt_time(a.acknowledged_at_ms)},
          {"note", opt_string(a.note)},
          {"key", a.key},
          {"sensor", empty_null(a.sensor)},
          {"current_severity", to_string(a.current_severity)},
          {"updated_at", format_time(a.updated_ms)},
          {"resolved_at", opt_time(a.resolved_at_ms)},
          {"resolved_by", opt_string(a.resolved_by)},
          {"resolution_note", opt_string(a.resolution_note)},
          {"value", a.value},
          {"threshold", a.threshold},
          {"message", a.message},
          {"escalation_level", a.level},
          {"level_since", format_time(a.level_since_ms)},
          {"last_notified_at", opt_time(a.last_notified_ms)},
          {"notifications", a.notifications},
          {"clear_since", opt_time(a.clear_since_ms)}};
}

Expected<Alert, std::vector<Error>> alert_from_json(const json& j, const std::string& path) {
  using detail::ObjectReader;
  std::vector<Error> errors;
  Alert a;
  ObjectReader r(j, path, errors,
                 {"id",
                  "venue",
                  "rule",
                  "zone",
                  "severity",
                  "state",
                  "since",
                  "acknowledged_by",
                  "acknowledged_at",
                  "note",
                  "key",
                  "sensor",
                  "current_severity",
                  "updated_at",
                  "resolved_at",
                  "resolved_by",
                  "resolution_note",
                  "value",
                  "threshold",
                  "message",
                  "escalation_level",
                  "level_since",
                  "last_notified_at",
                  "notifications",
                  "clear_since"});
  if (!r.ok()) return unexpected(std::move(errors));
  auto req = [&](std::string_view k) { return r.string(k, true).value_or(""); };
  auto time_field = [&](std::string_view k, bool required) -> std::optional<TimeMs> {
    auto s = r.string(k, required, !required);
    if (!s) return std::nullopt;
    auto t = parse_time(*s);
    if (!t) {
      r.error(k, t.error().message);
      return std::nullopt;
    }
    return *t;
  };
  auto sev_field = [&](std::string_view k, bool required) -> std::optional<Severity> {
    auto s = r.string(k, required);
    if (!s) return std::nullopt;
    auto v = severity_from_string(*s);
    if (!v) r.error(k, fmt::format("\"{}\" is not warn or critical", *s));
    return v;
  };
  a.id = req("id");
  a.venue = req("venue");
  a.rule = req("rule");
  a.zone = r.string("zone", false, true).value_or("");
  a.sensor = r.string("sensor", false, true).value_or("");
  a.key = r.string("key", false)
              .value_or(!a.zone.empty()     ? a.zone
                        : !a.sensor.empty() ? a.sensor
                                            : "venue");
  if (auto s = sev_field("severity", true)) a.severity = *s;
  a.current_severity = sev_field("current_severity", false).value_or(a.severity);
  if (auto s = r.string("state", true)) {
    if (auto st = alert_state_from_string(*s))
      a.state = *st;
    else
      r.error("state", fmt::format("\"{}\" is not firing, acknowledged or resolved", *s));
  }
  a.since_ms = time_field("since", true).value_or(0);
  a.updated_ms = time_field("updated_at", false).value_or(a.since_ms);
  a.acknowledged_by = r.string("acknowledged_by", false, true);
  a.acknowledged_at_ms = time_field("acknowledged_at", false);
  a.note = r.string("note", false, true);
  a.resolved_at_ms = time_field("resolved_at", false);
  a.resolved_by = r.string("resolved_by", false, true);
  a.resolution_note = r.string("resolution_note", false, true);
  r.number("value", a.value, -1e300, 1e300);
  r.number("threshold", a.threshold, -1e300, 1e300);
  a.message = r.string("message", false).value_or("");
  r.integer("escalation_level", a.level, 0, 1000);
  a.level_since_ms = time_field("level_since", false).value_or(a.since_ms);
  a.last_notified_ms = time_field("last_notified_at", false);
  r.integer("notifications", a.notifications, 0, 1000000);
  a.clear_since_ms = time_field("clear_since", false);
  if (a.state == AlertState::acknowledged && !a.acknowledged_by)
    r.error("acknowledged_by", "an acknowledged alert needs acknowledged_by");
  if (!errors.empty()) return unexpected(std::move(errors));
  return a;
}

json to_json(const AlertEvent& e) {
  json j = {{"type", to_string(e.type)}, {"at", format_time(e.at_ms)}, {"alert", to_json(e.alert)}};
  if (e.notification) {
    json rec = json::array();
    for (const Recipient& r : e.notification->recipients) rec.push_back(recipient_json(r));
    j["notification"] = {{"level", e.notification->level},
                         {"recipients", rec},
                         {"attempt", e.notification->attempt}};
  }
  if (!e.detail.empty()) j["detail"] = e.detail;
  return j;
}

AlertEngine::AlertEngine(std::string venue_id, const Clock& clock, EscalationPolicy policy,
                         double clear_hold_s)
    : venue_(std::move(venue_id)),
      clock_(clock),
      policy_(std::move(policy)),
      clear_hold_s_(clear_hold_s) {}

void AlertEngine::notify(Alert& a, TimeMs now, std::vector<AlertEvent>& out) {
  if (policy_.levels.empty()) return;
  a.level = std::clamp(a.level, 0, static_cast<int>(policy_.levels.size()) - 1);
  a.last_notified_ms = now;
  ++a.notifications;
  Notification n{a.level, policy_.levels[static_cast<std::size_t>(a.level)].recipients,
                 a.notifications};
  out.push_back({AlertEventType::notify, now, a, std::move(n), ""});
}

void AlertEngine::keep_resolved(Alert a) {
  resolved_.push_back(std::move(a));
  if (resolved_.size() > kResolvedKept)
    resolved_.erase(resolved_.begin(), resolved_.begin() + static_cast<std::ptrdiff_t>(
                                                               resolved_.size() - kResolvedKept));
}

std::vector<AlertEvent> AlertEngine::evaluate(std::span<const Condition> conditions) {
  const TimeMs now = clock_.now_ms();
  std::vector<AlertEvent> out;
  // The strongest condition per (rule, key), in first-seen order.
  std::vector<const Condition*> order;
  std::map<std::string, const Condition*> strongest;
  for (const Condition& c : conditions) {
    auto [it, inserted] = strongest.try_emplace(open_key(c.rule, c.key), &c);
    if (inserted)
      order.push_back(&c);
    else if (c.severity > it->second->severity)
      it->second = &c;
  }
  std::set<std::string> present;
  for (const Condition* first : order) {
    const std::string k = open_key(first->rule, first->key);
    const Condition& c = *strongest.at(k);
    present.insert(k);
    auto it = open_.find(k);
    if (it == open_.end()) {
      Alert a;
      a.venue = venue_;
      a.rule = c.rule;
      a.key = c.key;
      a.zone = c.zone;
      a.sensor = c.sensor;
      a.severity = a.current_severity = c.severity;
      a.state = AlertState::firing;
      a.since_ms = a.updated_ms = a.level_since_ms = now;
      a.value = c.value;
      a.threshold = c.threshold;
      a.message = c.message;
      std::string id = fmt::format("{}:{}:{}:{}", venue_, c.rule, c.key, now);
      for (int n = 2; find(id) != nullptr; ++n)
        id = fmt::format("{}:{}:{}:{}-{}", venue_, c.rule, c.key, now, n);
      a.id = std::move(id);
      Alert& stored = open_.emplace(k, std::move(a)).first->second;
      out.push_back({AlertEventType::opened, now, stored, std::nullopt, stored.message});
      notify(stored, now, out);
      continue;
    }
    Alert& a = it->second;
    a.clear_since_ms.reset();
    a.value = c.value;
    a.threshold = c.threshold;
    a.message = c.message;
    if (c.severity > a.severity) {
      std::string detail =
          fmt::format("severity {} → {}", to_string(a.severity), to_string(c.severity));
      a.severity = a.current_severity = c.severity;
      a.updated_ms = now;
      if (a.state == AlertState::acknowledged) {
        // A worse condition needs a fresh acknowledgement: the alert fires again from level 0.
        detail += fmt::format("; acknowledgement by {} withdrawn", a.acknowledged_by.value_or("?"));
        a.state = AlertState::firing;
        a.acknowledged_by.reset();
        a.acknowledged_at_ms.reset();
        a.note.reset();
        a.level = 0;
        a.level_since_ms = now;
      }
      out.push_back({AlertEventType::updated, now, a, std::nullopt, std::move(detail)});
      notify(a, now, out);
    } else if (c.severity != a.current_severity) {
      std::string detail = fmt::format("current severity {} → {}", to_string(a.current_severity),
                                       to_string(c.severity));
      a.current_severity = c.severity;
      a.updated_ms = now;
      out.push_back({AlertEventType::updated, now, a, std::nullopt, std::move(detail)});
    }
  }

  for (auto it = open_.begin(); it != open_.end();) {
    Alert& a = it->second;
    if (!present.contains(it->first)) {
      if (!a.clear_since_ms) a.clear_since_ms = now;
      if (static_cast<double>(now - *a.clear_since_ms) >= clear_hold_s_ * 1000.0) {
        a.state = AlertState::resolved;
        a.resolved_at_ms = now;
        a.resolved_by = "system";
        a.resolution_note = fmt::format("condition clear for {:g} s", clear_hold_s_);
        a.updated_ms = now;
        out.push_back({AlertEventType::resolved, now, a, std::nullopt, *a.resolution_note});
        keep_resolved(std::move(a));
        it = open_.erase(it);
        continue;
      }
    }
    if (a.state == AlertState::firing && !policy_.levels.empty()) {
      const auto nlevels = static_cast<int>(policy_.levels.size());
      a.level = std::clamp(a.level, 0, nlevels - 1);
      // Escalate through every level whose time has passed (evaluate may be called late).
      while (a.level + 1 < nlevels) {
        const double after_s = policy_.levels[static_cast<std::size_t>(a.level)].escalate_after_s;
        if (after_s <= 0 || static_cast<double>(now - a.level_since_ms) < after_s * 1000.0) break;
        a.level_since_ms += static_cast<TimeMs>(after_s * 1000.0);
        ++a.level;
        a.updated_ms = now;
        out.push_back({AlertEventType::escalated, now, a, std::nullopt,
                       fmt::format("unacknowledged for {:g} s: level {} → {}", after_s, a.level - 1,
                                   a.level)});
        notify(a, now, out);
      }
      const double repeat_s = policy_.levels[static_cast<std::size_t>(a.level)].repeat_s;
      if (repeat_s > 0 && a.last_notified_ms &&
          static_cast<double>(now - *a.last_notified_ms) >= repeat_s * 1000.0)
        notify(a, now, out);
    }
    ++it;
  }
  return out;
}

Alert* AlertEngine::find_open(std::string_view id) {
  for (auto& [k, a] : open_)
    if (a.id == id) return &a;
  return nullptr;
}

const Alert* AlertEngine::find(std::string_view id) const {
  for (const auto& [k, a] : open_)
    if (a.id == id) return &a;
  for (auto it = resolved_.rbegin(); it != resolved_.rend(); ++it)
    if (it->id == id) return &*it;
  return nullptr;
}

namespace {

Expected<void, ActionError> check_action(const Alert* a, std::string_view id, const std::string& by,
                                         const std::string& note) {
  using Code = ActionError::Code;
  if (a == nullptr)
    return unexpected(
        ActionError{Code::not_found, {"id", fmt::format("unknown alert \"{}\"", id)}});
  if (by.empty()) return unexpected(ActionError{Code::invalid, {"by", "who acts must be named"}});
  if (note.empty()) return unexpected(ActionError{Code::invalid, {"note", "a note is required"}});
  if (a->state == AlertState::resolved)
    return unexpected(ActionError{
        Code::conflict,
        {"id", fmt::format("alert \"{}\" is already resolved (by {} at {})", id,
                           a->resolved_by.value_or("?"),
                           a->resolved_at_ms ? format_time(*a->resolved_at_ms) : "?")}});
  return {};
}

}  // namespace

Expected<AlertEvent, ActionError> AlertEngine::acknowledge(std::string_view id, std::string_view by,
                                                           std::string_view note) {
  const TimeMs now = clock_.now_ms();
  const std::string who = trimmed(by), text = trimmed(note);
  Alert* a = find_open(id);
  if (auto ok = check_action(a != nullptr ? a : find(id), id, who, text); !ok)
    return unexpected(ok.error());
  if (a->state == AlertState::acknowledged)
    return unexpected(ActionError{
        ActionError::Code::conflict,
        {"id", fmt::format("alert \"{}\" is already acknowledged (by {} at {})", id,
                           a->acknowledged_by.value_or("?"),
                           a->acknowledged_at_ms ? format_time(*a->acknowledged_at_ms) : "?")}});
  a->state = AlertState::acknowledged;
  a->acknowledged_by = who;
  a->acknowledged_at_ms = now;
  a->note = text;
  a->updated_ms = now;
  return AlertEvent{AlertEventType::acknowledged, now, *a, std::nullopt,
                    fmt::format("acknowledged by {}", who)};
}

Expected<AlertEvent, ActionError> AlertEngine::resolve(std::string_view id, std::string_view by,
                                                       std::string_view note) {
  const TimeMs now = clock_.now_ms();
  const std::string who = trimmed(by), text = trimmed(note);
  Alert* a = find_open(id);
  if (auto ok = check_action(a != nullptr ? a : find(id), id, who, text); !ok)
    return unexpected(ok.error());
  a->state = AlertState::resolved;
  a->resolved_at_ms = now;
  a->resolved_by = who;
  a->resolution_note = text;
  a->updated_ms = now;
  AlertEvent e{AlertEventType::resolved, now, *a, std::nullopt, fmt::format("resolved by {}", who)};
  const std::string k = open_key(a->rule, a->key);
  keep_resolved(std::move(*a));
  open_.erase(k);
  return e;
}

Expected<void, std::vector<Error>> AlertEngine::restore(std::span<const Alert> alerts) {
  std::vector<Error> errors;
  std::map<std::string, Alert> open;
  std::vector<Alert> resolved;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    const Alert& a = alerts[i];
    const std::string at = fmt::format("alerts[{}]", i);
    if (a.venue != venue_) {
      errors.push_back({at + ".venue",
                        fmt::format("\"{}\" is not this engine's venue \"{}\"", a.venue, venue_)});
      continue;
    }
    if (!ids.insert(a.id).second) {
      errors.push_back({at + ".id", fmt::format("duplicate id \"{}\"", a.id)});
      continue;
    }
    if (a.state == AlertState::resolved) {
      resolved.push_back(a);
      continue;
    }
    if (!open.emplace(open_key(a.rule, a.key), a).second)
      errors.push_back(
          {at, fmt::format("a second open alert for rule \"{}\" and key \"{}\"", a.rule, a.key)});
  }
  if (!errors.empty()) return unexpected(std::move(errors));
  std::stable_sort(resolved.begin(), resolved.end(), [](const Alert& x, const Alert& y) {
    return x.resolved_at_ms.value_or(x.updated_ms) < y.resolved_at_ms.value_or(y.updated_ms);
  });
  open_ = std::move(open);
  resolved_.clear();
  for (Alert& a : resolved) keep_resolved(std::move(a));
  return {};
}

std::vector<Alert> AlertEngine::alerts(bool include_resolved) const {
  std::vector<Alert> v;
  for (const auto& [k, a] : open_) v.push_back(a);
  if (include_resolved) v.insert(v.end(), resolved_.begin(), resolved_.end());
  std::stable_sort(v.begin(), v.end(), [](const Alert& x, const Alert& y) {
    return x.since_ms != y.since_ms ? x.since_ms < y.since_ms : x.id < y.id;
  });
  return v;
}

}  // namespace vigil::ops
