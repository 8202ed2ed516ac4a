// SPDX-License-Identifier: Apache-2.0
// RiMEA guideline tests (version 3.0 numbering; /work/shared/ref/verification.md) against
// the simulation engine. Each test states its acceptance criterion and prints the figures.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "../unit/sim/test_venues.hpp"
#include "sim/results.hpp"
#include "sim/run.hpp"
#include "sim/simulation.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)

Scenario parse_ok(const json& doc) {
  auto sc = parse_scenario(doc, ".");
  if (!sc) {
    std::string s;
    for (const Error& e : sc.error()) s += e.to_string() + "\n";
    ADD_FAILURE() << s;
    return {};
  }
  return std::move(*sc);
}

RunResult run_once(const Scenario& sc, std::uint64_t seed) {
  auto agents = place_population(sc, seed);
  EXPECT_TRUE(agents);
  SimOptions opt;
  opt.threads = 0;
  return simulate(sc, seed, *agents, opt);
}

double last_time(const RunResult& r) {
  double t = 0;
  for (double x : r.evacuation_time_s) t = std::max(t, std::isnan(x) ? INFINITY : x);
  return t;
}

// RiMEA 9: 1000 people in a 30 m x 20 m room with four 1 m exits at the corners; then with the
// two exits of one side closed. Criterion: the evacuation time roughly doubles (1.6-2.4).
TEST(RiMEA, Test9ClosingHalfTheExitsRoughlyDoublesTheTime) {
  json v = venue({area(rect(0, 0, 30, 20)), exit_line("W1", 0, 1, 0, 2), exit_line("W2", 0, 18, 0, 19),
                  exit_line("E1", 30, 1, 30, 2), exit_line("E2", 30, 18, 30, 19), zone("room", rect(2, 2, 28, 18))});
  json doc = scenario(v, json::array({{{"zone", "room"}, {"count", 1000}}}));
  doc["max_time_s"] = 900;
  const RunResult four = run_once(parse_ok(doc), 1);
  doc["closed"] = {"E1", "E2"};
  const RunResult two = run_once(parse_ok(doc), 1);
  const double t4 = last_time(four);
  const double t2 = last_time(two);
  std::printf("RiMEA 9: 4 exits %.1f s, 2 exits %.1f s, ratio %.2f (wall %.1f s + %.1f s)\n", t4, t2, t2 / t4,
              four.wall_s, two.wall_s);
  EXPECT_GE(t2 / t4, 1.6);
  EXPECT_LE(t2 / t4, 2.4);
}

// RiMEA 12 / bottleneck: 150 people in a 10 m x 10 m room leave through a corridor 5 m long and
// 1 m wide into another room. Criterion: specific flow in the corridor <= 1.5 persons/(m s).
TEST(RiMEA, Test12FlowThroughTheBottleneckStaysBelowTheLimit) {
  json v = venue({area(ring({{0, 0}, {10, 0}, {10, 4.5}, {15, 4.5}, {15, 0}, {25, 0}, {25, 10}, {15, 10},
                             {15, 5.5}, {10, 5.5}, {10, 10}, {0, 10}})),
                  exit_line("E1", 25, 4, 25, 6), zone("room", rect(0, 0, 10, 10))});
  json doc = scenario(v, json::array({{{"zone", "room"}, {"count", 150}}}));
  doc["measure"] = {{"lines", json::array({{{"id", "C"}, {"level", 0}, {"line", {{12.5, 4.5}, {12.5, 5.5}}}}})}};
  doc["max_time_s"] = 600;
  const Scenario sc = parse_ok(doc);
  const RunResult r = run_once(sc, 1);
  const auto s = summarize_run(sc, r);
  const double flow = s["lines"]["C"]["specific_flow_p_m_s"].get<double>();
  std::printf("RiMEA 12: evacuated %d in %.1f s, corridor specific flow %.2f persons/(m s)\n", s["evacuated"].get<int>(),
              last_time(r), flow);
  EXPECT_EQ(s["evacuated"], 150);
  EXPECT_LE(flow, 1.5);
  EXPECT_GE(flow, 0.5);
}

