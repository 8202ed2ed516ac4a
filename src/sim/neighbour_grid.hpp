// SPDX-License-Identifier: Apache-2.0
// A uniform grid of agents per layer, rebuilt every step by a counting sort, for finding the
// agents near an agent.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/space.hpp"

namespace vigil::sim {

class NeighbourGrid {
 public:
  // Sets up the cells of every layer of `space` for finding the agents within `range_m` (the
  // interaction range) of an agent; cells are range_m / kCellsPerRange wide.
  void configure(const Space& space, double range_m);
  // Sorts the agents into cells. Positions outside a layer's bounds go to its edge cells.
  void rebuild(const double* x, const double* y, const std::int32_t* layer, std::size_t count);

  // Calls f(j) for every agent j != i on i's layer in the cells that meet the disc of the
  // configured range around i (cells are half the range wide: about half the agents of the
  // 3 x 3 cells of the range), in a fixed order (independent of threads). Every agent within
  // the range of i is among them.
  template <class F>
  void for_each_near(std::size_t i, F&& f) const {
    for_each_near_at(i, [&](std::size_t j, double, double) { f(j); });
  }
  // The same, with j's position as given to rebuild: f(j, x_j, y_j) (read from a copy kept in
  // cell order, so the walk reads memory in order).
  template <class F>
  void for_each_near_at(std::size_t i, F&& f) const {
    const std::uint32_t c = agent_cell_[i];
    const LayerCells& l = layers_[static_cast<std::size_t>(cell_layer(c))];
    const double fx = agent_fx_[i];
    const double fy = agent_fy_[i];
    constexpr double kR = kCellsPerRange;
    const int j_lo = std::max(0, static_cast<int>(std::floor(fy - kR)));
    const int j_hi = std::min(l.ny - 1, static_cast<int>(std::floor(fy + kR)));
    for (int j = j_lo; j <= j_hi; ++j) {
      const double dy = std::max({0.0, j - fy, fy - (j + 1)});
      if (dy > kR) continue;
      const double w = std::sqrt(kR * kR - dy * dy);
      const int lo = std::max(0, static_cast<int>(std::floor(fx - w)));
      const int hi = std::min(l.nx - 1, static_cast<int>(std::floor(fx + w)));
      if (lo > hi) continue;
      // The cells of one row are consecutive: one run of sorted agents.
      const std::uint32_t row = l.first + static_cast<std::uint32_t>(j * l.nx);
      const std::uint32_t end = start_[row + static_cast<std::uint32_t>(hi) + 1];
      for (std::uint32_t k = start_[row + static_cast<std::uint32_t>(lo)]; k < end; ++k) {
        const std::uint32_t other = sorted_[k];
        if (other != i) f(static_cast<std::size_t>(other), sorted_x_[k], sorted_y_[k]);
      }
    }
  }

  double cell_m() const { return cell_m_; }
  static constexpr double kCellsPerRange = 2.0;

 private:
  struct LayerCells {
    geom::Vec2 origin;
    int nx = 1;
    int ny = 1;
    std::uint32_t first = 0;  // global index of the layer's first cell
  };
  int cell_layer(std::uint32_t cell) const;

  double cell_m_ = 2.0;
  std::vector<LayerCells> layers_;
  std::uint32_t cell_count_ = 0;
  std::vector<std::uint32_t> agent_cell_;
  std::vector<double> agent_fx_, agent_fy_;  // position in cell units from the layer's origin
  std::vector<std::uint32_t> start_;   // cell_count_ + 1
  std::vector<std::uint32_t> sorted_;  // agent indices by cell
  std::vector<std::uint32_t> fill_;    // rebuild's scratch
  std::vector<double> sorted_x_, sorted_y_;  // positions of sorted_
};

}  // namespace vigil::sim
