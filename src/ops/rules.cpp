// SPDX-License-Identifier: Apache-2.0
#include "ops/rules.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ops/json_reader.hpp"

namespace vigil::ops {

using nlohmann::json;

const char* to_string(Severity s) { return s == Severity::critical ? "critical" : "warn"; }

std::optional<Severity> severity_from_string(std::string_view s) {
  if (s == "warn") return Severity::warn;
  if (s == "critical") return Severity::critical;
  return std::nullopt;
}

namespace {

constexpr venue::ZoneUse kUses[] = {venue::ZoneUse::standing,    venue::ZoneUse::seated,
                                    venue::ZoneUse::circulation, venue::ZoneUse::queue,
                                    venue::ZoneUse::stair,       venue::ZoneUse::other};

void warn_not_above_critical(std::vector<Error>& errors, const std::string& path, double warn,
                             double critical) {
  if (warn > critical)
    errors.push_back({path, fmt::format("warn {:g} is above critical {:g}", warn, critical)});
}

}  // namespace

std::array<std::optional<WarnCritical>, 6> Thresholds::Density::default_by_use() {
  std::array<std::optional<WarnCritical>, 6> a;
  // Standing crowds: above 4–5 persons/m² is widely treated as dangerous. Moving crowds
  // (circulation, stairs) lose their flow well before that. Seated areas are bounded by their
  // seats: their capacity alert is the one that matters.
  a[static_cast<std::size_t>(venue::ZoneUse::standing)] = WarnCritical{4, 5};
  a[static_cast<std::size_t>(venue::ZoneUse::seated)] = std::nullopt;
  a[static_cast<std::size_t>(venue::ZoneUse::circulation)] = WarnCritical{2.5, 3.5};
  a[static_cast<std::size_t>(venue::ZoneUse::queue)] = WarnCritical{4, 5};
  a[static_cast<std::size_t>(venue::ZoneUse::stair)] = WarnCritical{2, 3};
  a[static_cast<std::size_t>(venue::ZoneUse::other)] = WarnCritical{4, 5};
  return a;
}

Expected<Thresholds, std::vector<Error>> thresholds_from_json(const json& j) {
  using detail::ObjectReader;
  std::vector<Error> errors;
  Thresholds t;
  ObjectReader root(
      j, "", errors,
      {"capacity", "density", "rising", "sensors", "counters_disagree", "egress", "clear_hold_s"});
  if (!root.ok()) return unexpected(std::move(errors));
  root.number("clear_hold_s", t.clear_hold_s, 0, 86400);
  constexpr double kBig = 1e9;

  if (const json* c = root.find("capacity")) {
    ObjectReader r(*c, "capacity", errors, {"enabled", "warn_pct", "critical_pct"});
    r.boolean("enabled", t.capacity.enabled);
    r.number("warn_pct", t.capacity.warn_pct, 0, 1000);
    r.number("critical_pct", t.capacity.critical_pct, 0, 1000);
    warn_not_above_critical(errors, "capacity.warn_pct", t.capacity.warn_pct,
                            t.capacity.critical_pct);
  }
  if (const json* d = root.find("density")) {
    ObjectReader r(*d, "density", errors,
                   {"enabled", "standing", "seated", "circulation", "queue", "stair", "other"});
    r.boolean("enabled", t.density.enabled);
    for (venue::ZoneUse u : kUses) {
      const char* name = venue::to_string(u);
      const json* lv = r.find(name);
      if (lv == nullptr) continue;
      auto& slot = t.density.by_use[static_cast<std::size_t>(u)];
      if (lv->is_null()) {
        slot = std::nullopt;
        continue;
      }
      WarnCritical wc = slot.value_or(WarnCritical{4, 5});
      ObjectReader lr(*lv, r.at(name), errors, {"warn", "critical"});
      if (!lr.ok()) continue;
      lr.number("warn", wc.warn, 0, 20);
      lr.number("critical", wc.critical, 0, 20);
      warn_not_above_critical(errors, lr.at("warn"), wc.warn, wc.critical);
      slot = wc;
    }
  }
  if (const json* ri = root.find("rising")) {
    ObjectReader r(*ri, "rising", errors,
                   {"enabled", "warn_pct_per_min", "critical_pct_per_min", "min_p_per_min"});
    r.boolean("enabled", t.rising.enabled);
    r.number("warn_pct_per_min", t.rising.warn_pct_per_min, 0, 1000);
    r.number("critical_pct_per_min", t.rising.critical_pct_per_min, 0, 1000);
    r.number("min_p_per_min", t.rising.min_p_per_min, 0, kBig);
    warn_not_above_critical(errors, "rising.warn_pct_per_min", t.rising.warn_pct_per_min,
                            t.rising.critical_pct_per_min);
  }
  if (const json* s = root.find("sensors")) {
    ObjectReader r(*s, "sensors", errors,
                   {"enabled", "implausible", "stale_after_s", "silent_after_s",
                    "max_flow_p_per_m_s", "min_rate_interval_s", "negative_events",
                    "negative_window_s", "negative_min_persons", "implausible_hold_s"});
    HealthConfig& h = t.sensors.health;
    r.boolean("enabled", t.sensors.enabled);
    r.boolean("implausible", t.sensors.implausible);
    r.number("stale_after_s", h.stale_after_s, 1, 86400);
    r.number("silent_after_s", h.silent_after_s, 1, 7 * 86400);
    r.number("max_flow_p_per_m_s", h.max_flow_p_per_m_s, 0.1, 100);
    r.number("min_rate_interval_s", h.min_rate_interval_s, 0.001, 3600);
    r.integer("negative_events", h.negative_events, 1, 1000);
    r.number("negative_window_s", h.negative_window_s, 1, 86400);
    r.number("negative_min_persons", h.negative_min_persons, 0, kBig);
    r.number("implausible_hold_s", h.implausible_hold_s, 0, 86400);
    if (h.stale_after_s > h.silent_after_s)
      errors.push_back({"sensors.stale_after_s", fmt::format("{:g} is above silent_after_s {:g}",
                                                             h.stale_after_s, h.silent_after_s)});
  }
  if (const json* c = root.find("counters_disagree")) {
    ObjectReader r(*c, "counters_disagree", errors, {"enabled", "pct", "persons", "for_s"});
    HealthConfig& h = t.sensors.health;
    r.boolean("enabled", t.counters_disagree.enabled);
    r.number("pct", h.disagree_pct, 0, 1000);
    r.number("persons", h.disagree_persons, 0, kBig);
    r.number("for_s", h.disagree_for_s, 0, 86400);
  }
  if (const json* e = root.find("egress")) {
    ObjectReader r(*e, "egress", errors, {"enabled", "warn_pct", "critical_pct"});
    r.boolean("enabled", t.egress.enabled);
    r.number("warn_pct", t.egress.warn_pct, 0, 1000);
    r.number("critical_pct", t.egress.critical_pct, 0, 1000);
    warn_not_above_critical(errors, "egress.warn_pct", t.egress.warn_pct, t.egress.critical_pct);
  }
  if (!errors.empty()) return unexpected(std::move(errors));
  return t;
}

json to_json(const Thresholds& t) {
  json density = {{"enabled", t.density.enabled}};
  for (venue::ZoneUse u : kUses) {
    const auto& wc = t.density.for_use(u);
    density[venue::to_string(u)] =
        wc ? json{{"warn", wc->warn}, {"critical", wc->critical}} : json();
  }
  const HealthConfig& h = t.sensors.health;
  return {{"capacity",
           {{"enabled", t.capacity.enabled},
            {"warn_pct", t.capacity.warn_pct},
            {"critical_pct", t.capacity.critical_pct}}},
          {"density", density},
          {"rising",
           {{"enabled", t.rising.enabled},
            {"warn_pct_per_min", t.rising.warn_pct_per_min},
            {"critical_pct_per_min", t.rising.critical_pct_per_min},
            {"min_p_per_min", t.rising.min_p_per_min}}},
          {"sensors",
           {{"enabled", t.sensors.enabled},
            {"implausible", t.sensors.implausible},
            {"stale_after_s", h.stale_after_s},
            {"silent_after_s", h.silent_after_s},
            {"max_flow_p_per_m_s", h.max_flow_p_per_m_s},
            {"min_rate_interval_s", h.min_rate_interval_s},
            {"negative_events", h.negative_events},
            {"negative_window_s", h.negative_window_s},
            {"negative_min_persons", h.negative_min_persons},
            {"implausible_hold_s", h.implausible_hold_s}}},
          {"counters_disagree",
           {{"enabled", t.counters_disagree.enabled},
            {"pct", h.disagree_pct},
            {"persons", h.disagree_persons},
            {"for_s", h.disagree_for_s}}},
          {"egress",
           {{"enabled", t.egress.enabled},
            {"warn_pct", t.egress.warn_pct},
            {"critical_pct", t.egress.critical_pct}}},
          {"clear_hold_s", t.clear_hold_s}};
}

namespace {

// The severity of `value` against warn/critical thresholds, if any.
std::optional<Severity> grade(double value, double warn, double critical) {
  if (value >= critical) return Severity::critical;
  if (value >= warn) return Severity::warn;
  return std::nullopt;
}

}  // namespace

std::vector<Condition> evaluate_rules(const VenueState& state, const Thresholds& t,
                                      std::optional<double> egress_time_s, double egress_limit_s) {
  std::vector<Condition> out;
  auto zone_condition = [&](std::string_view r, const ZoneEstimate& z, Severity sev, double value,
                            double threshold, std::string message) {
    out.push_back({std::string(r), z.id, z.id, "", sev, value, threshold, std::move(message)});
  };

  if (t.capacity.enabled) {
    for (const ZoneEstimate& z : state.zones) {
      if (z.capacity <= 0) continue;
      if (auto sev = grade(z.capacity_pct, t.capacity.warn_pct, t.capacity.critical_pct)) {
        const double thr =
            *sev == Severity::critical ? t.capacity.critical_pct : t.capacity.warn_pct;
        zone_condition(rule::capacity, z, *sev, z.capacity_pct, thr,
                       fmt::format("zone \"{}\" at {:.1f} % of capacity ({:.0f} of {:.0f})", z.id,
                                   z.capacity_pct, z.occupancy, z.capacity));
      }
    }
  }
  if (t.density.enabled) {
    for (const ZoneEstimate& z : state.zones) {
      const auto& wc = t.density.for_use(z.use);
      if (!wc || z.area_m2 <= 0) continue;
      if (auto sev = grade(z.density_p_m2, wc->warn, wc->critical)) {
        const double thr = *sev == Severity::critical ? wc->critical : wc->warn;
        zone_condition(rule::density, z, *sev, z.density_p_m2, thr,
                       fmt::format("zone \"{}\" ({}) at {:.2f} persons/m² (threshold {:g})", z.id,
                                   venue::to_string(z.use), z.density_p_m2, thr));
      }
    }
  }
  if (t.rising.enabled) {
    for (const ZoneEstimate& z : state.zones) {
      if (z.capacity <= 0) continue;
      // min_p_per_min floors the warn threshold; the critical floor keeps the same ratio.
      const double ratio = t.rising.warn_pct_per_min > 0
                               ? t.rising.critical_pct_per_min / t.rising.warn_pct_per_min
                               : 1.0;
      const double warn =
          std::max(t.rising.min_p_per_min, t.rising.warn_pct_per_min / 100 * z.capacity);
      const double crit = std::max(t.rising.min_p_per_min * ratio,
                                   t.rising.critical_pct_per_min / 100 * z.capacity);
      if (auto sev = grade(z.trend_p_per_min, warn, crit)) {
        const double thr = *sev == Severity::critical ? crit : warn;
        zone_condition(rule::rising, z, *sev, z.trend_p_per_min, thr,
                       fmt::format("zone \"{}\" filling at {:.0f} persons/min (threshold {:.0f})",
                                   z.id, z.trend_p_per_min, thr));
      }
    }
  }
  const HealthConfig& h = t.sensors.health;
  if (t.sensors.enabled) {
    for (const SensorHealth& s : state.sensors) {
      if (s.status != SensorStatus::stale && s.status != SensorStatus::silent) continue;
      // Never seen: silent, but no alert before silent_after_s since monitoring started (a
      // restarted server must not page everyone in its first second).
      if (!s.last_seen_ms &&
          static_cast<double>(state.at_ms - state.started_ms) < h.silent_after_s * 1000.0)
        continue;
      const bool silent = s.status == SensorStatus::silent;
      const double age_s =
          s.last_seen_ms ? static_cast<double>(state.at_ms - *s.last_seen_ms) / 1000.0 : -1;
      std::string msg =
          s.last_seen_ms
              ? fmt::format("sensor \"{}\" {}: no reading for {:.0f} s", s.id, to_string(s.status),
                            age_s)
              : fmt::format("sensor \"{}\" silent: no reading since monitoring started", s.id);
      out.push_back({std::string(rule::sensor_stale), s.id, s.zone, s.id,
                     silent ? Severity::critical : Severity::warn, age_s,
                     silent ? h.silent_after_s : h.stale_after_s, std::move(msg)});
    }
  }
  if (t.sensors.implausible) {
    for (const SensorHealth& s : state.sensors) {
      // Disagreement has its own rule; here only the sensor's own evidence counts.
      if (!s.rate_exceeded && !s.negative_occupancy) continue;
      // Only line counters carry this evidence; disagreement (zone counters) has its own rule.
      std::string why;
      for (const std::string& r : s.reasons) why += (why.empty() ? "" : "; ") + r;
      out.push_back({std::string(rule::sensor_implausible), s.id, s.zone, s.id, Severity::warn,
                     s.negative_persons, 0,
                     fmt::format("sensor \"{}\" implausible: {}", s.id, why)});
    }
  }
  if (t.counters_disagree.enabled) {
    for (const Disagreement& d : state.disagreements) {
      if (!d.active) continue;
      const double diff = std::abs(d.count - d.flow_estimate);
      out.push_back(
          {std::string(rule::counters_disagree), d.zone, d.zone, d.sensor, Severity::warn, diff,
           h.disagree_persons,
           fmt::format("zone \"{}\": counter \"{}\" says {:.0f}, line counters imply "
                       "{:.0f} (since {})",
                       d.zone, d.sensor, d.count, d.flow_estimate, format_time(d.since_ms))});
    }
  }
  if (t.egress.enabled && egress_time_s && egress_limit_s > 0) {
    const double pct = 100.0 * *egress_time_s / egress_limit_s;
    if (auto sev = grade(pct, t.egress.warn_pct, t.egress.critical_pct)) {
      const double thr_s =
          (*sev == Severity::critical ? t.egress.critical_pct : t.egress.warn_pct) / 100 *
          egress_limit_s;
      out.push_back({std::string(rule::egress), "venue", "", "", *sev, *egress_time_s, thr_s,
                     fmt::format("estimated egress time {:.0f} s against a limit of {:.0f} s",
                                 *egress_time_s, egress_limit_s)});
    }
  }
  return out;
}

}  // namespace vigil::ops
