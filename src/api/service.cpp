// SPDX-License-Identifier: Apache-2.0
#include "api/service.hpp"

#include "api/service_runtime.hpp"

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>

#include "ops/monitor.hpp"
#include "ops/rules.hpp"
#include "store/crypto.hpp"
#include "server/http.hpp"
#include "server/metrics.hpp"
#include "venue/load.hpp"
#include "venue/summary.hpp"
#include "warn/match.hpp"

namespace vigil::api {

using nlohmann::json;

// ---- errors ---------------------------------------------------------------------------------

ApiError ApiError::bad_request(std::string message, std::vector<Error> errors) {
  return {400, std::move(message), std::move(errors)};
}
ApiError ApiError::not_found(std::string message) { return {404, std::move(message), {}}; }
ApiError ApiError::conflict(std::string message) { return {409, std::move(message), {}}; }
ApiError ApiError::internal(std::string message) { return {500, std::move(message), {}}; }

json ApiError::to_json() const {
  json j = {{"error", message}};
  if (!errors.empty()) {
    json list = json::array();
    for (const Error& e : errors) list.push_back({{"path", e.where}, {"error", e.message}});
    j["errors"] = std::move(list);
  }
  return j;
}

namespace {

constexpr std::string_view kPostures[] = {"normal", "elevated", "high"};
constexpr std::string_view kGatheringKinds[] = {"concert",   "sport",     "theatre",
                                                "conference", "religious", "market",
                                                "school_day", "other"};

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// The body as a JSON object, or a 400 saying where it is malformed.
Expected<json, ApiError> parse_body(std::string_view body) {
  try {
    json j = json::parse(body);
    if (!j.is_object()) return unexpected(ApiError::bad_request("the body must be a JSON object"));
    return j;
  } catch (const json::parse_error& e) {
    return unexpected(ApiError::bad_request("malformed JSON", {{"", e.what()}}));
  }
}

std::optional<std::string> string_field(const json& j, const char* key, std::vector<Error>& errors,
                                        bool required = true) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) errors.push_back({key, "is required"});
    return std::nullopt;
  }
  if (!it->is_string()) {
    errors.push_back({key, "must be a string"});
    return std::nullopt;
  }
  return it->get<std::string>();
}

store::ReadingRow to_row(const std::string& venue, const ops::Reading& r) {
  store::ReadingRow row;
  row.venue = venue;
  row.sensor = r.sensor;
  row.seq = r.seq;
  row.ts_ms = r.ts_ms;
  switch (r.kind) {
    case ops::ReadingKind::in_out:
      row.kind = store::ReadingKind::in_out;
      row.in = static_cast<std::int64_t>(r.in);
      row.out = static_cast<std::int64_t>(r.out);
      break;
    case ops::ReadingKind::count:
      row.kind = store::ReadingKind::count;
      row.count = static_cast<std::int64_t>(r.count);
      break;
    case ops::ReadingKind::density:
      row.kind = store::ReadingKind::density;
      row.density_p_m2 = r.density;
      break;
  }
  return row;
}

ops::Reading from_row(const store::ReadingRow& row) {
  ops::Reading r;
  r.sensor = row.sensor;
  r.seq = row.seq;
  r.ts_ms = row.ts_ms;
  switch (row.kind) {
    case store::ReadingKind::in_out:
      r.kind = ops::ReadingKind::in_out;
      r.in = static_cast<double>(row.in);
      r.out = static_cast<double>(row.out);
      break;
    case store::ReadingKind::count:
      r.kind = ops::ReadingKind::count;
      r.count = static_cast<double>(row.count);
      break;
    case store::ReadingKind::density:
      r.kind = ops::ReadingKind::density;
      r.density = row.density_p_m2;
      break;
  }
  return r;
}

store::AlertRecord to_record(const ops::Alert& a) {
  store::AlertRecord rec;
  rec.id = a.id;
  rec.venue = a.venue;
  rec.rule = a.rule;
  rec.zone = a.zone;
  rec.severity = ops::to_string(a.severity);
  rec.state = ops::to_string(a.state);
  rec.since_ms = a.since_ms;
  rec.acknowledged_by = a.acknowledged_by;
  rec.acknowledged_at_ms = a.acknowledged_at_ms;
  rec.note = a.note.value_or("");
  rec.resolved_at_ms = a.resolved_at_ms;
  rec.escalation_level = a.level;
  rec.detail = ops::to_json(a).dump();
  return rec;
}

std::string rules_key(std::string_view venue) { return "rules/" + std::string(venue); }
std::string posture_key(std::string_view venue) { return "posture/" + std::string(venue); }

}  // namespace

// ---- per-venue runtime: api/service_runtime.hpp ------------------------------------------

struct Service::Subscriber {
  Principal who;
  std::string venue;  // empty: every venue `who` sees
  std::shared_ptr<server::EventStream> stream;
  bool wants(std::string_view v) const { return venue.empty() ? who.sees(v) : venue == v; }
};

Service::Service(store::Store& store, const ops::Clock& clock, server::MetricsRegistry& metrics,
                 ServiceOptions options)
    : store_(store), clock_(clock), metrics_(metrics), options_(options) {
  worker_ = std::thread([this] { worker_loop(); });
  applier_ = std::thread([this] { applier_loop(); });
}

Service::~Service() {
  stop();
  // The applier outlives stop(): the store, closed after the service stops, still delivers
  // committed batches.
  {
    std::lock_guard lock(apply_mu_);
    apply_stop_ = true;
  }
  apply_cv_.notify_all();
  if (applier_.joinable()) applier_.join();
}

