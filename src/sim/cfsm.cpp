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
  const double px = a.x[i];
  const double py = a.y[i];
  const Vec2 p{px, py};
  const double r = a.radius[i];
  const double range = interaction_range_m();

  // Beyond `cut` metres of free space the repulsion is below exp(-12) of its contact value and
  // is left out; beyond speed x T of free space a person ahead does not slow this one. So only
  // neighbours within `reach` of free space matter (the rest are passed over without a sqrt).
  const double cut = 12 * p_.neighbour_range_m;
  const double reach = std::max(cut, goal.speed_m_s * p_.time_gap_s);

  // One walk over the neighbours that matter, kept for both sums below (in the grid's order).
  struct Near {
    Vec2 d;  // from this agent to the neighbour
    double dist;
    double l;  // sum of radii
    std::size_t j;
  };
  thread_local std::vector<Near> near;
  near.clear();
  const double range2 = range * range;
  ctx.neighbours.for_each_near_at(i, [&](std::size_t j, double xj, double yj) {
    const double dx = xj - px;
    const double dy = yj - py;
    const double d2 = dx * dx + dy * dy;
    if (d2 > range2) return;
    const double l = r + a.radius[j];
    const double lim = std::min(range, reach + l);
    if (d2 > lim * lim || d2 < 1e-24) return;
    near.push_back({{dx, dy}, std::sqrt(d2), l, j});
  });

  // Direction: desired direction plus repulsion.
  Vec2 rep;
  for (const Near& nb : near) {
    if (nb.dist - nb.l > cut) continue;
    rep -= nb.d * (p_.neighbour_strength * std::exp((nb.l - nb.dist) / p_.neighbour_range_m) / nb.dist);
  }
  struct WallTerm {
    Vec2 n;       // unit normal from the wall to the agent
    double dist;  // centre to wall
    Vec2 rep;     // this wall's repulsion
  };
  thread_local std::vector<WallTerm> walls;
  walls.clear();
  const int layer = a.layer[i];
  const SpaceLayer& sl = ctx.space.layer(layer);
  for (std::uint32_t w : ctx.space.walls_near(layer, p)) {
    const Wall& wall = sl.walls[w];
    if (wall.hazard >= 0 && ((goal.ignore_hazards >> wall.hazard) & 1U)) continue;
    const Vec2 c = geom::closest_point(wall.seg, p);
    const Vec2 d = p - c;
    const double dist = geom::norm(d);
    if (dist < 1e-12 || dist - r > 12 * p_.wall_range_m) continue;
    const Vec2 n = d / dist;
    const Vec2 rw = n * (p_.wall_strength * std::exp((r - dist) / p_.wall_range_m));
    rep += rw;
    walls.push_back({n, dist, rw});
  }
  const Vec2 sum = goal.direction + rep;
  Vec2 dir = geom::normalized(sum);
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
  Vec2 v = dir * speed;

  // Walls, discretised consistently: the wall repulsion (range D_w = 2 cm) is far shorter than
  // a step (1.3 m/s x 0.05 s = 6.5 cm), so an explicit step overshoots the distance at which
  // the repulsion balances what pushes the person towards the wall, n* = r + D_w ln(a_w / g_n)
  // (g_n: the rest of the direction sum against the wall). The continuous dynamics approach n*
  // monotonically and then walk along the wall; a plain step instead zig-zags between contact
  // and a few cm off, losing speed along the wall by an amount that depends on dt (RiMEA 9:
  // 121 s at dt = 0.05 s, 111 s at 0.025 s, 108 s at 0.0125 s). So the motion across each wall
  // within reach stops at n*, from either side (unchanged where it does not get past n*; at n*
  // the direction is along the wall, as in the continuous model).
  const double dt = ctx.dt_s;
  if (dt > 0 && speed > 0) {
    for (const WallTerm& w : walls) {
      const double g_n = -geom::dot(sum - w.rep, w.n);  // push towards the wall
      if (g_n <= 0) continue;
      const double n_star = g_n >= p_.wall_strength ? r : r + p_.wall_range_m * std::log(p_.wall_strength / g_n);
      const double step_n = geom::dot(v, w.n) * dt;
      double allowed = step_n;
      if (step_n > 0 && w.dist + step_n > n_star) allowed = std::max(0.0, n_star - w.dist);
      else if (step_n < 0 && w.dist + step_n < n_star) allowed = std::min(0.0, n_star - w.dist);
      if (allowed != step_n) v += w.n * ((allowed - step_n) / dt);
    }
  }
  return v;
}

}  // namespace vigil::sim
