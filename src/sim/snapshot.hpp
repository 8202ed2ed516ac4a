// SPDX-License-Identifier: Apache-2.0
// The frozen state of all agents at the start of a step, as the operational models and the
// neighbour grid read it (structure of arrays, indexed by agent slot).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "geom/geom.hpp"

namespace vigil::sim {

struct AgentSnapshot {
  const double* x = nullptr;
  const double* y = nullptr;
  const double* vx = nullptr;
  const double* vy = nullptr;
  const double* radius = nullptr;
  const std::int32_t* layer = nullptr;
  const double* goal_dx = nullptr;     // desired direction of this step (unit or zero)
  const double* goal_dy = nullptr;
  const double* route_m = nullptr;     // remaining route length to the exit (m)
  std::size_t count = 0;

  geom::Vec2 position(std::size_t i) const { return {x[i], y[i]}; }
  geom::Vec2 velocity(std::size_t i) const { return {vx[i], vy[i]}; }
  geom::Vec2 goal(std::size_t i) const { return {goal_dx[i], goal_dy[i]}; }

  // Over per-agent arrays of one length (x's).
  static AgentSnapshot of(const std::vector<double>& x, const std::vector<double>& y,
                          const std::vector<double>& vx, const std::vector<double>& vy,
                          const std::vector<double>& radius, const std::vector<std::int32_t>& layer,
                          const std::vector<double>& goal_dx, const std::vector<double>& goal_dy,
                          const std::vector<double>& route_m) {
    AgentSnapshot s;
    s.x = x.data();
    s.y = y.data();
    s.vx = vx.data();
    s.vy = vy.data();
    s.radius = radius.data();
    s.layer = layer.data();
    s.goal_dx = goal_dx.data();
    s.goal_dy = goal_dy.data();
    s.route_m = route_m.data();
    s.count = x.size();
    return s;
  }
};

}  // namespace vigil::sim
