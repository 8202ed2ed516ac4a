// SPDX-License-Identifier: Apache-2.0
// Specificity: the two reference cases of docs/warnings.md and the direction of every part.
#include "warn/specificity.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace vigil::warn {
namespace {

// "Avoid large gatherings" for a whole city (a 25 km circle, ~1,960 km²) over 48 hours.
SpecificityInput vague_city_notice() {
  SpecificityInput in;
  in.area_m2 = 3.14159 * 25e3 * 25e3;
  in.window_h = 48;
  in.target = TargetLevel::generic;
  in.target_terms = {"gathering*"};
  in.certainty = Certainty::Possible;
  in.urgency = Urgency::Future;
  in.severity = Severity::Moderate;
  return in;
}

// A threat naming the concert hall, for one evening (3 h), in a district of ~3 km².
SpecificityInput precise_warning() {
  SpecificityInput in;
  in.area_m2 = 3e6;
  in.window_h = 3;
  in.target = TargetLevel::venue;
  in.target_terms = {"Grand Concert Hall"};
  in.certainty = Certainty::Likely;
  in.urgency = Urgency::Expected;
  in.severity = Severity::Severe;
  return in;
}

TEST(Specificity, VagueCityWideNoticeScoresLow) {
  const Specificity s = specificity(vague_city_notice());
  EXPECT_LT(s.score, 0.35) << to_json(s).dump(2);
  // Even if it were observed, immediate and extreme, place and time keep it low-ish.
  SpecificityInput in = vague_city_notice();
  in.certainty = Certainty::Observed;
  in.urgency = Urgency::Immediate;
  in.severity = Severity::Extreme;
  EXPECT_LT(specificity(in).score, 0.45);
}

TEST(Specificity, PreciseWarningScoresHigh) {
  const Specificity s = specificity(precise_warning());
  EXPECT_GT(s.score, 0.7) << to_json(s).dump(2);
  SpecificityInput possible = precise_warning();
  possible.certainty = Certainty::Possible;
  EXPECT_GT(specificity(possible).score, 0.7);
}

TEST(Specificity, PartsAreExplained) {
  const Specificity s = specificity(precise_warning());
  ASSERT_EQ(s.parts.size(), 6u);
  double weights = 0;
  for (const auto& p : s.parts) {
    EXPECT_FALSE(p.explanation.empty()) << p.name;
    EXPECT_GE(p.score, 0.05);
    EXPECT_LE(p.score, 1.0);
    weights += p.weight;
  }
  EXPECT_NEAR(weights, 1.0, 1e-12);
  EXPECT_EQ(s.parts[0].name, "place");
  EXPECT_NE(s.parts[0].explanation.find("3.0 km²"), std::string::npos);
  EXPECT_NE(s.parts[2].explanation.find("Grand Concert Hall"), std::string::npos);
  const auto j = to_json(s);
  EXPECT_EQ(j["parts"][1]["name"], "time");
}

TEST(Specificity, PlaceNarrowerScoresHigher) {
  EXPECT_EQ(place_score(20e3), 1.0);
  EXPECT_GT(place_score(1e6), place_score(10e6));
  EXPECT_GT(place_score(10e6), place_score(1000e6));
  EXPECT_EQ(place_score(1e12), 0.05);
  SpecificityInput a = precise_warning(), b = a;
  b.area_m2 = 500e6;
  EXPECT_GT(specificity(a).score, specificity(b).score);
}

TEST(Specificity, TimeShorterScoresHigher) {
  EXPECT_EQ(time_score(1), 1.0);
  EXPECT_GT(time_score(3), 0.85);
  EXPECT_LT(time_score(48), 0.25);
  EXPECT_GT(time_score(6), time_score(24));
  SpecificityInput a = precise_warning(), b = a;
  b.window_h = 72;
  EXPECT_GT(specificity(a).score, specificity(b).score);
}

TEST(Specificity, TargetMoreSpecificScoresHigher) {
  const TargetLevel order[] = {TargetLevel::none, TargetLevel::generic, TargetLevel::kind,
                               TargetLevel::use,  TargetLevel::both,    TargetLevel::venue};
  for (std::size_t i = 1; i < std::size(order); ++i) {
    EXPECT_GT(target_score(order[i]), target_score(order[i - 1])) << to_string(order[i]);
    SpecificityInput a = precise_warning(), b = a;
    a.target = order[i];
    b.target = order[i - 1];
    EXPECT_GT(specificity(a).score, specificity(b).score);
  }
}

TEST(Specificity, CertaintyUrgencySeverityMoveTheScore) {
  const Certainty c[] = {Certainty::Unlikely, Certainty::Unknown, Certainty::Possible,
                         Certainty::Likely, Certainty::Observed};
  for (std::size_t i = 1; i < std::size(c); ++i) {
    SpecificityInput a = precise_warning(), b = a;
    a.certainty = c[i];
    b.certainty = c[i - 1];
    EXPECT_GT(specificity(a).score, specificity(b).score) << to_string(c[i]);
  }
  const Urgency u[] = {Urgency::Past, Urgency::Unknown, Urgency::Future, Urgency::Expected,
                       Urgency::Immediate};
  for (std::size_t i = 1; i < std::size(u); ++i) {
    SpecificityInput a = precise_warning(), b = a;
    a.urgency = u[i];
    b.urgency = u[i - 1];
    EXPECT_GT(specificity(a).score, specificity(b).score) << to_string(u[i]);
  }
  const Severity s[] = {Severity::Minor, Severity::Unknown, Severity::Moderate, Severity::Severe,
                        Severity::Extreme};
  for (std::size_t i = 1; i < std::size(s); ++i) {
    SpecificityInput a = precise_warning(), b = a;
    a.severity = s[i];
    b.severity = s[i - 1];
    EXPECT_GT(specificity(a).score, specificity(b).score) << to_string(s[i]);
  }
}

TEST(Specificity, AssumedExpiryIsSaid) {
  SpecificityInput in = precise_warning();
  in.expires_assumed = true;
  EXPECT_NE(specificity(in).parts[1].explanation.find("default duration"), std::string::npos);
}

}  // namespace
}  // namespace vigil::warn
