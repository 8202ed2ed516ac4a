// SPDX-License-Identifier: Apache-2.0
// The occupancy estimator: flows between zones, absolute counts correcting flow error, never
// negative, late and out-of-order readings, duplicates and counter resets, density, trend.
#include "ops/occupancy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using test::count;
using test::density;
using test::flow;
using test::kT0;
using test::sec;

class Estimator : public ::testing::Test {
 protected:
  venue::Venue venue_ = test::small_venue();
  ManualClock clock_{kT0};
  OccupancyEstimator est_{venue_, clock_};

  double occ(const std::string& zone) {
    VenueState s = est_.state();
    const ZoneEstimate* z = s.zone(zone);
    EXPECT_NE(z, nullptr) << zone;
    return z != nullptr ? z->occupancy : -1;
  }
};

TEST(OpsOccupancy, FruinLevelsOfService) {
  EXPECT_EQ(fruin_level_of_service(0), 'A');
  EXPECT_EQ(fruin_level_of_service(0.30), 'A');
  EXPECT_EQ(fruin_level_of_service(0.31), 'B');
  EXPECT_EQ(fruin_level_of_service(0.43), 'C');
  EXPECT_EQ(fruin_level_of_service(0.72), 'D');
  EXPECT_EQ(fruin_level_of_service(1.08), 'E');
  EXPECT_EQ(fruin_level_of_service(2.17), 'E');
  EXPECT_EQ(fruin_level_of_service(2.18), 'F');
  EXPECT_EQ(fruin_level_of_service(5), 'F');
}

TEST_F(Estimator, FlowsMovePeopleBetweenZones) {
  std::vector<Reading> rs = {flow("lc-in", 1, kT0 + 1000, 10),
                             flow("lc-door", 1, kT0 + 2000, 4, 1)};
  const ApplyResult r = est_.apply(rs);
  EXPECT_EQ(r.accepted, 2u);
  clock_.advance(sec(3));
  const VenueState s = est_.state();
  EXPECT_DOUBLE_EQ(s.zone("lobby")->occupancy, 7);  // 10 in, 3 on to the hall
  EXPECT_DOUBLE_EQ(s.zone("hall")->occupancy, 3);
  EXPECT_DOUBLE_EQ(s.occupancy, 10);
  // `out` at the entrance leaves the venue.
  est_.apply(flow("lc-in", 2, kT0 + 4000, 0, 2));
  clock_.advance(sec(20));
  const VenueState s2 = est_.state();
  EXPECT_DOUBLE_EQ(s2.zone("lobby")->occupancy, 5);
  EXPECT_DOUBLE_EQ(s2.occupancy, 8);
  EXPECT_DOUBLE_EQ(s2.net_entered, 8);
}

