// SPDX-License-Identifier: Apache-2.0
#include "sim/cfsm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sim/fast_exp.hpp"

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
  get("give_way", p.give_way);
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
          {"resolve_deadlocks", 1, 0, 1,
           "1: of two people blocking each other the one nearer its exit goes on, the other makes "
           "room"},
          {"give_way", 2.0, 0, 5,
           "g: bear right by this much when someone comes the other way ahead (0: off)"},
      },
      &make_cfsm};
  return kInfo;
}

namespace {

// Does neighbour k (cell order), which is in agent i's way (d_ik from i to k, l the sum of the
// radii), have i in its own way too, by its desired direction? Someone standing is an obstacle,
// not a party to a deadlock.
bool in_each_others_way(const NeighbourGrid::CellOrder& s, std::size_t k, Vec2 d_ik, double l) {
  const Vec2 ek{s.goal_dx[k], s.goal_dy[k]};
  if (ek == Vec2{}) return false;
  const Vec2 d_ki = d_ik * -1.0;
  return geom::dot(ek, d_ki) >= 0 && std::abs(geom::cross(ek, d_ki)) <= l;
}

// Of two people in each other's way, the one with the shorter route goes on (ties: the lower
// agent index) and the other waits.
bool goes_first(double route_a, std::size_t a, double route_b, std::size_t b) {
  return route_a < route_b || (route_a == route_b && a < b);
}

// Neighbour k is in i's way and i goes on: k waits for i.
bool yields_to_me(const NeighbourGrid::CellOrder& s, std::size_t k, std::size_t i, double route_i,
                  Vec2 d_ik, double l) {
  return in_each_others_way(s, k, d_ik, l) && goes_first(route_i, i, s.route_m[k], s.index[k]);
}

// Neighbour k is in i's way and goes on: i waits for k (and makes room).
bool goes_before_me(const NeighbourGrid::CellOrder& s, std::size_t k, std::size_t i, double route_i,
                    Vec2 d_ik, double l) {
  return in_each_others_way(s, k, d_ik, l) && goes_first(s.route_m[k], s.index[k], route_i, i);
}

// The neighbours of one agent that matter, as parallel arrays (one set per thread, reused).
struct NearBuffer {
  std::vector<double> dx, dy, d2, dist, l, w, ahead;
  std::vector<std::uint32_t> k;
  void ensure(std::size_t n) {
    if (dx.size() >= n) return;
    const std::size_t cap = std::max<std::size_t>(n, 2 * dx.size());
    for (auto* v : {&dx, &dy, &d2, &dist, &l, &w, &ahead}) v->resize(cap);
    k.resize(cap);
  }
};

// The two loops over all kept neighbours are plain arithmetic over arrays; they are compiled
// twice, for AVX2 (4 lanes) and for the x86-64 baseline (2 lanes), the processor picking one at
// start. Neither uses FMA, so both give bit-identical results.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define VIGIL_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VIGIL_SIMD_CLONES
#endif

// Distance and repulsion weight a exp((l - dist) / D) / dist of each kept neighbour (0 beyond
// `cut` of free space).
VIGIL_SIMD_CLONES
void repulsion_weights(NearBuffer& near, std::size_t kept, double strength, double range_m, double cut) {
  const double* nd2 = near.d2.data();
  const double* nl = near.l.data();
  double* ndist = near.dist.data();
  double* nw = near.w.data();
  const double inv_range = 1.0 / range_m;
  for (std::size_t m = 0; m < kept; ++m) {
    const double dist = std::sqrt(nd2[m]);
    ndist[m] = dist;
    const double w = strength * fast_exp((nl[m] - dist) * inv_range) / dist;
    nw[m] = dist - nl[m] > cut ? 0.0 : w;
  }
}

// The free spacing of each kept neighbour in the walking corridor (width l) ahead along `dir`;
// infinity for those outside it.
VIGIL_SIMD_CLONES
void spacing_ahead(NearBuffer& near, std::size_t kept, double dir_x, double dir_y) {
  const double* ndx = near.dx.data();
  const double* ndy = near.dy.data();
  const double* nl = near.l.data();
  const double* ndist = near.dist.data();
  double* ahead = near.ahead.data();
  for (std::size_t m = 0; m < kept; ++m) {
    const double along = dir_x * ndx[m] + dir_y * ndy[m];
    const double across = dir_x * ndy[m] - dir_y * ndx[m];
    const bool in_way = (along >= 0) & (std::abs(across) <= nl[m]);
    ahead[m] = in_way ? ndist[m] - nl[m] : std::numeric_limits<double>::infinity();
  }
}

// The least free spacing ahead over all kept neighbours (infinity when none is in the way).
VIGIL_SIMD_CLONES
double least_ahead(const NearBuffer& near, std::size_t kept) {
  const double* ahead = near.ahead.data();
  double least = std::numeric_limits<double>::infinity();
  for (std::size_t m = 0; m < kept; ++m) least = ahead[m] < least ? ahead[m] : least;
  return least;
}

// Is any kept neighbour within `reach` of free space ahead (ahead[m], from spacing_ahead)
// coming the other way: its desired direction more than 120 degrees from e? Branch-free over
// all kept neighbours (gathers of their directions), so that it vectorises.
VIGIL_SIMD_CLONES
bool any_oncoming(const NearBuffer& near, std::size_t kept, double reach, double ex, double ey,
                  const double* goal_dx, const double* goal_dy) {
  const double* ahead = near.ahead.data();
  const std::uint32_t* nk = near.k.data();
  int any = 0;
  for (std::size_t m = 0; m < kept; ++m) {
    const std::uint32_t k = nk[m];
    any |= (ahead[m] <= reach) & (ex * goal_dx[k] + ey * goal_dy[k] < -0.5);
  }
  return any != 0;
}

}  // namespace

