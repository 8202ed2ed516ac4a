// SPDX-License-Identifier: Apache-2.0
// A uniform grid of agents per layer, rebuilt every step by a counting sort, for finding the
// agents near an agent. It keeps a copy of the snapshot's fields in cell order, so that a walk
// over the neighbours of an agent reads a few short runs of consecutive memory instead of
// scattered agent slots (the models spend most of a step there).
//
// Layers meet at the ends of stairs. A person within the range of a stair's end line is also
// listed, as a copy, in the cells of the layer on the other side, so that the people at the
// foot of a stair see those on its first steps and the other way round.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/snapshot.hpp"
#include "sim/space.hpp"

namespace vigil::sim {

class NeighbourGrid {
 public:
  // The snapshot's per-agent fields in cell order: entry k is agent index[k]. An agent near a
  // stair's end has a second entry, in the cells of the layer across it.
  struct CellOrder {
    std::vector<double> x, y, vx, vy, radius, goal_dx, goal_dy, route_m;
    std::vector<std::uint32_t> index;
  };

  // Sets up the cells of every layer of `space` for finding the agents within `range_m` (the
  // interaction range) of an agent; cells are range_m / kCellsPerRange wide.
  void configure(const Space& space, double range_m);
  // Sorts the agents into cells and copies their fields in cell order. Positions outside a
  // layer's bounds go to its edge cells.
  void rebuild(const AgentSnapshot& agents);

  const CellOrder& by_cell() const { return sorted_; }
  // Every agent once, in cell order (by_cell().index without the copies across stair ends).
  const std::vector<std::uint32_t>& order() const { return copies_.empty() ? sorted_.index : order_; }
  // The largest radius of the agents of the last rebuild.
  double max_radius() const { return max_radius_; }
  double range() const { return range_m_; }

  // Calls f(k_begin, k_end) for runs of entries of by_cell() that together hold every agent on
  // i's layer (or across a stair end from it) within reach_m (at most the configured range) of agent i, and some farther ones;
  // agent i itself is among them. The runs are the cells meeting the disc of reach_m around i,
  // row by row, in a fixed order (independent of threads).
  template <class F>
  void for_each_run(std::size_t i, double reach_m, F&& f) const {
    const std::uint32_t c = agent_cell_[i];
    const LayerCells& l = layers_[static_cast<std::size_t>(cell_layer(c))];
    const double fx = agent_fx_[i];
    const double fy = agent_fy_[i];
    const double rc = std::min(reach_m, range_m_) / cell_m_;
    // fx, fy >= 0: a bound clamped at 0 from below is the same truncated as floored, and an
    // upper bound is not negative (a plain conversion, where floor is a slow call without
    // SSE4.1).
    const int j_lo = std::max(0, static_cast<int>(fy - rc));
    const int j_hi = std::min(l.ny - 1, static_cast<int>(fy + rc));
    // The disc's half-width in each row first (one vector pass, no sqrt latency per row);
    // rc < kCellsPerRange, so there are at most kMaxRows rows.
    double w[kMaxRows];
    const int rows = std::min(j_hi - j_lo + 1, kMaxRows);
    for (int r = 0; r < rows; ++r) {
      const int j = j_lo + r;
      const double dy = std::max({0.0, j - fy, fy - (j + 1)});
      w[r] = std::sqrt(std::max(0.0, rc * rc - dy * dy));
    }
    for (int r = 0; r < rows; ++r) {
      const int j = j_lo + r;
      const double dy = std::max({0.0, j - fy, fy - (j + 1)});
      if (dy > rc) continue;
      const int lo = std::max(0, static_cast<int>(fx - w[r]));
      const int hi = std::min(l.nx - 1, static_cast<int>(fx + w[r]));
      if (lo > hi) continue;
      // The cells of one row are consecutive: one run of sorted agents.
      const std::uint32_t row = l.first + static_cast<std::uint32_t>(j * l.nx);
      const std::uint32_t begin = start_[row + static_cast<std::uint32_t>(lo)];
      const std::uint32_t end = start_[row + static_cast<std::uint32_t>(hi) + 1];
      if (begin < end) f(static_cast<std::size_t>(begin), static_cast<std::size_t>(end));
    }
  }

  // Calls f(j) for every agent j != i on i's layer (or across a stair end) in the cells that meet the disc of the
  // configured range around i, in a fixed order. Every agent within the range of i is among them.
  template <class F>
  void for_each_near(std::size_t i, F&& f) const {
    for_each_run(i, range_m_, [&](std::size_t begin, std::size_t end) {
      for (std::size_t k = begin; k < end; ++k) {
        const std::uint32_t other = sorted_.index[k];
        if (other != i) f(static_cast<std::size_t>(other));
      }
    });
  }

  double cell_m() const { return cell_m_; }
  static constexpr double kCellsPerRange = 2.0;
  // Rows a disc of radius at most kCellsPerRange cells meets: 2 kCellsPerRange + 1.
  static constexpr int kMaxRows = 2 * static_cast<int>(kCellsPerRange) + 1;

 private:
  struct LayerCells {
    geom::Vec2 origin;
    int nx = 1;
    int ny = 1;
    std::uint32_t first = 0;  // global index of the layer's first cell
  };
  // A stair end line of a layer and the layer across it.
  struct Crossing {
    geom::Segment seg;
    int to_layer = -1;
  };
  int cell_layer(std::uint32_t cell) const;
  std::uint32_t cell_of(int layer, double x, double y, double& fx, double& fy) const;

  double range_m_ = 2.0;
  double cell_m_ = 1.0;
  double max_radius_ = 0;
  std::vector<LayerCells> layers_;
  std::vector<std::vector<Crossing>> crossings_;  // per layer
  std::uint32_t cell_count_ = 0;
  std::vector<std::uint32_t> agent_cell_;
  std::vector<double> agent_fx_, agent_fy_;  // position in cell units from the layer's origin
  std::vector<std::uint32_t> start_;   // cell_count_ + 1
  std::vector<std::uint32_t> fill_;    // rebuild's scratch
  std::vector<std::uint8_t> near_end_;  // rebuild's scratch: 1 for an agent near a stair end
  // The copies across stair ends of the last rebuild: (agent, cell).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> copies_;
  std::vector<std::uint8_t> is_copy_;  // per entry of sorted_, when there are copies
  std::vector<std::uint32_t> order_;
  CellOrder sorted_;
};

}  // namespace vigil::sim
