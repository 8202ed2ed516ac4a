// SPDX-License-Identifier: Apache-2.0
// The fast live-egress estimate (flow model): hand-checkable rooms, closures, hazards, doors
// and stairs as bottlenecks, the JSON shape of the operations API, errors, speed.
#include "ops/egress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using nlohmann::json;
using test::feature;
using test::line;
using test::load_or_die;
using test::rect;

json venue_doc(json features) {
  return {
      {"type", "FeatureCollection"},
      {"vigil",
       {{"format", "venue"}, {"version", 1}, {"id", "t"}, {"name", "T"}, {"egress_limit_s", 300}}},
      {"features", std::move(features)}};
}
json zone(const char* id, json poly, int level = 0) {
  return feature({{"kind", "zone"}, {"id", id}, {"level", level}, {"use", "standing"}},
                 std::move(poly));
}
json opening(const char* kind, const char* id, double x0, double y0, double x1, double y1,
             int level = 0) {
  return feature({{"kind", kind}, {"id", id}, {"level", level}}, line(x0, y0, x1, y1));
}
venue::Venue load(json features) {
  return load_or_die(venue::load_venue(venue_doc(std::move(features)).dump()));
}

// 40 m x 20 m room, "west" zone over x < 20, exit W (2 m) on the west wall and E (4 m) on the east.
venue::Venue two_exit_room() {
  return load({feature({{"kind", "area"}, {"level", 0}}, rect(0, 0, 40, 20)),
               opening("exit", "W", 0, 9, 0, 11), opening("exit", "E", 40, 8, 40, 12),
               zone("west", rect(0, 0, 20, 20)), zone("east", rect(20, 0, 40, 20))});
}

// Two rooms 20 x 20 joined by a 1 m door D through a 1 m thick wall at x = 20; the exit (4 m) is on
// the east wall of the east room; everyone starts in the west room.
venue::Venue door_rooms() {
  return load({feature({{"kind", "area"}, {"level", 0}}, rect(0, 0, 20, 20)),
               feature({{"kind", "area"}, {"level", 0}}, rect(20, 0, 40, 20)),
               feature({{"kind", "obstacle"}, {"level", 0}}, rect(19.5, 0, 20.5, 9.5)),
               feature({{"kind", "obstacle"}, {"level", 0}}, rect(19.5, 10.5, 20.5, 20)),
               opening("door", "D", 20, 9.5, 20, 10.5), opening("exit", "E", 40, 8, 40, 12),
               zone("west", rect(0, 0, 19.5, 20)), zone("east", rect(20.5, 0, 40, 20))});
}

TEST(Egress, OneExitIsFirstArrivalPlusQueue) {
  const venue::Venue v =
      load({feature({{"kind", "area"}, {"level", 0}}, rect(0, 0, 40, 20)),
            opening("exit", "E", 40, 8, 40, 12), zone("hall", rect(0, 0, 20, 20))});
  const EgressModel m = EgressModel::build(v);
  auto r = m.estimate({{"hall", 400}});
  ASSERT_TRUE(r) << r.error().to_string();
  // 400 people through 4 m at 1.3 p/(m s) = 76.9 s of queue, after the first person walked the
  // 20 m from the zone's edge at 1.34 m/s (14.9 s).
  EXPECT_NEAR(r->time_s, 20.0 / 1.34 + 400 / (4 * 1.3), 1.5);
  EXPECT_NEAR(r->exits.at("E").people, 400, 1e-6);
  EXPECT_NEAR(r->exits.at("E").clear_s, r->time_s, 1e-9);
  EXPECT_EQ(r->zones.at("hall"), std::vector<std::string>{"E"});
  EXPECT_EQ(r->bottlenecks, std::vector<std::string>{"E"});
  EXPECT_EQ(r->method, "flow");
  EXPECT_EQ(r->limit_s, 300);
  // Twice the people: the queue doubles.
  auto r2 = m.estimate({{"hall", 800}});
  ASSERT_TRUE(r2);
  EXPECT_NEAR(r2->time_s - r->time_s, 400 / (4 * 1.3), 1.5);
}

