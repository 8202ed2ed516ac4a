// SPDX-License-Identifier: Apache-2.0
#include "sim/space.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

namespace vigil::sim {

namespace {
Vec2 closest_inset(const Portal& portal, Vec2 p, double r) {
  const Segment& s = portal.seg;
  const double len = s.length();
  const double inset = std::min(r + 0.05, len / 2);
  const Vec2 u = (s.b - s.a) / len;
  return geom::closest_point(Segment{s.a + u * inset, s.b - u * inset}, p);
}
}  // namespace

Vec2 portal_aim(const Portal& portal, Vec2 p, double r) { return closest_inset(portal, p, r) + portal.outward * 0.5; }

Vec2 portal_approach(const Portal& portal, Vec2 p, double r) {
  return closest_inset(portal, p, r) - portal.outward * (r + 0.1);
}

namespace {

using geom::Vec2;

constexpr double kCollinearTol = 0.1;  // m: how far a portal may lie from the edge it opens
constexpr double kMinPiece = 1e-6;

Vec2 perp(Vec2 v) { return {-v.y, v.x}; }

// Removes from edge e the parts covered by the portals that lie along it.
void cut_edge(const Segment& e, const std::vector<Segment>& portals, std::vector<Segment>& out) {
  const double len = e.length();
  if (len < kMinPiece) return;
  const Vec2 u = (e.b - e.a) / len;
  std::vector<std::pair<double, double>> cuts;
  for (const Segment& p : portals) {
    const double plen = p.length();
    if (plen < kMinPiece) continue;
    const Vec2 up = (p.b - p.a) / plen;
    if (std::abs(geom::cross(u, up)) > 0.05) continue;  // not parallel (about 3 degrees)
    if (std::abs(geom::cross(u, p.a - e.a)) > kCollinearTol) continue;
    if (std::abs(geom::cross(u, p.b - e.a)) > kCollinearTol) continue;
    double t0 = geom::dot(p.a - e.a, u);
    double t1 = geom::dot(p.b - e.a, u);
    if (t0 > t1) std::swap(t0, t1);
    t0 = std::max(t0, 0.0);
    t1 = std::min(t1, len);
    if (t1 - t0 > kMinPiece) cuts.emplace_back(t0, t1);
  }
  std::sort(cuts.begin(), cuts.end());
  double t = 0;
  for (const auto& [c0, c1] : cuts) {
    if (c0 - t > kMinPiece) out.push_back({e.a + u * t, e.a + u * c0});
    t = std::max(t, c1);
  }
  if (len - t > kMinPiece) out.push_back({e.a + u * t, e.b});
}

void ring_edges(const geom::Ring& r, std::vector<Segment>& out) {
  const std::size_t n = r.size();
  for (std::size_t i = 0; i < n; ++i) out.push_back({r[i], r[(i + 1) % n]});
}

void polygon_edges(const geom::Polygon& p, std::vector<Segment>& out) {
  ring_edges(p.outer, out);
  for (const geom::Ring& h : p.holes) ring_edges(h, out);
}

// Unit normal of s pointing to the side where `inside` holds (tested just off the midpoint);
// the opposite side if neither or both hold.
template <class Inside>
Vec2 normal_towards(const Segment& s, Inside inside) {
  const Vec2 n = geom::normalized(perp(s.b - s.a));
  const Vec2 m = s.midpoint();
  const bool plus = inside(m + n * 0.05);
  const bool minus = inside(m - n * 0.05);
  if (plus && !minus) return n;
  if (minus && !plus) return n * -1.0;
  return n;
}

// Intersection parameter t in [0, 1] along p->p+d with segment w, or -1.
double crossing_param(Vec2 p, Vec2 d, const Segment& w) {
  const Vec2 e = w.b - w.a;
  const double den = geom::cross(d, e);
  if (std::abs(den) < 1e-15) return -1;
  const Vec2 ap = w.a - p;
  const double t = geom::cross(ap, e) / den;
  const double s = geom::cross(ap, d) / den;
  if (t < 0 || t > 1 || s < 0 || s > 1) return -1;
  return t;
}

// The cell of the layer's grid holding p, or -1 outside the grid.
std::ptrdiff_t cell_at(const SpaceLayer& l, Vec2 p) {
  const int i = static_cast<int>(std::floor((p.x - l.origin.x) / Space::kCell));
  const int j = static_cast<int>(std::floor((p.y - l.origin.y) / Space::kCell));
  if (i < 0 || j < 0 || i >= l.nx || j >= l.ny) return -1;
  return static_cast<std::ptrdiff_t>(j) * l.nx + i;
}

// Calls f(cell, centre) for every cell of the grid meeting box b grown by `margin`.
template <class F>
void for_each_cell_near(const SpaceLayer& l, const geom::Box& b, double margin, F&& f) {
  const double h = Space::kCell;
  const int i0 = std::max(0, static_cast<int>(std::floor((b.min.x - margin - l.origin.x) / h)));
  const int j0 = std::max(0, static_cast<int>(std::floor((b.min.y - margin - l.origin.y) / h)));
  const int i1 = std::min(l.nx - 1, static_cast<int>(std::floor((b.max.x + margin - l.origin.x) / h)));
  const int j1 = std::min(l.ny - 1, static_cast<int>(std::floor((b.max.y + margin - l.origin.y) / h)));
  for (int j = j0; j <= j1; ++j)
    for (int i = i0; i <= i1; ++i)
      f(static_cast<std::size_t>(j) * static_cast<std::size_t>(l.nx) + static_cast<std::size_t>(i),
        Vec2{l.origin.x + (i + 0.5) * h, l.origin.y + (j + 0.5) * h});
}

}  // namespace

Space Space::build(const venue::Venue& venue, const std::set<std::string>& closed) {
  Space sp;
  sp.venue_ = &venue;
  if (!venue.levels.empty()) {
    sp.min_level_ = venue.levels.begin()->first;
    const int max_level = venue.levels.rbegin()->first;
    sp.level_layer_.assign(static_cast<std::size_t>(max_level - sp.min_level_ + 1), -1);
  }
  for (const auto& [index, level] : venue.levels) {
    sp.level_layer_[static_cast<std::size_t>(index - sp.min_level_)] =
        static_cast<int>(sp.layers_.size());
    SpaceLayer l;
    l.kind = SpaceLayer::Kind::level;
    l.level = index;
    l.bounds = geom::bounds(level.walkable);
    sp.layers_.push_back(std::move(l));
  }
  sp.stair_layer_offset_ = static_cast<int>(sp.layers_.size());
  for (std::size_t s = 0; s < venue.stairs.size(); ++s) {
    const venue::Stair& st = venue.stairs[s];
    SpaceLayer l;
    l.kind = SpaceLayer::Kind::stair;
    l.level = st.from_level;
    l.stair = static_cast<int>(s);
    l.bounds = geom::bounds(st.footprint);
    sp.layers_.push_back(std::move(l));
  }

  // Level layers.
  for (auto& l : sp.layers_) {
    if (l.kind != SpaceLayer::Kind::level) continue;
    const venue::Level& level = venue.levels.at(l.level);
    auto inside_level = [&](Vec2 p) { return geom::contains(level.walkable, p); };
    std::vector<Segment> openings;
    for (std::size_t e = 0; e < venue.exits.size(); ++e) {
      const venue::Opening& ex = venue.exits[e];
      if (ex.level != l.level) continue;
      if (closed.count(ex.id)) {
        l.walls.push_back({ex.line, -1});
        continue;
      }
      openings.push_back(ex.line);
      Portal p;
      p.kind = Portal::Kind::exit;
      p.seg = ex.line;
      p.outward = normal_towards(ex.line, inside_level) * -1.0;
      p.exit = static_cast<int>(e);
      l.portals.push_back(p);
    }
    for (std::size_t s = 0; s < venue.stairs.size(); ++s) {
      const venue::Stair& st = venue.stairs[s];
      const geom::Polygon& fp = st.footprint;
      auto inside_fp = [&](Vec2 p) { return geom::contains(fp, p); };
      for (int side = 0; side < 2; ++side) {
        const bool bottom = side == 0;
        if ((bottom ? st.from_level : st.to_level) != l.level) continue;
        const Segment& edge = bottom ? st.bottom : st.top;
        openings.push_back(edge);
        Portal p;
        p.kind = Portal::Kind::stair;
        p.seg = edge;
        p.outward = normal_towards(edge, inside_fp);
        p.stair = static_cast<int>(s);
        p.to_layer = sp.stair_layer(static_cast<int>(s));
        l.portals.push_back(p);
        if (std::find(l.stairs.begin(), l.stairs.end(), static_cast<int>(s)) == l.stairs.end())
          l.stairs.push_back(static_cast<int>(s));
      }
    }
    std::vector<Segment> edges;
    for (const geom::Polygon& poly : level.walkable) polygon_edges(poly, edges);
    std::vector<Segment> kept;
    for (const Segment& e : edges) cut_edge(e, openings, kept);
    for (const Segment& k : kept) l.walls.push_back({k, -1});
    for (const venue::Opening& d : venue.doors)
      if (d.level == l.level && closed.count(d.id)) l.walls.push_back({d.line, -1});
  }

  // Stair layers.
  for (auto& l : sp.layers_) {
    if (l.kind != SpaceLayer::Kind::stair) continue;
    const venue::Stair& st = venue.stairs[static_cast<std::size_t>(l.stair)];
    auto inside_fp = [&](Vec2 p) { return geom::contains(st.footprint, p); };
    std::vector<Segment> edges;
    polygon_edges(st.footprint, edges);
    std::vector<Segment> kept;
    for (const Segment& e : edges) cut_edge(e, {st.bottom, st.top}, kept);
    for (const Segment& k : kept) l.walls.push_back({k, -1});
    for (int side = 0; side < 2; ++side) {
      const bool bottom = side == 0;
      Portal p;
      p.kind = Portal::Kind::stair;
      p.seg = bottom ? st.bottom : st.top;
      p.outward = normal_towards(p.seg, inside_fp) * -1.0;
      p.stair = l.stair;
      p.to_layer = sp.level_layer(bottom ? st.from_level : st.to_level);
      l.portals.push_back(p);
    }
  }

  for (auto& l : sp.layers_) sp.index_walls(l);
  return sp;
}

int Space::level_layer(int level) const {
  const int i = level - min_level_;
  if (i < 0 || i >= static_cast<int>(level_layer_.size())) return -1;
  return level_layer_[static_cast<std::size_t>(i)];
}

void Space::index_walls(SpaceLayer& l) {
  geom::Box b = l.bounds;
  for (const Wall& w : l.walls) b.extend(geom::bounds(w.seg));
  if (b.empty()) {
    l.nx = l.ny = 0;
    l.cell_start.assign(1, 0);
    l.cell_walls.clear();
    l.portal_gap.clear();
    return;
  }
  l.origin = {b.min.x - kReach - kCell, b.min.y - kReach - kCell};
  l.nx = static_cast<int>(std::ceil((b.width() + 2 * (kReach + kCell)) / kCell)) + 1;
  l.ny = static_cast<int>(std::ceil((b.height() + 2 * (kReach + kCell)) / kCell)) + 1;
  const std::size_t ncell = static_cast<std::size_t>(l.nx) * static_cast<std::size_t>(l.ny);
  // A wall belongs to a cell when it passes within kReach of some point of the cell, which
  // is implied by passing within kReach + half the cell diagonal of its centre.
  const double within = kReach + kCell * std::sqrt(0.5) + 1e-9;
  std::vector<std::vector<std::uint32_t>> lists(ncell);
  for (std::size_t w = 0; w < l.walls.size(); ++w) {
    for_each_cell_near(l, geom::bounds(l.walls[w].seg), within, [&](std::size_t cell, Vec2 c) {
      if (geom::distance(c, l.walls[w].seg) <= within) lists[cell].push_back(static_cast<std::uint32_t>(w));
    });
  }
  l.cell_start.assign(ncell + 1, 0);
  l.cell_walls.clear();
  for (std::size_t c = 0; c < ncell; ++c) {
    l.cell_start[c] = static_cast<std::uint32_t>(l.cell_walls.size());
    l.cell_walls.insert(l.cell_walls.end(), lists[c].begin(), lists[c].end());
  }
  l.cell_start[ncell] = static_cast<std::uint32_t>(l.cell_walls.size());

  // Portal gaps: per cell, the distance from its centre to the nearest portal less half its
  // diagonal, rounded down to a float: a lower bound for every point of the cell. Only cells
  // within kPortalGapCap of a portal are visited; the others keep the cap (also a lower bound).
  const double half_diagonal = kCell * std::sqrt(0.5);
  l.portal_gap.assign(ncell, l.portals.empty() ? std::numeric_limits<float>::infinity()
                                               : static_cast<float>(kPortalGapCap));
  for (const Portal& portal : l.portals) {
    for_each_cell_near(l, geom::bounds(portal.seg), kPortalGapCap + half_diagonal, [&](std::size_t cell, Vec2 c) {
      const double gap = std::max(0.0, geom::distance(c, portal.seg) - half_diagonal);
      const float down = std::max(0.0F, std::nextafter(static_cast<float>(gap), 0.0F));
      l.portal_gap[cell] = std::min(l.portal_gap[cell], down);
    });
  }
}

double Space::portal_gap(int layer, Vec2 p) const {
  const SpaceLayer& l = layers_[static_cast<std::size_t>(layer)];
  const std::ptrdiff_t c = cell_at(l, p);
  return c < 0 ? 0 : l.portal_gap[static_cast<std::size_t>(c)];
}

void Space::add_hazard(int id, int level, const geom::Polygon& polygon) {
  const int li = level_layer(level);
  if (li < 0) return;
  SpaceLayer& l = layers_[static_cast<std::size_t>(li)];
  std::vector<Segment> edges;
  polygon_edges(polygon, edges);
  for (const Segment& e : edges) l.walls.push_back({e, id});
  index_walls(l);
}

Space::WallRange Space::walls_near(int layer, Vec2 p) const {
  const SpaceLayer& l = layers_[static_cast<std::size_t>(layer)];
  const std::ptrdiff_t cell = cell_at(l, p);
  if (cell < 0) return {};
  const auto c = static_cast<std::size_t>(cell);
  return {l.cell_walls.data() + l.cell_start[c], l.cell_walls.data() + l.cell_start[c + 1]};
}

bool Space::inside(int layer, Vec2 p) const {
  const SpaceLayer& l = layers_[static_cast<std::size_t>(layer)];
  if (l.kind == SpaceLayer::Kind::stair)
    return geom::contains(venue_->stairs[static_cast<std::size_t>(l.stair)].footprint, p);
  return geom::contains(venue_->levels.at(l.level).walkable, p);
}

double Space::clearance(int layer, Vec2 p, std::uint64_t ignore) const {
  const SpaceLayer& l = layers_[static_cast<std::size_t>(layer)];
  double best = kReach;
  for (std::uint32_t w : walls_near(layer, p)) {
    const Wall& wall = l.walls[w];
    if (wall.hazard >= 0 && ((ignore >> wall.hazard) & 1U)) continue;
    best = std::min(best, geom::distance(p, wall.seg));
  }
  return best;
}

bool Space::crosses_wall(int layer, Vec2 a, Vec2 b, std::uint64_t ignore) const {
  const SpaceLayer& l = layers_[static_cast<std::size_t>(layer)];
  const double len = geom::distance(a, b);
  const int pieces = std::max(1, static_cast<int>(std::ceil(len / (kReach * 0.5))));
  for (int k = 0; k < pieces; ++k) {
    const Vec2 p = a + (b - a) * (static_cast<double>(k) / pieces);
    const Vec2 q = a + (b - a) * (static_cast<double>(k + 1) / pieces);
    for (std::uint32_t w : walls_near(layer, p)) {
      const Wall& wall = l.walls[w];
      if (wall.hazard >= 0 && ((ignore >> wall.hazard) & 1U)) continue;
      if (geom::segments_intersect({p, q}, wall.seg)) return true;
    }
  }
  return false;
}

Vec2 Space::constrain_move(int layer, Vec2 from, Vec2 to, double r, std::uint64_t ignore) const {
  // Pieces short enough that the walls listed for the start of each piece cover the piece
  // and the disc around its end.
  const double max_piece = std::max(0.05, kReach - r - 0.05);
  // Most moves are one piece with no wall near its start: then the piece below changes
  // nothing (the same arithmetic, without the search).
  const Vec2 delta = to - from;
  const WallRange near = walls_near(layer, from);
  if (near.begin() == near.end() && geom::dot(delta, delta) < 0.98 * max_piece * max_piece) {
    const Vec2 q = from + delta;
    return from + (q - from);
  }
  const double len = geom::distance(from, to);
  const int pieces = std::max(1, static_cast<int>(std::ceil(len / max_piece)));
  const Vec2 step = (to - from) / pieces;
  Vec2 p = from;
  for (int k = 0; k < pieces; ++k) p = constrain_piece(layer, p, p + step, r, ignore);
  return p;
}

Vec2 Space::constrain_piece(int layer, Vec2 p, Vec2 q, double r, std::uint64_t ignore) const {
  const SpaceLayer& l = layers_[static_cast<std::size_t>(layer)];
  const WallRange near = walls_near(layer, p);
  auto ignored = [&](const Wall& w) { return w.hazard >= 0 && ((ignore >> w.hazard) & 1U); };
  auto side_normal = [&](const Segment& s) {
    Vec2 n = geom::normalized(perp(s.b - s.a));
    if (geom::dot(p - s.a, n) < 0) n = n * -1.0;
    return n;
  };

  // 1. A move into a wall slides along it.
  Vec2 d = q - p;
  for (int pass = 0; pass < 3; ++pass) {
    double first = 2;
    const Wall* hit = nullptr;
    for (std::uint32_t w : near) {
      const Wall& wall = l.walls[w];
      if (ignored(wall)) continue;
      const double t = crossing_param(p, d, wall.seg);
      if (t >= 0 && t < first) {
        first = t;
        hit = &wall;
      }
    }
    if (!hit) break;
    if (pass == 2) {
      d = {};
      break;
    }
    const Vec2 n = side_normal(hit->seg);
    d = d - n * geom::dot(d, n);
    // Stop a hair short of the wall line if sliding along it would still touch it.
    d = d - n * 1e-9;
  }
  Vec2 out = p + d;

  // 2. Keep the disc clear of walls.
  for (int pass = 0; pass < 4; ++pass) {
    bool moved = false;
    for (std::uint32_t w : near) {
      const Wall& wall = l.walls[w];
      if (ignored(wall)) continue;
      const Vec2 c = geom::closest_point(wall.seg, out);
      const double dist = geom::distance(out, c);
      if (dist >= r) continue;
      const Vec2 n = dist > 1e-12 ? (out - c) / dist : side_normal(wall.seg);
      out = c + n * (r + 1e-9);
      moved = true;
    }
    if (!moved) break;
  }

  // 3. Never end up on the other side of a wall.
  for (std::uint32_t w : near) {
    const Wall& wall = l.walls[w];
    if (ignored(wall)) continue;
    if (geom::segments_intersect({p, out}, wall.seg)) return p;
  }
  return out;
}

}  // namespace vigil::sim
