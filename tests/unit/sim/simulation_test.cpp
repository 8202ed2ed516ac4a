// SPDX-License-Identifier: Apache-2.0
// The simulation step: walking times, walls, pre-movement, determinism across threads.
#include "sim/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/fast_exp.hpp"
#include "sim/neighbour_grid.hpp"
#include "sim/space.hpp"
#include "test_venues.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)

std::string all(const Errors& errs) {
  std::string s;
  for (const Error& e : errs) s += e.to_string() + "\n";
  return s;
}

Scenario parse_ok(const json& doc) {
  auto sc = parse_scenario(doc, ".");
  EXPECT_TRUE(sc) << (sc ? "" : all(sc.error()));
  return sc ? std::move(*sc) : Scenario{};
}

// Keeps every frame.
class Recorder final : public FrameSink {
 public:
  void frame(std::int64_t f, const std::vector<FrameAgent>& agents) override {
    frames.push_back({f, agents});
  }
  std::vector<std::pair<std::int64_t, std::vector<FrameAgent>>> frames;
};

struct Outcome {
  RunResult result;
  std::vector<AgentInit> agents;
};

Outcome run(const Scenario& sc, int threads = 1, FrameSink* frames = nullptr) {
  auto agents = place_population(sc, sc.seed);
  EXPECT_TRUE(agents);
  SimOptions opt;
  opt.threads = threads;
  opt.frames = frames;
  return {simulate(sc, sc.seed, *agents, opt), *agents};
}

TEST(Simulation, RiMEA1OnePersonWalks40mIn26To34s) {
  json doc = scenario(corridor_venue(), json::array({{{"agents", {{2.0, 1.0}}}, {"level", 0}}}));
  doc["profile"] = {{"speed_m_s", 1.33}};
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  ASSERT_EQ(o.result.agents, 1u);
  const double t = o.result.evacuation_time_s[0];
  EXPECT_GE(t, 26.0);
  EXPECT_LE(t, 34.0);
  EXPECT_NEAR(t, 40 / 1.33, 0.2);  // the model walks at its desired speed when alone
  EXPECT_EQ(o.result.exit_used[0], 0);
  EXPECT_FALSE(o.result.max_time_reached);
  EXPECT_TRUE(o.result.not_evacuated.empty());
}

// RiMEA 6: 20 people round a left corner. Nobody is ever outside the corridor or closer to a
// wall than their radius (less a millimetre), and everybody gets out.
TEST(Simulation, RiMEA6NobodyPassesThroughWallsOrGetsStuckAtTheCorner) {
  for (const char* model : {"cfsm", "sfm"}) {
    json doc = scenario(l_corridor_venue(), json::array({{{"zone", "start"}, {"count", 20}}}));
    doc["model"] = {{"name", model}};
    doc["max_time_s"] = 120;
    const Scenario sc = parse_ok(doc);
    Recorder rec;
    const Outcome o = run(sc, 1, &rec);
    EXPECT_FALSE(o.result.max_time_reached) << model;
    EXPECT_TRUE(o.result.not_evacuated.empty()) << model;
    const geom::Polygon corridor{{{0, 0}, {14, 0}, {14, 14}, {12, 14}, {12, 2}, {0, 2}}, {}};
    for (const auto& [f, agents] : rec.frames) {
      for (const FrameAgent& a : agents) {
        ASSERT_TRUE(geom::contains(corridor, {a.x, a.y})) << model << " frame " << f << " agent " << a.id;
        const double clearance = geom::distance_to_boundary(corridor, {a.x, a.y});
        // The exit edge is open: only count walls.
        if (a.y < 13.5) {
          ASSERT_GE(clearance, 0.2 - 1e-3) << model << " frame " << f << " agent " << a.id;
        }
      }
    }
  }
}

// An agent walking straight into the inner corner of the L slides round it.
TEST(Simulation, AgentHuggingTheInnerCornerDoesNotGetStuck) {
  json doc = scenario(l_corridor_venue(), json::array({{{"agents", {{11.6, 1.75}}}, {"level", 0}}}));
  doc["profile"] = {{"speed_m_s", 1.5}, {"radius_m", 0.25}};
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  ASSERT_FALSE(std::isnan(o.result.evacuation_time_s[0]));
  EXPECT_LT(o.result.evacuation_time_s[0], 12.5 / 1.5 + 3);
}

