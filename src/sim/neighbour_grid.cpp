// SPDX-License-Identifier: Apache-2.0
#include "sim/neighbour_grid.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace vigil::sim {

void NeighbourGrid::configure(const Space& space, double range_m) {
  const double cell_m = range_m / kCellsPerRange;
  range_m_ = range_m;
  cell_m_ = cell_m;
  layers_.clear();
  crossings_.clear();
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
    std::vector<Crossing> crossings;
    for (const Portal& portal : space.layer(li).portals)
      if (portal.kind == Portal::Kind::stair && portal.to_layer >= 0) crossings.push_back({portal.seg, portal.to_layer});
    crossings_.push_back(std::move(crossings));
  }
  cell_count_ = first;
}

inline std::uint32_t NeighbourGrid::cell_of(int layer, double x, double y, double& fx, double& fy) const {
  const LayerCells& l = layers_[static_cast<std::size_t>(layer)];
  fx = (x - l.origin.x) / cell_m_;
  fy = (y - l.origin.y) / cell_m_;
  // Clamped at 0 from below, truncating is flooring (and no slow floor call without SSE4.1).
  const int ci = std::clamp(static_cast<int>(fx), 0, l.nx - 1);
  const int cj = std::clamp(static_cast<int>(fy), 0, l.ny - 1);
  fx = std::clamp(fx, 0.0, static_cast<double>(l.nx));
  fy = std::clamp(fy, 0.0, static_cast<double>(l.ny));
  return l.first + static_cast<std::uint32_t>(cj * l.nx + ci);
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
  copies_.clear();
  // Each agent's cell, and whether it is within range of a stair end, in parallel chunks (each
  // writes its own slots); then the counts and the copies across stair ends, in agent order.
  near_end_.resize(count);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, 2048), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      agent_cell_[i] = cell_of(a.layer[i], a.x[i], a.y[i], agent_fx_[i], agent_fy_[i]);
      std::uint8_t near = 0;
      for (const Crossing& x : crossings_[static_cast<std::size_t>(a.layer[i])])
        if (geom::distance(a.position(i), x.seg) <= range_m_) near = 1;
      near_end_[i] = near;
    }
  });
  for (std::size_t i = 0; i < count; ++i) {
    ++start_[agent_cell_[i] + 1];
    max_radius_ = std::max(max_radius_, a.radius[i]);
    if (!near_end_[i]) continue;
    for (const Crossing& x : crossings_[static_cast<std::size_t>(a.layer[i])]) {
      if (geom::distance(a.position(i), x.seg) > range_m_) continue;
      double fx = 0;
      double fy = 0;
      const std::uint32_t cx = cell_of(x.to_layer, a.x[i], a.y[i], fx, fy);
      copies_.emplace_back(static_cast<std::uint32_t>(i), cx);
      ++start_[cx + 1];
    }
  }
  for (std::size_t c = 0; c < cell_count_; ++c) start_[c + 1] += start_[c];
  CellOrder& s = sorted_;
  const std::size_t entries = count + copies_.size();
  s.index.resize(entries);
  fill_.assign(start_.begin(), start_.end() - 1);
  for (std::size_t i = 0; i < count; ++i) s.index[fill_[agent_cell_[i]]++] = static_cast<std::uint32_t>(i);
  if (!copies_.empty()) {
    is_copy_.assign(entries, 0);
    for (const auto& [i, c] : copies_) {
      is_copy_[fill_[c]] = 1;
      s.index[fill_[c]++] = i;
    }
    order_.clear();
    for (std::size_t k = 0; k < entries; ++k)
      if (!is_copy_[k]) order_.push_back(s.index[k]);
  }
  // The copies in cell order, in parallel chunks (each writes its own range).
  std::vector<double>* const out[] = {&s.x, &s.y, &s.vx, &s.vy, &s.radius, &s.goal_dx, &s.goal_dy, &s.route_m};
  const double* const in[] = {a.x, a.y, a.vx, a.vy, a.radius, a.goal_dx, a.goal_dy, a.route_m};
  for (std::vector<double>* o : out) o->resize(entries);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, entries, 4096), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t f = 0; f < std::size(out); ++f) {
      double* o = out[f]->data();
      const double* src = in[f];
      for (std::size_t k = r.begin(); k != r.end(); ++k) o[k] = src[s.index[k]];
    }
  });
}

}  // namespace vigil::sim