// RiMEA 2 and 3: one person on a stair 10 m long (along the slope). The model declares its
// stair speed as v0 x speed_factor (0.6 up, 0.8 down by default) along the slope.
// Criterion: the arrival time is within 5 % of the declared one.
double stair_time(bool up) {
  json props = {{"kind", "stair"}, {"id", "S"}, {"from_level", 0}, {"to_level", 1},
                {"bottom", {{2, 0}, {2, 2}}}, {"top", {{10, 0}, {10, 2}}}, {"length_m", 10}};
  json v = venue({area(rect(0, 0, 2, 2), 0), area(rect(10, 0, 12, 2), 1), feature(props, polygon(rect(2, 0, 10, 2))),
                  up ? exit_line("E", 12, 0, 12, 2, 1) : exit_line("E", 0, 0, 0, 2, 0)});
  json doc = scenario(v, json::array({{{"agents", {{up ? 1.0 : 11.0, 1.0}}}, {"level", up ? 0 : 1}}}));
  doc["profile"] = {{"speed_m_s", 1.33}};
  const RunResult r = run_once(parse_ok(doc), 1);
  return r.evacuation_time_s[0];
}

TEST(RiMEA, Test2And3StairsUpAndDownTakeTheDeclaredTime) {
  const double up = stair_time(true);
  const double down = stair_time(false);
  // 1 m + 2 m on the levels, 10 m on the stair.
  const double up_declared = 3 / 1.33 + 10 / (1.33 * 0.6);
  const double down_declared = 3 / 1.33 + 10 / (1.33 * 0.8);
  std::printf("RiMEA 2: up %.2f s (declared %.2f s); RiMEA 3: down %.2f s (declared %.2f s)\n", up, up_declared, down,
              down_declared);
  EXPECT_NEAR(up, up_declared, 0.05 * up_declared);
  EXPECT_NEAR(down, down_declared, 0.05 * down_declared);
}

// RiMEA 7: demographics, 50 people per group with Weidmann-age speed ranges.
// Criterion: the sampled speeds lie in the ranges and follow the (uniform) distribution.
TEST(RiMEA, Test7SampledSpeedsFollowTheGroupRanges) {
  json doc = scenario(room_venue(), json::array({{{"zone", "floor"}, {"count", 200}}}));
  auto uniform = [](double a, double b) { return json{{"distribution", "uniform"}, {"min", a}, {"max", b}}; };
  doc["groups"] = json::array({{{"name", "under 30"}, {"share", 0.25}, {"speed_m_s", uniform(0.58, 1.61)}},
                               {{"name", "30 to 50"}, {"share", 0.25}, {"speed_m_s", uniform(1.41, 1.54)}},
                               {{"name", "over 50"}, {"share", 0.25}, {"speed_m_s", uniform(0.68, 1.41)}},
                               {{"name", "limited mobility"}, {"share", 0.25}, {"speed_m_s", uniform(0.46, 0.76)}}});
  const Scenario sc = parse_ok(doc);
  auto agents = place_population(sc, 1);
  ASSERT_TRUE(agents);
  const double lo[] = {0.58, 1.41, 0.68, 0.46};
  const double hi[] = {1.61, 1.54, 1.41, 0.76};
  int count[4] = {};
  double sum[4] = {};
  for (const AgentInit& a : *agents) {
    ASSERT_GE(a.group, 0);
    const auto g = static_cast<std::size_t>(a.group);
    EXPECT_GE(a.speed_m_s, lo[g]);
    EXPECT_LE(a.speed_m_s, hi[g]);
    ++count[g];
    sum[g] += a.speed_m_s;
  }
  for (std::size_t g = 0; g < 4; ++g) {
    const double mean = sum[g] / count[g];
    const double expected = (lo[g] + hi[g]) / 2;
    const double se = (hi[g] - lo[g]) / std::sqrt(12.0 * count[g]);
    std::printf("RiMEA 7: group %zu: %d people, mean speed %.3f m/s (uniform mean %.3f)\n", g, count[g], mean, expected);
    EXPECT_EQ(count[g], 50);
    EXPECT_NEAR(mean, expected, 4 * se);
  }
}

