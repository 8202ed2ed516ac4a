// SPDX-License-Identifier: Apache-2.0
// The agent-based live egress estimate: people placed per zone, evacuated at once through the
// exits open now; closures, hazards, errors, determinism.
#include "sim/live_egress.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "test_venues.hpp"
#include "venue/load.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)

std::shared_ptr<const venue::Venue> load(const json& doc) {
  auto r = venue::load_venue(doc.dump());
  std::string issues;
  for (const auto& i : r.issues) issues += i.to_string() + "\n";
  EXPECT_TRUE(r.ok()) << issues;
  return r.ok() ? std::make_shared<const venue::Venue>(*r.venue) : nullptr;
}

// 30 m x 10 m, exit W (1 m) on the west wall, exit E (2 m) on the east wall; zones "west"
// (x < 10) and "east" (x > 20).
json two_exit_venue() {
  return venue({area(rect(0, 0, 30, 10)), exit_line("W", 0, 4.5, 0, 5.5),
                exit_line("E", 30, 4, 30, 6), zone("west", rect(0, 0, 10, 10)),
                zone("east", rect(20, 0, 30, 10))});
}

std::string all(const Errors& errs) {
  std::string s;
  for (const Error& e : errs) s += e.to_string() + "\n";
  return s;
}

TEST(LiveEgress, EvacuatesEveryoneAndReportsExitsAndZones) {
  auto v = load(two_exit_venue());
  ASSERT_TRUE(v);
  LiveEgressOptions o;
  o.threads = 1;
  auto r = estimate_egress_agents(v, {{"west", 20}, {"east", 30.4}}, {}, {}, 3, o);
  ASSERT_TRUE(r) << all(r.error());
  EXPECT_EQ(r->agents, 50U);  // 30.4 rounds to 30
  EXPECT_EQ(r->evacuated, 50U);
  EXPECT_TRUE(std::isfinite(r->time_s));
  EXPECT_EQ(r->exits.at("W").people + r->exits.at("E").people, 50U);
  EXPECT_DOUBLE_EQ(r->time_s, std::max(r->exits.at("W").clear_s, r->exits.at("E").clear_s));
  // Each zone leaves by its own side's exit first.
  EXPECT_EQ(r->zones.at("west").front(), "W");
  EXPECT_EQ(r->zones.at("east").front(), "E");
  EXPECT_GT(r->wall_s, 0);
  // Zero pre-movement: someone is out within the walk from the zone's near edge at top speed.
  double first = 1e9;
  for (double t : r->run.evacuation_time_s) first = std::min(first, t);
  EXPECT_LT(first, 10.0 / 0.46);
}

TEST(LiveEgress, SameSeedSameResultOtherSeedOtherPlacement) {
  auto v = load(two_exit_venue());
  LiveEgressOptions o;
  o.threads = 2;
  auto a = estimate_egress_agents(v, {{"west", 40}}, {}, {}, 11, o);
  auto b = estimate_egress_agents(v, {{"west", 40}}, {}, {}, 11, o);
  auto c = estimate_egress_agents(v, {{"west", 40}}, {}, {}, 12, o);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->time_s, b->time_s);
  EXPECT_EQ(a->run.evacuation_time_s, b->run.evacuation_time_s);
  EXPECT_NE(a->run.evacuation_time_s, c->run.evacuation_time_s);
}

TEST(LiveEgress, ClosedExitSendsEveryoneToTheOther) {
  auto v = load(two_exit_venue());
  LiveEgressOptions o;
  o.threads = 1;
  auto open = estimate_egress_agents(v, {{"west", 40}}, {}, {}, 1, o);
  auto closed = estimate_egress_agents(v, {{"west", 40}}, {"W"}, {}, 1, o);
  ASSERT_TRUE(open && closed);
  EXPECT_EQ(closed->exits.count("W"), 0U);
  EXPECT_EQ(closed->exits.at("E").people, 40U);
  EXPECT_EQ(closed->zones.at("west"), std::vector<std::string>{"E"});
  EXPECT_GT(closed->time_s, open->time_s);
}

TEST(LiveEgress, BottlenecksAreTheExitsWhoseQueueSetsTheTime) {
  auto v = load(two_exit_venue());
  LiveEgressOptions o;
  o.threads = 1;
  // 200 people, W closed: all queue at E (2 m), which passes them near its capacity.
  auto crowded = estimate_egress_agents(v, {{"west", 200}}, {"W"}, {}, 1, o);
  ASSERT_TRUE(crowded) << all(crowded.error());
  EXPECT_EQ(crowded->bottlenecks, std::vector<std::string>{"E"});
  // 5 people: E still sets the time, but by the walk to it, not a queue.
  auto few = estimate_egress_agents(v, {{"west", 5}}, {"W"}, {}, 1, o);
  ASSERT_TRUE(few) << all(few.error());
  EXPECT_DOUBLE_EQ(few->exits.at("E").clear_s, few->time_s);
  EXPECT_TRUE(few->bottlenecks.empty());
}

