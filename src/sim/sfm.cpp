// SPDX-License-Identifier: Apache-2.0
#include "sim/sfm.hpp"

#include <algorithm>
#include <cmath>

namespace vigil::sim {

namespace {
std::unique_ptr<OperationalModel> make_sfm(const std::map<std::string, double>& m) {
  SfmParams p;
  auto get = [&](const char* key, double& out) {
    auto it = m.find(key);
    if (it != m.end()) out = it->second;
  };
  get("a_n", p.a_n);
  get("b_m", p.b_m);
  get("k_kg_s2", p.k_kg_s2);
  get("kappa_kg_m_s", p.kappa_kg_m_s);
  get("tau_s", p.tau_s);
  get("mass_kg", p.mass_kg);
  get("max_speed_factor", p.max_speed_factor);
  return std::make_unique<SfmModel>(p);
}
}  // namespace

const ModelInfo& SfmModel::info() {
  static const ModelInfo kInfo{
      "sfm",
      "Helbing & Molnar (1995); Helbing, Farkas & Vicsek (2000), social force model",
      {
          {"a_n", 2000, 0, 1e5, "A: strength of repulsion from people and walls (N)"},
          {"b_m", 0.08, 0.001, 2, "B: range of repulsion (m)"},
          {"k_kg_s2", 1.2e5, 0, 1e7, "k: body force coefficient (kg/s^2)"},
          {"kappa_kg_m_s", 2.4e5, 0, 1e7, "kappa: sliding friction coefficient (kg/(m s))"},
          {"tau_s", 0.5, 0.01, 10, "tau: relaxation time towards the desired velocity (s)"},
          {"mass_kg", 80, 10, 500, "m: body mass (kg)"},
          {"max_speed_factor", 1.3, 1, 5, "the speed is capped at this times the desired speed"},
      },
      &make_sfm};
  return kInfo;
}

Vec2 SfmModel::velocity(const ModelContext& ctx, const AgentGoal& goal) const {
  const std::size_t i = goal.index;
  const AgentSnapshot& a = ctx.agents;
  const Vec2 p = a.position(i);
  const Vec2 v = a.velocity(i);
  const double r = a.radius[i];
  const double range = interaction_range_m();

  Vec2 f = (goal.direction * goal.speed_m_s - v) * (p_.mass_kg / p_.tau_s);
  ctx.neighbours.for_each_near(i, [&](std::size_t j) {
    const Vec2 d = p - a.position(j);
    const double dist = geom::norm(d);
    if (dist > range || dist < 1e-12) return;
    const Vec2 n = d / dist;
    const double rij = r + a.radius[j];
    const double g = std::max(rij - dist, 0.0);
    f += n * (p_.a_n * std::exp((rij - dist) / p_.b_m) + p_.k_kg_s2 * g);
    if (g > 0) {
      const Vec2 t{-n.y, n.x};
      f += t * (p_.kappa_kg_m_s * g * geom::dot(a.velocity(j) - v, t));
    }
  });
  const int layer = a.layer[i];
  const SpaceLayer& sl = ctx.space.layer(layer);
  for (std::uint32_t w : ctx.space.walls_near(layer, p)) {
    const Wall& wall = sl.walls[w];
    if (wall.hazard >= 0 && ((goal.ignore_hazards >> wall.hazard) & 1U)) continue;
    const Vec2 c = geom::closest_point(wall.seg, p);
    const Vec2 d = p - c;
    const double dist = geom::norm(d);
    if (dist < 1e-12 || dist > 1.0) continue;
    const Vec2 n = d / dist;
    const double g = std::max(r - dist, 0.0);
    f += n * (p_.a_n * std::exp((r - dist) / p_.b_m) + p_.k_kg_s2 * g);
    if (g > 0) {
      const Vec2 t{-n.y, n.x};
      f -= t * (p_.kappa_kg_m_s * g * geom::dot(v, t));
    }
  }
  Vec2 nv = v + f * (ctx.dt_s / p_.mass_kg);
  const double cap = p_.max_speed_factor * goal.speed_m_s;
  const double speed = geom::norm(nv);
  if (speed > cap) nv = speed > 0 ? nv * (cap / speed) : Vec2{};
  return nv;
}

}  // namespace vigil::sim
