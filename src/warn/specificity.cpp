// SPDX-License-Identifier: Apache-2.0
#include "warn/specificity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace vigil::warn {
namespace {

constexpr double kFloor = 0.05;

// Venue-sized: 0.05 km² (a stadium with its forecourt); region-sized: 10,000 km².
constexpr double kPlaceNarrowM2 = 0.05e6;
constexpr double kPlaceWideM2 = 10000e6;
// An evening: 2 h; four days and more says nothing about a particular event.
constexpr double kTimeNarrowH = 2;
constexpr double kTimeWideH = 96;

constexpr double kWPlace = 0.30, kWTime = 0.20, kWTarget = 0.25, kWCertainty = 0.10,
                 kWUrgency = 0.075, kWSeverity = 0.075;

// 1 at or below `narrow`, kFloor at or above `wide`, linear in log(x) between.
double log_scale(double x, double narrow, double wide) {
  if (x <= narrow) return 1.0;  // callers pass finite values
  if (x >= wide) return kFloor;
  const double t = std::log(x / narrow) / std::log(wide / narrow);
  return std::clamp(1.0 - t * (1.0 - kFloor), kFloor, 1.0);
}

std::string area_text(double m2) {
  if (m2 < 1e6) return fmt::format("{:.0f} m²", m2);
  if (m2 < 100e6) return fmt::format("{:.1f} km²", m2 / 1e6);
  return fmt::format("{:.0f} km²", m2 / 1e6);
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size() && i < 4; ++i) out += (i ? ", \"" : "\"") + v[i] + "\"";
  return out;
}

}  // namespace

std::string_view to_string(TargetLevel t) {
  switch (t) {
    case TargetLevel::none:
      return "none";
    case TargetLevel::generic:
      return "generic";
    case TargetLevel::kind:
      return "kind";
    case TargetLevel::use:
      return "use";
    case TargetLevel::both:
      return "both";
    case TargetLevel::venue:
      return "venue";
  }
  return "none";
}

double place_score(double area_m2) {
  if (!std::isfinite(area_m2)) return kFloor;
  return log_scale(area_m2, kPlaceNarrowM2, kPlaceWideM2);
}

double time_score(double window_h) {
  if (!std::isfinite(window_h)) return kFloor;
  return log_scale(window_h, kTimeNarrowH, kTimeWideH);
}

double target_score(TargetLevel t) {
  switch (t) {
    case TargetLevel::venue:
      return 1.0;
    case TargetLevel::both:
      return 0.9;
    case TargetLevel::use:
      return 0.8;
    case TargetLevel::kind:
      return 0.7;
    case TargetLevel::generic:
      return 0.45;
    case TargetLevel::none:
      return 0.25;
  }
  return 0.25;
}

double certainty_score(Certainty c) {
  switch (c) {
    case Certainty::Observed:
      return 1.0;
    case Certainty::Likely:
      return 0.8;
    case Certainty::Possible:
      return 0.5;
    case Certainty::Unknown:
      return 0.3;
    case Certainty::Unlikely:
      return 0.15;
  }
  return 0.3;
}

double urgency_score(Urgency u) {
  switch (u) {
    case Urgency::Immediate:
      return 1.0;
    case Urgency::Expected:
      return 0.8;
    case Urgency::Future:
      return 0.6;
    case Urgency::Unknown:
      return 0.4;
    case Urgency::Past:
      return 0.2;
  }
  return 0.4;
}

double severity_score(Severity s) {
  switch (s) {
    case Severity::Extreme:
      return 1.0;
    case Severity::Severe:
      return 0.85;
    case Severity::Moderate:
      return 0.6;
    case Severity::Unknown:
      return 0.4;
    case Severity::Minor:
      return 0.35;
  }
  return 0.4;
}

Specificity specificity(const SpecificityInput& in) {
  Specificity s;
  const double a = in.area_m2;
  s.parts.push_back(
      {"place", place_score(a), kWPlace,
       fmt::format("area of {} ({}: 1 up to 0.05 km², 0.05 from 10,000 km², log scale)",
                   area_text(a),
                   a <= kPlaceNarrowM2 ? "venue-sized"
                   : a < 50e6          ? "district-sized"
                   : a < 2000e6        ? "city-sized"
                                       : "region-sized")});
  s.parts.push_back(
      {"time", time_score(in.window_h), kWTime,
       fmt::format("window of {:.1f} h{} (1 up to 2 h, 0.05 from 96 h, log scale)", in.window_h,
                   in.expires_assumed ? ", no <expires>: default duration assumed" : "")});
  std::string target_why;
  switch (in.target) {
    case TargetLevel::venue:
      target_why = "names the venue or gathering: " + join(in.target_terms);
      break;
    case TargetLevel::both:
      target_why = "names the kind of venue and of gathering: " + join(in.target_terms);
      break;
    case TargetLevel::use:
      target_why = "names the kind of venue: " + join(in.target_terms);
      break;
    case TargetLevel::kind:
      target_why = "names the kind of gathering: " + join(in.target_terms);
      break;
    case TargetLevel::generic:
      target_why = "speaks of gatherings in general: " + join(in.target_terms);
      break;
    case TargetLevel::none:
      target_why = "does not mention gatherings or this kind of place";
      break;
  }
  s.parts.push_back({"target", target_score(in.target), kWTarget, std::move(target_why)});
  s.parts.push_back({"certainty", certainty_score(in.certainty), kWCertainty,
                     fmt::format("certainty {}", to_string(in.certainty))});
  s.parts.push_back({"urgency", urgency_score(in.urgency), kWUrgency,
                     fmt::format("urgency {}", to_string(in.urgency))});
  s.parts.push_back({"severity", severity_score(in.severity), kWSeverity,
                     fmt::format("severity {}", to_string(in.severity))});
  double log_sum = 0;
  for (const auto& p : s.parts) log_sum += p.weight * std::log(p.score);
  s.score = std::clamp(std::exp(log_sum), 0.0, 1.0);
  return s;
}

nlohmann::json to_json(const Specificity& s) {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : s.parts)
    parts.push_back({{"name", p.name},
                     {"score", p.score},
                     {"weight", p.weight},
                     {"explanation", p.explanation}});
  return {{"score", s.score}, {"parts", std::move(parts)}};
}

}  // namespace vigil::warn
