// SPDX-License-Identifier: Apache-2.0
// Sensor health: ok → stale → silent with time, and the implausible cases (too many crossings
// for the line's width, repeated negative occupancy, counters that disagree). Readings from
// an implausible sensor still count.
#include <gtest/gtest.h>

#include "ops/occupancy.hpp"
#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using test::count;
using test::flow;
using test::kT0;
using test::sec;

class Health : public ::testing::Test {
 protected:
  venue::Venue venue_ = test::small_venue();
  ManualClock clock_{kT0};
  OccupancyEstimator est_{venue_, clock_};

  SensorHealth health(const std::string& id) {
    const VenueState s = est_.state();
    const SensorHealth* h = s.sensor(id);
    EXPECT_NE(h, nullptr) << id;
    return h != nullptr ? *h : SensorHealth{};
  }
};

TEST_F(Health, NeverSeenIsSilent) {
  const SensorHealth h = health("lc-in");
  EXPECT_EQ(h.status, SensorStatus::silent);
  EXPECT_FALSE(h.last_seen_ms.has_value());
}

TEST_F(Health, OkThenStaleThenSilentThenOkAgain) {
  est_.apply(flow("lc-in", 1, kT0, 1));
  EXPECT_EQ(health("lc-in").status, SensorStatus::ok);
  EXPECT_EQ(health("lc-in").last_seen_ms, kT0);
  clock_.advance(sec(59.999));
  EXPECT_EQ(health("lc-in").status, SensorStatus::ok);
  clock_.advance(1);
  EXPECT_EQ(health("lc-in").status, SensorStatus::stale);
  clock_.set(kT0 + sec(299));
  EXPECT_EQ(health("lc-in").status, SensorStatus::stale);
  clock_.set(kT0 + sec(300));
  EXPECT_EQ(health("lc-in").status, SensorStatus::silent);
  est_.apply(flow("lc-in", 2, kT0 + sec(300), 1));
  EXPECT_EQ(health("lc-in").status, SensorStatus::ok);
}

TEST_F(Health, ConfigurableLimits) {
  HealthConfig h;
  h.stale_after_s = 10;
  h.silent_after_s = 20;
  est_.set_health_config(h);
  est_.apply(count("zc-hall", 1, kT0, 5));
  clock_.advance(sec(10));
  EXPECT_EQ(health("zc-hall").status, SensorStatus::stale);
  clock_.advance(sec(10));
  EXPECT_EQ(health("zc-hall").status, SensorStatus::silent);
}

TEST_F(Health, LastSeenIsNotInTheFuture) {
  est_.apply(flow("lc-in", 1, kT0 + sec(30), 1));  // sensor clock 30 s ahead
  EXPECT_EQ(health("lc-in").last_seen_ms, kT0);
}

TEST_F(Health, TooManyCrossingsForTheLineWidthIsImplausibleButCounts) {
  // lc-door is 2 m wide: at 2 persons/(m·s) at most 4 crossings per second.
  std::int64_t seq = 0;
  for (int t = 1; t <= 5; ++t) est_.apply(flow("lc-side", ++seq, kT0 + sec(t), 4));
  clock_.set(kT0 + sec(5));
  EXPECT_EQ(health("lc-side").status, SensorStatus::ok);
  clock_.set(kT0 + sec(6));
  est_.apply(flow("lc-side", ++seq, kT0 + sec(6), 9));
  SensorHealth h = health("lc-side");
  EXPECT_EQ(h.status, SensorStatus::implausible);
  EXPECT_TRUE(h.rate_exceeded);
  ASSERT_EQ(h.reasons.size(), 1u);
  EXPECT_NE(h.reasons[0].find("4.5 crossings per metre"), std::string::npos) << h.reasons[0];
  EXPECT_DOUBLE_EQ(est_.state().zone("hall")->occupancy, 29);  // still counted
  // A long gap makes a big reading plausible: 300 crossings over 100 s on 2 m is 1.5/(m·s).
  est_.apply(flow("lc-door", 1, kT0, 0));
  est_.apply(flow("lc-door", 2, kT0 + sec(100), 300));
  clock_.set(kT0 + sec(100));
  EXPECT_FALSE(health("lc-door").rate_exceeded);
  // The flag holds for implausible_hold_s after the last violation, then clears.
  for (int t = 7; t <= 306; t += 5) {
    clock_.set(kT0 + sec(t));
    est_.apply(flow("lc-side", ++seq, kT0 + sec(t), 1));
  }
  clock_.set(kT0 + sec(305));
  EXPECT_EQ(health("lc-side").status, SensorStatus::implausible);
  clock_.set(kT0 + sec(306));
  EXPECT_EQ(health("lc-side").status, SensorStatus::ok);
}

