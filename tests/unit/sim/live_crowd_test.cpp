// SPDX-License-Identifier: Apache-2.0
// The live crowd behind `vigil demo`: arrivals, milling, evacuation, virtual sensors.
#include "sim/live_crowd.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "test_venues.hpp"
#include "venue/load.hpp"
#include "venue/nav_field.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)

std::shared_ptr<const venue::Venue> load(const json& doc) {
  venue::LoadResult r = venue::load_venue_json(doc);
  for (const auto& issue : r.issues) ADD_FAILURE() << issue.to_string();
  if (!r.ok()) return nullptr;
  return std::make_shared<const venue::Venue>(std::move(*r.venue));
}

json sensor(json props, json geometry) {
  props["kind"] = "sensor";
  props["level"] = 0;
  return feature(std::move(props), std::move(geometry));
}
json point(double x, double y) { return {{"type", "Point"}, {"coordinates", {x, y}}}; }

// A 30 m x 20 m hall: a main entrance (3 m, south wall, x 13..16) and an emergency exit "EX"
// (2 m, north wall); a lobby (circulation) along the south wall, zones "front" and "back" above
// it, a 1 m x 1 m pillar in "front".
json hall_venue() {
  return venue({area(rect(0, 0, 30, 20)),
                feature({{"kind", "obstacle"}, {"level", 0}}, polygon(rect(10, 8, 11, 9))),
                feature({{"kind", "exit"}, {"id", "MAIN"}, {"name", "Main entrance"}, {"level", 0}},
                        line(13, 0, 16, 0)),
                exit_line("EX", 20, 20, 22, 20),
                feature({{"kind", "zone"}, {"id", "lobby"}, {"level", 0}, {"use", "circulation"}},
                        polygon(rect(0, 0, 30, 4))),
                feature({{"kind", "zone"}, {"id", "front"}, {"level", 0}, {"capacity", 150}},
                        polygon(rect(0, 4, 30, 12))),
                feature({{"kind", "zone"}, {"id", "back"}, {"level", 0}, {"capacity", 50}},
                        polygon(rect(0, 12, 30, 20)))});
}

// Room "west" (0..20) and room "east" (20..40) joined only by a 1.2 m door in a 1 m wall at
// x = 20; the only exit E (2 m) is in the east wall. Line counter lc-door across the door
// (crossing east to west is `in` to "west"), lc-exit just inside the exit.
json rooms_venue() {
  return venue(
      {area(rect(0, 0, 40, 10)),
       feature({{"kind", "obstacle"}, {"level", 0}}, polygon(rect(19.5, 0, 20.5, 4.4))),
       feature({{"kind", "obstacle"}, {"level", 0}}, polygon(rect(19.5, 5.6, 20.5, 10))),
       feature({{"kind", "door"}, {"id", "D"}, {"level", 0}}, line(20, 4.4, 20, 5.6)),
       exit_line("E", 40, 4, 40, 6), zone("west", rect(0, 0, 20, 10)),
       zone("east", rect(20, 0, 40, 10)),
       sensor({{"id", "lc-door"}, {"type", "line_counter"}, {"into", "west"}, {"from", "east"}},
              line(20, 4.4, 20, 5.6)),
       sensor({{"id", "lc-exit"}, {"type", "line_counter"}, {"into", "east"}, {"from", "outside"}},
              line(39.8, 4, 39.8, 6)),
       sensor({{"id", "zc-west"}, {"type", "zone_counter"}, {"zone", "west"}}, point(5, 5))});
}

std::unique_ptr<LiveCrowd> make(const std::shared_ptr<const venue::Venue>& v, const LiveCrowdOptions& o) {
  auto c = LiveCrowd::create(v, o);
  if (!c) {
    for (const Error& e : c.error()) ADD_FAILURE() << e.to_string();
    return nullptr;
  }
  return std::move(*c);
}

