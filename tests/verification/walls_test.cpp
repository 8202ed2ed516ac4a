// SPDX-License-Identifier: Apache-2.0
// Stress: a crowd in a hall with pillars and a narrow door. Nobody is ever outside the walkable
// space, and everybody gets out (no one stuck at a pillar, corner or door post).
#include <cstdio>

#include <gtest/gtest.h>

#include "../unit/sim/test_venues.hpp"
#include "sim/simulation.hpp"

namespace vigil::sim {
namespace {

using namespace vigil::sim::testing;  // NOLINT(google-build-using-namespace)

class Checker final : public FrameSink {
 public:
  explicit Checker(const venue::Venue& v) : v_(v) {}
  void frame(std::int64_t f, const std::vector<FrameAgent>& agents) override {
    for (const FrameAgent& a : agents) {
      const geom::Vec2 p{a.x, a.y};
      if (!geom::contains(v_.levels.at(0).walkable, p)) {
        ++outside;
        if (outside < 5) std::printf("frame %lld agent %lld at (%.3f, %.3f) is outside\n", static_cast<long long>(f),
                                     static_cast<long long>(a.id), a.x, a.y);
      }
      // Exits are open: only count clearance well inside the hall.
      if (a.x > 0.5 && a.x < 39.5 && geom::distance_to_boundary(v_.levels.at(0).walkable, p) < 0.2 - 1e-3) ++too_close;
    }
  }
  const venue::Venue& v_;
  int outside = 0;
  int too_close = 0;
};

TEST(Walls, CrowdInAHallWithPillarsNeverLeavesWalkableSpace) {
  std::vector<json> f = {area(rect(0, 0, 40, 20)), exit_line("E1", 40, 9.6, 40, 10.4), exit_line("E2", 0, 2, 0, 4),
                         zone("hall", rect(2, 2, 30, 18))};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      const double x = 6 + 7 * i;
      const double y = 4 + 6 * j;
      f.push_back(feature({{"kind", "obstacle"}, {"level", 0}},
                          polygon(ring({{x, y}, {x + 1, y + 0.3}, {x + 0.8, y + 1.2}, {x - 0.2, y + 0.9}}))));
    }
  for (const char* model : {"cfsm", "sfm"}) {
    json doc = scenario(venue(f), json::array({{{"zone", "hall"}, {"count", 600}}}));
    doc["model"] = {{"name", model}};
    doc["routing"] = "quickest";
    doc["max_time_s"] = 900;
    auto sc = parse_scenario(doc, ".");
    ASSERT_TRUE(sc) << sc.error().front().to_string();
    auto agents = place_population(*sc, 3);
    ASSERT_TRUE(agents);
    Checker check(*sc->venue);
    SimOptions opt;
    opt.frames = &check;
    opt.frame_every_steps = 4;
    const RunResult r = simulate(*sc, 3, *agents, opt);
    std::size_t left = 0;
    for (const auto& [reason, n] : r.not_evacuated) left += n;
    std::printf("%s: %zu of 600 out in %.1f s, %d positions outside, %d closer than r to a wall\n", model,
                600 - left, r.end_time_s, check.outside, check.too_close);
    EXPECT_EQ(left, 0u) << model;
    EXPECT_EQ(check.outside, 0) << model;
    EXPECT_EQ(check.too_close, 0) << model;
  }
}

}  // namespace
}  // namespace vigil::sim
