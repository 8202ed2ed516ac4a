// SPDX-License-Identifier: Apache-2.0
// The navigation field, solved by fast marching over all layers at once (docs/navigation-field.md).
#include "venue/nav_field.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <stdexcept>
#include <string>

namespace vigil::venue {

namespace {

using geom::Box;
using geom::GridSpec;

// Walkable cells are kept this many cells away from the grid border, so that the solver's
// steps of one and two cells from a walkable cell never leave its layer.
constexpr int kBorder = 2;
// The largest number of cells the solver indexes (its indices are 32-bit).
constexpr std::size_t kMaxCells = std::size_t{1} << 31;

// Solver cell states (low bits) and a flag for cells that have portal links.
constexpr std::uint8_t kOpen = 0;     // walkable, distance not final yet
constexpr std::uint8_t kKnown = 1;    // distance final
constexpr std::uint8_t kBlocked = 2;  // not walkable
constexpr std::uint8_t kStateMask = 0x03;
constexpr std::uint8_t kPortalFlag = 0x80;

constexpr float kInf = NavField::kUnreachable;

double stair_metric(const Stair& s) {
  const double plan = s.plan_length_m();
  return (s.length_m > 0 && plan > 0) ? s.length_m / plan : 1.0;
}

Segment extended(const Segment& s, double by_m) {
  const Vec2 u = geom::normalized(s.b - s.a);
  return {s.a - u * by_m, s.b + u * by_m};
}

double segment_distance(const Segment& s, const Segment& t) {
  if (geom::segments_intersect(s, t)) return 0;
  return std::min({geom::distance(s.a, t), geom::distance(s.b, t), geom::distance(t.a, s),
                   geom::distance(t.b, s)});
}

// Calls fn(i, j) for every in-range cell of g whose square meets `box`.
template <class Fn>
void for_cells_in(const GridSpec& g, const Box& box, Fn&& fn) {
  if (box.empty() || g.nx <= 0 || g.ny <= 0) return;
  const auto clamp_to = [](double v, int hi) {
    return static_cast<int>(std::clamp(std::floor(v), 0.0, static_cast<double>(hi)));
  };
  const int i0 = clamp_to((box.min.x - g.origin.x) / g.cell_m, g.nx - 1);
  const int i1 = clamp_to((box.max.x - g.origin.x) / g.cell_m, g.nx - 1);
  const int j0 = clamp_to((box.min.y - g.origin.y) / g.cell_m, g.ny - 1);
  const int j1 = clamp_to((box.max.y - g.origin.y) / g.cell_m, g.ny - 1);
  for (int j = j0; j <= j1; ++j)
    for (int i = i0; i <= i1; ++i) fn(i, j);
}

Box expanded(Box b, double by_m) {
  b.min -= Vec2{by_m, by_m};
  b.max += Vec2{by_m, by_m};
  return b;
}

// Calls fn(segment) for every edge of every ring of the polygon.
template <class Fn>
void for_each_edge(const Polygon& poly, Fn&& fn) {
  auto ring = [&](const geom::Ring& r) {
    for (std::size_t k = 0; k < r.size(); ++k) fn(Segment{r[k], r[(k + 1) % r.size()]});
  };
  ring(poly.outer);
  for (const geom::Ring& h : poly.holes) ring(h);
}

// Hazards block every cell they touch: the cells whose centres are inside, and the cells their
// outline passes through (so that a hazard thinner than a cell still blocks).
void block_polygon(NavLayer& layer, const Polygon& poly) {
  geom::fill_polygon(layer.grid, poly, layer.walkable, 0);
  for_each_edge(poly, [&](const Segment& e) { geom::fill_segment(layer.grid, e, layer.walkable, 0); });
}

// A closed door is a wall: its supercover line, one cell longer at both ends so that it meets
// the walls it spans.
void block_door(NavLayer& layer, const Segment& door, double cell_m) {
  geom::fill_segment(layer.grid, extended(door, cell_m), layer.walkable, 0);
}

void clear_border(NavLayer& layer) {
  const GridSpec& g = layer.grid;
  for (int j = 0; j < g.ny; ++j) {
    const bool edge_row = j < kBorder || j >= g.ny - kBorder;
    for (int i = 0; i < g.nx; ++i)
      if (edge_row || i < kBorder || i >= g.nx - kBorder) layer.walkable[g.index(i, j)] = 0;
  }
}

// The cell of p on g, or false when p is outside the grid (or not a number).
bool cell_of(const GridSpec& g, Vec2 p, int& i, int& j) {
  const double u = (p.x - g.origin.x) / g.cell_m;
  const double v = (p.y - g.origin.y) / g.cell_m;
  if (!(u >= 0 && v >= 0 && u < g.nx && v < g.ny)) return false;
  i = static_cast<int>(u);
  j = static_cast<int>(v);
  return true;
}

// Fast marching over the cells of all layers, indexed globally (layer offset + cell index).
// Grid neighbours are updated with the upwind eikonal scheme; portal links behave like
// Dijkstra edges. One binary heap with lazy deletion orders both.
class Marcher {
 public:
  // REQUIRES: the layers hold fewer than kMaxCells cells in all.
  explicit Marcher(const std::vector<NavLayer>& layers) {
    std::size_t total = 0;
    for (const NavLayer& l : layers) {
      begin_.push_back(static_cast<std::uint32_t>(total));
      info_.push_back({static_cast<std::ptrdiff_t>(l.grid.nx), l.grid.cell_m, l.metric});
      total += l.grid.size();
    }
    state_.resize(total);
    dist_.assign(total, kInf);
    std::size_t k = 0;
    for (const NavLayer& l : layers)
      for (const std::uint8_t w : l.walkable) state_[k++] = w ? kOpen : kBlocked;
    heap_.reserve(4096);
  }

