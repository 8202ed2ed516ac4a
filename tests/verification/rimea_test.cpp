// SPDX-License-Identifier: Apache-2.0
// RiMEA guideline tests (version 3.0 numbering; /work/shared/ref/verification.md). Each case is
// defined once in scenarios.cpp (set-up, run, figures, verdict against its criterion); these
// tests assert the verdicts and print the figures. docs/verification.md is generated from the
// same cases by verification_report.
#include <cstdio>

#include <gtest/gtest.h>

#include "scenarios.hpp"

namespace vigil::sim::verification {
namespace {

void expect_pass(const Outcome& o) {
  std::printf("%s: %s\n", o.id.c_str(), o.measured.c_str());
  EXPECT_TRUE(o.pass) << o.id << ": " << o.setup << "\ncriterion: " << o.criterion << "\nmeasured: " << o.measured;
}

TEST(RiMEA, Test1OnePersonWalks40mIn26To34s) { expect_pass(rimea1()); }
TEST(RiMEA, Test2StairUpTakesTheDeclaredTime) { expect_pass(rimea2()); }
TEST(RiMEA, Test3StairDownTakesTheDeclaredTime) { expect_pass(rimea3()); }
TEST(RiMEA, Test4FundamentalDiagramFollowsWeidmann) { expect_pass(rimea4()); }
TEST(RiMEA, Test5EachPersonStartsAtItsPremovementTime) { expect_pass(rimea5()); }
TEST(RiMEA, Test6NobodyPassesThroughWallsRoundTheCorner) { expect_pass(rimea6()); }
TEST(RiMEA, Test7SampledSpeedsFollowTheGroupRanges) { expect_pass(rimea7()); }
TEST(RiMEA, Test8SchoolEvacuatesPlausibly) { expect_pass(rimea8()); }
TEST(RiMEA, Test9ClosingHalfTheExitsRoughlyDoublesTheTime) { expect_pass(rimea9()); }
TEST(RiMEA, Test10EveryoneUsesTheAssignedExit) { expect_pass(rimea10()); }
TEST(RiMEA, Test11NearExitFavouredFarExitUsedWhenItCongests) { expect_pass(rimea11()); }
TEST(RiMEA, Test12FlowThroughTheBottleneckStaysBelowTheLimit) { expect_pass(rimea12()); }
TEST(RiMEA, Test13FlowUpTheStairIsBelowTheFlowOnTheLevel) { expect_pass(rimea13()); }
TEST(RiMEA, Test14RouteIsTheShorterWalkingDistance) { expect_pass(rimea14()); }
TEST(RiMEA, Test15FlowRoundTheCornerLiesBetweenTheStraightCases) { expect_pass(rimea15()); }

}  // namespace
}  // namespace vigil::sim::verification