// A person on the landing beside a stair well, within 1 m of the stair's top edge but behind
// the well's side wall, walks round to the top instead of into the wall (found by RiMEA 8 on the
// example school, where two people stayed there for good).
TEST(Simulation, PersonBesideAStairWellWalksRoundToItsTop) {
  json stair = feature({{"kind", "stair"}, {"id", "S"}, {"from_level", 0}, {"to_level", 1},
                        {"bottom", {{4, 2}, {6, 2}}}, {"top", {{4, 8}, {6, 8}}}, {"length_m", 7}},
                       polygon(rect(4, 2, 6, 8)));
  json v = venue({area(rect(0, 0, 10, 2), 0),
                  area(ring({{2, 2}, {4, 2}, {4, 8}, {6, 8}, {6, 2}, {8, 2}, {8, 10}, {2, 10}}), 1), stair,
                  exit_line("E", 0, 0, 0, 2, 0)});
  json doc = scenario(v, json::array({{{"agents", {{6.8, 7.5}}}, {"level", 1}}}));
  doc["profile"] = {{"speed_m_s", 1.34}};
  doc["max_time_s"] = 120;
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  ASSERT_FALSE(std::isnan(o.result.evacuation_time_s[0])) << "stuck beside the stair well";
  // About 1 m round the corner, 7 m down the stair at 0.8 v0, 6 m to the exit: well under 30 s.
  EXPECT_LT(o.result.evacuation_time_s[0], 30);
}

TEST(Simulation, OneAndTwoThreadsGiveByteIdenticalResults) {
  json doc = scenario(room_venue(), json::array({{{"zone", "floor"}, {"count", 150}}}));
  doc["profile"] = {{"premovement_s", {{"distribution", "uniform"}, {"min", 0}, {"max", 5}}}};
  for (const char* routing : {"nearest", "quickest"}) {
    json d = doc;
    d["routing"] = routing;
    json v = room_venue();
    v["features"].push_back(exit_line("E2", 20, 8, 20, 9.5));
    d["venue"] = v;
    const Scenario sc = parse_ok(d);
    Recorder r1;
    Recorder r2;
    const Outcome a = run(sc, 1, &r1);
    const Outcome b = run(sc, 2, &r2);
    ASSERT_EQ(a.result.evacuation_time_s.size(), b.result.evacuation_time_s.size());
    EXPECT_EQ(0, std::memcmp(a.result.evacuation_time_s.data(), b.result.evacuation_time_s.data(),
                             a.result.evacuation_time_s.size() * sizeof(double)));
    EXPECT_EQ(a.result.exit_used, b.result.exit_used);
    EXPECT_EQ(a.result.steps, b.result.steps);
    ASSERT_EQ(r1.frames.size(), r2.frames.size());
    for (std::size_t f = 0; f < r1.frames.size(); ++f) {
      ASSERT_EQ(r1.frames[f].second.size(), r2.frames[f].second.size());
      for (std::size_t k = 0; k < r1.frames[f].second.size(); ++k) {
        const FrameAgent& p = r1.frames[f].second[k];
        const FrameAgent& q = r2.frames[f].second[k];
        ASSERT_EQ(p.id, q.id);
        ASSERT_EQ(0, std::memcmp(&p.x, &q.x, sizeof(double))) << routing << " frame " << f;
        ASSERT_EQ(0, std::memcmp(&p.y, &q.y, sizeof(double))) << routing << " frame " << f;
      }
    }
    EXPECT_TRUE(a.result.not_evacuated.empty()) << routing;
  }
}

