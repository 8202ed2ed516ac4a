// SPDX-License-Identifier: Apache-2.0
// Live egress and incidents of the service (docs/live-egress.md, docs/api.md "Incidents"):
// the fast flow estimate on every evaluation where occupancy moved by more than 5 % or the
// exits changed, the agent-based estimate in the background, and incidents (blocked exits,
// hazards, evacuations) that change both at once.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "api/service.hpp"
#include "api/service_runtime.hpp"
#include "server/metrics.hpp"
#include "sim/live_egress.hpp"
#include "store/crypto.hpp"

namespace vigil::api {

using nlohmann::json;

namespace {

constexpr double kRecomputeShare = 0.05;  // occupancy change that triggers a new estimate

bool moved(double now, double before) {
  if (before < 0) return true;
  return std::abs(now - before) > kRecomputeShare * std::max(before, 20.0);
}

double round_tenth(double x) { return std::round(x * 10) / 10; }

// The state's `egress.agent` member: the latest agent-based estimate in the flow estimate's
// shape (docs/api.md), for the occupancy it was made for.
json agent_json(const sim::AgentEgressResult& r, double occupancy) {
  json exits = json::object();
  for (const auto& [id, x] : r.exits)
    exits[id] = {{"people", x.people}, {"clear_s", round_tenth(x.clear_s)}};
  std::size_t not_out = 0;
  for (const auto& [reason, n] : r.not_evacuated) not_out += n;
  return {{"time_s", round_tenth(r.time_s)},
          {"exits", std::move(exits)},
          {"zones", r.zones},
          {"bottlenecks", r.bottlenecks},
          {"not_evacuated", not_out},
          {"at_occupancy", std::lround(occupancy)}};
}

// Writes the latest agent-based estimate into the state's egress object j: `agent_time_s`
// (the spec's field) and `agent` with `current` (made for the exits, doors and hazards of now).
void put_agent_estimate(json& j, const LiveEgress& e) {
  if (e.agent.is_null()) {
    j["agent_time_s"] = nullptr;
    j["agent"] = nullptr;
    return;
  }
  j["agent_time_s"] = e.agent["time_s"];
  j["agent"] = e.agent;
  j["agent"]["current"] = e.agent_version == e.model_version;
}

ops::ZoneOccupancy zone_occupancy(const ops::VenueState& state) {
  ops::ZoneOccupancy occ;
  for (const auto& z : state.zones) occ[z.id] = z.occupancy;
  return occ;
}

std::string incidents_prefix(std::string_view venue) {
  return "incident/" + std::string(venue) + "/";
}

// The closures and hazards of the open incidents.
ops::EgressConditions conditions_of(const std::vector<json>& incidents) {
  ops::EgressConditions c;
  for (const json& i : incidents) {
    if (i["kind"] == "exit_blocked") c.closed.insert(i["exit"].get<std::string>());
    if (i["kind"] == "hazard") {
      venue::Hazard h;
      h.level = i.value("level", 0);
      for (const auto& p : i["polygon"]) h.polygon.outer.push_back({p[0].get<double>(), p[1].get<double>()});
      c.hazards.push_back(std::move(h));
    }
  }
  return c;
}

}  // namespace

void Service::restore_incidents(Runtime& rt) {
  auto rows = store_.kv_list(incidents_prefix(rt.id));
  if (!rows) return;
  for (const auto& [key, value] : *rows) {
    json j = json::parse(value, nullptr, false);
    if (j.is_object() && j.value("closed_at", json(nullptr)).is_null()) rt.egress.incidents.push_back(j);
  }
  std::sort(rt.egress.incidents.begin(), rt.egress.incidents.end(),
            [](const json& a, const json& b) { return a["at"] < b["at"]; });
  rt.egress.conditions = conditions_of(rt.egress.incidents);
  rt.egress.evacuation = std::any_of(rt.egress.incidents.begin(), rt.egress.incidents.end(),
                                     [](const json& i) { return i["kind"] == "evacuation"; });
  ++rt.egress.conditions_version;
}

// Builds the flow model for the runtime's current conditions in the background, then calls
// `then` (on the worker thread).
void Service::rebuild_egress_model(const std::shared_ptr<Runtime>& rt, std::function<void()> then) {
  {
    std::lock_guard lock(rt->mu);
    rt->egress.building = true;
  }
  post_job([this, rt, then = std::move(then)] {
    ops::EgressConditions conditions;
    std::uint64_t version = 0;
    {
      std::lock_guard lock(rt->mu);
      conditions = rt->egress.conditions;
      version = rt->egress.conditions_version;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto model = std::make_shared<const ops::EgressModel>(ops::EgressModel::build(*rt->model, conditions));
    metrics_.histogram("vigil_egress_model_build_seconds", "Time to build a venue's egress model",
                       server::MetricsRegistry::latency_buckets_s())
        .get()
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    {
      std::lock_guard lock(rt->mu);
      if (version >= rt->egress.model_version) {
        rt->egress.model = std::move(model);
        rt->egress.model_version = version;
      }
      rt->egress.building = rt->egress.model_version != rt->egress.conditions_version;
    }
    evaluate(*rt, true);
    if (then) then();
  });
}

void Service::update_egress(Runtime& rt, const ops::VenueState& state) {
  LiveEgress& e = rt.egress;
  if (!e.model) return;
  const bool new_model = e.estimate_version != e.model_version;
  if (new_model || moved(state.occupancy, e.estimate_occupancy)) {
    const auto t0 = std::chrono::steady_clock::now();
    auto estimate = e.model->estimate(zone_occupancy(state));
    metrics_.histogram("vigil_egress_estimate_seconds", "Time of one fast egress estimate",
                       server::MetricsRegistry::latency_buckets_s())
        .get()
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (estimate) {
      e.estimate = std::move(*estimate);
      e.estimate->limit_s = rt.model->egress_limit_s;
      e.estimate_version = e.model_version;
      e.estimate_occupancy = state.occupancy;
    }
  }
  if (!e.estimate) return;
  rt.monitor->set_egress_estimate(e.estimate->time_s);
  json j = ops::to_json(*e.estimate);
  j["at_occupancy"] = std::lround(e.estimate_occupancy);
  put_agent_estimate(j, e);
  e.json = std::move(j);
  rt.changed_state();
  maybe_start_agent_estimate(rt, state);
}

void Service::maybe_start_agent_estimate(Runtime& rt, const ops::VenueState& state) {
  LiveEgress& e = rt.egress;
  if (!options_.agent_egress || e.agent_running || state.occupancy < 1) return;
  const auto now = std::chrono::steady_clock::now();
  const bool changed = e.agent_version != e.model_version || moved(state.occupancy, e.agent_occupancy);
  const bool first = e.agent_started == std::chrono::steady_clock::time_point{};
  // Exits, doors or hazards changed (an incident) since the last estimate was started: the
  // next one starts now, not at the interval (after an incident it is the estimate to trust,
  // docs/live-egress.md). A moved occupancy waits for the interval.
  const bool new_conditions = !first && e.agent_started_version != e.model_version;
  if (!changed ||
      !(first || new_conditions || now - e.agent_started >= options_.agent_egress_interval))
    return;
  e.agent_running = true;
  e.agent_started = now;
  e.agent_started_version = e.model_version;
  std::shared_ptr<Runtime> self;
  {
    std::lock_guard lock(venues_mu_);
    const auto it = venues_.find(rt.id);
    if (it != venues_.end()) self = it->second;
  }
  if (!self) return;
  std::vector<sim::ScenarioHazard> hazards;
  for (const auto& h : e.conditions.hazards) hazards.push_back({h.polygon, h.level, 0});
  const auto occupancy = zone_occupancy(state);
  const auto closed = e.conditions.closed;
  const auto version = e.model_version;
  const double occ = state.occupancy;
  post_job([this, self, hazards, occupancy, closed, version, occ] {
    sim::LiveEgressOptions o;
    o.threads = options_.agent_threads;
    const auto seed = static_cast<std::uint64_t>(std::llround(occ)) + version;
    auto result = sim::estimate_egress_agents(self->model, occupancy, closed, hazards, seed, o);
    {
      std::lock_guard lock(self->mu);
      self->egress.agent_running = false;
      if (result) {
        self->egress.agent = agent_json(*result, occ);
        self->egress.agent_occupancy = occ;
        self->egress.agent_version = version;
        if (!self->egress.json.is_null()) put_agent_estimate(self->egress.json, self->egress);
        self->changed_state();
      } else if (options_.log_error) {
        options_.log_error("agent egress estimate for " + self->id + ": " +
                           result.error().front().to_string());
      }
    }
    if (result) {
      metrics_.histogram("vigil_egress_agent_seconds", "Wall time of one agent-based egress estimate",
                         server::MetricsRegistry::latency_buckets_s())
          .get()
          .observe(result->wall_s);
    }
  });
}

// ---- incidents ------------------------------------------------------------------------------

void Service::create_incident(const Principal& by, const std::string& venue_id, std::string_view body,
                              std::function<void(Answer)> done) {
  auto rt = runtime(venue_id);
  if (!rt) return done(unexpected(ApiError::not_found("no venue \"" + venue_id + "\"")));
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    return done(unexpected(ApiError::bad_request("malformed JSON", {{"", e.what()}})));
  }
  if (!j.is_object()) return done(unexpected(ApiError::bad_request("the body must be a JSON object")));
  std::vector<Error> errors;
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const std::set<std::string> known = {"kind", "exit", "polygon", "level", "note"};
    if (!known.contains(it.key())) errors.push_back({it.key(), "unknown field"});
  }
  const std::string kind = j.value("kind", "");
  json incident = {{"venue", venue_id}, {"kind", kind}, {"note", j.value("note", "")}};
  if (j.contains("note") && !j["note"].is_string()) errors.push_back({"note", "must be a string"});
  if (kind == "exit_blocked") {
    if (!j.contains("exit") || !j["exit"].is_string()) {
      errors.push_back({"exit", "the id of the blocked exit or door is required"});
    } else {
      const std::string id = j["exit"];
      bool known = false;
      for (const auto& x : rt->model->exits) known = known || x.id == id;
      for (const auto& d : rt->model->doors) known = known || d.id == id;
      if (!known) errors.push_back({"exit", "no exit or door \"" + id + "\" in venue " + venue_id});
      incident["exit"] = id;
    }
  } else if (kind == "hazard") {
    int level = 0;
    if (j.contains("level")) {
      if (!j["level"].is_number_integer()) errors.push_back({"level", "must be an integer"});
      else level = j["level"];
    }
    bool level_known = false;
    level_known = rt->model->find_level(level) != nullptr;
    if (!level_known) errors.push_back({"level", fmt::format("venue has no level {}", level)});
    const json& poly = j.value("polygon", json());
    if (!poly.is_array() || poly.size() < 3) {
      errors.push_back({"polygon", "at least 3 points [[x, y], ...] in the venue's metres"});
    } else {
      for (std::size_t i = 0; i < poly.size(); ++i) {
        const json& p = poly[i];
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number() ||
            !std::isfinite(p[0].get<double>()) || !std::isfinite(p[1].get<double>())) {
          errors.push_back({fmt::format("polygon[{}]", i), "must be [x, y] in metres"});
        }
      }
      incident["polygon"] = poly;
    }
    incident["level"] = level;
  } else if (kind != "evacuation") {
    errors.push_back({"kind", "must be exit_blocked, hazard or evacuation, not \"" + kind + "\""});
  }
  if (!errors.empty()) return done(unexpected(ApiError::bad_request("bad incident", errors)));

  const auto now = clock_.now_ms();
  incident["id"] = fmt::format("inc-{}-{}", now, store::random_hex(2));
  incident["at"] = store::format_rfc3339_ms(now);
  incident["by"] = by.actor();
  incident["closed_at"] = nullptr;
  const std::string id = incident["id"];
  if (auto ok = store_.kv_put(incidents_prefix(venue_id) + id, incident.dump()); !ok) {
    return done(unexpected(ApiError::internal(ok.error().to_string())));
  }
  audit(by.actor(), "incident.create", id, venue_id, incident);
  {
    std::lock_guard lock(rt->mu);
    rt->egress.incidents.push_back(incident);
    rt->egress.conditions = conditions_of(rt->egress.incidents);
    rt->egress.evacuation = rt->egress.evacuation || kind == "evacuation";
    ++rt->egress.conditions_version;
    rt->changed_state();
  }
  broadcast(venue_id, "incident", incident.dump());
  if (kind == "evacuation") {
    evaluate(*rt, true);
    std::lock_guard lock(rt->mu);
    return done(json{{"incident", incident}, {"egress", rt->egress.json}});
  }
  // Routing and the estimate for the new situation, answered once they are there.
  rebuild_egress_model(rt, [rt, incident, done] {
    std::lock_guard lock(rt->mu);
    done(json{{"incident", incident}, {"egress", rt->egress.json}});
  });
}