Result<std::unique_ptr<Service>> Service::open(store::Store& store, const ops::Clock& clock,
                                               server::MetricsRegistry& metrics,
                                               ServiceOptions options) {
  std::unique_ptr<Service> s(new Service(store, clock, metrics, options));
  if (auto ok = s->load(); !ok) return unexpected(ok.error());
  return s;
}

Result<void> Service::load() {
  auto venues = store_.list_venues();
  if (!venues) return unexpected(venues.error());
  for (const store::VenueRecord& rec : *venues) {
    auto rt = build_runtime(rec);
    if (!rt) return unexpected(rt.error());
    std::lock_guard lock(venues_mu_);
    venues_[rec.id] = std::move(*rt);
  }
  rebuild_gathering_index();
  return {};
}

// A venue's runtime from its stored file, rules, posture, open alerts and recent readings.
Result<std::shared_ptr<Service::Runtime>> Service::build_runtime(const store::VenueRecord& rec) {
  auto loaded = venue::load_venue(rec.json);
  if (!loaded.ok()) {
    return unexpected(Error{"venue " + rec.id, "the stored venue no longer loads: " +
                                                   (loaded.issues.empty()
                                                        ? std::string("unknown error")
                                                        : loaded.issues.front().to_string())});
  }
  auto rt = std::make_shared<Runtime>();
  rt->id = rec.id;
  rt->file = rec.json;
  rt->model = std::make_shared<const venue::Venue>(std::move(*loaded.venue));

  ops::Thresholds thresholds;
  ops::EscalationPolicy policy = ops::EscalationPolicy::default_policy();
  if (auto rules = store_.kv_get(rules_key(rec.id)); rules && *rules) {
    const json j = json::parse(**rules, nullptr, false);
    if (j.is_object()) {
      if (j.contains("thresholds")) {
        if (auto t = ops::thresholds_from_json(j["thresholds"])) thresholds = *t;
      }
      if (j.contains("escalation")) {
        if (auto p = ops::escalation_policy_from_json(j["escalation"])) policy = *p;
      }
    }
  }
  rt->monitor = std::make_unique<ops::Monitor>(*rt->model, clock_, thresholds, policy);

  if (auto posture = store_.kv_get(posture_key(rec.id)); posture && *posture) {
    const json j = json::parse(**posture, nullptr, false);
    if (j.is_object() && j.value("posture", "").size()) rt->posture = j["posture"];
  }

  auto alerts = store_.list_alerts(store::AlertQuery::of_venue(rec.id));
  if (!alerts) return unexpected(alerts.error());
  std::vector<ops::Alert> restored;
  for (const store::AlertRecord& a : *alerts) {
    if (a.state == "resolved") continue;
    auto alert = ops::alert_from_json(json::parse(a.detail, nullptr, false));
    if (alert) restored.push_back(std::move(*alert));
  }
  if (auto ok = rt->monitor->alerts().restore(restored); !ok) {
    return unexpected(Error{"venue " + rec.id, "stored alerts: " + ok.error().front().to_string()});
  }

  const auto since =
      clock_.now_ms() - static_cast<ops::TimeMs>(options_.replay_hours * 3'600'000.0);
  auto rows = store_.readings_for_venue(rec.id, since);
  if (!rows) return unexpected(rows.error());
  std::vector<ops::Reading> readings;
  readings.reserve(rows->size());
  for (const store::ReadingRow& row : *rows) readings.push_back(from_row(row));
  rt->monitor->apply(readings);
  rt->occupancy = rt->monitor->state().occupancy;
  rt->open_alerts = rt->monitor->alerts().alerts().size();
  restore_incidents(*rt);
  rebuild_egress_model(rt, {});
  return rt;
}

std::shared_ptr<Service::Runtime> Service::runtime(std::string_view id) {
  std::lock_guard lock(venues_mu_);
  const auto it = venues_.find(id);
  return it == venues_.end() ? nullptr : it->second;
}

bool Service::has_venue(std::string_view id) { return runtime(id) != nullptr; }

// ---- ticker ---------------------------------------------------------------------------------

void Service::start() {
  std::lock_guard lock(tick_mu_);
  if (ticker_.joinable() || stopping_) return;
  ticker_ = std::thread([this] { ticker_loop(); });
}

void Service::post_job(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mu_);
    if (jobs_stop_) return;
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.notify_one();
}