// RiMEA 5: 10 people, pre-movement uniform in [10, 100] s: nobody moves before their time,
// and everybody starts within a step or two of it.
TEST(Simulation, RiMEA5EachPersonStartsAtItsPremovementTime) {
  json v = venue({area(rect(0, 0, 8, 5)), exit_line("E1", 8, 2, 8, 3), zone("room", rect(0, 0, 8, 5))});
  json doc = scenario(v, json::array({{{"zone", "room"}, {"count", 10}}}));
  doc["profile"] = {{"premovement_s", {{"distribution", "uniform"}, {"min", 10}, {"max", 100}}}};
  const Scenario sc = parse_ok(doc);
  Recorder rec;
  const Outcome o = run(sc, 1, &rec);
  const double dt = sc.time_step_s;
  std::vector<double> first_move(10, -1);
  for (std::size_t f = 1; f < rec.frames.size(); ++f) {
    for (const FrameAgent& a : rec.frames[f].second) {
      const auto id = static_cast<std::size_t>(a.id);
      if (first_move[id] >= 0) continue;
      const geom::Vec2 p0 = o.agents[id].position;
      if (geom::distance(p0, geom::Vec2{a.x, a.y}) > 1e-9) first_move[id] = static_cast<double>(f) * dt;
    }
  }
  for (std::size_t i = 0; i < 10; ++i) {
    const double pre = o.agents[i].premovement_s;
    EXPECT_GE(pre, 10);
    EXPECT_LE(pre, 100);
    ASSERT_GE(first_move[i], 0) << i;
    EXPECT_GE(first_move[i], pre) << i;          // position after the step that starts at >= pre
    EXPECT_LE(first_move[i], pre + 2 * dt) << i;
    EXPECT_GT(o.result.evacuation_time_s[i], pre);
  }
}

TEST(Simulation, PeopleWhoCannotReachAnExitAreReportedWithTheReason) {
  json v = room_venue();
  v["features"].push_back(area(rect(30, 0, 35, 5)));  // an island with no exit
  v["features"].push_back(zone("island", rect(30, 0, 35, 5)));
  json doc = scenario(v, json::array({{{"zone", "floor"}, {"count", 5}}, {{"zone", "island"}, {"count", 3}}}));
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  EXPECT_FALSE(o.result.max_time_reached);
  ASSERT_EQ(o.result.not_evacuated.size(), 1u);
  EXPECT_EQ(o.result.not_evacuated.begin()->second, 3u);
  EXPECT_THAT(o.result.not_evacuated.begin()->first, ::testing::HasSubstr("no open exit"));
}

TEST(Simulation, MaxTimeStopsTheRunAndSaysSo) {
  json doc = scenario(corridor_venue(), json::array({{{"agents", {{2.0, 1.0}}}, {"level", 0}}}));
  doc["max_time_s"] = 5;
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  EXPECT_TRUE(o.result.max_time_reached);
  EXPECT_NEAR(o.result.end_time_s, 5, 1e-9);
  ASSERT_EQ(o.result.not_evacuated.size(), 1u);
  EXPECT_THAT(o.result.not_evacuated.begin()->first, ::testing::HasSubstr("max_time_s"));
}

// RiMEA 10's assigned exits: people of an entry with "exit" walk to that exit even where
// another is nearer (zone "floor" is the west half, next to W), with either routing; the others
// still follow the routing.
TEST(Simulation, PeopleAssignedAnExitUseItWithEitherRouting) {
  json v = room_venue();
  v["features"].push_back(exit_line("W", 0, 4, 0, 6));
  for (const char* routing : {"nearest", "quickest"}) {
    json doc = scenario(v, json::array({{{"zone", "floor"}, {"count", 12}, {"exit", "E1"}},
                                        {{"agents", {{1.0, 5.0}, {1.0, 3.0}}}, {"level", 0}}}));
    doc["routing"] = routing;
    const Scenario sc = parse_ok(doc);
    const Outcome o = run(sc);
    ASSERT_EQ(o.result.exit_used.size(), 14u);
    // Agents are numbered in entry order: the 12 assigned first, then the 2 placed by hand.
    for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(o.result.exit_used[i], 0) << routing << " person " << i;
    for (std::size_t i = 12; i < 14; ++i) EXPECT_EQ(o.result.exit_used[i], 1) << routing << " person " << i;
  }
}

TEST(Simulation, PeopleCutOffFromTheirAssignedExitAreRoutedToAnother) {
  json v = room_venue();
  v["features"].push_back(exit_line("W", 0, 4, 0, 6));
  json doc = scenario(v, json::array({{{"zone", "floor"}, {"count", 10}, {"exit", "E1"}}}));
  doc["hazards"] = json::array({{{"polygon", rect(16, 0, 20, 10)}, {"level", 0}, {"from_s", 2}}});
  doc["max_time_s"] = 300;
  const Outcome o = run(parse_ok(doc));
  EXPECT_TRUE(o.result.not_evacuated.empty());
  for (int e : o.result.exit_used) EXPECT_EQ(e, 1);
}