  std::uint32_t global(int layer, std::size_t cell) const {
    return begin_[static_cast<std::size_t>(layer)] + static_cast<std::uint32_t>(cell);
  }

  // Fixes a walkable cell at an exact initial distance.
  void freeze(std::uint32_t cell, double d) {
    if ((state_[cell] & kStateMask) == kBlocked) return;
    const float f = static_cast<float>(d);
    if ((state_[cell] & kStateMask) == kKnown) {
      dist_[cell] = std::min(dist_[cell], f);
      return;
    }
    state_[cell] = static_cast<std::uint8_t>((state_[cell] & ~kStateMask) | kKnown);
    dist_[cell] = f;
    frozen_.push_back(cell);
  }

  // A two-way portal link between walkable cells, `cost_m` walking metres long.
  void link(std::uint32_t a, std::uint32_t b, double cost_m) {
    const float c = static_cast<float>(cost_m);
    links_.push_back({a, b, c});
    links_.push_back({b, a, c});
  }

  void run() {
    std::sort(links_.begin(), links_.end(),
              [](const Link& x, const Link& y) { return x.from < y.from; });
    for (const Link& l : links_) state_[l.from] |= kPortalFlag;
    for (const std::uint32_t c : frozen_) relax(c);
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      const Item top = heap_.back();
      heap_.pop_back();
      std::uint8_t& s = state_[top.cell];
      if ((s & kStateMask) != kOpen || top.d > dist_[top.cell]) continue;  // stale entry
      s = static_cast<std::uint8_t>((s & ~kStateMask) | kKnown);
      relax(top.cell);
    }
  }

  // Moves the solution into the layers.
  void store(std::vector<NavLayer>& layers) const {
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const auto first = dist_.begin() + begin_[l];
      layers[l].distance_m.assign(first, first + static_cast<std::ptrdiff_t>(layers[l].grid.size()));
      // Blocked cells are unreachable: distance() reads only distance_m.
      for (std::size_t c = 0; c < layers[l].walkable.size(); ++c)
        if (!layers[l].walkable[c]) layers[l].distance_m[c] = NavField::kUnreachable;
    }
  }

 private:
  struct LayerInfo {
    std::ptrdiff_t stride;  // cells per row
    double h;               // cell size, plan metres
    double metric;          // walking metres per plan metre
  };
  struct Link {
    std::uint32_t from;
    std::uint32_t to;
    float cost;
  };
  struct Item {
    float d;
    std::uint32_t cell;
  };
  struct Later {
    bool operator()(const Item& a, const Item& b) const { return a.d > b.d; }
  };
  // The upwind data along one axis: the known neighbour value t1, and the value tp and
  // coefficient alpha of the difference (second order when two known cells line up).
  struct Upwind {
    bool ok = false;
    double t1 = 0;
    double tp = 0;
    double alpha = 0;
  };

