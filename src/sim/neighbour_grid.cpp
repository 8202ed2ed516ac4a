// SPDX-License-Identifier: Apache-2.0
#include "sim/neighbour_grid.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::sim {

void NeighbourGrid::configure(const Space& space, double range_m) {
  const double cell_m = range_m / kCellsPerRange;
  range_m_ = range_m;
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

void NeighbourGrid::rebuild(const AgentSnapshot& a) {
  const std::size_t count = a.count;
  agent_cell_.resize(count);
  agent_fx_.resize(count);
  agent_fy_.resize(count);
  start_.assign(static_cast<std::size_t>(cell_count_) + 1, 0);
  max_radius_ = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const LayerCells& l = layers_[static_cast<std::size_t>(a.layer[i])];
    const double fx = (a.x[i] - l.origin.x) / cell_m_;
    const double fy = (a.y[i] - l.origin.y) / cell_m_;
    const int ci = std::clamp(static_cast<int>(std::floor(fx)), 0, l.nx - 1);
    const int cj = std::clamp(static_cast<int>(std::floor(fy)), 0, l.ny - 1);
    agent_fx_[i] = std::clamp(fx, 0.0, static_cast<double>(l.nx));
    agent_fy_[i] = std::clamp(fy, 0.0, static_cast<double>(l.ny));
    const std::uint32_t c = l.first + static_cast<std::uint32_t>(cj * l.nx + ci);
    agent_cell_[i] = c;
    ++start_[c + 1];
    max_radius_ = std::max(max_radius_, a.radius[i]);
  }
  for (std::size_t c = 0; c < cell_count_; ++c) start_[c + 1] += start_[c];
  CellOrder& s = sorted_;
  s.index.resize(count);
  fill_.assign(start_.begin(), start_.end() - 1);
  for (std::size_t i = 0; i < count; ++i) s.index[fill_[agent_cell_[i]]++] = static_cast<std::uint32_t>(i);
  auto gather = [&](std::vector<double>& out, const double* in) {
    out.resize(count);
    for (std::size_t k = 0; k < count; ++k) out[k] = in[s.index[k]];
  };
  gather(s.x, a.x);
  gather(s.y, a.y);
  gather(s.vx, a.vx);
  gather(s.vy, a.vy);
  gather(s.radius, a.radius);
  gather(s.goal_dx, a.goal_dx);
  gather(s.goal_dy, a.goal_dy);
  gather(s.route_m, a.route_m);
}

}  // namespace vigil::sim
