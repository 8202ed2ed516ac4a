// SPDX-License-Identifier: Apache-2.0
// How specific a warning is for one gathering, from 0 (a vague notice) to 1 (this venue, this
// evening, observed). Six parts, each a score in [0.05, 1] with a short explanation, combined by
// a weighted geometric mean (docs/warnings.md, "Specificity"):
//
//   score = prod(part_i ^ w_i),  sum(w_i) = 1
//   place 0.30, time 0.20, target 0.25, certainty 0.10, urgency 0.075, severity 0.075
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "warn/cap.hpp"

namespace vigil::warn {

// What the warning's text names about the gathering, from least to most specific.
enum class TargetLevel {
  none,     // nothing about gatherings or this kind of place
  generic,  // gatherings / crowds in general ("avoid large gatherings")
  kind,     // the kind of gathering ("concerts", "football matches")
  use,      // the kind of venue ("concert halls", "stadiums")
  both,     // the kind of venue and the kind of gathering
  venue,    // the venue or the gathering by name
};
std::string_view to_string(TargetLevel t);

struct SpecificityInput {
  double area_m2 = 0;    // area of the matched CAP area (polygons + circles + mapped geocodes)
  double window_h = 24;  // warning window length in hours
  bool expires_assumed = false;  // the window end is a default, not the sender's <expires>
  TargetLevel target = TargetLevel::none;
  std::vector<std::string> target_terms;  // the words that matched, for the explanation
  Certainty certainty = Certainty::Unknown;
  Urgency urgency = Urgency::Unknown;
  Severity severity = Severity::Unknown;
};

struct SpecificityPart {
  std::string name;  // place, time, target, certainty, urgency, severity
  double score = 0;  // [0.05, 1]
  double weight = 0;
  std::string explanation;
};

struct Specificity {
  double score = 0;  // [0, 1]
  std::vector<SpecificityPart> parts;
};

// The parts on their own (exposed for tests and documentation).
double place_score(double area_m2);  // 1 up to 0.05 km², 0.05 at 10,000 km² and above, log scale
double time_score(double window_h);  // 1 up to 2 h, 0.05 at 96 h and above, log scale
double target_score(TargetLevel t);
double certainty_score(Certainty c);
double urgency_score(Urgency u);
double severity_score(Severity s);

Specificity specificity(const SpecificityInput& in);

nlohmann::json to_json(const Specificity& s);

}  // namespace vigil::warn
