// SPDX-License-Identifier: Apache-2.0
// A regular grid over a level and scan-line rasterisation of polygons and segments onto it.
#pragma once

#include <cstdint>
#include <vector>

#include "geom/geom.hpp"

namespace vigil::geom {

// Cell (i, j) covers [origin.x + i*cell_m, +cell_m) x [origin.y + j*cell_m, +cell_m);
// its centre is the sample point.
struct GridSpec {
  Vec2 origin;
  double cell_m = 0.25;
  int nx = 0;
  int ny = 0;

  std::size_t size() const { return static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny); }
  std::size_t index(int i, int j) const {
    return static_cast<std::size_t>(j) * static_cast<std::size_t>(nx) + static_cast<std::size_t>(i);
  }
  Vec2 centre(int i, int j) const {
    return {origin.x + (i + 0.5) * cell_m, origin.y + (j + 0.5) * cell_m};
  }
  bool in_range(int i, int j) const { return i >= 0 && j >= 0 && i < nx && j < ny; }
  // The cell containing p (may be out of range).
  int cell_x(double x) const { return static_cast<int>(std::floor((x - origin.x) / cell_m)); }
  int cell_y(double y) const { return static_cast<int>(std::floor((y - origin.y) / cell_m)); }

  // A grid covering `box` with `margin_cells` of border on every side.
  static GridSpec covering(const Box& box, double cell_m, int margin_cells = 2);
};

// Sets mask[cell] = value for every cell whose centre lies inside the polygon (even-odd over
// the outer ring and holes).
void fill_polygon(const GridSpec& g, const Polygon& poly, std::vector<std::uint8_t>& mask,
                  std::uint8_t value);
// Sets mask[cell] = value for every cell the segment passes through (a supercover line, so
// that a line of such cells cannot be crossed by 4- or 8-neighbour steps).
void fill_segment(const GridSpec& g, const Segment& s, std::vector<std::uint8_t>& mask,
                  std::uint8_t value);

}  // namespace vigil::geom
