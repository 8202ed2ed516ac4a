// SPDX-License-Identifier: Apache-2.0
// The fast live-egress estimate (flow model): hand-checkable rooms, closures, hazards, doors
// and stairs as bottlenecks, effective widths, stair flows from the stairs' speeds, metered
// arrivals and the queues the crowd can see, the JSON shape of the operations API, errors,
// speed.
#include "ops/egress.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using nlohmann::json;
using test::feature;
using test::line;
using test::load_or_die;
using test::rect;

// Capacity of an exit or door of `width_m` (persons/s): 1.3 persons/(m s) over the effective
// width, the clear width less 0.15 m on each side.
double door_capacity(double width_m) { return (width_m - 0.3) * 1.3; }

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
  // 400 people through 4 m (3.7 m effective) at 1.3 p/(m s) = 83.2 s of queue, after the first
  // person walked the 20 m from the zone's edge at 1.34 m/s (14.9 s).
  EXPECT_NEAR(r->time_s, 20.0 / 1.34 + 400 / door_capacity(4), 1.5);
  EXPECT_NEAR(r->exits.at("E").people, 400, 1e-6);
  EXPECT_NEAR(r->exits.at("E").clear_s, r->time_s, 1e-9);
  EXPECT_EQ(r->zones.at("hall"), std::vector<std::string>{"E"});
  EXPECT_EQ(r->bottlenecks, std::vector<std::string>{"E"});
  EXPECT_EQ(r->method, "flow");
  EXPECT_EQ(r->limit_s, 300);
  // Twice the people: the queue doubles.
  auto r2 = m.estimate({{"hall", 800}});
  ASSERT_TRUE(r2);
  EXPECT_NEAR(r2->time_s - r->time_s, 400 / door_capacity(4), 1.5);
  // Without the boundary layers (SFPE effective width) the whole 4 m is used.
  EgressOptions clear;
  clear.door_boundary_m = 0;
  auto c = EgressModel::build(v, {}, clear).estimate({{"hall", 400}});
  ASSERT_TRUE(c);
  EXPECT_NEAR(c->time_s, 20.0 / 1.34 + 400 / (4 * 1.3), 1.5);
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
  // The west zone is told about both exits (the wide one takes the middle of the room too).
  EXPECT_EQ(r->zones.at("west").size(), 2U);
  // Well below the time of one exit alone.
  EXPECT_LT(r->time_s, 600 / door_capacity(4));
}

TEST(Egress, TheCrowdChoosesByTheQueueItCanSee) {
  const venue::Venue v = two_exit_room();
  // Blind to queues (nothing visible): everyone in "west" takes its nearest exit, W.
  EgressOptions blind;
  blind.visible_queue_m = 0;
  auto b = EgressModel::build(v, {}, blind).estimate({{"west", 300}});
  ASSERT_TRUE(b);
  EXPECT_NEAR(b->exits.at("W").people, 300, 1e-6);
  EXPECT_NEAR(b->time_s, 300 / door_capacity(2), 15);
  // Seeing the queue at W, part of the crowd walks to E: faster.
  auto s = EgressModel::build(v).estimate({{"west", 300}});
  ASSERT_TRUE(s);
  EXPECT_GT(s->exits.at("E").people, 30);
  EXPECT_LT(s->time_s, b->time_s);
  // The recommendation is the balanced assignment whatever the crowd would do (greedy, so
  // within a second of the crowd's own).
  EXPECT_LE(s->guided_time_s, s->time_s + 1);
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
  // 200 people through a 1 m door (0.7 m effective) at 1.3 p/(m s): 220 s of queue (the 4 m exit
  // would need 42 s).
  EXPECT_GT(r->time_s, 200 / door_capacity(1));
  EXPECT_LT(r->time_s, 200 / door_capacity(1) + 45);
  EXPECT_EQ(r->bottlenecks, std::vector<std::string>{"D"});
  EXPECT_NEAR(r->queue_s.at("D"), 200 / door_capacity(1), 1e-6);
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
  // Everyone walks down the stairs. A stair's capacity: Weidmann's maximum specific flow (1.225
  // p/(m s)) x its horizontal speed ratio (speed factor down x plan / walking length: the hall's
  // stairs are 8 m in plan, 12 m walked, factor 0.8) x its effective width (less 0.15 m a
  // side): 1.225 x 0.533 x 2.1 = 1.37 p/s.
  double stair_capacity = 0;
  std::map<std::string, double> capacity;
  for (const venue::Stair& s : v.stairs) {
    const double width_m = std::min(s.bottom.length(), s.top.length()) - 0.3;
    capacity[s.id] =
        width_m * weidmann_max_flow_p_m_s() * s.speed_factor_down * s.plan_length_m() / s.length_m;
    stair_capacity += capacity[s.id];
  }
  EXPECT_NEAR(stair_capacity, 2 * 2.1 * 1.225 * 0.8 * 8 / 12, 0.01);
  EXPECT_GE(r->time_s, 700 / stair_capacity);
  // Everyone passes one of the stairs: the queues (people / capacity) add up to them all.
  double down = 0;
  for (const venue::Stair& s : v.stairs)
    if (r->queue_s.count(s.id)) down += r->queue_s.at(s.id) * capacity[s.id];
  EXPECT_NEAR(down, 700, 1);
  // With the fixed figure of IMO MSC.1/Circ.1533 (1.1 p/(m s) down) the stairs pass more.
  EgressOptions imo;
  imo.stair_flow_from_speed = false;
  auto fixed = EgressModel::build(v, {closed, {}}, imo).estimate({{"balcony", 700}});
  ASSERT_TRUE(fixed);
  EXPECT_LT(fixed->time_s, r->time_s - 60);
  bool stair_named = false;
  for (const venue::Stair& s : v.stairs) {
    stair_named = stair_named || std::count(r->bottlenecks.begin(), r->bottlenecks.end(), s.id) > 0;
    EXPECT_GT(r->queue_s.count(s.id), 0U) << s.id;
  }
  EXPECT_TRUE(stair_named) << to_json(*r).dump();
}