TEST(Egress, FewPeopleAreLimitedByWalking) {
  const venue::Venue v = two_exit_room();
  const EgressModel m = EgressModel::build(v);
  auto r = m.estimate({{"east", 2}});
  ASSERT_TRUE(r);
  // The farthest points of "east" (its west corners) are hypot(20, 8) m from E: a walk, no queue.
  EXPECT_NEAR(r->time_s, std::hypot(20.0, 8.0) / 1.34, 0.5);
  EXPECT_TRUE(r->bottlenecks.empty());
  auto empty = m.estimate({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->time_s, 0);
  EXPECT_TRUE(empty->zones.empty());
  EXPECT_EQ(empty->exits.size(), 2U);
}

TEST(Egress, CrowdsSpreadOverExitsByCapacity) {
  const venue::Venue v = two_exit_room();
  const EgressModel m = EgressModel::build(v);
  auto r = m.estimate({{"west", 300}, {"east", 300}});
  ASSERT_TRUE(r);
  const double w = r->exits.at("W").people, e = r->exits.at("E").people;
  EXPECT_NEAR(w + e, 600, 1e-6);
  // Both exits are used and finish close together (balanced), the wider one taking more.
  EXPECT_GT(w, 100);
  EXPECT_GT(e, w);
  EXPECT_NEAR(r->exits.at("W").clear_s, r->exits.at("E").clear_s, 0.15 * r->time_s);
  // The west zone is told about both exits, its nearest first.
  ASSERT_FALSE(r->zones.at("west").empty());
  EXPECT_EQ(r->zones.at("west").front(), "W");
  // Well below the time of one exit alone.
  EXPECT_LT(r->time_s, 600 / (4 * 1.3));
}

TEST(Egress, TheCrowdChoosesByTheQueueItCanSee) {
  const venue::Venue v = two_exit_room();
  // Blind to queues (nothing visible): everyone in "west" takes its nearest exit, W.
  EgressOptions blind;
  blind.visible_queue_m = 0;
  auto b = EgressModel::build(v, {}, blind).estimate({{"west", 300}});
  ASSERT_TRUE(b);
  EXPECT_NEAR(b->exits.at("W").people, 300, 1e-6);
  EXPECT_NEAR(b->time_s, 300 / (2 * 1.3), 15);
  // Seeing the queue at W, part of the crowd walks to E: faster.
  auto s = EgressModel::build(v).estimate({{"west", 300}});
  ASSERT_TRUE(s);
  EXPECT_GT(s->exits.at("E").people, 30);
  EXPECT_LT(s->time_s, b->time_s);
  // The recommendation is the balanced assignment whatever the crowd would do.
  EXPECT_LE(s->guided_time_s, s->time_s + 1e-9);
  EXPECT_NEAR(b->guided_time_s, s->guided_time_s, 1e-9);
  ASSERT_EQ(b->zones.at("west").size(), 2U);
  // A crowd that follows the recommendation clears in the guided time.
  EgressOptions follow;
  follow.crowd_choice = false;
  auto f = EgressModel::build(v, {}, follow).estimate({{"west", 300}});
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->time_s, f->guided_time_s);
  EXPECT_DOUBLE_EQ(f->guided_time_s, s->guided_time_s);
}

TEST(Egress, ClosingTheBiggestExitRaisesTheTimeAndMovesItsPeople) {
  const venue::Venue v = test::concert_hall();
  ZoneOccupancy occ;
  for (const venue::Zone& z : v.zones) occ[z.id] = std::floor(0.8 * z.capacity);
  const EgressModel open = EgressModel::build(v);
  auto r = open.estimate(occ);
  ASSERT_TRUE(r) << r.error().to_string();
  const auto biggest =
      std::max_element(v.exits.begin(), v.exits.end(),
                       [](const auto& a, const auto& b) { return a.width_m < b.width_m; });
  ASSERT_GT(r->exits.at(biggest->id).people, 0);
  const EgressModel closed = EgressModel::build(v, {{biggest->id}, {}});
  auto c = closed.estimate(occ);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->exits.count(biggest->id), 0U);
  EXPECT_GT(c->time_s, r->time_s);
  double before = 0, after = 0;
  for (const auto& [id, x] : r->exits) before += x.people;
  for (const auto& [id, x] : c->exits) after += x.people;
  EXPECT_NEAR(before, after, 1e-6);
  for (const auto& [zone, exits] : c->zones)
    EXPECT_EQ(std::count(exits.begin(), exits.end(), biggest->id), 0) << zone;
  EXPECT_EQ(c->people_cut_off, 0);
}

TEST(Egress, ANarrowDoorIsTheBottleneck) {
  const venue::Venue v = door_rooms();
  const EgressModel m = EgressModel::build(v);
  auto r = m.estimate({{"west", 200}});
  ASSERT_TRUE(r) << r.error().to_string();
  // 200 people through a 1 m door at 1.3 p/(m s): 154 s of queue (the 4 m exit would need 38 s).
  EXPECT_GT(r->time_s, 200 / 1.3);
  EXPECT_LT(r->time_s, 200 / 1.3 + 45);
  EXPECT_EQ(r->bottlenecks, std::vector<std::string>{"D"});
  EXPECT_NEAR(r->queue_s.at("D"), 200 / 1.3, 1e-6);
  // Closing the door cuts the west room off.
  const EgressModel shut = EgressModel::build(v, {{"D"}, {}});
  auto s = shut.estimate({{"west", 200}, {"east", 10}});
  ASSERT_TRUE(s);
  EXPECT_NEAR(s->people_cut_off, 200, 1e-6);
  EXPECT_NEAR(s->cut_off_by_zone.at("west"), 200, 1e-6);
  EXPECT_NEAR(s->exits.at("E").people, 10, 1e-6);
  EXPECT_EQ(to_json(*s)["cut_off"], 200);
}