TEST(LiveEgress, HazardCuttingAZoneOffIsReported) {
  auto v = load(two_exit_venue());
  LiveEgressOptions o;
  o.threads = 1;
  o.max_time_s = 120;
  // A band across the room at x = 12..14 and exit W closed: "west" is cut off.
  ScenarioHazard h;
  h.polygon = geom::Polygon{{{12, 0}, {14, 0}, {14, 10}, {12, 10}}, {}};
  auto r = estimate_egress_agents(v, {{"west", 10}, {"east", 5}}, {"W"}, {h}, 1, o);
  ASSERT_TRUE(r) << all(r.error());
  EXPECT_EQ(r->evacuated, 5U);
  EXPECT_FALSE(r->max_time_reached);  // the cut-off are known at once, not waited for
  EXPECT_EQ(r->time_s, std::max(r->exits.at("E").clear_s, 0.0));
  EXPECT_GT(r->time_s, 0);
  std::size_t stuck = 0;
  for (const auto& [reason, n] : r->not_evacuated) stuck += n;
  EXPECT_EQ(stuck, 10U);
}

TEST(LiveEgress, ErrorsSayWhatAndWhere) {
  auto v = load(two_exit_venue());
  auto r = estimate_egress_agents(v, {{"flor", 3}, {"west", -2}}, {"E99"}, {}, 1);
  ASSERT_FALSE(r);
  const std::string s = all(r.error());
  EXPECT_NE(s.find("occupancy[\"flor\"]: unknown zone"), std::string::npos) << s;
  EXPECT_NE(s.find("occupancy[\"west\"]: persons must be"), std::string::npos) << s;
  EXPECT_NE(s.find("closed[\"E99\"]: no exit or door"), std::string::npos) << s;
  auto full = estimate_egress_agents(v, {{"west", 5000}}, {}, {}, 1);
  ASSERT_FALSE(full);
  EXPECT_NE(all(full.error()).find("only"), std::string::npos) << all(full.error());
}

TEST(LiveEgress, ScenarioHasOneEntryPerOccupiedZone) {
  auto v = load(two_exit_venue());
  LiveEgressOptions o;
  o.time_step_s = 0.04;
  ScenarioHazard later;
  later.polygon = geom::Polygon{{{12, 0}, {14, 0}, {14, 2}, {12, 2}}, {}};
  later.from_s = 30;
  auto sc = make_egress_scenario(v, {{"east", 12}, {"west", 0}}, {"W"}, {later}, o);
  ASSERT_TRUE(sc);
  ASSERT_EQ(sc->population.size(), 1U);
  EXPECT_EQ(sc->population[0].zone, "east");
  EXPECT_EQ(sc->population[0].count, 12);
  EXPECT_EQ(sc->routing, Routing::quickest);
  EXPECT_EQ(sc->time_step_s, 0.04);
  // cfsm's time gap corrected for the step: 1 s - (0.04 s - the reference 0.05 s).
  EXPECT_EQ(sc->model.name, "cfsm");
  EXPECT_DOUBLE_EQ(sc->model.params.at("time_gap_s"), 1.01);
  EXPECT_EQ(sc->profile.premovement_s.highest(), 0);
  EXPECT_EQ(sc->closed, std::set<std::string>{"W"});
  ASSERT_EQ(sc->hazards.size(), 1U);
  EXPECT_EQ(sc->hazards[0].from_s, 0);  // a live hazard is there now
}

TEST(LiveEgress, CoarserStepThanTheReferenceShortensTheTimeGap) {
  auto v = load(two_exit_venue());
  const LiveEgressOptions defaults;
  EXPECT_EQ(defaults.time_step_s, 0.1);
  EXPECT_EQ(defaults.reference_step_s, 0.05);
  auto sc = make_egress_scenario(v, {{"east", 12}}, {}, {}, defaults);
  ASSERT_TRUE(sc);
  EXPECT_EQ(sc->time_step_s, 0.1);
  EXPECT_DOUBLE_EQ(sc->model.params.at("time_gap_s"), 0.95);

  // At the reference step, cfsm's own time gap.
  LiveEgressOptions same = defaults;
  same.time_step_s = same.reference_step_s;
  sc = make_egress_scenario(v, {{"east", 12}}, {}, {}, same);
  ASSERT_TRUE(sc);
  EXPECT_DOUBLE_EQ(sc->model.params.at("time_gap_s"), 1.0);

  // A step so coarse that no time gap is left is an error, as is a bad reference step.
  LiveEgressOptions coarse;
  coarse.time_step_s = 1;
  coarse.reference_step_s = 0.005;
  auto bad = make_egress_scenario(v, {{"east", 12}}, {}, {}, coarse);
  ASSERT_FALSE(bad);
  EXPECT_NE(all(bad.error()).find("options.time_step_s: too coarse"), std::string::npos)
      << all(bad.error());
  coarse.reference_step_s = 0;
  bad = make_egress_scenario(v, {{"east", 12}}, {}, {}, coarse);
  ASSERT_FALSE(bad);
  EXPECT_NE(all(bad.error()).find("options.reference_step_s: must be in (0, 1]"), std::string::npos)
      << all(bad.error());
}

}  // namespace
}  // namespace vigil::sim
