// SPDX-License-Identifier: Apache-2.0
// Constant control end to end on the concert-hall example: readings in, state and alert
// events out, with every rule firing and clearing through the engine.
#include "ops/monitor.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using test::count;
using test::flow;
using test::kT0;
using test::sec;

std::vector<const AlertEvent*> opened(const std::vector<AlertEvent>& es, std::string_view r) {
  std::vector<const AlertEvent*> out;
  for (const AlertEvent& e : es)
    if (e.type == AlertEventType::opened && e.alert.rule == r) out.push_back(&e);
  return out;
}

TEST(OpsMonitor, ConcertHallPitOverCapacityThenClears) {
  ManualClock clock(kT0);
  Thresholds t;
  t.sensors.enabled = false;  // most sensors of the example never report in this test
  Monitor m(test::concert_hall(), clock, t);
  std::vector<Reading> rs = {count("zc-pit", 1, kT0, 560)};
  ASSERT_TRUE(m.validate(rs).empty());
  m.apply(rs);
  auto ev = m.evaluate();
  EXPECT_EQ(ev.state.zone("pit")->occupancy, 560);
  auto cap = opened(ev.events, rule::capacity);
  ASSERT_EQ(cap.size(), 1u);
  EXPECT_EQ(cap[0]->alert.zone, "pit");
  EXPECT_EQ(cap[0]->alert.severity, Severity::critical);  // 560 of 550
  EXPECT_EQ(cap[0]->alert.venue, "riverside-hall");
  const std::string id = cap[0]->alert.id;

  // The pit empties gradually; after the hold time the alert resolves itself.
  std::int64_t seq = 1;
  for (int s = 1; s <= 100; ++s) {
    clock.set(kT0 + sec(s));
    m.apply(
        std::vector<Reading>{count("zc-pit", ++seq, kT0 + sec(s), std::max(400.0, 560.0 - 4 * s))});
    ev = m.evaluate();
  }
  const Alert* a = m.alerts().find(id);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, AlertState::resolved);
  EXPECT_NEAR(m.state().zone("pit")->occupancy, 400, 1);
}

TEST(OpsMonitor, EgressAndSensorAlertsFlowThrough) {
  ManualClock clock(kT0);
  Monitor m(test::concert_hall(), clock);
  auto ev = m.evaluate();
  // Nothing has reported since start: every sensor is silent, but the alerts wait until
  // silent_after_s (300 s) have passed since start.
  EXPECT_EQ(ev.state.sensors[0].status, SensorStatus::silent);
  EXPECT_TRUE(opened(ev.events, rule::sensor_stale).empty());
  m.apply(std::vector<Reading>{flow("lc-E1", 1, kT0 + sec(10), 1)});
  clock.advance(sec(300));
  ev = m.evaluate();
  const auto silent = opened(ev.events, rule::sensor_stale);
  EXPECT_EQ(silent.size(), m.venue().sensors.size());  // lc-E1 went silent too
  for (const AlertEvent* e : silent) EXPECT_EQ(e->alert.severity, Severity::critical);
  m.set_egress_estimate(500);
  clock.advance(sec(1));
  ev = m.evaluate();
  const auto eg = opened(ev.events, rule::egress);
  ASSERT_EQ(eg.size(), 1u);
  EXPECT_EQ(eg[0]->alert.severity, Severity::critical);
  EXPECT_EQ(eg[0]->alert.key, "venue");
  // Acknowledge through the monitor.
  auto ack = m.acknowledge(eg[0]->alert.id, "ana", "opening extra exits");
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->alert.state, AlertState::acknowledged);
  m.set_egress_estimate(std::nullopt);
  clock.advance(sec(1));
  EXPECT_TRUE(opened(m.evaluate().events, rule::egress).empty());  // clear: the hold starts
  clock.advance(sec(60));
  ev = m.evaluate();
  bool resolved = false;
  for (const AlertEvent& e : ev.events)
    resolved = resolved || (e.type == AlertEventType::resolved && e.alert.rule == rule::egress);
  EXPECT_TRUE(resolved);
}

TEST(OpsMonitor, DeterministicForTheSameInput) {
  auto run = [] {
    ManualClock clock(kT0);
    Monitor m(test::concert_hall(), clock);
    std::string log;
    std::int64_t seq = 0;
    for (int s = 1; s <= 180; ++s) {
      clock.set(kT0 + sec(s));
      std::vector<Reading> rs = {flow("lc-E1", ++seq, kT0 + sec(s) - (s % 3) * 700, 5),
                                 flow("lc-D1", ++seq, kT0 + sec(s) - (s % 2) * 400, 4),
                                 count("zc-floor", ++seq, kT0 + sec(s), 4.0 * s)};
      m.apply(rs);
      const auto ev = m.evaluate();
      for (const AlertEvent& e : ev.events) log += to_json(e).dump() + "\n";
      log += to_json(ev.state).dump() + "\n";
    }
    return log;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace vigil::ops