Vec2 CfsmModel::velocity(const ModelContext& ctx, const AgentGoal& goal) const {
  const std::size_t i = goal.index;
  if (goal.speed_m_s <= 0) return {};
  const AgentSnapshot& a = ctx.agents;
  const NeighbourGrid::CellOrder& s = ctx.neighbours.by_cell();
  const double px = a.x[i];
  const double py = a.y[i];
  const Vec2 p{px, py};
  const double r = a.radius[i];
  const double range = interaction_range_m();

  // Beyond `cut` metres of free space the repulsion is below exp(-12) of its contact value and
  // is left out; beyond speed x T of free space a person ahead does not slow this one. So only
  // neighbours within `reach` of free space matter, and only the cells within reach + r + the
  // largest radius are walked.
  const double cut = 12 * p_.neighbour_range_m;
  const double reach = std::max(cut, goal.speed_m_s * p_.time_gap_s);

  // One walk over the runs of cell-ordered neighbours, keeping those that matter. The filter is
  // branch-free (every candidate is written, the count advances only for the kept ones).
  thread_local NearBuffer near;
  std::size_t kept = 0;
  ctx.neighbours.for_each_run(i, reach + r + ctx.neighbours.max_radius(), [&](std::size_t b, std::size_t e) {
    near.ensure(kept + (e - b));
    double* ndx = near.dx.data();
    double* ndy = near.dy.data();
    double* nd2 = near.d2.data();
    double* nl = near.l.data();
    std::uint32_t* nk = near.k.data();
    for (std::size_t k = b; k < e; ++k) {
      const double dx = s.x[k] - px;
      const double dy = s.y[k] - py;
      const double d2 = dx * dx + dy * dy;
      const double l = r + s.radius[k];
      const double lim = std::min(range, reach + l);
      ndx[kept] = dx;
      ndy[kept] = dy;
      nd2[kept] = d2;
      nl[kept] = l;
      nk[kept] = static_cast<std::uint32_t>(k);
      kept += (d2 <= lim * lim) & (d2 >= 1e-24);  // not itself (d2 = 0)
    }
  });
  repulsion_weights(near, kept, p_.neighbour_strength, p_.neighbour_range_m, cut);
  const double* ndx = near.dx.data();
  const double* ndy = near.dy.data();
  const double* nl = near.l.data();
  const double* nw = near.w.data();

  // Direction: desired direction plus repulsion.
  Vec2 rep;
  for (std::size_t m = 0; m < kept; ++m) {
    rep.x -= ndx[m] * nw[m];
    rep.y -= ndy[m] * nw[m];
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
  Vec2 sum = goal.direction + rep;
  Vec2 dir = geom::normalized(sum);
  if (dir == Vec2{}) dir = goal.direction;

  // Speed: keep the time gap to the nearest person ahead in a corridor of width r + r_j. The
  // free spacing of everyone in the corridor first (vectorised), then the deadlock rule only
  // for those nearer than the nearest so far.
  const double route_i = a.route_m[i];
  auto spacing_along = [&](Vec2 d, bool resolve) {
    spacing_ahead(near, kept, d.x, d.y);
    const double* ahead = near.ahead.data();
    // The result is the least spacing among those who do not yield. Usually the nearest one
    // in the way does not: then that is it, found without a branch per neighbour.
    const double least = least_ahead(near, kept);
    if (least == std::numeric_limits<double>::infinity()) return least;
    std::size_t first = 0;
    while (ahead[first] != least) ++first;
    if (!resolve ||
        !yields_to_me(s, near.k[first], i, route_i, {ndx[first], ndy[first]}, nl[first]))
      return least;
    double nearest = std::numeric_limits<double>::infinity();
    for (std::size_t m = 0; m < kept; ++m) {
      if (ahead[m] >= nearest) continue;
      if (resolve && yields_to_me(s, near.k[m], i, route_i, {ndx[m], ndy[m]}, nl[m])) continue;
      nearest = ahead[m];
    }
    return nearest;
  };
  double spacing = spacing_along(dir, p_.resolve_deadlocks);

  // Someone coming the other way (desired directions more than 120 degrees apart) within
  // `reach` of free space in the corridor ahead along `dir` (as of the last spacing_along).
  const Vec2 e0 = goal.direction;
  auto oncoming_ahead = [&] {
    return any_oncoming(near, kept, reach, e0.x, e0.y, s.goal_dx.data(), s.goal_dy.data());
  };
  bool oncoming = (p_.give_way > 0 || p_.resolve_deadlocks) && oncoming_ahead();

  // Give way (addition, give_way > 0): someone coming the other way ahead makes this person
  // bear right by give_way x (the right-hand normal of the desired direction), so that
  // opposing streams pass each other in lanes instead of stopping face to face.
  if (p_.give_way > 0 && oncoming) {
    sum += Vec2{e0.y, -e0.x} * p_.give_way;
    const Vec2 turned = geom::normalized(sum);
    if (turned != Vec2{}) {
      dir = turned;
      spacing = spacing_along(dir, p_.resolve_deadlocks);
      oncoming = oncoming_ahead();
    }
  }
  // Make room (part of resolve_deadlocks): someone coming the other way ahead, whom the
  // deadlock rule lets go on (they have this person in their way and the shorter route), makes
  // this person step back and to the right instead of pressing on: in the direction sum the
  // desired direction e0 is replaced by -e0 + give_way x (the right-hand normal of e0), the
  // repulsion kept; the speed keeps the time gap along the new direction to everyone in it (the
  // deadlock rule does not apply backwards), so they move only as far as the people behind and
  // beside let them. This is what the deadlock rule says ("k waits") carried into the motion:
  // without it the one who should wait still closes the gap at s / T, a crowd pressing into a
  // corridor's mouth stands in the way of the people coming out, and how many slip through
  // gaps that shrink with the step depends on the step (NIST 2.8, 40 seeds: +3.8 % at dt / 2,
  // +7.1 % at dt / 4; with it -0.5 % and +1.7 %). Only when someone comes the other way at
  // all (`oncoming`, vectorised), which in one-way flow is almost never.
  if (p_.resolve_deadlocks && oncoming) {
    const double* ahead = near.ahead.data();
    bool make_room = false;
    for (std::size_t m = 0; m < kept && !make_room; ++m) {
      if (ahead[m] > reach) continue;
      const std::uint32_t k = near.k[m];
      if (e0.x * s.goal_dx[k] + e0.y * s.goal_dy[k] >= -0.5) continue;  // not coming the other way
      make_room = goes_before_me(s, k, i, route_i, {ndx[m], ndy[m]}, nl[m]);
    }
    if (make_room) {
      sum = rep + Vec2{e0.y, -e0.x} * p_.give_way - e0;
      dir = geom::normalized(sum);
      spacing = dir == Vec2{} ? 0.0 : spacing_along(dir, false);
    }
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
