// SPDX-License-Identifier: Apache-2.0
#include "geom/raster.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace vigil::geom {

namespace {

void check_mask(const GridSpec& g, const std::vector<std::uint8_t>& mask, const char* what) {
  if (mask.size() != g.size())
    throw std::invalid_argument(std::string(what) + ": mask has " + std::to_string(mask.size()) +
                                " cells, grid has " + std::to_string(g.size()));
}

// Clamps a value in cell units to a range that is safe to cast to int (NaN becomes 0).
double clamp_cells(double v) { return std::isnan(v) ? 0.0 : std::clamp(v, -1e9, 1e9); }

// Along one axis with cells of size c starting at o: the smallest k whose centre
// o + (k + 0.5) c is >= v. Computed with floor/ceil and then corrected against the centre
// formula itself, so that the answer agrees exactly with GridSpec::centre.
int first_centre_at_or_after(double v, double o, double c) {
  int k = static_cast<int>(std::ceil(clamp_cells((v - o) / c - 0.5)));
  while (o + (k - 1 + 0.5) * c >= v) --k;
  while (o + (k + 0.5) * c < v) ++k;
  return k;
}

}  // namespace

GridSpec GridSpec::covering(const Box& box, double cell_m, int margin_cells) {
  if (!(cell_m > 0) || !std::isfinite(cell_m))
    throw std::invalid_argument("GridSpec::covering: cell_m must be a positive number, got " +
                                std::to_string(cell_m));
  if (margin_cells < 0)
    throw std::invalid_argument("GridSpec::covering: margin_cells must be >= 0");
  GridSpec g;
  g.cell_m = cell_m;
  if (box.empty()) return g;
  // The origin is snapped to a multiple of cell_m, so that all grids of one cell size share
  // cell boundaries (level and stair layers line up cell for cell).
  const double ox = (std::floor(box.min.x / cell_m) - margin_cells) * cell_m;
  const double oy = (std::floor(box.min.y / cell_m) - margin_cells) * cell_m;
  g.origin = {ox, oy};
  // The cell containing box.max, plus the margin beyond it.
  const double nx = std::floor((box.max.x - ox) / cell_m) + 1 + margin_cells;
  const double ny = std::floor((box.max.y - oy) / cell_m) + 1 + margin_cells;
  constexpr double kMaxSide = 1 << 30;
  if (!(nx < kMaxSide && ny < kMaxSide))
    throw std::invalid_argument("GridSpec::covering: a grid of " + std::to_string(nx) + " x " +
                                std::to_string(ny) + " cells is too large");
  g.nx = static_cast<int>(nx);
  g.ny = static_cast<int>(ny);
  return g;
}