TEST_F(Health, RepeatedNegativeOccupancyIsImplausible) {
  // The door counter keeps reporting people leaving the (empty) hall.
  for (int i = 1; i <= 3; ++i) {
    est_.apply(flow("lc-door", i, kT0 + sec(i * 20), 0, 3));
    clock_.set(kT0 + sec(i * 20 + 11));  // each is committed past the reorder window
    const SensorHealth h = health("lc-door");
    EXPECT_EQ(h.negative_occupancy, i == 3) << i;
  }
  const SensorHealth h = health("lc-door");
  EXPECT_EQ(h.status, SensorStatus::implausible);
  EXPECT_DOUBLE_EQ(h.negative_persons, 9);
  EXPECT_DOUBLE_EQ(est_.state().zone("hall")->occupancy, 0);
  EXPECT_DOUBLE_EQ(est_.state().zone("lobby")->occupancy, 9);  // what left the hall entered it
}

TEST_F(Health, SpreadOutNegativesAreNotEvidence) {
  for (int i = 1; i <= 3; ++i) {
    est_.apply(flow("lc-door", i, kT0 + sec(i * 200), 0, 3));  // 3 clamps over 400 s > 300 s
    clock_.set(kT0 + sec(i * 200 + 11));
    est_.state();
  }
  EXPECT_FALSE(health("lc-door").negative_occupancy);
}

TEST_F(Health, CountersThatDisagree) {
  // The hall's zone counter is stuck at 100 while its side door lets in 1 person/s.
  std::int64_t fseq = 0, cseq = 0;
  bool active_at_100s = true;
  for (int t = 0; t <= 300; ++t) {
    clock_.set(kT0 + sec(t));
    if (t > 0) est_.apply(flow("lc-side", ++fseq, kT0 + sec(t), 1));
    if (t % 10 == 0) est_.apply(count("zc-hall", ++cseq, kT0 + sec(t), 100));
    if (t == 100) {
      const VenueState s = est_.state();
      active_at_100s = !s.disagreements.empty() && s.disagreements[0].active;
    }
  }
  EXPECT_FALSE(active_at_100s);
  const VenueState s = est_.state();
  ASSERT_EQ(s.disagreements.size(), 1u);
  const Disagreement& d = s.disagreements[0];
  EXPECT_EQ(d.zone, "hall");
  EXPECT_EQ(d.sensor, "zc-hall");
  EXPECT_TRUE(d.active);
  EXPECT_DOUBLE_EQ(d.count, 100);
  EXPECT_GT(d.flow_estimate, 300);
  EXPECT_EQ(d.line_counters, (std::vector<std::string>{"lc-door", "lc-side"}));
  const SensorHealth* h = s.sensor("zc-hall");
  EXPECT_EQ(h->status, SensorStatus::implausible);
  EXPECT_TRUE(h->disagrees);
  EXPECT_EQ(s.sensor("lc-side")->status, SensorStatus::ok);
}

TEST_F(Health, CountersThatAgreeWithinTolerance) {
  // Flows and counts differ by a few persons only: no disagreement.
  std::int64_t fseq = 0, cseq = 0;
  for (int t = 0; t <= 400; ++t) {
    clock_.set(kT0 + sec(t));
    if (t > 0) est_.apply(flow("lc-side", ++fseq, kT0 + sec(t), 1));
    if (t % 10 == 0) est_.apply(count("zc-hall", ++cseq, kT0 + sec(t), 100 + t * 0.95));
  }
  const VenueState s = est_.state();
  for (const Disagreement& d : s.disagreements) EXPECT_FALSE(d.active);
  EXPECT_EQ(s.sensor("zc-hall")->status, SensorStatus::ok);
}

}  // namespace
}  // namespace vigil::ops