LiveCrowdOptions hall_options() {
  LiveCrowdOptions o;
  o.seed = 7;
  o.arrival_rate_p_s = 10;
  o.target_people = 120;
  o.zone_share = {{"front", 0.75}, {"back", 0.25}};
  o.mill_interval_s = 10;  // plenty of milling in a short test
  o.leave_rate_p_s = 0;
  return o;
}

TEST(LiveCrowd, AFieldToAZoneIsTheWalkingDistanceToIt) {
  auto v = load(room_venue());  // 20 m x 10 m, exit E1 at x = 20 (y 4..6)
  ASSERT_TRUE(v);
  venue::NavOptions o;
  geom::Polygon target;
  target.outer = {{15, 0}, {20, 0}, {20, 10}, {15, 10}};
  o.targets.push_back({0, target});
  const venue::NavField f = venue::NavField::compute(*v, o);
  const int l = f.level_layer(0);
  EXPECT_NEAR(f.distance(l, {5, 5}), 10, 0.3);
  EXPECT_NEAR(f.distance(l, {14, 1}), 1, 0.3);
  EXPECT_EQ(f.distance(l, {17, 5}), 0);
  EXPECT_GT(f.direction(l, {5, 5}).x, 0.95);
  // Without targets: the distance to the exit, as before.
  const venue::NavField to_exit = venue::NavField::compute(*v, {});
  EXPECT_NEAR(to_exit.distance(l, {5, 5}), 15, 0.3);
}

TEST(LiveCrowd, EntrancesAreTheExitsNamedSoAndTheTargetDefaultsToEightyPercent) {
  auto v = load(hall_venue());
  ASSERT_TRUE(v);
  LiveCrowdOptions o;
  auto c = make(v, o);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->target_people(), 160u);  // 80 % of 150 + 50 (the lobby is circulation)
  EXPECT_EQ(c->phase(), LiveCrowd::Phase::arriving);
  c->step(3);
  // Everyone came in through MAIN (x 13..16, y 0): nobody is near EX yet.
  ASSERT_GT(c->inside(), 10u);
  for (const FrameAgent& a : c->positions()) EXPECT_LT(a.y, 12.0);
}

TEST(LiveCrowd, ArrivalsFillTheZonesTowardsTheirSharesAndNobodyIsInAWall) {
  auto v = load(hall_venue());
  ASSERT_TRUE(v);
  auto c = make(v, hall_options());
  ASSERT_TRUE(c);
  const venue::Level& level = v->levels.at(0);
  for (int k = 0; k < 60; ++k) {
    c->step(1);
    for (const FrameAgent& a : c->positions()) {
      ASSERT_TRUE(geom::contains(level.walkable, {a.x, a.y})) << "person " << a.id << " at " << a.x << ", " << a.y;
      ASSERT_GE(geom::distance_to_boundary(level.walkable, {a.x, a.y}), 0.15)
          << "person " << a.id << " at " << a.x << ", " << a.y << " t " << c->time_s();
    }
  }
  EXPECT_EQ(c->arrived(), 120u);
  EXPECT_EQ(c->phase(), LiveCrowd::Phase::event);
  EXPECT_EQ(c->inside(), 120u);
  const auto counts = c->zone_counts();
  EXPECT_NEAR(static_cast<double>(counts.at("front")), 90, 6);
  EXPECT_NEAR(static_cast<double>(counts.at("back")), 30, 4);
}

TEST(LiveCrowd, DeterministicForASeedAndAnyThreadsOrStepSizes) {
  auto v = load(hall_venue());
  ASSERT_TRUE(v);
  LiveCrowdOptions o = hall_options();
  o.leave_rate_p_s = 0.5;
  auto a = make(v, o);
  o.threads = 2;
  auto b = make(v, o);
  ASSERT_TRUE(a && b);
  a->step(20);
  for (int k = 0; k < 40; ++k) b->step(0.5);
  a->evacuate();
  b->evacuate();
  a->step(5);
  b->step(5);
  const auto pa = a->positions();
  const auto pb = b->positions();
  ASSERT_EQ(pa.size(), pb.size());
  ASSERT_GT(pa.size(), 20u);
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].id, pb[i].id);
    EXPECT_EQ(pa[i].x, pb[i].x);
    EXPECT_EQ(pa[i].y, pb[i].y);
  }
  const auto ra = a->take_readings();
  const auto rb = b->take_readings();
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) EXPECT_EQ(ra[i].in, rb[i].in);
  o.seed = 8;
  o.threads = 1;
  auto c = make(v, o);
  c->step(20);
  const auto pc = c->positions();
  EXPECT_FALSE(pc.size() == pa.size() && pc.front().x == pa.front().x && pc.back().y == pa.back().y);
}