  bool known(std::size_t cell) const { return (state_[cell] & kStateMask) == kKnown; }

  const LayerInfo& layer_of(std::uint32_t cell) const {
    const auto it = std::upper_bound(begin_.begin(), begin_.end(), cell);
    return info_[static_cast<std::size_t>(it - begin_.begin()) - 1];
  }

  void push(std::uint32_t cell, double d) {
    const float f = static_cast<float>(d);
    if (!(f < dist_[cell])) return;
    dist_[cell] = f;
    heap_.push_back({f, cell});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }

  // Can a diagonal step (sa + sb) be taken from c, i.e. is it not squeezing between two blocked
  // cells? (Supercover walls are 4-connected, so they stop diagonal steps too.)
  bool passable(std::size_t c, std::ptrdiff_t sa, std::ptrdiff_t sb) const {
    const auto at = [c](std::ptrdiff_t s) { return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(c) + s); };
    return (state_[at(sa)] & kStateMask) != kBlocked || (state_[at(sb)] & kStateMask) != kBlocked;
  }

  // The upwind data along the direction a + b (an axis when b == 0, a diagonal otherwise), whose
  // neighbours are h apart; second order only when asked for.
  // REQUIRES: cell is walkable (so cell ± 2 * (a + b) stays in its layer).
  Upwind upwind(std::size_t cell, std::ptrdiff_t a, std::ptrdiff_t b, double h,
                bool second_order) const {
    Upwind u;
    float best = kInf;
    float second = kInf;
    for (const std::ptrdiff_t side : {-1, 1}) {
      const std::ptrdiff_t sa = side * a;
      const std::ptrdiff_t sb = side * b;
      const std::ptrdiff_t step = sa + sb;
      const std::size_t n1 = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(cell) + step);
      if (!known(n1) || !(dist_[n1] < best)) continue;
      if (b != 0 && !passable(cell, sa, sb)) continue;
      best = dist_[n1];
      second = kInf;
      if (!second_order) continue;
      const std::size_t n2 = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(n1) + step);
      if (known(n2) && dist_[n2] <= best && (b == 0 || passable(n1, sa, sb))) second = dist_[n2];
    }
    if (best == kInf) return u;
    u.ok = true;
    u.t1 = best;
    if (second < kInf) {
      u.tp = (4.0 * best - second) / 3.0;
      u.alpha = 1.5 / h;
    } else {
      u.tp = best;
      u.alpha = 1.0 / h;
    }
    return u;
  }

  // Solves alpha_a²(T - ta)² + alpha_b²(T - tb)² = f² for the upwind root, or NaN when there is
  // none that is upwind of both terms.
  static double solve2(double ta, double aa, double tb, double ab, double f) {
    const double a2 = aa * aa;
    const double b2 = ab * ab;
    const double qa = a2 + b2;
    const double qb = a2 * ta + b2 * tb;  // half of -b
    const double qc = a2 * ta * ta + b2 * tb * tb - f * f;
    const double disc = qb * qb - qa * qc;
    if (disc < 0) return NAN;
    const double t = (qb + std::sqrt(disc)) / qa;
    return t >= std::max(ta, tb) ? t : NAN;
  }

  // The eikonal update from two orthogonal directions with neighbours h apart: second order
  // where available, else first order, else one-sided; +inf when neither has a known neighbour.
  static double solve_stencil(const Upwind& p, const Upwind& q, double h, double f) {
    if (p.ok && q.ok) {
      double t = solve2(p.tp, p.alpha, q.tp, q.alpha, f);
      if (std::isnan(t)) t = solve2(p.t1, 1.0 / h, q.t1, 1.0 / h, f);
      if (std::isnan(t)) t = std::min(p.tp + f / p.alpha, q.tp + f / q.alpha);
      return t;
    }
    if (p.ok) return p.tp + f / p.alpha;
    if (q.ok) return q.tp + f / q.alpha;
    return INFINITY;
  }

  // The smallest one-sided value over the eight knight's-move neighbours (two cells along one
  // axis and one along the other, √5 h away), each usable only when both cells the straight way
  // passes through are walkable.
  // REQUIRES: cell is walkable.
  double knight_moves(std::size_t cell, std::ptrdiff_t row, double h, double f) const {
    float best = kInf;
    const auto at = [cell](std::ptrdiff_t s) {
      return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(cell) + s);
    };
    const auto open = [&](std::ptrdiff_t s) { return (state_[at(s)] & kStateMask) != kBlocked; };
    for (const std::ptrdiff_t sy : {-row, row}) {
      for (const std::ptrdiff_t sx : {std::ptrdiff_t{-1}, std::ptrdiff_t{1}}) {
        // Two along x, one along y: the way passes (x) and (x + y).
        if (known(at(2 * sx + sy)) && dist_[at(2 * sx + sy)] < best && open(sx) && open(sx + sy))
          best = dist_[at(2 * sx + sy)];
        // One along x, two along y: the way passes (y) and (x + y).
        if (known(at(sx + 2 * sy)) && dist_[at(sx + 2 * sy)] < best && open(sy) && open(sx + sy))
          best = dist_[at(sx + 2 * sy)];
      }
    }
    return best == kInf ? INFINITY : best + f * h * std::sqrt(5.0);
  }

  // Three stencils, the smallest result winning: the grid axes (spacing h), second order where
  // two known cells line up (Sethian's scheme); the diagonals (spacing h√2), first order, as in
  // multi-stencil fast marching; and knight's moves (√5 h), one-sided. Beside a wall that is not
  // aligned with the grid, or just behind an obstacle corner, the axis stencil often has one
  // usable neighbour only and errs long by up to a cell; the wider stencils reach cells in the
  // true upwind direction. Being first order they tend to err long, so the minimum does not
  // undershoot the way two second-order stencils can near corners.
  void update(std::uint32_t cell, const LayerInfo& L) {
    const double h = L.h;
    const double hd = h * std::numbers::sqrt2;
    const std::ptrdiff_t row = L.stride;
    const double axes = solve_stencil(upwind(cell, 1, 0, h, true), upwind(cell, row, 0, h, true),
                                      h, L.metric);
    const double diagonals = solve_stencil(upwind(cell, 1, row, hd, false),
                                           upwind(cell, -1, row, hd, false), hd, L.metric);
    const double knights = knight_moves(cell, row, h, L.metric);
    push(cell, std::min({axes, diagonals, knights}));
  }

  // REQUIRES: cell is known.
  void relax(std::uint32_t cell) {
    const LayerInfo& L = layer_of(cell);
    for (const std::ptrdiff_t step : {std::ptrdiff_t{-1}, std::ptrdiff_t{1}, -L.stride, L.stride}) {
      const auto n = static_cast<std::uint32_t>(static_cast<std::ptrdiff_t>(cell) + step);
      if ((state_[n] & kStateMask) == kOpen) update(n, L);
    }
    if (state_[cell] & kPortalFlag) {
      auto it = std::lower_bound(links_.begin(), links_.end(), cell,
                                 [](const Link& l, std::uint32_t c) { return l.from < c; });
      for (; it != links_.end() && it->from == cell; ++it)
        if ((state_[it->to] & kStateMask) == kOpen)
          push(it->to, static_cast<double>(dist_[cell]) + it->cost);
    }
  }

  std::vector<std::uint32_t> begin_;  // first global index of each layer
  std::vector<LayerInfo> info_;
  std::vector<std::uint8_t> state_;
  std::vector<float> dist_;
  std::vector<Link> links_;  // sorted by `from` in run()
  std::vector<std::uint32_t> frozen_;
  std::vector<Item> heap_;
};