void Service::close_incident(const Principal& by, const std::string& venue_id, const std::string& id,
                             std::string_view body, std::function<void(Answer)> done) {
  auto rt = runtime(venue_id);
  if (!rt) return done(unexpected(ApiError::not_found("no venue \"" + venue_id + "\"")));
  const json j = json::parse(body.empty() ? std::string_view("{}") : body, nullptr, false);
  if (!j.is_object()) return done(unexpected(ApiError::bad_request("the body must be a JSON object")));
  json incident;
  {
    std::lock_guard lock(rt->mu);
    auto& open = rt->egress.incidents;
    const auto it = std::find_if(open.begin(), open.end(), [&](const json& i) { return i["id"] == id; });
    if (it == open.end()) {
      return done(unexpected(ApiError::not_found("no open incident \"" + id + "\" at " + venue_id)));
    }
    incident = *it;
    open.erase(it);
    incident["closed_at"] = store::format_rfc3339_ms(clock_.now_ms());
    incident["closed_by"] = by.actor();
    incident["close_note"] = j.value("note", "");
    rt->egress.conditions = conditions_of(open);
    rt->egress.evacuation = std::any_of(open.begin(), open.end(),
                                        [](const json& i) { return i["kind"] == "evacuation"; });
    ++rt->egress.conditions_version;
    rt->changed_state();
  }
  if (auto ok = store_.kv_put(incidents_prefix(venue_id) + id, incident.dump()); !ok) {
    return done(unexpected(ApiError::internal(ok.error().to_string())));
  }
  audit(by.actor(), "incident.close", id, venue_id, incident);
  broadcast(venue_id, "incident", incident.dump());
  rebuild_egress_model(rt, [rt, incident, done] {
    std::lock_guard lock(rt->mu);
    done(json{{"incident", incident}, {"egress", rt->egress.json}});
  });
}

Answer Service::list_incidents(const std::string& venue_id) {
  if (!runtime(venue_id)) return unexpected(ApiError::not_found("no venue \"" + venue_id + "\""));
  auto rows = store_.kv_list(incidents_prefix(venue_id));
  if (!rows) return unexpected(ApiError::internal(rows.error().to_string()));
  json list = json::array();
  for (const auto& [key, value] : *rows) list.push_back(json::parse(value, nullptr, false));
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) { return a["at"] < b["at"]; });
  return json{{"incidents", std::move(list)}};
}

}  // namespace vigil::api
