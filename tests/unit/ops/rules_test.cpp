// SPDX-License-Identifier: Apache-2.0
// The built-in rules (each firing at its thresholds and not below) and the thresholds' JSON
// form with path-named errors.
#include "ops/rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using nlohmann::json;
using test::kT0;

ZoneEstimate zone(const std::string& id, venue::ZoneUse use, double occupancy, double area_m2,
                  double capacity, double trend = 0) {
  ZoneEstimate z;
  z.id = id;
  z.use = use;
  z.occupancy = occupancy;
  z.area_m2 = area_m2;
  z.capacity = capacity;
  z.density_p_m2 = area_m2 > 0 ? occupancy / area_m2 : 0;
  z.capacity_pct = capacity > 0 ? 100 * occupancy / capacity : 0;
  z.trend_p_per_min = trend;
  return z;
}

SensorHealth sensor(const std::string& id, SensorStatus status, std::optional<TimeMs> seen) {
  SensorHealth s;
  s.id = id;
  s.type = venue::SensorType::line_counter;
  s.zone = "hall";
  s.status = status;
  s.last_seen_ms = seen;
  return s;
}

VenueState state_with(std::vector<ZoneEstimate> zones, std::vector<SensorHealth> sensors = {}) {
  VenueState s;
  s.venue = "test-hall";
  s.at_ms = kT0;
  s.zones = std::move(zones);
  s.sensors = std::move(sensors);
  return s;
}

std::vector<Condition> of_rule(const std::vector<Condition>& all, std::string_view r) {
  std::vector<Condition> out;
  for (const Condition& c : all)
    if (c.rule == r) out.push_back(c);
  return out;
}

std::optional<Severity> severity_of(const VenueState& s, std::string_view r,
                                    const Thresholds& t = {},
                                    std::optional<double> egress = std::nullopt) {
  auto cs = of_rule(evaluate_rules(s, t, egress, 480), r);
  if (cs.empty()) return std::nullopt;
  EXPECT_EQ(cs.size(), 1u);
  return cs[0].severity;
}

TEST(OpsRules, CapacityWarnAt90CriticalAt100) {
  using U = venue::ZoneUse;
  EXPECT_EQ(severity_of(state_with({zone("hall", U::seated, 359, 400, 400)}), rule::capacity),
            std::nullopt);
  EXPECT_EQ(severity_of(state_with({zone("hall", U::seated, 360, 400, 400)}), rule::capacity),
            Severity::warn);
  EXPECT_EQ(severity_of(state_with({zone("hall", U::seated, 400, 400, 400)}), rule::capacity),
            Severity::critical);
  const auto cs = evaluate_rules(state_with({zone("hall", U::seated, 380, 400, 400)}), {}, {}, 480);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].key, "hall");
  EXPECT_EQ(cs[0].zone, "hall");
  EXPECT_DOUBLE_EQ(cs[0].value, 95);
  EXPECT_DOUBLE_EQ(cs[0].threshold, 90);
  EXPECT_THAT(cs[0].message, ::testing::HasSubstr("95.0 % of capacity (380 of 400)"));
  // Zones without a capacity are not judged on it.
  EXPECT_EQ(severity_of(state_with({zone("hall", U::seated, 380, 400, 0)}), rule::capacity),
            std::nullopt);
}

TEST(OpsRules, DensityByZoneUse) {
  using U = venue::ZoneUse;
  // Capacity is set high so that only density speaks.
  EXPECT_EQ(severity_of(state_with({zone("f", U::standing, 399, 100, 1e6)}), rule::density),
            std::nullopt);
  EXPECT_EQ(severity_of(state_with({zone("f", U::standing, 400, 100, 1e6)}), rule::density),
            Severity::warn);
  EXPECT_EQ(severity_of(state_with({zone("f", U::standing, 500, 100, 1e6)}), rule::density),
            Severity::critical);
  EXPECT_EQ(severity_of(state_with({zone("f", U::seated, 500, 100, 1e6)}), rule::density),
            std::nullopt);
  EXPECT_EQ(severity_of(state_with({zone("f", U::circulation, 250, 100, 1e6)}), rule::density),
            Severity::warn);
  Thresholds t;
  t.density.by_use[static_cast<std::size_t>(U::seated)] = WarnCritical{3, 4};
  EXPECT_EQ(severity_of(state_with({zone("f", U::seated, 450, 100, 1e6)}), rule::density, t),
            Severity::critical);
  t.density.enabled = false;
  EXPECT_EQ(severity_of(state_with({zone("f", U::standing, 500, 100, 1e6)}), rule::density, t),
            std::nullopt);
}