void Service::worker_loop() {
  std::unique_lock lock(jobs_mu_);
  for (;;) {
    jobs_cv_.wait(lock, [this] { return jobs_stop_ || !jobs_.empty(); });
    if (jobs_stop_) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

void Service::stop() {
  {
    std::lock_guard lock(tick_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  tick_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  {
    std::lock_guard lock(jobs_mu_);
    jobs_stop_ = true;
    jobs_.clear();
  }
  jobs_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  tick();
  std::lock_guard lock(subs_mu_);
  for (auto& s : subscribers_) s->stream->close();
  subscribers_.clear();
}

void Service::ticker_loop() {
  using SteadyTime = std::chrono::steady_clock::time_point;
  auto next_full = std::chrono::steady_clock::now() + options_.tick;
  // Venues whose state an evaluation held back (sent too recently), and when it is due.
  std::vector<std::pair<std::shared_ptr<Runtime>, SteadyTime>> held;
  std::unique_lock lock(tick_mu_);
  while (!stopping_) {
    SteadyTime wake_at = next_full;
    for (const auto& [rt, due] : held) wake_at = std::min(wake_at, due);
    tick_cv_.wait_until(lock, wake_at, [this] { return stopping_ || wake_; });
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    const bool full = now >= next_full;
    wake_ = false;
    lock.unlock();
    if (full) {
      tick();  // sends every venue's state
      held.clear();
      next_full = std::chrono::steady_clock::now() + options_.tick;
    } else {
      // Telemetry arrived: evaluate the venues it changed (alerts within milliseconds), and
      // those whose held-back state is due.
      auto held_due = [&](const std::shared_ptr<Runtime>& rt) {
        return std::any_of(held.begin(), held.end(),
                           [&](const auto& h) { return h.first == rt && h.second <= now; });
      };
      std::vector<std::shared_ptr<Runtime>> due;
      {
        std::lock_guard vl(venues_mu_);  // a venue replaced or deleted meanwhile is not sent
        for (auto& [id, rt] : venues_) {
          if (rt->dirty.load() || held_due(rt)) due.push_back(rt);
        }
      }
      std::erase_if(held, [&](const auto& h) { return h.second <= now; });
      const auto began = std::chrono::steady_clock::now();
      for (auto& rt : due) {
        if (auto at = evaluate(*rt, false)) {
          std::erase_if(held, [&](const auto& h) { return h.first == rt; });
          held.emplace_back(rt, *at);
        }
      }
      std::this_thread::sleep_until(began + options_.min_eval_interval);
    }
    lock.lock();
  }
}

void Service::tick() {
  std::vector<std::shared_ptr<Runtime>> all;
  {
    std::lock_guard lock(venues_mu_);
    for (auto& [id, rt] : venues_) all.push_back(rt);
  }
  for (auto& rt : all) evaluate(*rt, true);
  track_peaks(all);
  escalate_matches();
  {
    std::lock_guard lock(subs_mu_);
    std::erase_if(subscribers_, [](const auto& s) { return s->stream->closed(); });
    metrics_.gauge("vigil_stream_clients", "Open event streams").get().set(
        static_cast<double>(subscribers_.size()));
  }
}

void Service::mark_dirty(Runtime& rt) {
  rt.dirty.store(true);
  {
    std::lock_guard lock(tick_mu_);
    wake_ = true;
  }
  tick_cv_.notify_one();
}

std::optional<std::chrono::steady_clock::time_point> Service::evaluate(Runtime& rt,
                                                                       bool force_state) {
  std::string state;
  std::vector<ops::AlertEvent> events;
  bool send_state = force_state;
  std::optional<std::chrono::steady_clock::time_point> held_until;
  {
    std::lock_guard lock(rt.mu);
    // New telemetry shows on the stream at once, but at most every kStateEvery per venue; a
    // state held back goes out when that has passed (the ticker's deferred evaluation).
    const auto now = std::chrono::steady_clock::now();
    if (now - rt.last_state_sent >= kStateEvery) send_state = true;
    rt.dirty.store(false);
    auto ev = rt.monitor->evaluate();
    rt.changed_state();
    rt.last_eval_ms = clock_.now_ms();
    rt.occupancy = ev.state.occupancy;
    rt.open_alerts = rt.monitor->alerts().alerts().size();
    events = std::move(ev.events);
    update_egress(rt, ev.state);
    send_state = send_state || !events.empty();
    if (!send_state) held_until = rt.last_state_sent + kStateEvery;
    if (send_state) {
      rt.last_state_sent = now;
      json j = ops::to_json(ev.state);
      j["posture"] = rt.posture;
      j["egress"] = rt.egress.json;
      j["evacuation"] = rt.egress.evacuation;
      state = j.dump();
      rt.state_text = state;  // GET /state serves it until the next change
      rt.state_text_gen = rt.state_gen;
      rt.state_text_ms = rt.last_eval_ms;
    }

    auto& health = metrics_.gauge("vigil_sensors", "Sensors by health status", {"venue", "status"});
    std::map<std::string, int> by_status{{"ok", 0}, {"stale", 0}, {"silent", 0}, {"implausible", 0}};
    for (const auto& s : ev.state.sensors) ++by_status[ops::to_string(s.status)];
    for (const auto& [status, n] : by_status) health.with({rt.id, status}).set(n);
    auto& alerts = metrics_.gauge("vigil_alerts", "Open alerts by state", {"venue", "state"});
    int firing = 0;
    int acked = 0;
    for (const auto& a : rt.monitor->alerts().alerts()) {
      (a.state == ops::AlertState::firing ? firing : acked) += 1;
    }
    alerts.with({rt.id, "firing"}).set(firing);
    alerts.with({rt.id, "acknowledged"}).set(acked);
    metrics_.gauge("vigil_occupancy_persons", "Estimated persons in the venue", {"venue"})
        .with({rt.id})
        .set(ev.state.occupancy);
  }
  persist_alert_events(rt, events);
  if (send_state) broadcast(rt.id, "state", state);
  return held_until;
}

void Service::persist_alert_events(Runtime& rt, const std::vector<ops::AlertEvent>& events) {
  for (const ops::AlertEvent& e : events) {
    json alert = ops::to_json(e.alert);
    alert["event"] = ops::to_string(e.type);
    if (!e.detail.empty()) alert["detail"] = e.detail;
    if (e.type == ops::AlertEventType::notify && e.notification) {
      json recipients = json::array();
      for (const ops::Recipient& r : e.notification->recipients) {
        if (!r.webhook.empty()) {
          json body = {{"kind", "alert"},
                       {"venue", rt.id},
                       {"level", e.notification->level},
                       {"attempt", e.notification->attempt},
                       {"alert", ops::to_json(e.alert)}};
          WebhookSender send;
          {
            std::lock_guard lock(webhook_mu_);
            send = webhook_;
          }
          if (send) send(r.webhook, body);
          recipients.push_back({{"webhook", r.webhook}});
        } else {
          recipients.push_back({{"role", r.role}});
        }
      }
      alert["notification"] = {{"level", e.notification->level},
                               {"attempt", e.notification->attempt},
                               {"recipients", recipients}};
      audit("vigil", "alert.notified", e.alert.id, rt.id, alert["notification"]);
    } else {
      audit(e.alert.acknowledged_by && e.type == ops::AlertEventType::acknowledged
                ? *e.alert.acknowledged_by
                : (e.alert.resolved_by && e.type == ops::AlertEventType::resolved
                       ? *e.alert.resolved_by
                       : std::string("vigil")),
            std::string("alert.") + ops::to_string(e.type), e.alert.id, rt.id,
            {{"rule", e.alert.rule},
             {"zone", e.alert.zone},
             {"severity", ops::to_string(e.alert.severity)},
             {"state", ops::to_string(e.alert.state)},
             {"message", e.alert.message},
             {"note", e.alert.note.value_or(e.alert.resolution_note.value_or(""))},
             {"detail", e.detail}});
    }
    metrics_.counter("vigil_alert_events_total", "Alert events", {"type"})
        .with({ops::to_string(e.type)})
        .inc();
    // The control room first; the durable record right after (a crash in between loses no
    // state: the condition still holds and the alert opens again on restart).
    broadcast(rt.id, "alert", alert.dump());
    if (auto ok = store_.upsert_alert(to_record(e.alert)); !ok) {
      metrics_.counter("vigil_store_errors_total", "Failed store writes").get().inc();
      if (options_.log_error) options_.log_error("alert " + e.alert.id + ": " + ok.error().to_string());
    }
  }
}

void Service::set_webhook_sender(WebhookSender sender) {
  std::lock_guard lock(webhook_mu_);
  webhook_ = std::move(sender);
}

// ---- streams --------------------------------------------------------------------------------

void Service::broadcast(const std::string& venue, std::string_view event, const std::string& data) {
  std::vector<std::shared_ptr<server::EventStream>> targets;
  {
    std::lock_guard lock(subs_mu_);
    for (const auto& s : subscribers_) {
      if (s->wants(venue)) targets.push_back(s->stream);
    }
  }
  for (auto& t : targets) t->send(event, data);
}

void Service::subscribe(const Principal& who, const std::string& venue,
                        std::shared_ptr<server::EventStream> stream) {
  auto sub = std::make_shared<Subscriber>(Subscriber{who, venue, stream});
  std::vector<std::shared_ptr<Runtime>> initial;
  {
    std::lock_guard lock(venues_mu_);
    for (auto& [id, rt] : venues_) {
      if (sub->wants(id)) initial.push_back(rt);
    }
  }
  for (auto& rt : initial) {
    std::string state;
    {
      std::lock_guard lock(rt->mu);
      state = state_json(*rt).dump();
    }
    stream->send("state", state);
  }
  std::lock_guard lock(subs_mu_);
  subscribers_.push_back(std::move(sub));
}

// ---- audit ----------------------------------------------------------------------------------

void Service::audit(const std::string& actor, const std::string& action,
                            const std::string& subject, const std::string& venue,
                            const json& detail) {
  store::AuditEntry e;
  e.at = store::format_rfc3339_ms(clock_.now_ms());
  e.actor = actor;
  e.action = action;
  e.subject = subject;
  e.venue = venue;
  e.detail = detail.dump();
  auto r = store_.append_audit(std::move(e));
  if (!r) {
    metrics_.counter("vigil_audit_failures_total", "Audit entries that could not be appended")
        .get()
        .inc();
    if (options_.log_error) options_.log_error("audit log: " + action + " " + subject + ": " + r.error().to_string());
  }
}

Answer Service::list_audit(std::optional<std::string_view> from, std::optional<std::string_view> to,
                           std::optional<std::string_view> after_seq,
                           std::optional<std::string_view> limit) {
  store::AuditQuery q;
  std::vector<Error> errors;
  auto time_param = [&](std::optional<std::string_view> v, const char* name) -> std::string {
    if (!v) return {};
    auto t = ops::parse_time(*v);
    if (!t) {
      errors.push_back({name, "not an RFC 3339 time: " + std::string(*v)});
      return {};
    }
    return store::format_rfc3339_ms(*t);
  };
  auto int_param = [&](std::optional<std::string_view> v, const char* name) -> std::int64_t {
    if (!v) return 0;
    std::int64_t n = 0;
    const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || n < 0) {
      errors.push_back({name, "not a non-negative integer: " + std::string(*v)});
    }
    return n;
  };
  q.from_at = time_param(from, "from");
  q.to_at = time_param(to, "to");
  q.after_seq = int_param(after_seq, "after");
  std::size_t n = static_cast<std::size_t>(int_param(limit, "limit"));
  if (n == 0 || n > 10'000) n = 10'000;
  if (!errors.empty()) return unexpected(ApiError::bad_request("bad query", errors));
  q.limit = n + 1;  // one more tells whether the page is the last
  auto entries = store_.list_audit(q);
  if (!entries) return unexpected(ApiError::internal(entries.error().to_string()));
  const bool truncated = entries->size() > n;
  if (truncated) entries->resize(n);
  json list = json::array();
  for (const store::AuditEntry& e : *entries) {
    list.push_back({{"seq", e.seq},
                    {"at", e.at},
                    {"actor", e.actor},
                    {"action", e.action},
                    {"subject", e.subject},
                    {"venue", e.venue.empty() ? json(nullptr) : json(e.venue)},
                    {"detail", json::parse(e.detail, nullptr, false)},
                    {"prev_hash", e.prev_hash},
                    {"hash", e.hash}});
  }
  return json{{"entries", std::move(list)}, {"truncated", truncated}};
}

Expected<Principal, AuthFailure> Service::authenticate(std::string_view token) {
  return auth_cache_.authenticate(store_, token);
}

// ---- venues ---------------------------------------------------------------------------------

Answer Service::put_venue(const Principal& by, const std::string& id, std::string_view body) {
  if (!valid_id(id)) {
    return unexpected(ApiError::bad_request("bad venue id", {{"id", "letters, digits, . _ - only"}}));
  }
  auto loaded = venue::load_venue(body);
  std::vector<Error> errors;
  for (const venue::Issue& issue : loaded.issues) {
    if (issue.severity == venue::Severity::error) errors.push_back({issue.location(), issue.message});
  }
  if (!errors.empty()) return unexpected(ApiError::bad_request("the venue has errors", errors));
  if (loaded.venue->id != id) {
    return unexpected(ApiError::bad_request(
        "venue id mismatch", {{"vigil.id", "is \"" + loaded.venue->id + "\" but the URL names \"" +
                                               id + "\""}}));
  }
  store::VenueRecord rec{id, std::string(body), clock_.now_ms()};
  const bool existed = has_venue(id);
  if (auto ok = store_.put_venue(rec); !ok) {
    return unexpected(ApiError::internal(ok.error().to_string()));
  }
  auto rt = build_runtime(rec);
  if (!rt) return unexpected(ApiError::internal(rt.error().to_string()));
  {
    std::lock_guard lock(venues_mu_);
    venues_[id] = *rt;
  }
  rebuild_gathering_index();  // the venue's place or use may have changed
  std::vector<std::string> warnings;
  for (const venue::Issue& issue : loaded.issues) warnings.push_back(issue.to_string());
  audit(by.actor(), existed ? "venue.replace" : "venue.create", id, id,
        json{{"name", loaded.venue->name}, {"sha256", store::sha256_hex(body)}});
  return json{{"id", id}, {"created", !existed}, {"warnings", warnings}};
}

Answer Service::list_venues(const Principal& who) {
  std::vector<std::shared_ptr<Runtime>> all;
  {
    std::lock_guard lock(venues_mu_);
    for (auto& [id, rt] : venues_) {
      if (who.sees(id)) all.push_back(rt);
    }
  }
  json list = json::array();
  for (auto& rt : all) {
    std::lock_guard lock(rt->mu);
    list.push_back({{"id", rt->id},
                    {"name", rt->model->name},
                    {"use", rt->model->use},
                    {"occupancy", std::lround(rt->occupancy)},
                    {"posture", rt->posture},
                    {"open_alerts", rt->open_alerts}});
  }
  return json{{"venues", std::move(list)}};
}

Answer Service::get_venue(const std::string& id) {
  auto rt = runtime(id);
  if (!rt) return unexpected(ApiError::not_found("no venue \"" + id + "\""));
  std::lock_guard lock(rt->mu);
  json j = json::parse(rt->file, nullptr, false);
  j["derived"] = venue::summary_json(*rt->model);
  j["posture"] = rt->posture;
  return j;
}

json Service::state_json(Runtime& rt) {
  json j = ops::to_json(rt.monitor->state());
  j["posture"] = rt.posture;
  j["egress"] = rt.egress.json;
  j["evacuation"] = rt.egress.evacuation;
  return j;
}

Answer Service::venue_state(const std::string& id) {
  auto rt = runtime(id);
  if (!rt) return unexpected(ApiError::not_found("no venue \"" + id + "\""));
  std::lock_guard lock(rt->mu);
  return state_json(*rt);
}

Expected<std::string, ApiError> Service::venue_state_text(const std::string& id) {
  auto rt = runtime(id);
  if (!rt) return unexpected(ApiError::not_found("no venue \"" + id + "\""));
  std::lock_guard lock(rt->mu);
  const ops::TimeMs now = clock_.now_ms();
  const bool fresh = rt->state_text_gen == rt->state_gen && now >= rt->state_text_ms &&
                     now - rt->state_text_ms < kStateCacheMs;
  if (!fresh) {
    rt->state_text = state_json(*rt).dump();
    rt->state_text_gen = rt->state_gen;
    rt->state_text_ms = now;
  }
  return rt->state_text;
}

Answer Service::get_rules(const std::string& id) {
  auto rt = runtime(id);
  if (!rt) return unexpected(ApiError::not_found("no venue \"" + id + "\""));
  std::lock_guard lock(rt->mu);
  return json{{"thresholds", ops::to_json(rt->monitor->thresholds())},
              {"escalation", ops::to_json(rt->monitor->alerts().policy())}};
}

Answer Service::put_rules(const Principal& by, const std::string& id, std::string_view body) {
  auto rt = runtime(id);
  if (!rt) return unexpected(ApiError::not_found("no venue \"" + id + "\""));
  auto j = parse_body(body);
  if (!j) return unexpected(j.error());
  std::vector<Error> errors;
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (it.key() != "thresholds" && it.key() != "escalation") {
      errors.push_back({it.key(), "unknown field (expected thresholds, escalation)"});
    }
  }
  std::optional<ops::Thresholds> thresholds;
  std::optional<ops::EscalationPolicy> policy;
  auto prefixed = [&](const std::vector<Error>& es, const std::string& prefix) {
    for (const Error& e : es) errors.push_back({prefix + "." + e.where, e.message});
  };
  if (j->contains("thresholds")) {
    auto t = ops::thresholds_from_json((*j)["thresholds"]);
    if (t) thresholds = *t; else prefixed(t.error(), "thresholds");
  }
  if (j->contains("escalation")) {
    auto p = ops::escalation_policy_from_json((*j)["escalation"]);
    if (p) policy = *p; else prefixed(p.error(), "escalation");
  }
  if (!errors.empty()) return unexpected(ApiError::bad_request("bad rules", errors));
  json stored;
  {
    std::lock_guard lock(rt->mu);
    if (thresholds) rt->monitor->set_thresholds(*thresholds);
    if (policy) rt->monitor->alerts().set_policy(*policy);
    stored = {{"thresholds", ops::to_json(rt->monitor->thresholds())},
              {"escalation", ops::to_json(rt->monitor->alerts().policy())}};
  }
  if (auto ok = store_.kv_put(rules_key(id), stored.dump()); !ok) {
    return unexpected(ApiError::internal(ok.error().to_string()));
  }
  audit(by.actor(), "venue.rules", id, id, stored);
  return stored;
}

Answer Service::set_posture(const Principal& by, const std::string& id, std::string_view body) {
  auto rt = runtime(id);
  if (!rt) return unexpected(ApiError::not_found("no venue \"" + id + "\""));
  auto j = parse_body(body);
  if (!j) return unexpected(j.error());
  std::vector<Error> errors;
  auto posture = string_field(*j, "posture", errors);
  auto note = string_field(*j, "note", errors, false);
  if (posture && std::find(std::begin(kPostures), std::end(kPostures), *posture) ==
                     std::end(kPostures)) {
    errors.push_back({"posture", "must be normal, elevated or high, not \"" + *posture + "\""});
  }
  if (!errors.empty()) return unexpected(ApiError::bad_request("bad posture", errors));
  const std::string at = store::format_rfc3339_ms(clock_.now_ms());
  json record = {{"posture", *posture}, {"note", note.value_or("")}, {"by", by.actor()}, {"at", at}};
  std::string previous;
  {
    std::lock_guard lock(rt->mu);
    previous = rt->posture;
    rt->posture = *posture;
    rt->changed_state();
  }
  if (auto ok = store_.kv_put(posture_key(id), record.dump()); !ok) {
    return unexpected(ApiError::internal(ok.error().to_string()));
  }
  audit(by.actor(), "venue.posture", id, id,
        {{"from", previous}, {"to", *posture}, {"note", note.value_or("")}});
  evaluate(*rt, true);
  return json{{"venue", id}, {"posture", *posture}, {"previous", previous}, {"at", at}};
}

// ---- gatherings -----------------------------------------------------------------------------

Answer Service::put_gathering(const Principal& by, std::string_view body) {
  auto j = parse_body(body);
  if (!j) return unexpected(j.error());
  std::vector<Error> errors;
  static const std::vector<std::string> known = {"id",      "venue",   "name", "starts_at",
                                                 "ends_at", "expected_attendance", "kind",
                                                 "timezone"};
  for (auto it = j->begin(); it != j->end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      errors.push_back({it.key(), "unknown field"});
    }
  }
  auto id = string_field(*j, "id", errors);
  auto venue_id = string_field(*j, "venue", errors);
  auto name = string_field(*j, "name", errors);
  auto starts = string_field(*j, "starts_at", errors);
  auto ends = string_field(*j, "ends_at", errors);
  auto kind = string_field(*j, "kind", errors, false);
  if (id && !valid_id(*id)) errors.push_back({"id", "letters, digits, . _ - only (1-128)"});
  if (venue_id && !has_venue(*venue_id)) {
    errors.push_back({"venue", "unknown venue \"" + *venue_id + "\""});
  }
  if (venue_id && !by.may(Action::gatherings, *venue_id)) {
    return unexpected(ApiError{403, "not allowed for venue \"" + *venue_id + "\"", {}});
  }
  std::optional<ops::TimeMs> starts_ms;
  std::optional<ops::TimeMs> ends_ms;
  if (starts) {
    if (auto t = ops::parse_time(*starts)) starts_ms = *t;
    else errors.push_back({"starts_at", t.error().message});
  }
  if (ends) {
    if (auto t = ops::parse_time(*ends)) ends_ms = *t;
    else errors.push_back({"ends_at", t.error().message});
  }
  if (starts_ms && ends_ms && *ends_ms < *starts_ms) {
    errors.push_back({"ends_at", "is before starts_at"});
  }
  if (kind && std::find(std::begin(kGatheringKinds), std::end(kGatheringKinds), *kind) ==
                  std::end(kGatheringKinds)) {
    errors.push_back({"kind", "must be one of concert, sport, theatre, conference, religious, "
                              "market, school_day, other; not \"" + *kind + "\""});
  }
  std::int64_t attendance = 0;
  if (const auto it = j->find("expected_attendance"); it != j->end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
      errors.push_back({"expected_attendance", "must be a non-negative integer"});
    } else {
      attendance = it->get<std::int64_t>();
    }
  }
  if (!errors.empty()) return unexpected(ApiError::bad_request("bad gathering", errors));

  json doc = {{"id", *id},
              {"venue", *venue_id},
              {"name", *name},
              {"starts_at", store::format_rfc3339_ms(*starts_ms)},
              {"ends_at", store::format_rfc3339_ms(*ends_ms)},
              {"expected_attendance", attendance},
              {"kind", kind.value_or("other")}};
  if (j->contains("timezone") && (*j)["timezone"].is_string()) doc["timezone"] = (*j)["timezone"];
  auto existing = store_.get_gathering(*id);
  if (existing && *existing && (*existing)->venue != *venue_id) {
    return unexpected(ApiError::conflict("gathering \"" + *id + "\" belongs to venue \"" +
                                         (*existing)->venue + "\""));
  }
  const bool existed = existing && *existing;
  store::GatheringRecord rec{*id, *venue_id, doc.dump(), *starts_ms, *ends_ms};
  if (auto ok = store_.put_gathering(rec); !ok) {
    return unexpected(ApiError::internal(ok.error().to_string()));
  }
  audit(by.actor(), existed ? "gathering.update" : "gathering.create", *id, *venue_id, doc);
  rebuild_gathering_index();
  match_active_warnings(*id, by.actor());
  return doc;
}

Answer Service::list_gatherings(const Principal& who, std::optional<std::string_view> from,
                                std::optional<std::string_view> to,
                                std::optional<std::string_view> venue) {
  store::GatheringQuery q;
  std::vector<Error> errors;
  if (from) {
    if (auto t = ops::parse_time(*from)) q.from_ms = *t;
    else errors.push_back({"from", t.error().message});
  }
  if (to) {
    if (auto t = ops::parse_time(*to)) q.to_ms = *t;
    else errors.push_back({"to", t.error().message});
  }
  if (venue) q.venue = std::string(*venue);
  if (!errors.empty()) return unexpected(ApiError::bad_request("bad query", errors));
  auto rows = store_.list_gatherings(q);
  if (!rows) return unexpected(ApiError::internal(rows.error().to_string()));
  json list = json::array();
  for (const store::GatheringRecord& g : *rows) {
    if (who.sees(g.venue)) list.push_back(json::parse(g.json, nullptr, false));
  }
  return json{{"gatherings", std::move(list)}};
}

// ---- telemetry ------------------------------------------------------------------------------

void Service::ingest(const std::string& id, std::string_view body,
                     std::function<void(Answer)> done) {
  if (auto fast = ops::parse_telemetry_fast(body)) {
    ingest_readings(id, std::move(*fast), std::move(done));
    return;
  }
  // Not plainly valid: the slower path locates every problem.
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    done(unexpected(ApiError::bad_request("malformed JSON", {{"", e.what()}})));
    return;
  }
  auto readings = ops::parse_telemetry(j);
  if (!readings) {
    done(unexpected(ApiError::bad_request("bad telemetry", readings.error())));
    return;
  }
  ingest_readings(id, std::move(*readings), std::move(done));
}