// Can p (a cell centre) see the point q of a nearby opening? The straight way is sampled every
// half cell and must stay on walkable cells, except for its last three quarters of a cell, which
// may lie in a cell whose centre is just beyond the opening (cells are walkable by their centres).
bool sees(const NavLayer& layer, Vec2 p, Vec2 q) {
  const GridSpec& g = layer.grid;
  const double c = g.cell_m;
  const double d = geom::distance(p, q);
  const Vec2 dir = geom::normalized(q - p);
  for (double along = 0.5 * c; d - along >= 0.75 * c; along += 0.5 * c) {
    int i = 0;
    int j = 0;
    if (!cell_of(g, p + dir * along, i, j) || !layer.walkable[g.index(i, j)]) return false;
  }
  return true;
}

// Walkable cells of the layer whose centres are within `radius_m` of the segment and see it.
template <class Fn>
void for_cells_near(const NavLayer& layer, const Segment& s, double radius_m, Fn&& fn) {
  const GridSpec& g = layer.grid;
  for_cells_in(g, expanded(geom::bounds(s), radius_m), [&](int i, int j) {
    const std::size_t cell = g.index(i, j);
    if (!layer.walkable[cell]) return;
    const Vec2 p = g.centre(i, j);
    const Vec2 q = geom::closest_point(s, p);
    if (geom::distance(p, q) <= radius_m && sees(layer, p, q)) fn(cell, p);
  });
}