TEST_F(Estimator, DerivedFiguresPerZone) {
  est_.apply(count("zc-hall", 1, kT0, 300));
  est_.apply(density("dn-lobby", 1, kT0, 0.5));  // × 400 m² = 200 persons
  const VenueState s = est_.state();
  const ZoneEstimate* hall = s.zone("hall");
  ASSERT_NE(hall, nullptr);
  EXPECT_DOUBLE_EQ(hall->occupancy, 300);
  EXPECT_NEAR(hall->area_m2, 400, 1e-6);
  EXPECT_NEAR(hall->density_p_m2, 0.75, 1e-9);
  EXPECT_EQ(hall->level_of_service, 'D');
  EXPECT_NEAR(hall->capacity_pct, 75, 1e-9);
  EXPECT_EQ(hall->last_measured_ms, kT0);
  EXPECT_NEAR(s.zone("lobby")->occupancy, 200, 1e-9);
  EXPECT_NEAR(s.zone("lobby")->capacity_pct, 100, 1e-9);
  EXPECT_NEAR(s.occupancy, 500, 1e-9);

  const nlohmann::json j = to_json(s);
  EXPECT_EQ(j["venue"], "test-hall");
  EXPECT_EQ(j["occupancy"], 500);
  EXPECT_EQ(j["zones"]["hall"]["occupancy"], 300);
  EXPECT_EQ(j["zones"]["hall"]["level_of_service"], "D");
  EXPECT_DOUBLE_EQ(j["zones"]["hall"]["density_p_m2"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["zones"]["hall"]["capacity_pct"].get<double>(), 75);
  EXPECT_TRUE(j["zones"]["hall"].contains("trend_p_per_min"));
  EXPECT_EQ(j["sensors"]["zc-hall"]["status"], "ok");
  EXPECT_EQ(j["sensors"]["zc-hall"]["last_seen"], "2023-11-14T22:13:20.000Z");
  EXPECT_TRUE(j["sensors"]["lc-in"]["last_seen"].is_null());
  EXPECT_EQ(j["sensors"]["lc-in"]["status"], "silent");
}

TEST_F(Estimator, NeverNegativeAndTheDeficitIsEvidence) {
  // Nobody has entered the lobby, yet the door counter says 5 went from it into the hall.
  est_.apply(flow("lc-door", 1, kT0 + 1000, 5));
  clock_.advance(sec(15));  // past the reorder window: committed
  const VenueState s = est_.state();
  EXPECT_DOUBLE_EQ(s.zone("lobby")->occupancy, 0);
  EXPECT_DOUBLE_EQ(s.zone("hall")->occupancy, 5);
  EXPECT_DOUBLE_EQ(s.sensor("lc-door")->negative_persons, 5);
  EXPECT_FALSE(s.sensor("lc-door")->negative_occupancy);  // once is not "repeatedly"
  // Leaving more than are there also clamps.
  est_.apply(flow("lc-side", 1, kT0 + sec(16), 0, 9));
  clock_.advance(sec(15));
  EXPECT_DOUBLE_EQ(occ("hall"), 0);
}

TEST_F(Estimator, CountsCorrectFlowDrift) {
  // 2 persons/s really enter the hall by the side door; its counter over-counts by 10 %
  // (every fifth second it reports 3). The zone counter reports the truth every 10 s.
  ManualClock clock2{kT0};
  OccupancyEstimator flows_only(venue_, clock2);
  std::int64_t seq = 0, cseq = 0;
  for (int t = 1; t <= 300; ++t) {
    clock_.set(kT0 + sec(t));
    clock2.set(kT0 + sec(t));
    const double reported = t % 5 == 0 ? 3 : 2;
    const Reading r = flow("lc-side", ++seq, kT0 + sec(t), reported);
    est_.apply(r);
    flows_only.apply(r);
    if (t % 10 == 0) est_.apply(count("zc-hall", ++cseq, kT0 + sec(t), 2.0 * t));
  }
  clock_.advance(sec(1));
  clock2.advance(sec(1));
  EXPECT_NEAR(flows_only.state().zone("hall")->occupancy, 660, 1e-9);  // drifted by 60
  EXPECT_NEAR(occ("hall"), 600, 5);                                    // held near the truth
}

// An evacuation empties the hall at 10 persons/s through openings without line counters; the
// zone counter reports the truth every second. With the gain floor of 0.5 for noisy counts the
// estimate lags ~10 persons behind; surprises of one sign in a row raise the gain and keep it
// close.
TEST_F(Estimator, FollowsFastUnsensedMovementFromCounts) {
  EstimatorConfig fixed_config;
  fixed_config.adapt_sigmas = 0;
  fixed_config.trend_runs = 0;
  ManualClock clock2{kT0};
  OccupancyEstimator fixed(venue_, clock2, fixed_config);
  double worst = 0;
  double worst_fixed = 0;
  for (int t = 0; t <= 40; ++t) {
    const double truth = 500.0 - 10.0 * t;
    clock_.set(kT0 + sec(t));
    clock2.set(kT0 + sec(t));
    const Reading c = count("zc-hall", t + 1, kT0 + sec(t), truth);
    est_.apply(c);
    fixed.apply(c);
    if (t < 5) continue;  // the first seconds: the surprise is still being learnt
    worst = std::max(worst, std::abs(occ("hall") - truth));
    worst_fixed = std::max(worst_fixed, std::abs(fixed.state().zone("hall")->occupancy - truth));
  }
  EXPECT_GT(worst_fixed, 8.0);  // the lag this guards against
  EXPECT_LT(worst, 3.0);
}

TEST_F(Estimator, FreshCountDominatesAndFlowsIntegrateBetweenCounts) {
  est_.apply(count("zc-hall", 1, kT0, 100));
  EXPECT_DOUBLE_EQ(occ("hall"), 100);  // first measurement: taken as is
  est_.apply(flow("lc-side", 1, kT0 + sec(1), 20));
  EXPECT_DOUBLE_EQ(occ("hall"), 120);  // flows integrate
  est_.apply(count("zc-hall", 2, kT0 + sec(2), 140));
  const double x = occ("hall");
  EXPECT_GE(x, 130);  // the count moves the estimate at least half way (gain >= 0.5)
  EXPECT_LE(x, 140);
}

TEST_F(Estimator, OutOfOrderWithinTheWindowAppliesByTimestamp) {
  // A count at t=10 s and a flow at t=12 s, arriving flow first: in timestamp order the count
  // anchors the zone at 100 and the flow adds 20; in arrival order the count would erase it.
  clock_.set(kT0 + sec(13));
  est_.apply(flow("lc-side", 1, kT0 + sec(12), 20));
  est_.apply(count("zc-hall", 1, kT0 + sec(10), 100));
  EXPECT_DOUBLE_EQ(occ("hall"), 120);
  clock_.advance(sec(30));  // committed: same answer
  EXPECT_DOUBLE_EQ(occ("hall"), 120);
}

TEST_F(Estimator, LateReadingsAreStillApplied) {
  clock_.set(kT0 + sec(100));
  est_.state();  // commits up to now − 10 s
  std::vector<Reading> rs = {flow("lc-side", 1, kT0 + sec(40), 5),
                             count("zc-hall", 1, kT0 + sec(30), 50)};
  const ApplyResult r = est_.apply(rs);
  EXPECT_EQ(r.late, 2u);
  EXPECT_EQ(r.accepted, 2u);
  // Late readings are applied in arrival order: the flow, then the count re-anchors.
  EXPECT_DOUBLE_EQ(occ("hall"), 50);
}

TEST_F(Estimator, DuplicatesAreCountedOnce) {
  const Reading r = flow("lc-in", 7, kT0 + 500, 4);
  EXPECT_EQ(est_.apply(r).accepted, 1u);
  const ApplyResult again = est_.apply(r);
  EXPECT_EQ(again.accepted, 0u);
  EXPECT_EQ(again.duplicates, 1u);
  // Out-of-order seqs are not duplicates.
  EXPECT_EQ(est_.apply(flow("lc-in", 5, kT0 + 300, 1)).accepted, 1u);
  EXPECT_EQ(est_.apply(flow("lc-in", 5, kT0 + 300, 1)).duplicates, 1u);
  EXPECT_DOUBLE_EQ(occ("lobby"), 5);
  EXPECT_EQ(est_.state().sensor("lc-in")->duplicates, 2u);
}

TEST_F(Estimator, SequenceResetAfterRebootIsNotTakenForDuplicates) {
  for (int i = 1; i <= 5; ++i) est_.apply(flow("lc-in", i, kT0 + sec(i), 1));
  // The device reboots and numbers from 1 again, with newer timestamps.
  const ApplyResult r = est_.apply(flow("lc-in", 1, kT0 + sec(10), 1));
  EXPECT_EQ(r.accepted, 1u);
  EXPECT_EQ(r.resets, 1u);
  EXPECT_EQ(est_.apply(flow("lc-in", 2, kT0 + sec(11), 1)).accepted, 1u);
  EXPECT_DOUBLE_EQ(occ("lobby"), 7);
  EXPECT_EQ(est_.state().sensor("lc-in")->resets, 1u);
}

TEST_F(Estimator, ZoneCounterJumpIsHeldBackUntilItPersists) {
  std::int64_t seq = 0;
  for (int t = 0; t <= 10; ++t) est_.apply(count("zc-hall", ++seq, kT0 + sec(t), 300));
  clock_.set(kT0 + sec(11));
  // The counter reboots and reports 0: not believed at once ...
  est_.apply(count("zc-hall", ++seq, kT0 + sec(11), 0));
  EXPECT_NEAR(occ("hall"), 300, 1e-6);
  for (int t = 12; t < 41; ++t) est_.apply(count("zc-hall", ++seq, kT0 + sec(t), 0));
  clock_.set(kT0 + sec(41));
  EXPECT_NEAR(occ("hall"), 300, 1e-6);
  // ... but after 30 s of insisting, it is.
  est_.apply(count("zc-hall", ++seq, kT0 + sec(41), 0));
  EXPECT_NEAR(occ("hall"), 0, 1e-6);
  // A gradual emptying is followed without delay.
  est_.apply(count("zc-hall", ++seq, kT0 + sec(42), 10));
  EXPECT_GT(occ("hall"), 4.9);
}

TEST_F(Estimator, TrendIsNetChangePerMinuteOverTheWindow) {
  est_.apply(count("zc-hall", 1, kT0, 200));  // first anchor: not a trend
  for (int t = 1; t <= 60; ++t) est_.apply(flow("lc-side", t, kT0 + sec(t), 2));
  clock_.set(kT0 + sec(60));
  VenueState s = est_.state();
  EXPECT_NEAR(s.zone("hall")->trend_p_per_min, 120, 1e-9);
  EXPECT_NEAR(s.zone("hall")->occupancy, 320, 1e-9);
  // A minute later with no movement the trend is back to zero.
  clock_.set(kT0 + sec(121));
  s = est_.state();
  EXPECT_NEAR(s.zone("hall")->trend_p_per_min, 0, 1e-9);
}

TEST_F(Estimator, ConcertHallIngress) {
  const venue::Venue hall = test::concert_hall();
  ManualClock clock(kT0);
  OccupancyEstimator est(hall, clock);
  std::int64_t seq = 0;
  // 18 persons/s through E1..E3 for 2 minutes; 12/s go on through D1..D4 into the floor, and
  // 4/s up the west stair to the balcony foyer (all within what the lines' widths allow).
  for (int t = 1; t <= 120; ++t) {
    std::vector<Reading> batch = {
        flow("lc-E1", ++seq, kT0 + sec(t), 6), flow("lc-E2", ++seq, kT0 + sec(t), 6),
        flow("lc-E3", ++seq, kT0 + sec(t), 6), flow("lc-D1", ++seq, kT0 + sec(t), 3),
        flow("lc-D2", ++seq, kT0 + sec(t), 3), flow("lc-D3", ++seq, kT0 + sec(t), 3),
        flow("lc-D4", ++seq, kT0 + sec(t), 3), flow("lc-S1", ++seq, kT0 + sec(t), 4)};
    clock.set(kT0 + sec(t));
    const ApplyResult r = est.apply(batch);
    ASSERT_EQ(r.accepted, batch.size());
  }
  const VenueState s = est.state();
  EXPECT_EQ(s.zones.size(), hall.zones.size());
  EXPECT_EQ(s.sensors.size(), hall.sensors.size());
  EXPECT_NEAR(s.occupancy, 2160, 1e-6);
  EXPECT_NEAR(s.net_entered, 2160, 1e-6);
  EXPECT_NEAR(s.zone("floor")->occupancy, 1440, 1e-6);
  EXPECT_NEAR(s.zone("balcony-foyer")->occupancy, 480, 1e-6);
  EXPECT_NEAR(s.zone("foyer")->occupancy, 240, 1e-6);
  EXPECT_NEAR(s.zone("floor")->trend_p_per_min, 720, 1e-6);
  EXPECT_EQ(s.sensor("lc-E1")->status, SensorStatus::ok);
  EXPECT_EQ(s.sensor("zc-floor")->status, SensorStatus::silent);
}

}  // namespace
}  // namespace vigil::ops