void Service::ingest_readings(const std::string& id, std::vector<ops::Reading> readings,
                              std::function<void(Answer)> done) {
  auto rt = runtime(id);
  if (!rt) {
    done(unexpected(ApiError::not_found("no venue \"" + id + "\"")));
    return;
  }
  // Without the venue's lock: validation reads only the monitor's copy of the venue and its
  // reading limits, which never change once the runtime is built (a changed venue gets a new
  // runtime). An evaluation holding the lock does not stall the HTTP threads.
  auto problems = rt->monitor->validate(readings);
  if (!problems.empty()) {
    metrics_.counter("vigil_readings_rejected_total", "Telemetry readings in rejected batches")
        .get()
        .inc(static_cast<double>(readings.size()));
    done(unexpected(ApiError::bad_request("bad telemetry", std::move(problems))));
    return;
  }
  std::vector<store::ReadingRow> rows;
  rows.reserve(readings.size());
  // The rows leave the venue empty: the store takes the batch's.
  for (const ops::Reading& r : readings) rows.push_back(to_row({}, r));
  store_.append_readings(
      id, std::move(rows),
      [this, rt = std::move(rt), done = std::move(done)](
          Result<store::AppendResult> result) mutable {
        if (!result) {
          // A bad row is the client's (400, located at readings[i]); a full queue is 503 (retry
          // later); anything else is the server's (500, also safe to retry: nothing was stored).
          const Error& e = result.error();
          if (e.where.starts_with("readings[")) {
            done(unexpected(ApiError::bad_request(e.message, {e})));
          } else if (e.message.find("busy") != std::string::npos) {
            done(unexpected(ApiError{503, e.to_string(), {}}));
          } else {
            done(unexpected(ApiError::internal(e.to_string())));
          }
          return;
        }
        // Durable. Applied and answered on the applier thread: the store's writer goes on
        // with the next group instead of waiting for the venue's lock.
        enqueue_committed(Committed{std::move(rt), std::move(*result), std::move(done)});
      });
}

