// SPDX-License-Identifier: Apache-2.0
// Peaks of a gathering for its timeline (GET /gatherings/{id}/timeline): the highest estimated
// occupancy of the venue and the highest density of each zone during the gathering's window,
// each with when it was reached. Tracked as evaluation runs (Service::tick, every second) for
// every gathering under way, and kept in the store's kv as `peaks/{gathering}`, written at most
// every kSaveEvery while they change and once more when the gathering is seen over, so they
// survive a restart (a restart loses at most the last kSaveEvery of a rising peak).
#include <fmt/format.h>

#include <algorithm>

#include "api/service.hpp"
#include "api/service_runtime.hpp"

namespace vigil::api {

using nlohmann::json;

namespace {
constexpr ops::TimeMs kSaveEvery = 5'000;
}  // namespace

struct Service::Peaks {
  std::string venue;
  ops::TimeMs starts_ms = 0;
  ops::TimeMs ends_ms = 0;
  json value = json::object();  // {occupancy: {persons, at}, zones: {id: {density_p_m2, ...}}}
  bool dirty = false;
  ops::TimeMs saved_ms = 0;
};

namespace {

std::string peaks_key(const std::string& gathering) { return "peaks/" + gathering; }

// Raises `slot` to `value` reached at `at_ms` when higher; true when it changed.
bool raise(json& slot, const char* field, double value, ops::TimeMs at_ms,
           const json& extra = json::object()) {
  if (slot.is_object() && slot.value(field, -1.0) >= value) return false;
  slot = {{field, value}, {"at", ops::format_time(at_ms)}};
  for (const auto& [k, v] : extra.items()) slot[k] = v;
  return true;
}

}  // namespace

void Service::track_peaks(const std::vector<std::shared_ptr<Runtime>>& venues) {
  const ops::TimeMs now = clock_.now_ms();
  std::lock_guard lock(peaks_mu_);
  // The gatherings under way (one indexed query a second).
  store::GatheringQuery q;
  q.from_ms = now;
  q.to_ms = now;
  if (auto rows = store_.list_gatherings(q)) {
    for (const auto& g : *rows) {
      if (g.starts_at_ms > now || g.ends_at_ms < now) continue;
      if (auto known = peaks_.find(g.id); known != peaks_.end()) {  // moved or changed meanwhile
        known->second->venue = g.venue;
        known->second->starts_ms = g.starts_at_ms;
        known->second->ends_ms = g.ends_at_ms;
        continue;
      }
      auto p = std::make_shared<Peaks>();
      p->venue = g.venue;
      p->starts_ms = g.starts_at_ms;
      p->ends_ms = g.ends_at_ms;
      if (auto stored = store_.kv_get(peaks_key(g.id)); stored && *stored) {
        json v = json::parse(**stored, nullptr, false);
        if (v.is_object()) p->value = std::move(v);
      }
      peaks_[g.id] = std::move(p);
    }
  }
  for (auto it = peaks_.begin(); it != peaks_.end();) {
    auto& [id, p] = *it;
    const bool over = now > p->ends_ms;
    if (!over && now >= p->starts_ms) {
      auto rt = std::find_if(venues.begin(), venues.end(), [&](const auto& r) { return r->id == p->venue; });
      if (rt != venues.end()) {
        std::lock_guard venue_lock((*rt)->mu);
        const ops::TimeMs at = (*rt)->last_eval_ms ? (*rt)->last_eval_ms : now;
        const ops::VenueState state = (*rt)->monitor->state();
        p->dirty |= raise(p->value["occupancy"], "persons", state.occupancy, at);
        json& zones = p->value["zones"];
        if (!zones.is_object()) zones = json::object();
        for (const auto& z : state.zones) {
          if (z.area_m2 <= 0) continue;
          p->dirty |= raise(zones[z.id], "density_p_m2", z.density_p_m2, at,
                            {{"persons", z.occupancy}, {"area_m2", z.area_m2}});
        }
      }
    }
    if (p->dirty && (over || now - p->saved_ms >= kSaveEvery || now < p->saved_ms)) {
      if (auto ok = store_.kv_put(peaks_key(id), p->value.dump()); ok) {
        p->dirty = false;
        p->saved_ms = now;
      } else if (options_.log_error) {
        options_.log_error("peaks of gathering " + id + ": " + ok.error().to_string());
      }
    }
    if (over && !p->dirty) {
      it = peaks_.erase(it);
    } else {
      ++it;
    }
  }
}

json Service::gathering_peaks(const std::string& gathering) {
  json value;
  {
    std::lock_guard lock(peaks_mu_);
    if (auto it = peaks_.find(gathering); it != peaks_.end()) value = it->second->value;
  }
  if (value.is_null()) {
    if (auto stored = store_.kv_get(peaks_key(gathering)); stored && *stored) {
      value = json::parse(**stored, nullptr, false);
    }
  }
  if (!value.is_object()) value = json::object();
  json out = {{"occupancy", value.value("occupancy", json())}, {"zones", json::array()}};
  // Zones as a list, densest first.
  if (value.contains("zones") && value["zones"].is_object()) {
    for (const auto& [zone, peak] : value["zones"].items()) {
      json z = peak;
      z["zone"] = zone;
      out["zones"].push_back(std::move(z));
    }
    std::stable_sort(out["zones"].begin(), out["zones"].end(), [](const json& a, const json& b) {
      return a.value("density_p_m2", 0.0) > b.value("density_p_m2", 0.0);
    });
  }
  return out;
}

}  // namespace vigil::api
