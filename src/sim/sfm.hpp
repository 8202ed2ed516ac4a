// SPDX-License-Identifier: Apache-2.0
// Social force model (Helbing & Molnár 1995, Phys. Rev. E 51, 4282; with the body and sliding
// friction forces and parameters of Helbing, Farkas & Vicsek 2000, Nature 407, 487):
//   m dv/dt = m (v0 e0 - v) / tau + sum_j f_ij + sum_W f_iW
//   f_ij = [A exp((r_ij - d_ij) / B) + k g(r_ij - d_ij)] n_ij + kappa g(r_ij - d_ij) dv_t t_ij
// with g(x) = max(x, 0). Walls act alike with the agent's radius. The speed is capped at
// max_speed_factor x v0 (common practice in SFM implementations), which also bounds the
// effect of the stiff contact forces at the time steps used for crowds. The scenario's default
// time step for this model is 0.01 s.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "sim/model.hpp"

namespace vigil::sim {

struct SfmParams {
  double a_n = 2000;        // A: repulsion strength (N)
  double b_m = 0.08;        // B: repulsion range (m)
  double k_kg_s2 = 1.2e5;   // k: body compression (kg/s²)
  double kappa_kg_m_s = 2.4e5;  // kappa: sliding friction (kg/(m s))
  double tau_s = 0.5;       // relaxation time (s)
  double mass_kg = 80;      // m
  double max_speed_factor = 1.3;
};

class SfmModel final : public OperationalModel {
 public:
  explicit SfmModel(const SfmParams& p) : p_(p) {}
  std::string_view name() const override { return "sfm"; }
  double interaction_range_m() const override { return 2.2; }
  Vec2 velocity(const ModelContext& ctx, const AgentGoal& goal) const override;

  static const ModelInfo& info();

 private:
  SfmParams p_;
};

}  // namespace vigil::sim