TEST(Egress, AHazardReroutesPeople) {
  const venue::Venue v = two_exit_room();
  const EgressModel m = EgressModel::build(v);
  auto r = m.estimate({{"west", 100}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->zones.at("west").front(), "W");
  // A hazard in front of W (a band across the west end): everyone has to go east.
  EgressConditions c;
  c.hazards.push_back({0, geom::Polygon{{{0, 0}, {3, 0}, {3, 20}, {0, 20}}, {}}});
  const EgressModel h = EgressModel::build(v, c);
  auto rh = h.estimate({{"west", 100}});
  ASSERT_TRUE(rh);
  EXPECT_NEAR(rh->exits.at("E").people, 100, 1e-6);
  EXPECT_EQ(rh->exits.at("W").people, 0);
  EXPECT_EQ(rh->zones.at("west"), std::vector<std::string>{"E"});
  EXPECT_GT(rh->time_s, r->time_s);
}

TEST(Egress, BalconyWithItsExitsClosedQueuesOnTheStairs) {
  const venue::Venue v = test::concert_hall();
  const venue::Zone* balcony = v.find_zone("balcony");
  ASSERT_NE(balcony, nullptr);
  std::set<std::string> closed;
  for (const venue::Opening& e : v.exits)
    if (e.level == 1) closed.insert(e.id);
  ASSERT_FALSE(closed.empty());
  const EgressModel m = EgressModel::build(v, {closed, {}});
  auto r = m.estimate({{"balcony", 700}});
  ASSERT_TRUE(r) << r.error().to_string();
  // Everyone walks down the stairs: their capacity (width x 1.1 p/(m s) down) bounds the time.
  double stair_capacity = 0;
  for (const venue::Stair& s : v.stairs)
    stair_capacity += std::min(s.bottom.length(), s.top.length()) * 1.1;
  EXPECT_GE(r->time_s, 700 / stair_capacity);
  bool stair_named = false;
  for (const venue::Stair& s : v.stairs) {
    stair_named = stair_named || std::count(r->bottlenecks.begin(), r->bottlenecks.end(), s.id) > 0;
    EXPECT_GT(r->queue_s.count(s.id), 0U) << s.id;
  }
  EXPECT_TRUE(stair_named) << to_json(*r).dump();
}

TEST(Egress, JsonHasTheApiShape) {
  const venue::Venue v = two_exit_room();
  auto r = EgressModel::build(v).estimate({{"west", 123}, {"east", 0}});
  ASSERT_TRUE(r);
  const json j = to_json(*r);
  for (const char* key :
       {"time_s", "limit_s", "method", "exits", "zones", "bottlenecks", "guided_time_s"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_FALSE(j.contains("cut_off"));
  EXPECT_EQ(j["method"], "flow");
  EXPECT_EQ(j["limit_s"], 300);
  EXPECT_TRUE(j["exits"]["W"]["people"].is_number_integer());
  EXPECT_TRUE(j["exits"]["E"].contains("clear_s"));
  EXPECT_TRUE(j["zones"]["west"].is_array());
  EXPECT_FALSE(j["zones"].contains("east"));
  EXPECT_TRUE(j["bottlenecks"].is_array());
  EXPECT_EQ(j["exits"]["W"]["people"].get<long>() + j["exits"]["E"]["people"].get<long>(), 123);
}

TEST(Egress, ErrorsSayWhatAndWhere) {
  const EgressModel m = EgressModel::build(two_exit_room());
  auto unknown = m.estimate({{"flor", 3}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().to_string(), "occupancy[\"flor\"]: unknown zone");
  auto negative = m.estimate({{"west", -1}});
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().to_string().find("occupancy[\"west\"]"), std::string::npos);
  EXPECT_FALSE(m.estimate({{"west", std::nan("")}}));
}

TEST(Egress, NoOpenExitCutsEveryoneOff) {
  const venue::Venue v = two_exit_room();
  const EgressModel m = EgressModel::build(v, {{"W", "E"}, {}});
  auto r = m.estimate({{"west", 50}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->exits.empty());
  EXPECT_NEAR(r->people_cut_off, 50, 1e-9);
  EXPECT_EQ(r->time_s, 0);
}

TEST(Egress, WeidmannSpeed) {
  EXPECT_DOUBLE_EQ(weidmann_speed_m_s(0), 1.34);
  EXPECT_NEAR(weidmann_speed_m_s(1.0), 1.34 * (1 - std::exp(-1.913 * (1 - 1 / 5.4))), 1e-9);
  EXPECT_NEAR(weidmann_speed_m_s(2.0) * 2.0, 1.22, 0.05);  // specific flow near its maximum
  EXPECT_EQ(weidmann_speed_m_s(6.0), 0.05);
}

TEST(Egress, EstimateIsFastOnTheConcertHall) {
  const venue::Venue v = test::concert_hall();
  const EgressModel m = EgressModel::build(v);
  ZoneOccupancy occ;
  for (const venue::Zone& z : v.zones) occ[z.id] = std::floor(0.8 * z.capacity);
  std::vector<double> ms;
  for (int i = 0; i < 21; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = m.estimate(occ);
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_TRUE(r);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("[ egress ] concert hall estimate p50 %.3f ms\n", ms[ms.size() / 2]);
  EXPECT_LT(ms[ms.size() / 2], 10.0);
}

}  // namespace
}  // namespace vigil::ops