void Service::enqueue_committed(Committed batch) {
  {
    std::lock_guard lock(apply_mu_);
    if (!apply_stop_) {
      committed_.push_back(std::move(batch));
      apply_cv_.notify_one();
      return;
    }
  }
  // The applier has stopped (the service is being destroyed): apply here.
  std::vector<Committed> one;
  one.push_back(std::move(batch));
  apply_committed(one);
}

void Service::applier_loop() {
  pthread_setname_np(pthread_self(), "vigil-ingest");
  std::vector<Committed> work;
  for (;;) {
    {
      std::unique_lock lock(apply_mu_);
      apply_cv_.wait(lock, [&] { return apply_stop_ || !committed_.empty(); });
      if (committed_.empty()) return;  // stopping, and everything is applied
      work.swap(committed_);
    }
    apply_committed(work);
    work.clear();
  }
}

void Service::apply_committed(std::vector<Committed>& work) {
  // Venue by venue, each venue's batches in commit order under one hold of its lock.
  std::vector<ops::Reading> fresh;
  std::vector<char> done_with(work.size(), 0);
  std::size_t accepted = 0;
  std::size_t duplicates = 0;
  for (std::size_t i = 0; i < work.size(); ++i) {
    if (done_with[i] != 0) continue;
    Runtime& rt = *work[i].rt;
    fresh.clear();
    for (std::size_t j = i; j < work.size(); ++j) {
      if (done_with[j] != 0 || work[j].rt.get() != &rt) continue;
      done_with[j] = 1;
      for (const store::ReadingRow& row : work[j].result.new_rows) fresh.push_back(from_row(row));
      accepted += work[j].result.accepted;
      duplicates += work[j].result.duplicates;
    }
    {
      std::lock_guard lock(rt.mu);
      rt.monitor->apply(fresh);
      rt.changed_state();
    }
    mark_dirty(rt);
  }
  metrics_.counter("vigil_readings_total", "Telemetry readings stored", {"result"})
      .with({"accepted"})
      .inc(static_cast<double>(accepted));
  metrics_.counter("vigil_readings_total", "Telemetry readings stored", {"result"})
      .with({"duplicate"})
      .inc(static_cast<double>(duplicates));
  for (Committed& c : work) {
    c.done(json{{"accepted", c.result.accepted}, {"duplicates", c.result.duplicates}});
  }
}