TEST(LiveCrowd, LineCountersAddUpToTheTrueCountChangeOfTheZone) {
  auto v = load(rooms_venue());
  ASSERT_TRUE(v);
  LiveCrowdOptions o;
  o.seed = 3;
  o.arrival_rate_p_s = 4;
  o.target_people = 60;
  o.zone_share = {{"west", 2}, {"east", 1}};
  o.mill_interval_s = 5;
  o.sensors.start_ms = 1'700'000'000'000;
  auto c = make(v, o);
  ASSERT_TRUE(c);
  double door_net = 0;
  double exit_in = 0;
  double exit_out = 0;
  std::int64_t last_ts = 0;
  auto drain = [&] {
    for (const VirtualReading& r : c->take_readings()) {
      EXPECT_GE(r.ts_ms, last_ts);
      last_ts = r.ts_ms;
      if (r.sensor == "lc-door") door_net += r.in - r.out;
      if (r.sensor == "lc-exit") {
        exit_in += r.in;
        exit_out += r.out;
      }
    }
  };
  for (int k = 0; k < 90; ++k) {  // the 1.2 m door passes about 1.2 persons/s
    c->step(1);
    drain();
    EXPECT_EQ(last_ts, o.sensors.start_ms + (k + 1) * 1000);
    // Sensors report at whole seconds, after the step: the same state as zone_counts().
    EXPECT_EQ(door_net, static_cast<double>(c->zone_counts().at("west"))) << "t " << c->time_s();
  }
  EXPECT_EQ(c->arrived(), 60u);
  const auto truth = c->take_truth();  // one report per second, t = 0 .. 90
  ASSERT_EQ(truth.size(), 91u);
  EXPECT_EQ(truth.back().zone_persons[0], door_net);  // "west" is the venue's first zone
  EXPECT_TRUE(c->take_truth().empty());
  EXPECT_EQ(exit_in, 60);  // every arrival stepped in over the counter just inside the exit
  EXPECT_NEAR(door_net, 40, 3);
  c->evacuate();
  for (int k = 0; k < 90 && c->inside() > 0; ++k) {
    c->step(1);
    drain();
  }
  EXPECT_EQ(c->inside(), 0u);
  EXPECT_EQ(door_net, 0);
  EXPECT_EQ(exit_in - exit_out, 0);  // some step back over the counter in the crush at the exit
  EXPECT_EQ(c->phase(), LiveCrowd::Phase::empty);
}

TEST(LiveCrowd, EvacuationEmptiesTheVenueThroughTheOpenExitsOnly) {
  auto v = load(hall_venue());
  ASSERT_TRUE(v);
  for (const Routing routing : {Routing::nearest, Routing::quickest}) {
    LiveCrowdOptions o = hall_options();
    o.routing = routing;
    auto c = make(v, o);
    ASSERT_TRUE(c);
    c->step(40);
    ASSERT_EQ(c->arrived(), 120u);
    ASSERT_TRUE(c->close_exit("EX"));
    c->evacuate();
    EXPECT_EQ(c->phase(), LiveCrowd::Phase::evacuating);
    const double t0 = c->time_s();
    while (c->inside() > 0 && c->time_s() - t0 < 150) c->step(1);
    EXPECT_EQ(c->inside(), 0u);
    // 120 people, a 3 m exit (about 4 persons/s) at most ~25 m away.
    EXPECT_LT(c->time_s() - t0, 75);
    const auto out = c->exit_counts();
    EXPECT_EQ(out.count("EX"), 0u);
    EXPECT_EQ(out.at("MAIN"), 120u);
    EXPECT_EQ(c->left(), 120u);
  }
}