TEST(Simulation, ClosedExitIsAWallAndPeopleUseTheOther) {
  json v = room_venue();
  v["features"].push_back(exit_line("W", 0, 4, 0, 6));
  json doc = scenario(v, json::array({{{"zone", "floor"}, {"count", 10}}}));
  doc["closed"] = {"W"};
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  for (int e : o.result.exit_used) EXPECT_EQ(e, 0);
}

TEST(Simulation, HazardBlocksTheNearExitAndPeopleInsideLeaveIt) {
  // A 20 x 10 room with exits on both ends. From t = 0 a hazard covers the west exit's
  // approach; the people standing in it walk out of it and everybody leaves by the east exit.
  json v = venue({area(rect(0, 0, 20, 10)), exit_line("E", 20, 4, 20, 6), exit_line("W", 0, 4, 0, 6),
                  zone("west", rect(0, 0, 6, 10))});
  json doc = scenario(v, json::array({{{"zone", "west"}, {"count", 20}}}));
  doc["hazards"] = json::array({{{"polygon", rect(0, 0, 3, 10)}, {"level", 0}, {"from_s", 0}}});
  doc["max_time_s"] = 200;
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  EXPECT_TRUE(o.result.not_evacuated.empty());
  for (int e : o.result.exit_used) EXPECT_EQ(e, 0);
}

TEST(Simulation, MeasurementLineCountsCrossings) {
  json doc = scenario(room_venue(), json::array({{{"zone", "floor"}, {"count", 30}}}));
  doc["measure"] = {{"lines", json::array({{{"id", "M"}, {"level", 0}, {"line", {{15, 0}, {15, 10}}}}})}};
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  ASSERT_EQ(o.result.line_crossing_s.size(), 1u);
  EXPECT_EQ(o.result.line_crossing_s[0].size(), 30u);
}

// Two levels joined by a stair: people upstairs walk down and out.
TEST(Simulation, StairsTakePeopleToTheExitOnAnotherLevel) {
  json stair_props = {{"kind", "stair"}, {"id", "S1"}, {"from_level", 0}, {"to_level", 1},
                      {"bottom", {{10, 0}, {10, 2}}}, {"top", {{14, 0}, {14, 2}}}, {"length_m", 5}};
  json v = venue({area(rect(0, 0, 10, 2), 0), exit_line("E1", 0, 0, 0, 2, 0),
                  area(rect(14, 0, 24, 2), 1), zone("up", rect(16, 0, 24, 2), 1),
                  feature(stair_props, polygon(rect(10, 0, 14, 2)))});
  json doc = scenario(v, json::array({{{"zone", "up"}, {"count", 5}}}));
  doc["profile"] = {{"speed_m_s", 1.2}};
  doc["max_time_s"] = 200;
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  EXPECT_TRUE(o.result.not_evacuated.empty());
  for (std::size_t i = 0; i < o.agents.size(); ++i) {
    // At least: level 1 to the stair, the stair at 0.8 x speed, level 0 to the exit.
    const double x = o.agents[i].position.x;
    const double ideal = (x - 14) / 1.2 + 5 / (0.8 * 1.2) + 10 / 1.2;
    EXPECT_GE(o.result.evacuation_time_s[i], ideal - 0.5) << i;
    EXPECT_LE(o.result.evacuation_time_s[i], ideal + 15) << i;
  }
}

TEST(Simulation, RiMEA1AlsoHoldsForTheSocialForceModel) {
  json doc = scenario(corridor_venue(), json::array({{{"agents", {{2.0, 1.0}}}, {"level", 0}}}));
  doc["profile"] = {{"speed_m_s", 1.33}};
  doc["model"] = {{"name", "sfm"}};
  const Scenario sc = parse_ok(doc);
  const Outcome o = run(sc);
  const double t = o.result.evacuation_time_s[0];
  EXPECT_GE(t, 26.0);
  EXPECT_LE(t, 34.0);
}

// Two rooms joined by a 1 m opening with a door across it; the exit is in the east room.
json two_rooms_with_door() {
  return venue({area(ring({{0, 0}, {10, 0}, {10, 4.5}, {11, 4.5}, {11, 0}, {20, 0}, {20, 10}, {11, 10}, {11, 5.5},
                          {10, 5.5}, {10, 10}, {0, 10}})),
                feature({{"kind", "door"}, {"id", "D1"}, {"level", 0}}, line(10.5, 4.5, 10.5, 5.5)),
                exit_line("E1", 20, 4, 20, 6), zone("west", rect(0, 0, 10, 10))});
}