// How far round an opening its exact initial values reach, in cells.
constexpr double kSeedRadiusCells = 1.5;

// Exact initialisation: walkable cells within 1.5 cells of the exit that see it get their
// Euclidean distance to it.
void seed_exit(Marcher& m, int layer_index, const NavLayer& layer, const Segment& exit) {
  for_cells_near(layer, exit, kSeedRadiusCells * layer.grid.cell_m, [&](std::size_t cell, Vec2 p) {
    m.freeze(m.global(layer_index, cell), geom::distance(p, exit));
  });
}

// A target region: its walkable cells (by centre) at distance 0; when it holds no walkable
// centre, the walkable cell nearest its centroid within two cells, at its distance to it.
void seed_target(Marcher& m, int layer_index, const NavLayer& layer, const Polygon& target) {
  const GridSpec& g = layer.grid;
  std::vector<std::uint8_t> inside(g.size(), 0);
  geom::fill_polygon(g, target, inside, 1);
  bool any = false;
  for (std::size_t cell = 0; cell < inside.size(); ++cell) {
    if (!inside[cell] || !layer.walkable[cell]) continue;
    m.freeze(m.global(layer_index, cell), 0.0);
    any = true;
  }
  if (any || target.outer.empty()) return;
  Vec2 c;
  for (const Vec2& p : target.outer) c += p;
  c = c / static_cast<double>(target.outer.size());
  double best = 2 * g.cell_m;
  std::size_t best_cell = inside.size();
  for_cells_in(g, expanded(Box{c, c}, best), [&](int i, int j) {
    const std::size_t cell = g.index(i, j);
    const double d = geom::distance(g.centre(i, j), c);
    if (layer.walkable[cell] && d <= best) {
      best = d;
      best_cell = cell;
    }
  });
  if (best_cell < inside.size()) m.freeze(m.global(layer_index, best_cell), best);
}

bool crosses_any(const Segment& s, const std::vector<Segment>& walls) {
  return std::any_of(walls.begin(), walls.end(),
                     [&](const Segment& w) { return geom::segments_intersect(s, w); });
}

