// SPDX-License-Identifier: Apache-2.0
// Operational models: how one person moves given where they want to go and who and what is
// around them. Each model lives in its own file pair (sim/cfsm, sim/sfm) behind this interface
// and is listed once in the registry (sim/model.cpp) with its parameters and their defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "geom/geom.hpp"
#include "sim/neighbour_grid.hpp"
#include "sim/snapshot.hpp"
#include "sim/space.hpp"

namespace vigil::sim {

struct ModelContext {
  const AgentSnapshot& agents;
  const NeighbourGrid& neighbours;
  const Space& space;
  double dt_s = 0.05;
};

struct AgentGoal {
  std::size_t index = 0;
  Vec2 direction;            // unit desired direction, or (0,0) to stand
  double speed_m_s = 0;      // desired speed (0: stand still)
  std::uint64_t ignore_hazards = 0;  // hazard outlines this agent does not see as walls
};

class OperationalModel {
 public:
  OperationalModel() = default;
  OperationalModel(const OperationalModel&) = delete;
  OperationalModel& operator=(const OperationalModel&) = delete;
  virtual ~OperationalModel() = default;

  virtual std::string_view name() const = 0;
  // Distance (m) beyond which other agents do not affect an agent.
  virtual double interaction_range_m() const = 0;
  // The velocity of agent goal.index for the coming step, from the snapshot only.
  // Called concurrently for different agents; must not touch shared mutable state.
  virtual Vec2 velocity(const ModelContext& ctx, const AgentGoal& goal) const = 0;
};

struct ParamSpec {
  std::string_view key;
  double default_value = 0;
  double min = 0;  // allowed range, inclusive
  double max = 0;
  std::string_view meaning;
};

struct ModelInfo {
  std::string_view name;
  std::string_view reference;
  std::vector<ParamSpec> params;
  std::unique_ptr<OperationalModel> (*make)(const std::map<std::string, double>& params);
};

const std::vector<ModelInfo>& model_registry();
const ModelInfo* find_model(std::string_view name);
// Builds the model `name` with `params` (missing keys take their defaults).
std::unique_ptr<OperationalModel> make_model(std::string_view name,
                                             const std::map<std::string, double>& params);

}  // namespace vigil::sim
