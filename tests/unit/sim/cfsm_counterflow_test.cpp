// SPDX-License-Identifier: Apache-2.0
// cfsm's rules for people meeting head-on (src/sim/cfsm.cpp): of two people each in the other's
// way, the one with the shorter route goes on (resolve_deadlocks) and the other makes room,
// stepping back and to the right, instead of pressing on.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/model.hpp"
#include "sim/neighbour_grid.hpp"
#include "sim/scenario.hpp"
#include "sim/space.hpp"
#include "test_venues.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)

// Two people 0.7 m apart (0.3 m of free space) in the middle of a 20 m x 10 m room: 0 walks
// east, 1 walks west; their remaining routes are given. Returns both velocities of one step.
// give_way is off unless given, so that each is straight in the other's way.
std::vector<Vec2> head_on(double route_east_m, double route_west_m,
                          const std::map<std::string, double>& params = {{"give_way", 0}}) {
  const auto sc = parse_scenario(
      scenario(room_venue(), json::array({{{"agents", {{1.0, 1.0}}}, {"level", 0}}})), ".");
  EXPECT_TRUE(sc);
  const Space space = Space::build(*sc->venue, {});
  NeighbourGrid grid;
  auto model = make_model("cfsm", params);
  EXPECT_TRUE(model);
  grid.configure(space, model->interaction_range_m());
  const std::vector<double> x{10.0, 10.7}, y{5.0, 5.0}, zero{0.0, 0.0}, radius{0.2, 0.2};
  const std::vector<double> gx{1.0, -1.0}, gy{0.0, 0.0}, route{route_east_m, route_west_m};
  const std::vector<std::int32_t> layer(2, space.level_layer(0));
  const AgentSnapshot snap = AgentSnapshot::of(x, y, zero, zero, radius, layer, gx, gy, route);
  grid.rebuild(snap);
  const ModelContext ctx{snap, grid, space, 0.05};
  return {model->velocity(ctx, {0, {1, 0}, 1.3, 0}), model->velocity(ctx, {1, {-1, 0}, 1.3, 0})};
}

// The one with the longer route (0) makes room, stepping back (-x); the other goes on towards
// its goal (-x) at full speed. Without the make-room rule 0 presses on (+x) at s / T.
TEST(CfsmCounterflow, TheOneWhoWaitsStepsBack) {
  const std::vector<Vec2> v = head_on(20, 5);
  EXPECT_LT(v[0].x, 0) << "the one who waits still presses on";
  EXPECT_LT(v[1].x, -1.0) << "the one with the shorter route does not go on";
}

// The same with the routes swapped: now 1 steps back (+x) and 0 goes on.
TEST(CfsmCounterflow, TheShorterRouteGoesOn) {
  const std::vector<Vec2> v = head_on(5, 20);
  EXPECT_GT(v[0].x, 1.0);
  EXPECT_GT(v[1].x, 0);
}

// Stepping back keeps the time gap to the people behind: with someone 0.3 m (free space) behind
// the one who waits, it steps back at no more than 0.3 m / T, not at its walking speed.
TEST(CfsmCounterflow, NobodyStepsBackIntoThePeopleBehind) {
  const auto sc = parse_scenario(
      scenario(room_venue(), json::array({{{"agents", {{1.0, 1.0}}}, {"level", 0}}})), ".");
  ASSERT_TRUE(sc);
  const Space space = Space::build(*sc->venue, {});
  NeighbourGrid grid;
  auto model = make_model("cfsm", {{"give_way", 0}});
  ASSERT_TRUE(model);
  grid.configure(space, model->interaction_range_m());
  // 0 waits (longer route) between 1 coming west and 2, who walks east behind 0.
  const std::vector<double> x{10.0, 10.7, 9.3}, y{5.0, 5.0, 5.0}, zero(3, 0.0), radius(3, 0.2);
  const std::vector<double> gx{1.0, -1.0, 1.0}, gy(3, 0.0), route{20, 5, 20.4};
  const std::vector<std::int32_t> layer(3, space.level_layer(0));
  const AgentSnapshot snap = AgentSnapshot::of(x, y, zero, zero, radius, layer, gx, gy, route);
  grid.rebuild(snap);
  const ModelContext ctx{snap, grid, space, 0.05};
  const Vec2 v0 = model->velocity(ctx, {0, {1, 0}, 1.3, 0});
  EXPECT_LT(v0.x, 0) << "the one who waits still presses on";
  EXPECT_GE(v0.x, -0.3 - 1e-9) << "stepped back faster than the gap behind allows (T = 1 s)";
}

// As published (resolve_deadlocks = 0, give_way = 0) nobody goes back: both close the gap.
TEST(CfsmCounterflow, WithoutTheAdditionsBothPressOn) {
  const std::vector<Vec2> v = head_on(20, 5, {{"resolve_deadlocks", 0}, {"give_way", 0}});
  EXPECT_GE(v[0].x, 0);
  EXPECT_LE(v[1].x, 0);
}

}  // namespace
}  // namespace vigil::sim
