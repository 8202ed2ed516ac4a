// SPDX-License-Identifier: Apache-2.0
// Warnings and the duty to warn (docs/warnings.md, "Duty to warn"): CAP documents matched to
// gatherings, each match notified to the venue's operators, acknowledged with the action taken
// and escalated by the venue's policy while nobody does; advisories; per-gathering timelines.
//
// Stored as key-value blobs: `warning/{id}` (the warning), `cap/{id}` (the document as
// received), `match/{warning}/{gathering}` (a match and its acknowledgement).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "api/service.hpp"
#include "api/service_runtime.hpp"
#include "store/crypto.hpp"
#include "warn/advisory.hpp"
#include "warn/cap.hpp"
#include "warn/geocode.hpp"
#include "warn/match.hpp"

namespace vigil::api {

using nlohmann::json;

namespace {

constexpr std::string_view kActions[] = {"raised_posture", "added_screening", "cancelled",
                                         "no_action", "other"};

std::string warning_id(const std::string& sender, const std::string& identifier, warn::TimeMs sent_ms) {
  return "w-" + store::sha256_hex(sender + "\n" + identifier + "\n" + std::to_string(sent_ms)).substr(0, 16);
}
std::string match_key(const std::string& warning, const std::string& gathering) {
  return "match/" + warning + "/" + gathering;
}

// How far the venue reaches around its origin (m): the farthest walkable point, at least 50 m.
double venue_radius_m(const venue::Venue& v) {
  double r = 50;
  for (const auto& [index, level] : v.levels) {
    for (const auto& poly : level.areas) {
      for (const auto& p : poly.outer) r = std::max(r, std::hypot(p.x, p.y));
    }
  }
  return r;
}

// The matcher's view of a gathering at a placed venue.
warn::GatheringRef gathering_ref(const store::GatheringRecord& g, const venue::Venue& v) {
  const json doc = json::parse(g.json, nullptr, false);
  warn::GatheringRef ref;
  ref.id = g.id;
  ref.venue_id = g.venue;
  ref.name = doc.value("name", "");
  ref.kind = doc.value("kind", "other");
  ref.starts_ms = g.starts_at_ms;
  ref.ends_ms = g.ends_at_ms;
  ref.lat = v.origin->lat;
  ref.lon = v.origin->lon;
  ref.radius_m = venue_radius_m(v);
  ref.venue_use = v.use;
  ref.venue_name = v.name;
  return ref;
}

std::optional<json> kv_json(store::Store& st, const std::string& key) {
  auto v = st.kv_get(key);
  if (!v || !*v) return std::nullopt;
  json j = json::parse(**v, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace

void Service::rebuild_gathering_index() {
  auto index = std::make_unique<warn::GatheringIndex>();
  if (options_.geocodes) index->set_geocodes(options_.geocodes);
  auto rows = store_.list_gatherings({});
  if (rows) {
    for (const auto& g : *rows) {
      auto rt = runtime(g.venue);
      if (!rt || !rt->model->origin) continue;  // without an origin a venue cannot be placed
      try {
        index->upsert(gathering_ref(g, *rt->model));
      } catch (const std::invalid_argument& e) {
        if (options_.log_error) options_.log_error("gathering " + g.id + ": " + e.what());
      }
    }
  }
  std::lock_guard lock(warn_mu_);
  gatherings_ = std::move(index);
  if (pending_matches_.empty()) {
    if (auto all = store_.kv_list("match/")) {
      for (const auto& [key, value] : *all) {
        json m = json::parse(value, nullptr, false);
        if (m.is_object() && m.value("state", "") == "pending") pending_matches_[key] = m;
      }
    }
  }
}

std::optional<std::string> Service::gathering_venue(const std::string& gathering) {
  auto g = store_.get_gathering(gathering);
  if (!g || !*g) return std::nullopt;
  return (*g)->venue;
}

// Stores a new match, notifies the venue and queues it for escalation.
json Service::record_match(const std::string& id, const warn::CapAlert& cap, const warn::Match& m,
                           const std::string& actor) {
  const auto now = clock_.now_ms();
  json record = {{"warning", id},
                 {"gathering", m.gathering_id},
                 {"venue", m.venue_id},
                 {"state", "pending"},
                 {"matched_at", store::format_rfc3339_ms(now)},
                 {"specificity", warn::to_json(m.specificity)},
                 {"match", warn::to_json(m)},
                 {"headline", cap.infos.at(m.info_index).headline},
                 {"event", cap.infos.at(m.info_index).event},
                 {"level", 0},
                 {"level_since_ms", now},
                 {"notifications", json::array()}};
  notify_match(record, 0, "matched");
  (void)store_.kv_put(match_key(id, m.gathering_id), record.dump());
  audit(actor, "warning.match", id + "/" + m.gathering_id, m.venue_id,
        {{"gathering", m.gathering_id},
         {"specificity", record["specificity"].value("score", 0.0)},
         {"place_via", m.place_via}});
  std::lock_guard lock(warn_mu_);
  pending_matches_[match_key(id, m.gathering_id)] = record;
  return record;
}

// A gathering created (or moved) after a warning arrived still gets it: every active warning is
// matched against the gathering alone.
void Service::match_active_warnings(const std::string& gathering, const std::string& actor) {
  auto g = store_.get_gathering(gathering);
  if (!g || !*g) return;
  auto rt = runtime((*g)->venue);
  if (!rt || !rt->model->origin) return;
  warn::GatheringIndex one;
  if (options_.geocodes) one.set_geocodes(options_.geocodes);
  try {
    one.upsert(gathering_ref(**g, *rt->model));
  } catch (const std::invalid_argument&) {
    return;
  }
  auto warnings = store_.kv_list("warning/");
  if (!warnings) return;
  const auto now = clock_.now_ms();
  for (const auto& [key, value] : *warnings) {
    const json w = json::parse(value, nullptr, false);
    if (!w.is_object() || w.value("state", "") != "active") continue;
    const std::string id = w["id"];
    if (kv_json(store_, match_key(id, gathering))) continue;  // matched already
    auto xml = store_.kv_get("cap/" + id);
    if (!xml || !*xml) continue;
    auto cap = warn::parse_cap(**xml);
    if (!cap) continue;
    for (const warn::Match& m : one.match(*cap, now)) record_match(id, *cap, m, actor);
  }
}

Expected<Service::Posted, ApiError> Service::post_warning(const Principal& by, std::string_view xml) {
  return post_warning_as(by.actor(), xml);
}

Expected<Service::Posted, ApiError> Service::post_warning_as(const std::string& actor,
                                                             std::string_view xml) {
  auto cap = warn::parse_cap(xml);
  if (!cap) return unexpected(ApiError::bad_request("not a valid CAP document", cap.error()));
  const std::string id = warning_id(cap->sender, cap->identifier, cap->sent_ms);
  // One intake at a time: the same document from a feed and over HTTP at once is stored once.
  static std::mutex intake_mu;
  std::lock_guard intake(intake_mu);
  if (auto existing = kv_json(store_, "warning/" + id)) {
    return Posted{false, *existing};
  }
  const auto now = clock_.now_ms();
  json warning = {{"id", id},
                  {"identifier", cap->identifier},
                  {"sender", cap->sender},
                  {"sent", cap->sent},
                  {"status", std::string(warn::to_string(cap->status))},
                  {"msg_type", std::string(warn::to_string(cap->msg_type))},
                  {"version", cap->version},
                  {"received_at", store::format_rfc3339_ms(now)},
                  {"received_by", actor},
                  {"state", "active"},
                  {"sha256", store::sha256_hex(xml)},
                  {"headline", cap->infos.empty() ? "" : cap->infos[0].headline},
                  {"event", cap->infos.empty() ? "" : cap->infos[0].event},
                  {"cap", warn::to_json(*cap)}};

  // Update and Cancel: the referenced warnings are superseded or cancelled, and their matches
  // stop escalating.
  json references = json::array();
  for (const auto& ref : cap->references) {
    const std::string rid = warning_id(ref.sender, ref.identifier, ref.sent_ms);
    references.push_back(rid);
    auto old = kv_json(store_, "warning/" + rid);
    if (!old) continue;
    (*old)["state"] = cap->msg_type == warn::MsgType::Cancel ? "cancelled" : "updated";
    (*old)["superseded_by"] = id;
    (void)store_.kv_put("warning/" + rid, old->dump());
    std::lock_guard lock(warn_mu_);
    for (auto it = pending_matches_.begin(); it != pending_matches_.end();) {
      if ((*it).second["warning"] == rid) {
        json m = it->second;
        m["state"] = cap->msg_type == warn::MsgType::Cancel ? "cancelled" : "superseded";
        m["superseded_by"] = id;
        (void)store_.kv_put(it->first, m.dump());
        it = pending_matches_.erase(it);
      } else {
        ++it;
      }
    }
  }
  warning["references"] = references;

  std::vector<warn::Match> matches;
  {
    std::lock_guard lock(warn_mu_);
    if (gatherings_) matches = gatherings_->match(*cap, now);
  }
  json match_list = json::array();
  for (const warn::Match& m : matches) match_list.push_back(record_match(id, *cap, m, actor));
  warning["matches"] = match_list.size();
  if (auto ok = store_.kv_put("warning/" + id, warning.dump()); !ok) {
    return unexpected(ApiError::internal(ok.error().to_string()));
  }
  (void)store_.kv_put("cap/" + id, std::string(xml));
  audit(actor, "warning.received", id, "",
        {{"identifier", cap->identifier},
         {"sender", cap->sender},
         {"msg_type", warning["msg_type"]},
         {"sha256", warning["sha256"]},
         {"references", references},
         {"matches", match_list.size()}});
  json body = warning;
  body["matches"] = match_list;
  return Posted{true, body};
}

// Tells the venue's recipients of `level` about a match (SSE to its operators, webhooks) and
// records the notification in the match.
void Service::notify_match(json& match, int level, const char* why) {
  const std::string venue = match["venue"];
  const auto now = clock_.now_ms();
  json recipients = json::array();
  auto rt = runtime(venue);
  std::vector<ops::Recipient> to;
  if (rt) {
    std::lock_guard lock(rt->mu);
    const auto& levels = rt->monitor->alerts().policy().levels;
    if (level >= 0 && static_cast<std::size_t>(level) < levels.size()) to = levels[level].recipients;
  }
  WebhookSender send;
  {
    std::lock_guard lock(webhook_mu_);
    send = webhook_;
  }
  json event = match;
  event["event"] = why;
  for (const auto& r : to) {
    if (!r.webhook.empty()) {
      if (send) send(r.webhook, {{"kind", "warning"}, {"venue", venue}, {"level", level}, {"match", event}});
      recipients.push_back({{"webhook", r.webhook}});
    } else {
      recipients.push_back({{"role", r.role}});
    }
  }
  match["notifications"].push_back({{"at", store::format_rfc3339_ms(now)}, {"level", level}, {"why", why},
                                    {"recipients", recipients}});
  match["last_notified_ms"] = now;
  broadcast(venue, "warning", event.dump());
  audit("vigil", std::string("warning.") + why, match["warning"].get<std::string>() + "/" +
                                                     match["gathering"].get<std::string>(),
        venue, {{"level", level}, {"recipients", recipients}});
}

void Service::escalate_matches() {
  std::vector<std::pair<std::string, json>> due;
  {
    std::lock_guard lock(warn_mu_);
    for (const auto& [key, m] : pending_matches_) due.emplace_back(key, m);
  }
  const auto now = clock_.now_ms();
  for (auto& [key, m] : due) {
    auto rt = runtime(m["venue"].get<std::string>());
    if (!rt) continue;
    ops::EscalationPolicy policy;
    {
      std::lock_guard lock(rt->mu);
      policy = rt->monitor->alerts().policy();
    }
    if (policy.levels.empty()) continue;
    int level = m.value("level", 0);
    const auto& current = policy.levels[std::min<std::size_t>(level, policy.levels.size() - 1)];
    const auto since = m.value("level_since_ms", now);
    const auto last = m.value("last_notified_ms", since);
    const char* why = nullptr;
    if (current.escalate_after_s > 0 && static_cast<std::size_t>(level + 1) < policy.levels.size() &&
        now - since >= static_cast<ops::TimeMs>(current.escalate_after_s * 1000)) {
      ++level;
      m["level"] = level;
      m["level_since_ms"] = now;
      why = "escalated";
    } else if (current.repeat_s > 0 && now - last >= static_cast<ops::TimeMs>(current.repeat_s * 1000)) {
      why = "reminded";
    }
    if (!why) continue;
    notify_match(m, level, why);
    std::lock_guard lock(warn_mu_);
    const auto it = pending_matches_.find(key);
    if (it == pending_matches_.end()) continue;  // acknowledged meanwhile
    it->second = m;
    (void)store_.kv_put(key, m.dump());
  }
}

std::optional<std::string> Service::match_venue(const std::string& warning, const std::string& gathering) {
  auto m = kv_json(store_, match_key(warning, gathering));
  if (!m) return std::nullopt;
  return (*m)["venue"].get<std::string>();
}

Answer Service::acknowledge_match(const Principal& by, const std::string& warning,
                                  const std::string& gathering, std::string_view body) {
  const std::string key = match_key(warning, gathering);
  auto m = kv_json(store_, key);
  if (!m) return unexpected(ApiError::not_found("no match of warning " + warning + " to gathering " + gathering));
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return unexpected(ApiError::bad_request("the body must be a JSON object"));
  std::vector<Error> errors;
  const std::string action = j.value("action", "");
  const std::string note = j.contains("note") && j["note"].is_string() ? j["note"].get<std::string>() : "";
  if (std::find(std::begin(kActions), std::end(kActions), action) == std::end(kActions)) {
    errors.push_back({"action", "must be raised_posture, added_screening, cancelled, no_action or other"});
  }
  if ((action == "no_action" || action == "other") && note.find_first_not_of(" \t\r\n") == std::string::npos) {
    errors.push_back({"note", "say why (required with " + action + ")"});
  }
  if (!errors.empty()) return unexpected(ApiError::bad_request("bad acknowledgement", errors));
  if ((*m)["state"] == "acknowledged") {
    return unexpected(ApiError::conflict("already acknowledged by " + (*m)["acknowledged_by"].get<std::string>()));
  }
  const auto now = clock_.now_ms();
  (*m)["state"] = "acknowledged";
  (*m)["acknowledged_by"] = by.actor();
  (*m)["acknowledged_at"] = store::format_rfc3339_ms(now);
  (*m)["action"] = action;
  (*m)["note"] = note;
  if (auto t = ops::parse_time((*m)["matched_at"].get<std::string>())) {
    (*m)["time_to_acknowledge_s"] = static_cast<double>(now - *t) / 1000.0;
  }
  {
    std::lock_guard lock(warn_mu_);
    pending_matches_.erase(key);
  }
  if (auto ok = store_.kv_put(key, m->dump()); !ok) return unexpected(ApiError::internal(ok.error().to_string()));
  const std::string venue = (*m)["venue"];
  audit(by.actor(), "warning.acknowledged", warning + "/" + gathering, venue,
        {{"action", action}, {"note", note}, {"time_to_acknowledge_s", (*m).value("time_to_acknowledge_s", 0.0)}});
  json event = *m;
  event["event"] = "acknowledged";
  broadcast(venue, "warning", event.dump());
  return *m;
}

Answer Service::list_warnings(const Principal& who) {
  auto rows = store_.kv_list("warning/");
  auto matches = store_.kv_list("match/");
  if (!rows || !matches) return unexpected(ApiError::internal("cannot read warnings"));
  std::map<std::string, json> by_warning;
  for (const auto& [key, value] : *matches) {
    json m = json::parse(value, nullptr, false);
    if (m.is_object() && who.sees(m["venue"].get<std::string>())) by_warning[m["warning"]].push_back(m);
  }
  const bool all = who.role == Role::admin || who.role == Role::analyst;
  json list = json::array();
  for (const auto& [key, value] : *rows) {
    json w = json::parse(value, nullptr, false);
    if (!w.is_object()) continue;
    const auto it = by_warning.find(w["id"]);
    if (!all && it == by_warning.end()) continue;
    w.erase("cap");
    w["matches"] = it == by_warning.end() ? json::array() : it->second;
    list.push_back(std::move(w));
  }
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) { return a["received_at"] > b["received_at"]; });
  return json{{"warnings", std::move(list)}};
}

Answer Service::get_warning(const Principal& who, const std::string& id) {
  auto w = kv_json(store_, "warning/" + id);
  if (!w) return unexpected(ApiError::not_found("no warning \"" + id + "\""));
  json matches = json::array();
  if (auto rows = store_.kv_list("match/" + id + "/")) {
    for (const auto& [key, value] : *rows) {
      json m = json::parse(value, nullptr, false);
      if (m.is_object() && who.sees(m["venue"].get<std::string>())) matches.push_back(m);
    }
  }
  if (matches.empty() && who.role != Role::admin && who.role != Role::analyst) {
    return unexpected(ApiError::not_found("no warning \"" + id + "\""));
  }
  (*w)["matches"] = matches;
  return *w;
}

Expected<std::string, ApiError> Service::advisory(const std::string& gathering) {
  auto g = store_.get_gathering(gathering);
  if (!g || !*g) return unexpected(ApiError::not_found("no gathering \"" + gathering + "\""));
  auto rt = runtime((*g)->venue);
  if (!rt) return unexpected(ApiError::not_found("no venue \"" + (*g)->venue + "\""));
  if (!rt->model->origin) {
    return unexpected(ApiError::conflict("venue " + rt->id + " has no origin (vigil.origin): an advisory needs a place"));
  }
  const json doc = json::parse((*g)->json, nullptr, false);
  std::string posture;
  {
    std::lock_guard lock(rt->mu);
    posture = rt->posture;
  }
  warn::AdvisoryInput in;
  in.sender = "vigil@" + rt->id + ".invalid";
  in.sent_ms = clock_.now_ms();
  in.identifier = fmt::format("vigil-{}-{}", gathering, in.sent_ms);
  in.event = "Public safety advisory";
  in.urgency = warn::Urgency::Expected;
  in.severity = posture == "high" ? warn::Severity::Severe : posture == "elevated" ? warn::Severity::Moderate
                                                                                   : warn::Severity::Minor;
  in.certainty = warn::Certainty::Possible;
  in.onset_ms = (*g)->starts_at_ms;
  in.expires_ms = (*g)->ends_at_ms;
  in.sender_name = rt->model->name;
  in.headline = fmt::format("{} at {}: security posture {}", doc.value("name", gathering), rt->model->name, posture);
  in.description = fmt::format(
      "{} ({}) at {} from {} to {}. The venue's security posture is {}. Expected attendance {}.",
      doc.value("name", gathering), doc.value("kind", "other"), rt->model->name,
      doc.value("starts_at", ""), doc.value("ends_at", ""), posture, doc.value("expected_attendance", 0));
  in.instruction = posture == "normal"
                       ? "Follow the stewards' directions and keep exits clear."
                       : "Allow extra time for security screening, carry no large bags, follow the "
                         "stewards' directions and keep exits clear.";
  in.area_desc = rt->model->name;
  in.lat = rt->model->origin->lat;
  in.lon = rt->model->origin->lon;
  in.radius_km = std::max(0.1, venue_radius_m(*rt->model) / 1000.0);
  try {
    return warn::advisory_cap(in);
  } catch (const std::invalid_argument& e) {
    return unexpected(ApiError::internal(e.what()));
  }
}

Answer Service::timeline(const std::string& gathering) {
  auto g = store_.get_gathering(gathering);
  if (!g || !*g) return unexpected(ApiError::not_found("no gathering \"" + gathering + "\""));
  const std::string venue = (*g)->venue;
  // From a week before the gathering (warnings come early) to a day after it.
  store::AuditQuery q;
  q.from_at = store::format_rfc3339_ms((*g)->starts_at_ms - 7 * 24 * 3'600'000LL);
  q.to_at = store::format_rfc3339_ms((*g)->ends_at_ms + 24 * 3'600'000LL);
  auto entries = store_.list_audit(q);
  if (!entries) return unexpected(ApiError::internal(entries.error().to_string()));
  json events = json::array();
  for (const auto& e : *entries) {
    const bool ours = e.venue == venue || e.subject == gathering ||
                      e.subject.ends_with("/" + gathering) || e.action == "warning.received";
    if (!ours) continue;
    events.push_back({{"at", e.at},
                      {"seq", e.seq},
                      {"actor", e.actor},
                      {"action", e.action},
                      {"subject", e.subject},
                      {"detail", json::parse(e.detail, nullptr, false)}});
  }
  // Warnings matched to this gathering and how fast each was acknowledged.
  json warnings = json::array();
  std::map<std::string, std::vector<double>> ack_by_person;
  std::vector<double> ack_all;
  if (auto rows = store_.kv_list("match/")) {
    for (const auto& [key, value] : *rows) {
      json m = json::parse(value, nullptr, false);
      if (!m.is_object() || m["gathering"] != gathering) continue;
      if (m.contains("time_to_acknowledge_s")) {
        ack_all.push_back(m["time_to_acknowledge_s"]);
        ack_by_person[m["acknowledged_by"]].push_back(m["time_to_acknowledge_s"]);
      }
      warnings.push_back(m);
    }
  }
  // Alerts of the venue during the gathering and their time to acknowledge.
  json alerts = json::array();
  std::vector<double> alert_ack;
  if (auto rows = store_.list_alerts(store::AlertQuery::of_venue(venue))) {
    for (const auto& a : *rows) {
      if (a.since_ms > (*g)->ends_at_ms || a.since_ms < (*g)->starts_at_ms - 24 * 3'600'000LL) continue;
      json j = json::parse(a.detail, nullptr, false);
      if (a.acknowledged_at_ms) {
        const double s = static_cast<double>(*a.acknowledged_at_ms - a.since_ms) / 1000.0;
        j["time_to_acknowledge_s"] = s;
        alert_ack.push_back(s);
        ack_by_person[a.acknowledged_by.value_or("?")].push_back(s);
      }
      alerts.push_back(std::move(j));
    }
  }
  auto stats = [](std::vector<double> v) -> json {
    if (v.empty()) return {{"count", 0}};
    std::sort(v.begin(), v.end());
    return {{"count", v.size()}, {"median_s", v[v.size() / 2]}, {"max_s", v.back()}};
  };
  json people = json::object();
  for (auto& [who, v] : ack_by_person) people[who] = stats(v);
  return json{{"gathering", json::parse((*g)->json, nullptr, false)},
              {"venue", venue},
              {"events", std::move(events)},
              {"warnings", std::move(warnings)},
              {"alerts", std::move(alerts)},
              {"peaks", gathering_peaks(gathering)},
              {"time_to_acknowledge",
               {{"warnings", stats(ack_all)}, {"alerts", stats(alert_ack)}, {"by_person", people}}}};
}

}  // namespace vigil::api