// ---- alerts ---------------------------------------------------------------------------------

Answer Service::list_alerts(const Principal& who, std::optional<std::string_view> venue,
                            std::optional<std::string_view> state,
                            std::optional<std::string_view> before,
                            std::optional<std::string_view> limit) {
  constexpr std::size_t kDefaultLimit = 1'000;
  constexpr std::size_t kMaxLimit = 10'000;
  store::AlertQuery q;
  std::vector<Error> errors;
  // A token scoped to one venue lists that venue's alerts (filtered in the query, so that the
  // limit counts only alerts it may see).
  if (venue) {
    q.venue = std::string(*venue);
  } else if (who.venue) {
    q.venue = who.venue;
  }
  if (state) {
    if (!ops::alert_state_from_string(*state)) {
      errors.push_back({"state", "must be firing, acknowledged or resolved"});
    }
    q.state = std::string(*state);
  }
  if (before) {
    auto t = ops::parse_time(*before);
    if (!t) {
      errors.push_back({"before", "not an RFC 3339 time: " + std::string(*before)});
    } else {
      q.before_ms = *t;
    }
  }
  std::size_t n = kDefaultLimit;
  if (limit) {
    const auto [p, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (ec != std::errc() || p != limit->data() + limit->size() || n == 0 || n > kMaxLimit) {
      errors.push_back({"limit", "must be an integer from 1 to 10000: " + std::string(*limit)});
    }
  }
  if (!errors.empty()) return unexpected(ApiError::bad_request("bad query", std::move(errors)));
  q.limit = n + 1;  // one more tells whether there are older ones
  auto rows = store_.list_alerts(q);
  if (!rows) return unexpected(ApiError::internal(rows.error().to_string()));
  const bool truncated = rows->size() > n;
  json list = json::array();
  for (std::size_t i = truncated ? 1 : 0; i < rows->size(); ++i) {
    const store::AlertRecord& a = (*rows)[i];
    if (who.sees(a.venue)) list.push_back(json::parse(a.detail, nullptr, false));
  }
  return json{{"alerts", std::move(list)}, {"truncated", truncated}};
}

std::optional<std::string> Service::alert_venue(std::string_view alert_id) {
  auto rec = store_.get_alert(alert_id);
  if (!rec || !*rec) return std::nullopt;
  return (*rec)->venue;
}

Answer Service::alert_action(const Principal& by, const std::string& alert_id, AlertAction action,
                             std::string_view body) {
  auto venue_id = alert_venue(alert_id);
  auto rt = venue_id ? runtime(*venue_id) : nullptr;
  if (!rt) return unexpected(ApiError::not_found("no alert \"" + alert_id + "\""));
  auto j = parse_body(body);
  if (!j) return unexpected(j.error());
  std::vector<Error> errors;
  auto note = string_field(*j, "note", errors);
  if (note && note->find_first_not_of(" \t\r\n") == std::string::npos) {
    errors.push_back({"note", "must not be empty: say what was done"});
  }
  if (!errors.empty()) return unexpected(ApiError::bad_request("a note is required", errors));
  Expected<ops::AlertEvent, ops::ActionError> event = unexpected(ops::ActionError{});
  {
    std::lock_guard lock(rt->mu);
    event = action == AlertAction::acknowledge
                ? rt->monitor->acknowledge(alert_id, by.actor(), *note)
                : rt->monitor->resolve(alert_id, by.actor(), *note);
    rt->open_alerts = rt->monitor->alerts().alerts().size();
  }
  if (!event) {
    const ops::ActionError& e = event.error();
    switch (e.code) {
      case ops::ActionError::Code::not_found:
        return unexpected(ApiError::not_found(e.error.to_string()));
      case ops::ActionError::Code::conflict:
        return unexpected(ApiError::conflict(e.error.to_string()));
      case ops::ActionError::Code::invalid:
        return unexpected(ApiError::bad_request(e.error.message, {e.error}));
    }
  }
  persist_alert_events(*rt, {*event});
  return ops::to_json(event->alert);
}

}  // namespace vigil::api
