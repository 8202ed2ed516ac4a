// SPDX-License-Identifier: Apache-2.0
#include "sim/neighbour_grid.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::sim {

void NeighbourGrid::configure(const Space& space, double range_m) {
  const double cell_m = range_m / kCellsPerRange;
  cell_m_ = cell_m;
  layers_.clear();
  std::uint32_t first = 0;
  for (int li = 0; li < space.layer_count(); ++li) {
    const geom::Box& b = space.layer(li).bounds;
    LayerCells l;
    l.first = first;
    if (!b.empty()) {
      l.origin = b.min;
      l.nx = std::max(1, static_cast<int>(std::ceil(b.width() / cell_m)) + 1);
      l.ny = std::max(1, static_cast<int>(std::ceil(b.height() / cell_m)) + 1);
    }
    first += static_cast<std::uint32_t>(l.nx * l.ny);
    layers_.push_back(l);
  }
  cell_count_ = first;
}

int NeighbourGrid::cell_layer(std::uint32_t cell) const {
  // Layers are few; the last layer whose first cell is <= cell.
  int lo = 0;
  int hi = static_cast<int>(layers_.size()) - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (layers_[static_cast<std::size_t>(mid)].first <= cell) lo = mid; else hi = mid - 1;
  }
  return lo;
}

void NeighbourGrid::rebuild(const double* x, const double* y, const std::int32_t* layer,
                            std::size_t count) {
  agent_cell_.resize(count);
  agent_fx_.resize(count);
  agent_fy_.resize(count);
  start_.assign(static_cast<std::size_t>(cell_count_) + 1, 0);
  for (std::size_t a = 0; a < count; ++a) {
    const LayerCells& l = layers_[static_cast<std::size_t>(layer[a])];
    const double fx = (x[a] - l.origin.x) / cell_m_;
    const double fy = (y[a] - l.origin.y) / cell_m_;
    const int i = std::clamp(static_cast<int>(std::floor(fx)), 0, l.nx - 1);
    const int j = std::clamp(static_cast<int>(std::floor(fy)), 0, l.ny - 1);
    agent_fx_[a] = std::clamp(fx, 0.0, static_cast<double>(l.nx));
    agent_fy_[a] = std::clamp(fy, 0.0, static_cast<double>(l.ny));
    const std::uint32_t c = l.first + static_cast<std::uint32_t>(j * l.nx + i);
    agent_cell_[a] = c;
    ++start_[c + 1];
  }
  for (std::size_t c = 0; c < cell_count_; ++c) start_[c + 1] += start_[c];
  sorted_.resize(count);
  fill_.assign(start_.begin(), start_.end() - 1);
  std::vector<std::uint32_t>& fill = fill_;
  for (std::size_t a = 0; a < count; ++a) sorted_[fill[agent_cell_[a]]++] = static_cast<std::uint32_t>(a);
  sorted_x_.resize(count);
  sorted_y_.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    sorted_x_[k] = x[sorted_[k]];
    sorted_y_[k] = y[sorted_[k]];
  }
}

}  // namespace vigil::sim