// Portal links across one stair edge. Stair cells and level cells within 1.5 cells of the edge
// (on their own side, or round its ends) are linked pairwise when they are at most three cells
// apart; a link is the way from one centre to the point where the straight line between them
// meets the edge (clamped to the edge) and on to the other, the stair part scaled by the stair's
// metric. The band mirrors the exact initialisation at exits: the cells round the ends of the
// edge, from which the field fans out round the stairwell, get near-exact values. Links that
// cross a wall in `walls` (closed doors, hazard outlines) are left out.
void link_edge(Marcher& m, int stair_index, const NavLayer& stair, int level_index,
               const NavLayer& level, const Segment& edge, Vec2 towards_stair,
               const std::vector<Segment>& walls) {
  const double len = edge.length();
  if (!(len > 0)) return;
  const double c = stair.grid.cell_m;
  const Vec2 u = (edge.b - edge.a) / len;
  Vec2 n{-u.y, u.x};
  if (geom::dot(towards_stair - edge.a, n) < 0) n = n * -1.0;

  struct Candidate {
    std::uint32_t cell;
    Vec2 centre;
    double side_m;  // signed distance from the edge line, positive on the stair side
  };
  // Beside the edge a cell must be on its own side (or within half a cell of the line, for
  // slanted edges); round the ends of the edge any side will do.
  auto gather = [&](int layer_index, const NavLayer& layer, double sign) {
    std::vector<Candidate> out;
    for_cells_near(layer, edge, kSeedRadiusCells * c, [&](std::size_t cell, Vec2 p) {
      const double along = geom::dot(p - edge.a, u);
      const double side = geom::dot(p - edge.a, n);
      if (along >= 0 && along <= len && sign * side < -0.5 * c) return;
      out.push_back({m.global(layer_index, cell), p, side});
    });
    return out;
  };
  const std::vector<Candidate> on_stair = gather(stair_index, stair, 1.0);
  const std::vector<Candidate> on_level = gather(level_index, level, -1.0);
  for (const Candidate& s : on_stair) {
    for (const Candidate& l : on_level) {
      if (geom::distance(s.centre, l.centre) > 3 * c) continue;
      // Where the way crosses the edge line, clamped to the edge.
      double t = 0;
      const double den = s.side_m - l.side_m;
      if (s.side_m > 0 && l.side_m < 0 && den > 0) {
        const Vec2 cross = s.centre + (l.centre - s.centre) * (s.side_m / den);
        t = geom::dot(cross - edge.a, u) / len;
      } else {
        t = geom::dot((s.centre + l.centre) * 0.5 - edge.a, u) / len;
      }
      const Vec2 e = edge.a + (edge.b - edge.a) * std::clamp(t, 0.0, 1.0);
      const Segment up{s.centre, e};
      const Segment down{e, l.centre};
      if (crosses_any(up, walls) || crosses_any(down, walls)) continue;
      m.link(s.cell, l.cell, stair.metric * up.length() + down.length());
    }
  }
}

}  // namespace