TEST(LiveCrowd, PeopleLeaveNormallyAndAHazardIsAvoided) {
  auto v = load(hall_venue());
  ASSERT_TRUE(v);
  LiveCrowdOptions o = hall_options();
  o.leave_rate_p_s = 1;
  auto c = make(v, o);
  ASSERT_TRUE(c);
  c->step(30);
  geom::Polygon fire;
  fire.outer = {{2, 13}, {8, 13}, {8, 19}, {2, 19}};
  ASSERT_TRUE(c->add_hazard(0, fire));
  c->step(30);
  EXPECT_GT(c->left(), 20u);
  EXPECT_EQ(c->inside() + c->left(), c->arrived());
  for (const FrameAgent& a : c->positions())
    EXPECT_FALSE(geom::contains(fire, {a.x, a.y})) << "person " << a.id << " at " << a.x << ", " << a.y;
}

// Level 0 (entrance E1 at x = 0) joined by a stair (x 10..14, 5 m along the slope) to level 1,
// where the zone is: people climb to it, and on evacuate() come down and out.
TEST(LiveCrowd, PeopleTakeTheStairsToAZoneOnAnotherLevelAndBack) {
  json stair_props = {{"kind", "stair"}, {"id", "S1"}, {"from_level", 0}, {"to_level", 1},
                      {"bottom", {{10, 0}, {10, 3}}}, {"top", {{14, 0}, {14, 3}}}, {"length_m", 5}};
  auto v = load(venue({area(rect(0, 0, 10, 3), 0), exit_line("E1", 0, 0, 0, 3, 0),
                       area(rect(14, 0, 26, 6), 1), zone("up", rect(16, 0, 26, 6), 1),
                       feature(stair_props, polygon(rect(10, 0, 14, 3)))}));
  ASSERT_TRUE(v);
  LiveCrowdOptions o;
  o.target_people = 20;
  o.arrival_rate_p_s = 2;
  auto c = make(v, o);
  ASSERT_TRUE(c);
  c->step(45);
  EXPECT_EQ(c->zone_counts().at("up"), 20u);
  for (const FrameAgent& a : c->positions()) EXPECT_EQ(a.level, 1);
  c->evacuate();
  c->step(60);
  EXPECT_EQ(c->inside(), 0u);
  EXPECT_EQ(c->exit_counts().at("E1"), 20u);
}

TEST(LiveCrowd, ErrorsSayWhatAndWhere) {
  auto v = load(hall_venue());
  ASSERT_TRUE(v);
  LiveCrowdOptions o;
  o.zone_share = {{"flor", 1}};
  o.entrances = {"MAIN", "E99"};
  o.dt_s = 0;
  auto c = LiveCrowd::create(v, o);
  ASSERT_FALSE(c);
  std::string all;
  for (const Error& e : c.error()) all += e.to_string() + "\n";
  EXPECT_NE(all.find("zone_share[\"flor\"]: unknown zone"), std::string::npos) << all;
  EXPECT_NE(all.find("entrances[1]: unknown exit \"E99\""), std::string::npos) << all;
  EXPECT_NE(all.find("dt_s: must be a positive number"), std::string::npos) << all;
  auto ok = make(v, LiveCrowdOptions{});
  ASSERT_TRUE(ok);
  const auto closed = ok->close_exit("E99");
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().to_string(), "close_exit(\"E99\"): no exit or door with this id");
  const auto hazard = ok->add_hazard(3, geom::Polygon{{{0, 0}, {1, 0}, {1, 1}}, {}});
  ASSERT_FALSE(hazard);
  EXPECT_EQ(hazard.error().to_string(), "add_hazard(level 3): the venue has no such level");
}

}  // namespace
}  // namespace vigil::sim
