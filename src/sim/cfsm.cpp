// SPDX-License-Identifier: Apache-2.0
#include "sim/cfsm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace vigil::sim {

namespace {
std::unique_ptr<OperationalModel> make_cfsm(const std::map<std::string, double>& m) {
  CfsmParams p;
  auto get = [&](const char* key, double& out) {
    auto it = m.find(key);
    if (it != m.end()) out = it->second;
  };
  get("time_gap_s", p.time_gap_s);
  get("neighbour_strength", p.neighbour_strength);
  get("neighbour_range_m", p.neighbour_range_m);
  get("wall_strength", p.wall_strength);
  get("wall_range_m", p.wall_range_m);
  double resolve = 1;
  get("resolve_deadlocks", resolve);
  p.resolve_deadlocks = resolve != 0;
  return std::make_unique<CfsmModel>(p);
}
}  // namespace

const ModelInfo& CfsmModel::info() {
  static const ModelInfo kInfo{
      "cfsm",
      "Tordeux, Chraibi & Seyfried (2016), collision-free speed model",
      {
          {"time_gap_s", 1.0, 0.01, 10.0, "T: time gap kept to the person ahead (s)"},
          {"neighbour_strength", 5.0, 0.0, 100.0, "a: strength of repulsion from other people"},
          {"neighbour_range_m", 0.1, 0.001, 2.0, "D: range of repulsion from other people (m)"},
          {"wall_strength", 5.0, 0.0, 100.0, "a_w: strength of repulsion from walls"},
          {"wall_range_m", 0.02, 0.001, 2.0, "D_w: range of repulsion from walls (m)"},
          {"resolve_deadlocks", 1, 0, 1, "1: of two people blocking each other the one nearer its exit goes on"},
      },
      &make_cfsm};
  return kInfo;
}

namespace {
// Does j, which is in i's way, have i in its own way too (by j's desired direction), and has i
// the shorter route (ties: the lower index)? Then i goes on and j waits.
bool yields_to_me(const AgentSnapshot& a, std::size_t i, std::size_t j, Vec2 d_ij, double l) {
  const Vec2 ej = a.goal(j);
  if (ej == Vec2{}) return false;  // j stands: it is an obstacle, not a party to a deadlock
  const Vec2 d_ji = d_ij * -1.0;
  if (geom::dot(ej, d_ji) < 0 || std::abs(geom::cross(ej, d_ji)) > l) return false;
  const double ri = a.route_m[i];
  const double rj = a.route_m[j];
  return ri < rj || (ri == rj && i < j);
}
}  // namespace

Vec2 CfsmModel::velocity(const ModelContext& ctx, const AgentGoal& goal) const {
  const std::size_t i = goal.index;
  if (goal.speed_m_s <= 0) return {};
  const AgentSnapshot& a = ctx.agents;
  const Vec2 p = a.position(i);
  const double r = a.radius[i];
  const double range = interaction_range_m();

  // One walk over the neighbours in range, kept for both sums below (in the grid's fixed order).
  struct Near {
    Vec2 d;  // from this agent to the neighbour
    double dist;
    double l;  // sum of radii
    std::size_t j;
  };
  thread_local std::vector<Near> near;
  near.clear();
  ctx.neighbours.for_each_near(i, [&](std::size_t j) {
    const Vec2 d = a.position(j) - p;
    const double d2 = geom::dot(d, d);
    if (d2 > range * range || d2 < 1e-24) return;
    near.push_back({d, std::sqrt(d2), r + a.radius[j], j});
  });

  // Direction: desired direction plus repulsion. Beyond `cut` metres of free space the
  // repulsion is below exp(-12) of its contact value and is left out.
  const double cut = 12 * p_.neighbour_range_m;
  Vec2 rep;
  for (const Near& nb : near) {
    if (nb.dist - nb.l > cut) continue;
    rep -= nb.d * (p_.neighbour_strength * std::exp((nb.l - nb.dist) / p_.neighbour_range_m) / nb.dist);
  }
  const int layer = a.layer[i];
  const SpaceLayer& sl = ctx.space.layer(layer);
  for (std::uint32_t w : ctx.space.walls_near(layer, p)) {
    const Wall& wall = sl.walls[w];
    if (wall.hazard >= 0 && ((goal.ignore_hazards >> wall.hazard) & 1U)) continue;
    const Vec2 c = geom::closest_point(wall.seg, p);
    const Vec2 d = p - c;
    const double dist = geom::norm(d);
    if (dist < 1e-12 || dist - r > 12 * p_.wall_range_m) continue;
    rep += d * (p_.wall_strength * std::exp((r - dist) / p_.wall_range_m) / dist);
  }
  Vec2 dir = geom::normalized(goal.direction + rep);
  if (dir == Vec2{}) dir = goal.direction;

  // Speed: keep the time gap to the nearest person ahead in a corridor of width r + r_j.
  double spacing = std::numeric_limits<double>::infinity();
  for (const Near& nb : near) {
    if (geom::dot(dir, nb.d) < 0) continue;
    if (std::abs(geom::cross(dir, nb.d)) > nb.l) continue;
    if (p_.resolve_deadlocks && yields_to_me(a, i, nb.j, nb.d, nb.l)) continue;
    spacing = std::min(spacing, nb.dist - nb.l);
  }
  const double speed = std::clamp(spacing / p_.time_gap_s, 0.0, goal.speed_m_s);
  return dir * speed;
}

}  // namespace vigil::sim
