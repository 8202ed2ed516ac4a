// SPDX-License-Identifier: Apache-2.0
// Virtual sensors: what the venue's counters would have reported during a simulation run.
#include "sim/virtual_sensors.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "test_venues.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)

json sensor(json props, json geometry) {
  props["kind"] = "sensor";
  props["level"] = 0;
  return feature(std::move(props), std::move(geometry));
}
json point(double x, double y) { return {{"type", "Point"}, {"coordinates", {x, y}}}; }

// Room "west" (0..20) and room "east" (20..40) joined only by a 1.2 m door through a 1 m wall
// at x = 20; the exit (2 m) is on the east wall. Line counter lc-door across the door gap at
// x = 20 (walking its line from south to north, crossing right to left = east to west = into
// "west"); zone counter zc-west; density sensor dn-west; line counter lc-exit just inside the
// exit (into "east" from outside).
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
       sensor({{"id", "zc-west"}, {"type", "zone_counter"}, {"zone", "west"}}, point(5, 5)),
       sensor({{"id", "dn-west"}, {"type", "density"}, {"zone", "west"}}, point(6, 5))});
}

struct SensedRun {
  Scenario sc;
  RunResult result;
  std::vector<VirtualReading> readings;
  std::vector<SensorTruth> truth;
};

SensedRun run(int people, const VirtualSensorOptions& vo) {
  json doc = scenario(rooms_venue(), json::array({{{"zone", "west"}, {"count", people}}}));
  auto sc = parse_scenario(doc, ".");
  EXPECT_TRUE(sc);
  auto agents = place_population(*sc, sc->seed);
  EXPECT_TRUE(agents);
  VirtualSensors vs(*sc->venue, sc->time_step_s, vo);
  SimOptions so;
  so.threads = 1;
  so.frames = &vs;
  RunResult r = simulate(*sc, sc->seed, *agents, so);
  vs.finish();
  return {std::move(*sc), std::move(r), vs.readings(), vs.truth()};
}

std::vector<VirtualReading> of(const std::vector<VirtualReading>& all, const std::string& sensor) {
  std::vector<VirtualReading> out;
  for (const auto& r : all)
    if (r.sensor == sensor) out.push_back(r);
  return out;
}

TEST(VirtualSensors, LineCountsOfAClosedZoneAddUpToItsCountChange) {
  VirtualSensorOptions vo;
  vo.start_ms = 1'700'000'000'000;
  vo.first_seq = 7;
  const SensedRun r = run(60, vo);
  ASSERT_TRUE(r.result.not_evacuated.empty());
  const auto door = of(r.readings, "lc-door");
  const auto zc = of(r.readings, "zc-west");
  const auto dn = of(r.readings, "dn-west");
  ASSERT_GE(door.size(), 10U);
  ASSERT_EQ(door.size(), zc.size());
  const double area = r.sc.venue->find_zone("west")->area_m2;
  double net = 0;
  for (std::size_t k = 0; k < door.size(); ++k) {
    EXPECT_EQ(door[k].seq, 7 + static_cast<std::int64_t>(k));
    EXPECT_EQ(door[k].kind, VirtualReading::Kind::in_out);
    EXPECT_EQ(zc[k].kind, VirtualReading::Kind::count);
    EXPECT_EQ(door[k].ts_ms, zc[k].ts_ms);
    net += door[k].in - door[k].out;
    // "west" has no other way in or out: the counter's net flow is its count change.
    EXPECT_EQ(zc[k].count - zc[0].count, net) << "reading " << k;
    EXPECT_NEAR(dn[k].density, zc[k].count / area, 1e-12);
  }
  EXPECT_EQ(zc.front().count, 60);
  EXPECT_EQ(zc.back().count, 0);
  EXPECT_EQ(net, -60);
  // Everyone walked out of "west" through the door (out), and out of the venue past lc-exit
  // (from "east" to outside: out).
  double exit_out = 0;
  for (const auto& x : of(r.readings, "lc-exit")) exit_out += x.out - x.in;
  EXPECT_EQ(exit_out, 60);
  // Reports every second from t = 0, matching the simulation's own per-second zone counts.
  for (std::size_t k = 0; k + 1 < zc.size(); ++k) {
    EXPECT_EQ(zc[k].ts_ms, vo.start_ms + 1000 * static_cast<std::int64_t>(k));
    ASSERT_LT(k, r.result.zone_persons.size());
    EXPECT_EQ(zc[k].count, r.result.zone_persons[k][0]) << "t = " << k;
  }
}

TEST(VirtualSensors, NoiseMissesAndAddsCrossingsAsConfiguredAndIsSeeded) {
  VirtualSensorOptions vo;
  vo.miss_rate = 0.2;
  vo.extra_rate = 0.05;
  vo.seed = 5;
  const SensedRun a = run(200, vo);
  const SensedRun b = run(200, vo);
  vo.seed = 6;
  const SensedRun c = run(200, vo);
  double counted = 0;
  for (const auto& x : of(a.readings, "lc-door")) counted += x.out + x.in;
  const double truth = a.truth.back().line_out[0] + a.truth.back().line_in[0];
  EXPECT_GE(truth, 200);
  // Expected 200 × (1 − 0.2 + 0.05) = 170; binomial sd about 6.
  EXPECT_NEAR(counted, truth * 0.85, 25);
  EXPECT_LT(counted, truth);
  double counted_b = 0;
  for (const auto& x : of(b.readings, "lc-door")) counted_b += x.out + x.in;
  EXPECT_EQ(counted, counted_b);
  bool differs = false;
  const auto ra = of(a.readings, "lc-door"), rc = of(c.readings, "lc-door");
  for (std::size_t k = 0; k < std::min(ra.size(), rc.size()); ++k)
    differs = differs || ra[k].out != rc[k].out;
  EXPECT_TRUE(differs);
}

TEST(VirtualSensors, ZoneCountNoise) {
  VirtualSensorOptions vo;
  vo.count_sigma_rel = 0.05;
  const SensedRun r = run(100, vo);
  const auto zc = of(r.readings, "zc-west");
  ASSERT_FALSE(zc.empty());
  // The first count is 100 ± a few sd; with noise some counts differ from the truth.
  EXPECT_NEAR(zc.front().count, 100, 20);
  std::size_t off = 0;
  for (std::size_t k = 0; k < zc.size(); ++k)
    off += zc[k].count != r.truth[k].zone_persons[0] ? 1 : 0;
  EXPECT_GT(off, 0U);
  for (const auto& x : zc) EXPECT_EQ(x.count, std::round(x.count));
}

TEST(VirtualSensors, DropoutStopsASensorAtItsTime) {
  VirtualSensorOptions vo;
  vo.dropouts = {{"zc-west", 5.0}};
  vo.period_s = 0.5;
  const SensedRun r = run(60, vo);
  const auto zc = of(r.readings, "zc-west");
  ASSERT_EQ(zc.size(), 10U);  // t = 0, 0.5, ..., 4.5
  EXPECT_EQ(zc.back().ts_ms, 4500);
  EXPECT_GT(of(r.readings, "lc-door").size(), 20U);  // the others carry on
  EXPECT_THROW(VirtualSensors(*r.sc.venue, 0.05, VirtualSensorOptions{.dropouts = {{"nope", 1}}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace vigil::sim