TEST(OpsRules, RisingTooFastRelativeToCapacity) {
  using U = venue::ZoneUse;
  // capacity 400: warn at 10 %/min = 40/min, critical at 20 %/min = 80/min.
  EXPECT_EQ(severity_of(state_with({zone("h", U::standing, 0, 400, 400, 39)}), rule::rising),
            std::nullopt);
  EXPECT_EQ(severity_of(state_with({zone("h", U::standing, 0, 400, 400, 40)}), rule::rising),
            Severity::warn);
  EXPECT_EQ(severity_of(state_with({zone("h", U::standing, 0, 400, 400, 80)}), rule::rising),
            Severity::critical);
  EXPECT_EQ(severity_of(state_with({zone("h", U::standing, 0, 400, 400, -200)}), rule::rising),
            std::nullopt);
  // Small zones: warn never below min_p_per_min (20), critical never below 20 × 20/10 = 40.
  EXPECT_EQ(severity_of(state_with({zone("q", U::queue, 0, 40, 60, 15)}), rule::rising),
            std::nullopt);
  EXPECT_EQ(severity_of(state_with({zone("q", U::queue, 0, 40, 60, 20)}), rule::rising),
            Severity::warn);
  EXPECT_EQ(severity_of(state_with({zone("q", U::queue, 0, 40, 60, 40)}), rule::rising),
            Severity::critical);
}

TEST(OpsRules, SensorStaleWarnSilentCritical) {
  const VenueState s = state_with(
      {}, {sensor("a", SensorStatus::ok, kT0), sensor("b", SensorStatus::stale, kT0 - 61'000),
           sensor("c", SensorStatus::silent, kT0 - 400'000),
           sensor("d", SensorStatus::silent, std::nullopt),
           sensor("e", SensorStatus::implausible, kT0)});
  const auto cs = of_rule(evaluate_rules(s, {}, {}, 480), rule::sensor_stale);
  ASSERT_EQ(cs.size(), 3u);
  EXPECT_EQ(cs[0].key, "b");
  EXPECT_EQ(cs[0].sensor, "b");
  EXPECT_EQ(cs[0].zone, "hall");
  EXPECT_EQ(cs[0].severity, Severity::warn);
  EXPECT_THAT(cs[0].message, ::testing::HasSubstr("no reading for 61 s"));
  EXPECT_EQ(cs[1].key, "c");
  EXPECT_EQ(cs[1].severity, Severity::critical);
  EXPECT_THAT(cs[2].message, ::testing::HasSubstr("since monitoring started"));
  Thresholds t;
  t.sensors.enabled = false;
  EXPECT_TRUE(of_rule(evaluate_rules(s, t, {}, 480), rule::sensor_stale).empty());
  // Shortly after start, sensors not yet seen are silent but not alerted on.
  VenueState fresh = state_with({}, {sensor("d", SensorStatus::silent, std::nullopt)});
  fresh.started_ms = kT0 - 299'000;
  EXPECT_TRUE(of_rule(evaluate_rules(fresh, {}, {}, 480), rule::sensor_stale).empty());
  fresh.started_ms = kT0 - 300'000;
  EXPECT_EQ(of_rule(evaluate_rules(fresh, {}, {}, 480), rule::sensor_stale).size(), 1u);
}

TEST(OpsRules, SensorImplausibleAndCountersDisagree) {
  SensorHealth e = sensor("e", SensorStatus::implausible, kT0);
  e.implausible = e.rate_exceeded = true;
  e.reasons = {"too fast"};
  SensorHealth z = sensor("zc", SensorStatus::implausible, kT0);
  z.implausible = z.disagrees = true;
  z.reasons = {"counts 100 ..."};
  VenueState s = state_with({}, {e, z});
  Disagreement d;
  d.zone = "hall";
  d.sensor = "zc";
  d.count = 100;
  d.flow_estimate = 160;
  d.since_ms = kT0 - 200'000;
  d.active = false;
  s.disagreements.push_back(d);
  auto imp = of_rule(evaluate_rules(s, {}, {}, 480), rule::sensor_implausible);
  ASSERT_EQ(imp.size(), 1u);
  EXPECT_EQ(imp[0].key, "e");
  EXPECT_THAT(imp[0].message, ::testing::HasSubstr("too fast"));
  EXPECT_TRUE(of_rule(evaluate_rules(s, {}, {}, 480), rule::counters_disagree).empty());
  s.disagreements[0].active = true;
  auto dis = of_rule(evaluate_rules(s, {}, {}, 480), rule::counters_disagree);
  ASSERT_EQ(dis.size(), 1u);
  EXPECT_EQ(dis[0].key, "hall");
  EXPECT_EQ(dis[0].sensor, "zc");
  EXPECT_DOUBLE_EQ(dis[0].value, 60);
}

TEST(OpsRules, EgressAgainstTheVenueLimit) {
  const VenueState s = state_with({});
  EXPECT_EQ(severity_of(s, rule::egress, {}, std::nullopt), std::nullopt);
  EXPECT_EQ(severity_of(s, rule::egress, {}, 400.0), std::nullopt);
  EXPECT_EQ(severity_of(s, rule::egress, {}, 432.0), Severity::warn);  // 90 % of 480
  EXPECT_EQ(severity_of(s, rule::egress, {}, 481.0), Severity::critical);
  const auto cs = of_rule(evaluate_rules(s, {}, 500.0, 480), rule::egress);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].key, "venue");
  EXPECT_EQ(cs[0].zone, "");
  EXPECT_DOUBLE_EQ(cs[0].threshold, 480);
}

