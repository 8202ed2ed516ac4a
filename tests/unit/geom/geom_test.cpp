// SPDX-License-Identifier: Apache-2.0
#include "geom/geom.hpp"

#include <gtest/gtest.h>

#include "geom/boolean.hpp"

namespace vigil::geom {
namespace {

Polygon rect(double x0, double y0, double x1, double y1) {
  return Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}, {}};
}

TEST(Geom, AreaOfPolygonWithHole) {
  Polygon p = rect(0, 0, 10, 10);
  p.holes.push_back({{2, 2}, {2, 4}, {4, 4}, {4, 2}});  // clockwise or not, it is subtracted
  EXPECT_DOUBLE_EQ(area(p), 96.0);
  EXPECT_GT(signed_area(p.outer), 0);
}

TEST(Geom, ContainsRespectsHoles) {
  Polygon p = rect(0, 0, 10, 10);
  p.holes.push_back({{2, 2}, {4, 2}, {4, 4}, {2, 4}});
  EXPECT_TRUE(contains(p, {1, 1}));
  EXPECT_FALSE(contains(p, {3, 3}));
  EXPECT_FALSE(contains(p, {11, 1}));
}

TEST(Geom, DistanceToSegmentClampsToEnds) {
  const Segment s{{0, 0}, {10, 0}};
  double t = -1;
  EXPECT_DOUBLE_EQ(distance(Vec2{5, 3}, s, &t), 3.0);
  EXPECT_DOUBLE_EQ(t, 0.5);
  EXPECT_DOUBLE_EQ(distance(Vec2{13, 4}, s), 5.0);
}

TEST(Geom, SegmentIntersectionCases) {
  EXPECT_TRUE(segments_intersect({{0, 0}, {2, 2}}, {{0, 2}, {2, 0}}));
  EXPECT_TRUE(segments_cross({{0, 0}, {2, 2}}, {{0, 2}, {2, 0}}));
  EXPECT_TRUE(segments_intersect({{0, 0}, {2, 0}}, {{2, 0}, {3, 5}}));  // touching end
  EXPECT_FALSE(segments_cross({{0, 0}, {2, 0}}, {{2, 0}, {3, 5}}));
  EXPECT_FALSE(segments_intersect({{0, 0}, {1, 0}}, {{2, 0}, {3, 0}}));  // collinear apart
  EXPECT_TRUE(segments_intersect({{0, 0}, {2, 0}}, {{1, 0}, {3, 0}}));   // collinear overlap
}

TEST(Geom, FindsSelfIntersectionInBowtie) {
  const Ring bowtie{{0, 0}, {2, 2}, {2, 0}, {0, 2}};
  EXPECT_TRUE(find_self_intersection(bowtie).has_value());
  EXPECT_FALSE(find_self_intersection(rect(0, 0, 1, 1).outer).has_value());
}

TEST(Geom, FindsRepeatedPointAndFoldBack) {
  EXPECT_TRUE(find_self_intersection(Ring{{0, 0}, {1, 0}, {1, 0}, {1, 1}}).has_value());
  // Spike: goes out along x and comes back over itself.
  EXPECT_TRUE(find_self_intersection(Ring{{0, 0}, {4, 0}, {2, 0}, {2, 2}}).has_value());
}

TEST(Geom, LengthInsideCountsOnlyCoveredPart) {
  const MultiPolygon m{rect(0, 0, 10, 10)};
  EXPECT_NEAR(length_inside({{-5, 5}, {5, 5}}, m), 5.0, 1e-9);
  EXPECT_NEAR(length_inside({{20, 5}, {25, 5}}, m), 0.0, 1e-9);
  Polygon with_hole = rect(0, 0, 10, 10);
  with_hole.holes.push_back({{4, 0.5}, {6, 0.5}, {6, 9.5}, {4, 9.5}});
  EXPECT_NEAR(length_inside({{0, 5}, {10, 5}}, MultiPolygon{with_hole}), 8.0, 1e-9);
}

TEST(Geom, UnionOfAdjacentRectanglesIsOnePolygon) {
  const MultiPolygon u = union_all({rect(0, 0, 10, 10), rect(10, 2, 14, 8)});
  ASSERT_EQ(u.size(), 1u);
  EXPECT_NEAR(area(u), 124.0, 1e-9);
}

TEST(Geom, DifferenceMakesHoleAndIntersectionArea) {
  const MultiPolygon d = difference({rect(0, 0, 10, 10)}, {rect(4, 4, 6, 6)});
  EXPECT_NEAR(area(d), 96.0, 1e-9);
  EXPECT_FALSE(contains(d, {5, 5}));
  EXPECT_NEAR(intersection_area(rect(0, 0, 10, 10), rect(5, 5, 15, 15)), 25.0, 1e-9);
  EXPECT_DOUBLE_EQ(intersection_area(rect(0, 0, 1, 1), rect(5, 5, 6, 6)), 0.0);
}

}  // namespace
}  // namespace vigil::geom
