// SPDX-License-Identifier: Apache-2.0
// A uniform grid of agents per layer, rebuilt every step by a counting sort, for finding the
// agents near an agent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/space.hpp"

namespace vigil::sim {

class NeighbourGrid {
 public:
  // Sets up the cells of every layer of `space` with cells of `cell_m` (>= the interaction
  // range, so that the 3 x 3 cells around an agent hold every agent in range).
  void configure(const Space& space, double cell_m);
  // Sorts the agents into cells. Positions outside a layer's bounds go to its edge cells.
  void rebuild(const double* x, const double* y, const std::int32_t* layer, std::size_t count);

  // Calls f(j) for every agent j != i on i's layer in the 3 x 3 cells around i, in a fixed
  // order (independent of threads).
  template <class F>
  void for_each_near(std::size_t i, F&& f) const {
    const std::uint32_t c = agent_cell_[i];
    const LayerCells& l = layers_[static_cast<std::size_t>(cell_layer(c))];
    const int local = static_cast<int>(c - l.first);
    const int ci = local % l.nx;
    const int cj = local / l.nx;
    for (int j = cj - 1; j <= cj + 1; ++j) {
      if (j < 0 || j >= l.ny) continue;
      for (int ii = ci - 1; ii <= ci + 1; ++ii) {
        if (ii < 0 || ii >= l.nx) continue;
        const std::uint32_t cell = l.first + static_cast<std::uint32_t>(j * l.nx + ii);
        for (std::uint32_t k = start_[cell]; k < start_[cell + 1]; ++k) {
          const std::uint32_t other = sorted_[k];
          if (other != i) f(static_cast<std::size_t>(other));
        }
      }
    }
  }

  double cell_m() const { return cell_m_; }

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
  std::vector<std::uint32_t> start_;   // cell_count_ + 1
  std::vector<std::uint32_t> sorted_;  // agent indices by cell
};

}  // namespace vigil::sim
