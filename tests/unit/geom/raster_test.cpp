// SPDX-License-Identifier: Apache-2.0
#include "geom/raster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <vector>

namespace vigil::geom {
namespace {

Ring rect(double x0, double y0, double x1, double y1) {
  return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

int count(const std::vector<std::uint8_t>& mask) {
  int n = 0;
  for (const std::uint8_t v : mask) n += v != 0;
  return n;
}

// Cells reachable from (i, j) through unmarked cells by 8-neighbour steps.
std::vector<std::uint8_t> flood8(const GridSpec& g, const std::vector<std::uint8_t>& wall, int i,
                                 int j) {
  std::vector<std::uint8_t> seen(g.size(), 0);
  std::deque<std::pair<int, int>> todo{{i, j}};
  seen[g.index(i, j)] = 1;
  while (!todo.empty()) {
    const auto [ci, cj] = todo.front();
    todo.pop_front();
    for (int dj = -1; dj <= 1; ++dj)
      for (int di = -1; di <= 1; ++di) {
        const int ni = ci + di;
        const int nj = cj + dj;
        if (!g.in_range(ni, nj) || wall[g.index(ni, nj)] || seen[g.index(ni, nj)]) continue;
        seen[g.index(ni, nj)] = 1;
        todo.emplace_back(ni, nj);
      }
  }
  return seen;
}

TEST(RasterGrid, CoveringAddsMarginAndAlignsToCellSize) {
  Box b;
  b.extend(Vec2{1.1, -0.3});
  b.extend(Vec2{3.0, 2.2});
  const GridSpec g = GridSpec::covering(b, 0.25, 2);
  EXPECT_DOUBLE_EQ(g.cell_m, 0.25);
  // Origin on a multiple of the cell size, two cells below the box.
  EXPECT_DOUBLE_EQ(g.origin.x, 1.0 - 0.5);
  EXPECT_DOUBLE_EQ(g.origin.y, -0.5 - 0.5);
  // The cells holding the box corners, and two more cells beyond each.
  EXPECT_EQ(g.cell_x(b.min.x), 2);
  EXPECT_EQ(g.cell_y(b.min.y), 2);
  EXPECT_EQ(g.cell_x(b.max.x), g.nx - 3);
  EXPECT_EQ(g.cell_y(b.max.y), g.ny - 3);
  EXPECT_EQ(g.size(), static_cast<std::size_t>(g.nx * g.ny));
}

TEST(RasterGrid, CoveringAnEmptyBoxIsEmpty) {
  const GridSpec g = GridSpec::covering(Box{}, 0.5);
  EXPECT_EQ(g.size(), 0U);
}

TEST(RasterGrid, CoveringRejectsANonPositiveCellSize) {
  Box b;
  b.extend(Vec2{0, 0});
  b.extend(Vec2{1, 1});
  EXPECT_THROW(GridSpec::covering(b, 0.0), std::invalid_argument);
  EXPECT_THROW(GridSpec::covering(b, -1.0), std::invalid_argument);
  EXPECT_THROW(GridSpec::covering(b, NAN), std::invalid_argument);
  b.extend(Vec2{1e12, 1});
  EXPECT_THROW(GridSpec::covering(b, 0.25), std::invalid_argument);
}

TEST(RasterPolygon, RectangleFillsExactlyTheCellsWhoseCentresAreInside) {
  Polygon p{rect(0, 0, 2, 1), {}};
  const GridSpec g = GridSpec::covering(bounds(p), 0.25);
  std::vector<std::uint8_t> mask(g.size(), 0);
  fill_polygon(g, p, mask, 1);
  EXPECT_EQ(count(mask), 8 * 4);
  EXPECT_EQ(mask[g.index(g.cell_x(0.1), g.cell_y(0.1))], 1);
  EXPECT_EQ(mask[g.index(g.cell_x(1.9), g.cell_y(0.9))], 1);
  EXPECT_EQ(mask[g.index(g.cell_x(2.1), g.cell_y(0.5))], 0);
}

TEST(RasterPolygon, HolesAreLeftOutAndOtherCellsKeepTheirValue) {
  Polygon p{rect(0, 0, 4, 4), {rect(1, 1, 3, 3)}};
  const GridSpec g = GridSpec::covering(bounds(p), 0.5);
  std::vector<std::uint8_t> mask(g.size(), 7);
  fill_polygon(g, p, mask, 1);
  int ones = 0;
  int sevens = 0;
  for (const std::uint8_t v : mask) {
    ones += v == 1;
    sevens += v == 7;
  }
  EXPECT_EQ(ones, 8 * 8 - 4 * 4);
  EXPECT_EQ(sevens, static_cast<int>(g.size()) - ones);
  EXPECT_EQ(mask[g.index(g.cell_x(2.0), g.cell_y(2.0))], 7);
}

TEST(RasterPolygon, AgreesWithPointInPolygonAtEveryCentre) {
  // A concave, clockwise ring with a hole, at coordinates off the cell lattice.
  Polygon p;
  p.outer = {{0.13, 0.07}, {1.71, 4.93}, {3.3, 1.9}, {5.87, 5.41}, {6.02, 0.31}, {3.1, -1.27}};
  std::reverse(p.outer.begin(), p.outer.end());
  p.holes.push_back({{4.1, 1.2}, {5.1, 1.3}, {4.6, 2.4}});
  const GridSpec g = GridSpec::covering(bounds(p), 0.1);
  std::vector<std::uint8_t> mask(g.size(), 0);
  fill_polygon(g, p, mask, 1);
  int inside = 0;
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const bool expected = contains(p, g.centre(i, j));
      inside += expected;
      ASSERT_EQ(mask[g.index(i, j)] != 0, expected) << "cell " << i << "," << j;
    }
  EXPECT_NEAR(inside * 0.01, area(p), 0.05 * area(p));
}

TEST(RasterPolygon, PolygonPartlyOutsideTheGridIsClipped) {
  GridSpec g;
  g.origin = {0, 0};
  g.cell_m = 1;
  g.nx = 4;
  g.ny = 4;
  std::vector<std::uint8_t> mask(g.size(), 0);
  fill_polygon(g, Polygon{rect(-10, 1, 2, 30), {}}, mask, 1);
  EXPECT_EQ(count(mask), 2 * 3);
}

TEST(RasterPolygon, WrongMaskSizeIsAProgrammingError) {
  const GridSpec g = GridSpec::covering(bounds(Polygon{rect(0, 0, 1, 1), {}}), 0.5);
  std::vector<std::uint8_t> mask(3, 0);
  EXPECT_THROW(fill_polygon(g, Polygon{rect(0, 0, 1, 1), {}}, mask, 1), std::invalid_argument);
  EXPECT_THROW(fill_segment(g, Segment{{0, 0}, {1, 1}}, mask, 1), std::invalid_argument);
}

TEST(RasterSegment, MarksEveryCellTheSegmentPassesThrough) {
  GridSpec g;
  g.origin = {-1, -1};
  g.cell_m = 0.25;
  g.nx = 40;
  g.ny = 40;
  const Segment segments[] = {{{0.1, 0.3}, {7.3, 5.9}},  {{6.8, 0.2}, {0.4, 7.7}},
                              {{2.0, 0.5}, {2.0, 6.5}},  {{0.5, 3.0}, {7.5, 3.0}},
                              {{0.0, 0.0}, {5.0, 5.0}},  {{0.3, 0.1}, {0.35, 7.9}}};
  for (const Segment& s : segments) {
    std::vector<std::uint8_t> mask(g.size(), 0);
    fill_segment(g, s, mask, 1);
    for (int k = 0; k <= 4000; ++k) {
      const Vec2 q = s.a + (s.b - s.a) * (k / 4000.0);
      ASSERT_EQ(mask[g.index(g.cell_x(q.x), g.cell_y(q.y))], 1) << "at " << q.x << "," << q.y;
    }
    // A supercover line is thin: a cell is marked only if the segment comes within its square.
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) {
        if (!mask[g.index(i, j)]) continue;
        const Vec2 c = g.centre(i, j);
        ASSERT_LE(distance(c, s), g.cell_m * std::sqrt(0.5) + 1e-9) << "cell " << i << "," << j;
      }
  }
}

TEST(RasterSegment, AWallAcrossTheGridCannotBeCrossedByDiagonalSteps) {
  GridSpec g;
  g.origin = {0, 0};
  g.cell_m = 0.25;
  g.nx = 40;
  g.ny = 40;
  // Lines through grid vertices are the hard case for diagonal leaks.
  const Segment walls[] = {{{-1, -1}, {11, 11}}, {{-1, 11}, {11, -1}},  {{-1, 2.3}, {11, 7.9}},
                           {{3.3, -1}, {6.1, 11}}, {{-1, 5.0}, {11, 5.0}}, {{5.0, -1}, {5.0, 11}}};
  for (const Segment& w : walls) {
    std::vector<std::uint8_t> mask(g.size(), 0);
    fill_segment(g, w, mask, 1);
    // Pick one unmarked cell on each side of the line and check they are not 8-connected.
    const Vec2 d = w.b - w.a;
    const Vec2 n = normalized(Vec2{-d.y, d.x});
    const Vec2 mid = w.midpoint();
    const Vec2 left = mid + n * 2.0;
    const Vec2 right = mid - n * 2.0;
    const auto seen = flood8(g, mask, g.cell_x(left.x), g.cell_y(left.y));
    EXPECT_EQ(seen[g.index(g.cell_x(right.x), g.cell_y(right.y))], 0)
        << "wall " << w.a.x << "," << w.a.y << " -> " << w.b.x << "," << w.b.y;
  }
}

TEST(RasterSegment, ADegenerateSegmentMarksItsCell) {
  GridSpec g;
  g.origin = {0, 0};
  g.cell_m = 1;
  g.nx = 3;
  g.ny = 3;
  std::vector<std::uint8_t> mask(g.size(), 0);
  fill_segment(g, Segment{{1.5, 1.5}, {1.5, 1.5}}, mask, 1);
  EXPECT_EQ(count(mask), 1);
  EXPECT_EQ(mask[g.index(1, 1)], 1);
}

}  // namespace
}  // namespace vigil::geom
