// SPDX-License-Identifier: Apache-2.0
// The frozen state of all agents at the start of a step, as the operational models and the
// neighbour grid read it (structure of arrays, indexed by agent slot).
#pragma once

#include <cstddef>
#include <cstdint>

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
};

}  // namespace vigil::sim