// RiMEA 11: people in a room with two exits, one nearer. Criterion: people favour the nearer
// exit, and with `quickest` routing the other is used as the near one congests.
TEST(RiMEA, Test11NearExitFavouredFarExitUsedWhenItCongests) {
  json v = venue({area(rect(0, 0, 20, 20)), exit_line("NEAR", 0, 9.5, 0, 10.5), exit_line("FAR", 20, 9.5, 20, 10.5),
                  zone("west", rect(1, 1, 9, 19))});
  json doc = scenario(v, json::array({{{"zone", "west"}, {"count", 300}}}));
  doc["max_time_s"] = 900;
  for (const char* routing : {"nearest", "quickest"}) {
    doc["routing"] = routing;
    const Scenario sc = parse_ok(doc);
    const auto s = summarize_run(sc, run_once(sc, 1));
    const int near = s["exits"]["NEAR"]["count"];
    const int far = s["exits"]["FAR"]["count"];
    std::printf("RiMEA 11 (%s): near exit %d, far exit %d, time %s s\n", routing, near, far,
                s["evacuation_time_s"].dump().c_str());
    EXPECT_EQ(near + far, 300);
    EXPECT_GT(near, far);
    if (std::string(routing) == "nearest") EXPECT_EQ(far, 0);
    else EXPECT_GT(far, 30);
  }
}

// RiMEA 13: congestion in front of a stair going up. Criterion: the flow up the stair is below
// the flow through the same corridor on the level.
TEST(RiMEA, Test13FlowUpTheStairIsBelowTheFlowOnTheLevel) {
  auto flow = [](bool stair) {
    // A 10 m x 10 m room, then a 2 m wide passage 8 m long (a stair 10 m along the slope, or
    // level floor), then a 4 m landing with the exit.
    json features = {area(rect(0, 0, 10, 10), 0), zone("room", rect(0, 0, 10, 10), 0)};
    const int top_level = stair ? 1 : 0;
    if (stair) {
      json props = {{"kind", "stair"}, {"id", "S"}, {"from_level", 0}, {"to_level", 1},
                    {"bottom", {{10, 4}, {10, 6}}}, {"top", {{18, 4}, {18, 6}}}, {"length_m", 10}};
      features.push_back(feature(props, polygon(rect(10, 4, 18, 6))));
      features.push_back(area(rect(18, 0, 22, 10), 1));
    } else {
      features = {area(ring({{0, 0}, {10, 0}, {10, 4}, {18, 4}, {18, 0}, {22, 0}, {22, 10}, {18, 10}, {18, 6}, {10, 6},
                             {10, 10}, {0, 10}})),
                  zone("room", rect(0, 0, 10, 10), 0)};
    }
    features.push_back(exit_line("E", 22, 4, 22, 6, top_level));
    json doc = scenario(venue(features), json::array({{{"zone", "room"}, {"count", 150}}}));
    doc["measure"] = {{"lines", json::array({{{"id", "top"}, {"level", top_level}, {"line", {{19, 0}, {19, 10}}}}})}};
    doc["max_time_s"] = 900;
    const Scenario sc = parse_ok(doc);
    const auto s = summarize_run(sc, run_once(sc, 1));
    EXPECT_EQ(s["evacuated"], 150);
    return s["lines"]["top"]["flow_p_s"].get<double>() / 2.0;  // per metre of the 2 m passage
  };
  const double on_stair = flow(true);
  const double on_level = flow(false);
  std::printf("RiMEA 13: specific flow up the stair %.2f, on the level %.2f persons/(m s)\n", on_stair, on_level);
  EXPECT_LT(on_stair, on_level);
}

}  // namespace
}  // namespace vigil::sim