TEST(Simulation, PeopleWalkThroughAnOpenDoorAndAreTrappedByAClosedOne) {
  json doc = scenario(two_rooms_with_door(), json::array({{{"zone", "west"}, {"count", 10}}}));
  const Outcome open = run(parse_ok(doc));
  EXPECT_TRUE(open.result.not_evacuated.empty());
  doc["closed"] = {"D1"};
  const Outcome closed = run(parse_ok(doc));
  ASSERT_EQ(closed.result.not_evacuated.size(), 1u);
  EXPECT_EQ(closed.result.not_evacuated.begin()->second, 10u);
  EXPECT_FALSE(closed.result.max_time_reached);
}

TEST(Simulation, HazardThatCutsOffTheOnlyWayOutIsReported) {
  json doc = scenario(two_rooms_with_door(), json::array({{{"zone", "west"}, {"count", 10}}}));
  doc["profile"] = {{"premovement_s", 30}};
  doc["hazards"] = json::array({{{"polygon", rect(12, 0, 14, 10)}, {"level", 0}, {"from_s", 10}}});
  const Outcome o = run(parse_ok(doc));
  ASSERT_EQ(o.result.not_evacuated.size(), 1u);
  EXPECT_THAT(o.result.not_evacuated.begin()->first, ::testing::HasSubstr("hazard"));
  EXPECT_EQ(o.result.not_evacuated.begin()->second, 10u);
}

// Routing skips its portal checks where Space::portal_gap says no portal is near: the gap must
// never exceed the true distance to the nearest portal (or the routes would change), and must
// be useful (most of a large room is clear of its exits).
TEST(Space, PortalGapIsALowerBoundAndClearsMostOfARoom) {
  json v = venue({area(rect(0, 0, 23, 17)), exit_line("E", 23, 8, 23, 9), exit_line("W", 0, 2, 0, 5)});
  const Scenario sc = parse_ok(scenario(v, json::array({{{"agents", {{1.0, 1.0}}}, {"level", 0}}})));
  const Space space = Space::build(*sc.venue, {});
  const int layer = space.level_layer(0);
  ASSERT_EQ(space.layer(layer).portals.size(), 2u);
  std::uint64_t s = 99;
  auto uniform = [&](double lo, double hi) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * static_cast<double>(s >> 11) / 9007199254740992.0;
  };
  int clear = 0;
  const int n = 20000;
  for (int k = 0; k < n; ++k) {
    const geom::Vec2 p{uniform(-3, 26), uniform(-3, 20)};
    double nearest = std::numeric_limits<double>::infinity();
    for (const Portal& portal : space.layer(layer).portals) nearest = std::min(nearest, geom::distance(p, portal.seg));
    const double gap = space.portal_gap(layer, p);
    ASSERT_LE(gap, nearest) << "at (" << p.x << ", " << p.y << ")";
    clear += gap > 1.2 ? 1 : 0;
  }
  EXPECT_GT(clear, n * 8 / 10);
}

// The neighbour grid walks only the cells that meet the range disc: it must still find everyone
// within the range (compared with all pairs, random positions, including near the edges).
TEST(NeighbourGrid, FindsEveryAgentWithinTheRange) {
  json v = venue({area(rect(0, 0, 23, 17)), exit_line("E", 23, 8, 23, 9)});
  const Scenario sc = parse_ok(scenario(v, json::array({{{"agents", {{1.0, 1.0}}}, {"level", 0}}})));
  const Space space = Space::build(*sc.venue, {});
  const double range = 2.2;
  NeighbourGrid grid;
  grid.configure(space, range);
  std::vector<double> x, y;
  std::uint64_t s = 12345;
  auto uniform = [&](double lo, double hi) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * static_cast<double>(s >> 11) / 9007199254740992.0;
  };
  for (int k = 0; k < 800; ++k) {
    x.push_back(uniform(0, 23));
    y.push_back(uniform(0, 17));
  }
  const std::vector<std::int32_t> layer(x.size(), space.level_layer(0));
  const std::vector<double> zero(x.size(), 0.0);
  const std::vector<double> radius(x.size(), 0.2);
  grid.rebuild(AgentSnapshot::of(x, y, zero, zero, radius, layer, zero, zero, zero));
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::vector<std::size_t> seen;
    grid.for_each_near(i, [&](std::size_t j) { seen.push_back(j); });
    std::sort(seen.begin(), seen.end());
    EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end()) << "agent " << i << " seen twice";
    for (std::size_t j = 0; j < x.size(); ++j) {
      if (j == i || std::hypot(x[j] - x[i], y[j] - y[i]) > range) continue;
      EXPECT_TRUE(std::binary_search(seen.begin(), seen.end(), j)) << "agent " << j << " missed near " << i;
    }
  }
}

