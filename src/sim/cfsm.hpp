// SPDX-License-Identifier: Apache-2.0
// Collision-free speed model (Tordeux, Chraibi & Seyfried 2016, "Collision-free speed model for
// pedestrian dynamics", Traffic and Granular Flow '15, Springer; as in JuPedSim's
// CollisionFreeSpeedModel). First order: an agent walks in a direction made of its desired
// direction plus exponential repulsion from neighbours and walls, at the speed that keeps a
// time gap T to the nearest person ahead: v = min(v0, max(0, s / T)), s = the free spacing.
//
// Addition to the published model (resolve_deadlocks = 1, the default): when two people each
// have the other in their way (each in the other's walking corridor, judged by their desired
// directions), the one with the shorter remaining route does not wait for the other. Without
// it two people meeting head-on at a door post can stop each other for good, a known artefact
// of the model (JuPedSim runs of a 1 m bottleneck jam in some seeds). And the one who waits makes
// room when the other comes the other way: it steps back and to the right (-e0 + give_way x the
// right-hand normal, plus the repulsion) as far as the time gap to the people behind and beside
// allows, instead of pressing on at s / T (which made counterflow through a corridor depend on
// the time step: NIST 2.8 +3.8 % at dt / 2).
//
// Addition (give_way = g, default 2): someone coming the other way (desired directions more than
// 120 degrees apart) within v0 T of free space in the corridor ahead makes a person bear right:
// g times the right-hand normal of the desired direction is added to the direction sum. Without
// it two opposing streams in a corridor stop face to face (NIST TN 1822 test 2.8: 69-76 of 200
// arrive); with it they pass in lanes (all 200 within the bound for g from 1.5 to 4; 2 is the
// middle of that range).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "sim/model.hpp"

namespace vigil::sim {

struct CfsmParams {
  double time_gap_s = 1.0;           // T (Tordeux et al. 2016)
  double neighbour_strength = 5.0;   // a: repulsion strength from other agents
  double neighbour_range_m = 0.1;    // D: repulsion range from other agents
  double wall_strength = 5.0;        // a_w: repulsion strength from walls
  double wall_range_m = 0.02;        // D_w: repulsion range from walls
  bool resolve_deadlocks = true;     // see above (also: the one who waits makes room)
  double give_way = 2.0;             // see above
};

class CfsmModel final : public OperationalModel {
 public:
  explicit CfsmModel(const CfsmParams& p) : p_(p) {}
  std::string_view name() const override { return "cfsm"; }
  double interaction_range_m() const override { return 2.2; }
  Vec2 velocity(const ModelContext& ctx, const AgentGoal& goal) const override;

  static const ModelInfo& info();

 private:
  CfsmParams p_;
};

}  // namespace vigil::sim