// Occupancy of the examples: 80 % of the capacity of the zones where people stay, 10 % of
// circulation zones (as tests/live/egress_accuracy_test.cpp).
ZoneOccupancy full_house(const venue::Venue& v) {
  ZoneOccupancy occ;
  for (const venue::Zone& z : v.zones)
    occ[z.id] = std::floor((z.use == venue::ZoneUse::circulation ? 0.10 : 0.80) * z.capacity);
  return occ;
}

venue::Venue school() {
  return load_or_die(
      venue::load_venue_file(std::string(VIGIL_SOURCE_DIR) + "/examples/school.geojson"));
}

// The school's upper floor reaches the ground by two stairs, the west one ending 1-3.4 m from
// the west exit E2. The stair lets people down no faster than its capacity, so the queue stays
// on the upper floor, out of sight of E2: the crowd upstairs keeps to its nearest stair and
// exit (as in the simulation: 359 people through E2). Counting everyone assigned to E2 as if
// already queued at it sent a part of them the long way round.
TEST(Egress, StreamsReachTheExitNoFasterThanTheOpeningsOnTheWay) {
  const venue::Venue v = school();
  const ZoneOccupancy occ = full_house(v);
  auto metered = EgressModel::build(v).estimate(occ);
  ASSERT_TRUE(metered) << metered.error().to_string();
  EgressOptions o;
  o.metered_arrivals = false;
  auto unmetered = EgressModel::build(v, {}, o).estimate(occ);
  ASSERT_TRUE(unmetered);
  EXPECT_GT(metered->exits.at("E2").people, unmetered->exits.at("E2").people + 50);
  EXPECT_GT(metered->exits.at("E2").people, 320);
  EXPECT_GT(metered->time_s, unmetered->time_s);
  // The west stair is what holds the upper floor up.
  EXPECT_NE(std::find(metered->bottlenecks.begin(), metered->bottlenecks.end(), "S1"),
            metered->bottlenecks.end())
      << to_json(*metered).dump();
}

// On the concert hall's floor the queues in front of the four doors to the foyer are in plain
// sight: seeing them, the crowd spreads over the side exits. Blind to them (the doors meter
// the foyer exits, whose own queues stay short), most of the floor heads for the foyer and
// queues at its doors.
TEST(Egress, TheCrowdSeesTheQueueAtTheDoorOutOfItsRoom) {
  const venue::Venue v = test::concert_hall();
  const ZoneOccupancy occ = full_house(v);
  auto seen = EgressModel::build(v).estimate(occ);
  ASSERT_TRUE(seen) << seen.error().to_string();
  EgressOptions o;
  o.first_queue_in_sight = false;
  auto unseen = EgressModel::build(v, {}, o).estimate(occ);
  ASSERT_TRUE(unseen);
  EXPECT_LT(seen->time_s, 0.8 * unseen->time_s);
  const double foyer_seen = seen->exits.at("E1").people + seen->exits.at("E3").people;
  const double foyer_unseen = unseen->exits.at("E1").people + unseen->exits.at("E3").people;
  EXPECT_LT(foyer_seen, foyer_unseen - 300);
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

TEST(Egress, WeidmannMaximumFlow) {
  EXPECT_NEAR(weidmann_max_flow_p_m_s(), 1.225, 0.005);
  EXPECT_NEAR(weidmann_max_flow_p_m_s(1.0), 1.225 / 1.34, 0.005);
}

TEST(Egress, WeidmannSpeed) {
  EXPECT_DOUBLE_EQ(weidmann_speed_m_s(0), 1.34);
  EXPECT_NEAR(weidmann_speed_m_s(1.0), 1.34 * (1 - std::exp(-1.913 * (1 - 1 / 5.4))), 1e-9);
  EXPECT_NEAR(weidmann_speed_m_s(2.0) * 2.0, 1.22, 0.05);  // specific flow near its maximum
  EXPECT_EQ(weidmann_speed_m_s(6.0), 0.05);
}

// The full concert hall, estimated repeatedly from one model (as the service does): the same
// answer each time. (Its speed, under 10 ms, is shown by bench/bench_egress, not timed here.)
TEST(Egress, EstimateOnTheConcertHallIsRepeatable) {
  const venue::Venue v = test::concert_hall();
  const EgressModel m = EgressModel::build(v);
  ZoneOccupancy occ;
  for (const venue::Zone& z : v.zones) occ[z.id] = std::floor(0.8 * z.capacity);
  auto first = m.estimate(occ);
  ASSERT_TRUE(first);
  EXPECT_GT(first->time_s, 0);
  for (int i = 0; i < 3; ++i) {
    auto again = m.estimate(occ);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->time_s, first->time_s);
  }
}

}  // namespace
}  // namespace vigil::ops