void fill_polygon(const GridSpec& g, const Polygon& poly, std::vector<std::uint8_t>& mask,
                  std::uint8_t value) {
  check_mask(g, mask, "fill_polygon");
  if (g.nx <= 0 || g.ny <= 0 || poly.outer.size() < 3) return;
  const Box b = bounds(poly);
  const double c = g.cell_m;
  const int j0 = std::max(0, first_centre_at_or_after(b.min.y, g.origin.y, c));
  const int j1 = std::min(g.ny - 1, first_centre_at_or_after(b.max.y, g.origin.y, c));
  if (j0 > j1) return;

  // Crossings of each row's centre line with the rings, by the same half-open rule as
  // ring_contains: an edge crosses row y when min(a.y, b.y) <= y < max(a.y, b.y).
  std::vector<std::vector<double>> rows(static_cast<std::size_t>(j1 - j0 + 1));
  auto add_ring = [&](const Ring& r) {
    const std::size_t n = r.size();
    for (std::size_t k = 0; k < n; ++k) {
      const Vec2 a = r[k];
      const Vec2 e = r[(k + 1) % n];
      if (a.y == e.y) continue;
      const double ylo = std::min(a.y, e.y);
      const double yhi = std::max(a.y, e.y);
      const int jlo = std::max(j0, first_centre_at_or_after(ylo, g.origin.y, c));
      const int jhi = std::min(j1, first_centre_at_or_after(yhi, g.origin.y, c) - 1);
      for (int j = jlo; j <= jhi; ++j) {
        const double y = g.origin.y + (j + 0.5) * c;
        rows[static_cast<std::size_t>(j - j0)].push_back(a.x + (y - a.y) * (e.x - a.x) / (e.y - a.y));
      }
    }
  };
  add_ring(poly.outer);
  for (const Ring& h : poly.holes) add_ring(h);

  for (int j = j0; j <= j1; ++j) {
    std::vector<double>& xs = rows[static_cast<std::size_t>(j - j0)];
    std::sort(xs.begin(), xs.end());
    // Even-odd: centres in [xs[2k], xs[2k+1]) are inside.
    for (std::size_t k = 0; k + 1 < xs.size(); k += 2) {
      const int i0 = std::max(0, first_centre_at_or_after(xs[k], g.origin.x, c));
      const int i1 = std::min(g.nx - 1, first_centre_at_or_after(xs[k + 1], g.origin.x, c) - 1);
      if (i0 > i1) continue;
      const std::size_t row = g.index(0, j);
      std::fill(mask.begin() + static_cast<std::ptrdiff_t>(row + static_cast<std::size_t>(i0)),
                mask.begin() + static_cast<std::ptrdiff_t>(row + static_cast<std::size_t>(i1) + 1),
                value);
    }
  }
}

void fill_segment(const GridSpec& g, const Segment& s, std::vector<std::uint8_t>& mask,
                  std::uint8_t value) {
  check_mask(g, mask, "fill_segment");
  if (g.nx <= 0 || g.ny <= 0) return;
  // Work in cell units. Column by column, mark every cell from the one holding the segment's
  // lowest point in that column to the one holding its highest: every cell whose closed square
  // meets the segment. Neighbouring columns evaluate the shared boundary with the same
  // expression, so the marked cells form a 4-connected chain that no 8-neighbour step crosses.
  Vec2 a{(s.a.x - g.origin.x) / g.cell_m, (s.a.y - g.origin.y) / g.cell_m};
  Vec2 b{(s.b.x - g.origin.x) / g.cell_m, (s.b.y - g.origin.y) / g.cell_m};
  if (!std::isfinite(a.x) || !std::isfinite(a.y) || !std::isfinite(b.x) || !std::isfinite(b.y))
    return;
  if (a.x > b.x) std::swap(a, b);
  const bool vertical = b.x == a.x;
  auto y_at = [&](double x) { return a.y + (x - a.x) * (b.y - a.y) / (b.x - a.x); };
  const int ci0 = std::max(0, static_cast<int>(std::floor(clamp_cells(a.x))));
  const int ci1 = std::min(g.nx - 1, static_cast<int>(std::floor(clamp_cells(b.x))));
  for (int i = ci0; i <= ci1; ++i) {
    double ylo = 0;
    double yhi = 0;
    if (vertical) {
      ylo = std::min(a.y, b.y);
      yhi = std::max(a.y, b.y);
    } else {
      const double xl = std::max(a.x, static_cast<double>(i));
      const double xr = std::min(b.x, static_cast<double>(i + 1));
      const double yl = xl == a.x ? a.y : y_at(xl);
      const double yr = xr == b.x ? b.y : y_at(xr);
      ylo = std::min(yl, yr);
      yhi = std::max(yl, yr);
    }
    const int cj0 = std::max(0, static_cast<int>(std::floor(clamp_cells(ylo))));
    const int cj1 = std::min(g.ny - 1, static_cast<int>(std::floor(clamp_cells(yhi))));
    for (int j = cj0; j <= cj1; ++j) mask[g.index(i, j)] = value;
  }
}

}  // namespace vigil::geom