// People at the foot of a stair and on its first steps are on different layers; they must still
// see each other (else the queue at the stair's foot walks into the people on it), while those
// farther from the stair's end than the range stay on their own layer only. order() lists every
// agent once.
TEST(NeighbourGrid, SeesAcrossTheEndOfAStair) {
  json stair_props = {{"kind", "stair"}, {"id", "S1"}, {"from_level", 0}, {"to_level", 1},
                      {"bottom", {{10, 0}, {10, 2}}}, {"top", {{14, 0}, {14, 2}}}, {"length_m", 5}};
  json v = venue({area(rect(0, 0, 10, 2), 0), exit_line("E1", 0, 0, 0, 2, 0), area(rect(14, 0, 24, 2), 1),
                  feature(stair_props, polygon(rect(10, 0, 14, 2)))});
  const Scenario sc = parse_ok(scenario(v, json::array({{{"agents", {{1.0, 1.0}}}, {"level", 0}}})));
  const Space space = Space::build(*sc.venue, {});
  NeighbourGrid grid;
  grid.configure(space, 1.5);
  const int level0 = space.level_layer(0);
  const int on_stair = space.stair_layer(0);
  const int level1 = space.level_layer(1);
  // 0: level 0 at the foot; 1: first step; 2: level 0, 4 m before the foot; 3: top of the
  // stair; 4: level 1 just past the top; 5: level 1, 5 m past the top.
  const std::vector<double> x{9.6, 10.4, 6.0, 13.7, 14.3, 19.0};
  const std::vector<double> y(x.size(), 1.0);
  const std::vector<std::int32_t> layer{level0, on_stair, level0, on_stair, level1, level1};
  const std::vector<double> zero(x.size(), 0.0);
  const std::vector<double> radius(x.size(), 0.2);
  grid.rebuild(AgentSnapshot::of(x, y, zero, zero, radius, layer, zero, zero, zero));
  auto near = [&](std::size_t i) {
    std::vector<std::size_t> seen;
    grid.for_each_near(i, [&](std::size_t j) { seen.push_back(j); });
    std::sort(seen.begin(), seen.end());
    return seen;
  };
  EXPECT_THAT(near(0), ::testing::ElementsAre(1));
  EXPECT_THAT(near(1), ::testing::ElementsAre(0));
  EXPECT_THAT(near(2), ::testing::IsEmpty());
  EXPECT_THAT(near(3), ::testing::ElementsAre(4));
  EXPECT_THAT(near(4), ::testing::ElementsAre(3));
  EXPECT_THAT(near(5), ::testing::IsEmpty());
  std::vector<std::uint32_t> order = grid.order();
  std::sort(order.begin(), order.end());
  EXPECT_THAT(order, ::testing::ElementsAre(0, 1, 2, 3, 4, 5));
}

}  // namespace
}  // namespace vigil::sim

// The vectorisable exp of the models' neighbour loops: relative error below 1e-14 where the
// models use it (repulsion exponents from about -30 to +10) and sane at the clamps.
TEST(FastExp, MatchesTheLibraryExp) {
  for (double x = -40; x <= 40; x += 0.001) {
    const double want = std::exp(x);
    EXPECT_NEAR(vigil::sim::fast_exp(x) / want, 1.0, 1e-14) << "x = " << x;
  }
  EXPECT_EQ(vigil::sim::fast_exp(0), 1.0);
  EXPECT_GT(vigil::sim::fast_exp(-1e9), 0.0);
  EXPECT_TRUE(std::isfinite(vigil::sim::fast_exp(1e9)));
}