NavField NavField::compute(const Venue& venue, const NavOptions& opt) {
  if (!(opt.cell_m > 0) || !std::isfinite(opt.cell_m))
    throw std::invalid_argument("NavOptions::cell_m must be a positive number of metres, got " +
                                std::to_string(opt.cell_m));
  const double c = opt.cell_m;
  const auto closed = [&](const std::string& id) { return opt.closed.count(id) > 0; };

  NavField f;
  f.options_ = opt;
  // Grids for the layers, refusing (before anything is allocated) a cell size that would need
  // more cells than the solver can index.
  std::size_t cells = 0;
  const auto grid_over = [&](const Box& box) {
    const GridSpec g = GridSpec::covering(box, c, kBorder);
    cells += g.size();
    if (cells >= kMaxCells)
      throw std::invalid_argument("NavField: the venue needs more than " + std::to_string(cells) +
                                  " cells of " + std::to_string(c) +
                                  " m; use a larger NavOptions::cell_m");
    return g;
  };

  // One layer per level.
  if (!venue.levels.empty()) {
    f.min_level_ = venue.levels.begin()->first;
    const int max_level = venue.levels.rbegin()->first;
    f.level_layer_.assign(static_cast<std::size_t>(max_level - f.min_level_) + 1, -1);
  }
  for (const auto& [index, level] : venue.levels) {
    NavLayer layer;
    layer.kind = NavLayer::Kind::level;
    layer.level = index;
    layer.grid = grid_over(geom::bounds(level.walkable));
    layer.walkable.assign(layer.grid.size(), 0);
    for (const Polygon& p : level.walkable) geom::fill_polygon(layer.grid, p, layer.walkable, 1);
    for (const Hazard& h : opt.hazards)
      if (h.level == index) block_polygon(layer, h.polygon);
    for (const Opening& d : venue.doors)
      if (d.level == index && closed(d.id)) block_door(layer, d.line, c);
    f.level_layer_[static_cast<std::size_t>(index - f.min_level_)] = static_cast<int>(f.layers_.size());
    f.layers_.push_back(std::move(layer));
  }

  // One layer per stair. A hazard drawn on either of the stair's levels blocks the stair where
  // it covers the footprint; a closed door on one of its levels blocks it when it lies at (within
  // two cells of) the edge that joins that level.
  f.stair_layer_.assign(venue.stairs.size(), -1);
  for (std::size_t k = 0; k < venue.stairs.size(); ++k) {
    const Stair& s = venue.stairs[k];
    NavLayer layer;
    layer.kind = NavLayer::Kind::stair;
    layer.level = s.from_level;
    layer.stair = static_cast<int>(k);
    layer.metric = stair_metric(s);
    layer.grid = grid_over(geom::bounds(s.footprint));
    layer.walkable.assign(layer.grid.size(), 0);
    geom::fill_polygon(layer.grid, s.footprint, layer.walkable, 1);
    for (const Hazard& h : opt.hazards)
      if (h.level == s.from_level || h.level == s.to_level) block_polygon(layer, h.polygon);
    for (const Opening& d : venue.doors) {
      if (!closed(d.id)) continue;
      const Segment wall = extended(d.line, c);
      if ((d.level == s.from_level && segment_distance(wall, s.bottom) <= 2 * c) ||
          (d.level == s.to_level && segment_distance(wall, s.top) <= 2 * c))
        block_door(layer, d.line, c);
    }
    f.stair_layer_[k] = static_cast<int>(f.layers_.size());
    f.layers_.push_back(std::move(layer));
  }
  for (NavLayer& layer : f.layers_) clear_border(layer);

  Marcher m(f.layers_);
  if (opt.targets.empty()) {
    for (const Opening& e : venue.exits) {
      const int l = f.level_layer(e.level);
      if (l >= 0 && !closed(e.id)) seed_exit(m, l, f.layers_[static_cast<std::size_t>(l)], e.line);
    }
  }
  for (const NavTarget& t : opt.targets) {
    const int l = f.level_layer(t.level);
    if (l >= 0) seed_target(m, l, f.layers_[static_cast<std::size_t>(l)], t.polygon);
  }
  for (std::size_t k = 0; k < venue.stairs.size(); ++k) {
    const Stair& s = venue.stairs[k];
    const int sl = f.stair_layer_[k];
    const NavLayer& stair = f.layers_[static_cast<std::size_t>(sl)];
    // What a portal link may not cross: hazards on either level of the stair, and closed doors
    // on the level of the edge.
    std::vector<Segment> hazard_walls;
    for (const Hazard& h : opt.hazards) {
      if (h.level != s.from_level && h.level != s.to_level) continue;
      for_each_edge(h.polygon, [&](const Segment& e) { hazard_walls.push_back(e); });
    }
    auto walls_on = [&](int level) {
      std::vector<Segment> walls = hazard_walls;
      for (const Opening& d : venue.doors)
        if (d.level == level && closed(d.id)) walls.push_back(extended(d.line, c));
      return walls;
    };
    const int bottom = f.level_layer(s.from_level);
    const int top = f.level_layer(s.to_level);
    if (bottom >= 0)
      link_edge(m, sl, stair, bottom, f.layers_[static_cast<std::size_t>(bottom)], s.bottom,
                s.top.midpoint(), walls_on(s.from_level));
    if (top >= 0)
      link_edge(m, sl, stair, top, f.layers_[static_cast<std::size_t>(top)], s.top,
                s.bottom.midpoint(), walls_on(s.to_level));
  }
  m.run();
  m.store(f.layers_);
  return f;
}

int NavField::level_layer(int level) const {
  const long k = static_cast<long>(level) - min_level_;
  if (k < 0 || k >= static_cast<long>(level_layer_.size())) return -1;
  return level_layer_[static_cast<std::size_t>(k)];
}

int NavField::stair_layer(int stair) const {
  if (stair < 0 || static_cast<std::size_t>(stair) >= stair_layer_.size()) return -1;
  return stair_layer_[static_cast<std::size_t>(stair)];
}

bool NavField::walkable(int layer, Vec2 p) const {
  if (layer < 0 || static_cast<std::size_t>(layer) >= layers_.size()) return false;
  const NavLayer& l = layers_[static_cast<std::size_t>(layer)];
  int i = 0;
  int j = 0;
  return cell_of(l.grid, p, i, j) && l.walkable[l.grid.index(i, j)] != 0;
}