std::string errors_text(const std::vector<Error>& e) {
  std::string s;
  for (const Error& x : e) s += x.to_string() + "\n";
  return s;
}

TEST(OpsThresholds, DefaultsAndRoundTrip) {
  auto t = thresholds_from_json(json::object());
  ASSERT_TRUE(t.has_value());
  EXPECT_DOUBLE_EQ(t->capacity.warn_pct, 90);
  EXPECT_DOUBLE_EQ(t->density.for_use(venue::ZoneUse::standing)->critical, 5);
  EXPECT_FALSE(t->density.for_use(venue::ZoneUse::seated).has_value());
  EXPECT_DOUBLE_EQ(t->sensors.health.stale_after_s, 60);

  auto custom = thresholds_from_json(json::parse(R"({
      "capacity": { "warn_pct": 85 },
      "density": { "seated": { "warn": 3, "critical": 4 }, "standing": null },
      "sensors": { "stale_after_s": 30, "negative_events": 5 },
      "counters_disagree": { "pct": 25, "for_s": 60 },
      "clear_hold_s": 30 })"));
  ASSERT_TRUE(custom.has_value()) << errors_text(custom.error());
  EXPECT_DOUBLE_EQ(custom->capacity.warn_pct, 85);
  EXPECT_DOUBLE_EQ(custom->capacity.critical_pct, 100);
  EXPECT_DOUBLE_EQ(custom->density.for_use(venue::ZoneUse::seated)->warn, 3);
  EXPECT_FALSE(custom->density.for_use(venue::ZoneUse::standing).has_value());
  EXPECT_DOUBLE_EQ(custom->sensors.health.stale_after_s, 30);
  EXPECT_EQ(custom->sensors.health.negative_events, 5);
  EXPECT_DOUBLE_EQ(custom->sensors.health.disagree_pct, 25);
  EXPECT_DOUBLE_EQ(custom->sensors.health.disagree_for_s, 60);
  EXPECT_DOUBLE_EQ(custom->clear_hold_s, 30);

  const json j = to_json(*custom);
  auto again = thresholds_from_json(j);
  ASSERT_TRUE(again.has_value()) << errors_text(again.error());
  EXPECT_EQ(to_json(*again), j);
}

TEST(OpsThresholds, ErrorsNameTheirPaths) {
  auto t = thresholds_from_json(json::parse(R"({
      "capacity": { "warn_pc": 85, "critical_pct": "high" },
      "density": { "standing": { "warn": 6, "critical": 5 }, "seated": 3, "lobby": {} },
      "rising": { "min_p_per_min": -1 },
      "sensors": { "stale_after_s": 600, "silent_after_s": 300, "negative_events": 1.5 },
      "egress": { "enabled": "yes" },
      "clear_hold_s": [] ,
      "extra": 1 })"));
  ASSERT_FALSE(t.has_value());
  const std::string all = errors_text(t.error());
  for (const char* expected : {
           "capacity.warn_pc: unknown field",
           "capacity.critical_pct: must be a number",
           "density.standing.warn: warn 6 is above critical 5",
           "density.seated: must be an object",
           "density.lobby: unknown field",
           "rising.min_p_per_min: -1 is out of range",
           "sensors.stale_after_s: 600 is above silent_after_s 300",
           "sensors.negative_events: must be an integer",
           "egress.enabled: must be true or false",
           "clear_hold_s: must be a number",
           "extra: unknown field",
       })
    EXPECT_THAT(all, ::testing::HasSubstr(expected));
  EXPECT_FALSE(thresholds_from_json(json::array()).has_value());
}

}  // namespace
}  // namespace vigil::ops