double NavField::distance(int layer, Vec2 p) const {
  if (layer < 0 || static_cast<std::size_t>(layer) >= layers_.size()) return kUnreachable;
  const NavLayer& l = layers_[static_cast<std::size_t>(layer)];
  const GridSpec& g = l.grid;
  int ci = 0;
  int cj = 0;
  if (!cell_of(g, p, ci, cj)) return kUnreachable;
  const std::size_t own = g.index(ci, cj);
  // (Blocked cells hold kUnreachable: no separate walkable check.)
  if (l.distance_m[own] == kUnreachable) return kUnreachable;
  const double d_own = l.distance_m[own];
  // Bilinear weights over the four centres around p. Corners that are blocked, unreachable or
  // further from d_own than a walk of three cells could explain (the far side of a thin wall)
  // are left out and the weights renormalised; p's own cell always has a positive weight.
  const double u = (p.x - g.origin.x) / g.cell_m - 0.5;
  const double v = (p.y - g.origin.y) / g.cell_m - 0.5;
  const int i0 = static_cast<int>(std::floor(u));
  const int j0 = static_cast<int>(std::floor(v));
  const double wx = u - i0;
  const double wy = v - j0;
  const double tolerance = 3 * g.cell_m * l.metric;
  double sum = 0;
  double weight = 0;
  for (int dj = 0; dj <= 1; ++dj) {
    for (int di = 0; di <= 1; ++di) {
      const int i = i0 + di;
      const int j = j0 + dj;
      if (!g.in_range(i, j)) continue;
      const std::size_t cell = g.index(i, j);
      const float d = l.distance_m[cell];
      if (d == kUnreachable || std::abs(d - d_own) > tolerance) continue;
      const double w = (di ? wx : 1 - wx) * (dj ? wy : 1 - wy);
      sum += w * d;
      weight += w;
    }
  }
  return weight > 0 ? sum / weight : d_own;
}

double NavField::distance_or_around(int layer, Vec2 p, double step, double d_here) const {
  if (d_here != kUnreachable) return d_here;
  double best = kUnreachable;
  for (int k = 0; k < 8; ++k) {
    const double a = k * (std::numbers::pi / 4);
    const double dq = distance(layer, p + Vec2{std::cos(a), std::sin(a)} * step);
    if (dq != kUnreachable) best = std::min(best, dq + step);
  }
  return best;
}

Vec2 NavField::lowest_around(int layer, Vec2 p, double step, double below) const {
  Vec2 best_dir;
  double best = below;
  for (int k = 0; k < 16; ++k) {
    const double a = k * (std::numbers::pi / 8);
    const Vec2 dir{std::cos(a), std::sin(a)};
    const double dq = distance(layer, p + dir * step);
    if (dq < best) {
      best = dq;
      best_dir = dir;
    }
  }
  return best_dir;
}

Vec2 NavField::direction(int layer, Vec2 p, double d0) const {
  if (d0 == kUnreachable) return {};
  const NavLayer& l = layers_[static_cast<std::size_t>(layer)];
  const double h = l.grid.cell_m;
  // A neighbour sample counts only if it is reachable and no further from d0 than a walk of
  // twice the step could explain (otherwise it is across a wall).
  const double tolerance = 2 * h * l.metric;
  auto sample = [&](Vec2 q, double& out) {
    out = distance(layer, q);
    return out != kUnreachable && std::abs(out - d0) <= tolerance;
  };
  auto derivative = [&](Vec2 step) {
    double plus = 0;
    double minus = 0;
    const bool has_plus = sample(p + step, plus);
    const bool has_minus = sample(p - step, minus);
    if (has_plus && has_minus) return (plus - minus) / (2 * h);
    if (has_plus) return (plus - d0) / h;
    if (has_minus) return (d0 - minus) / h;
    return 0.0;
  };
  const Vec2 gradient{derivative({h, 0}), derivative({0, h})};
  return geom::normalized(gradient * -1.0);
}

}  // namespace vigil::venue
