// SPDX-License-Identifier: Apache-2.0
// The walkable space as the simulation sees it: one layer per level and one per stair (as in
// venue/nav_field.hpp), each with its walls as segments in a uniform grid, and its portals
// (open exits, stair edges) where walls are cut open.
//
// Walls of a level layer: every edge of the level's walkable polygons, minus the parts covered
// by open exits and by the stair edges that join this level, plus closed doors and closed
// exits, plus the outline of each active hazard. Walls of a stair layer: the footprint outline
// minus its bottom and top edges.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "geom/geom.hpp"
#include "venue/venue.hpp"

namespace vigil::sim {

using geom::Segment;
using geom::Vec2;

struct Wall {
  Segment seg;
  int hazard = -1;  // >= 0: the outline of hazard number `hazard` (agents inside ignore it)
};

struct Portal {
  enum class Kind { exit, stair };
  Kind kind = Kind::exit;
  Segment seg;
  Vec2 outward;     // unit normal pointing out of this layer through the portal
  int exit = -1;    // Kind::exit: index into Venue::exits
  int stair = -1;   // Kind::stair: index into Venue::stairs
  int to_layer = -1;  // Kind::stair: the layer on the other side
};

// The point a person of radius r at p heads for to pass through `portal`: the nearest point of
// the portal inset by r + 5 cm at each end (at most to its middle), 0.5 m beyond it.
Vec2 portal_aim(const Portal& portal, Vec2 p, double r);
// The same nearest point of the inset portal, r + 0.1 m in front of it (on this layer's side).
Vec2 portal_approach(const Portal& portal, Vec2 p, double r);

struct SpaceLayer {
  enum class Kind { level, stair };
  Kind kind = Kind::level;
  int level = 0;   // Kind::level: the level; Kind::stair: from_level
  int stair = -1;  // Kind::stair: index into Venue::stairs
  geom::Box bounds;
  std::vector<Wall> walls;
  std::vector<Portal> portals;
  std::vector<int> stairs;  // Kind::level: stairs with an edge on this level

  // Wall grid: the walls passing within kReach of cell c are
  // cell_walls[cell_start[c] .. cell_start[c+1]).
  geom::Vec2 origin;
  int nx = 0;
  int ny = 0;
  std::vector<std::uint32_t> cell_start;
  std::vector<std::uint32_t> cell_walls;
  // Per cell of the same grid: a lower bound of the distance from any point of the cell to the
  // nearest portal of the layer (infinity when it has none).
  std::vector<float> portal_gap;
};

class Space {
 public:
  // Cell size of the wall grid and the distance up to which a cell lists walls: every wall
  // within kReach of a point is among the walls of the point's cell.
  static constexpr double kCell = 1.0;
  static constexpr double kReach = 1.0;
  // portal_gap() is exact-or-lower up to this distance and reports at most this beyond it.
  static constexpr double kPortalGapCap = 4.0;

  // `closed`: exit and door ids closed from the start (they stay walls).
  static Space build(const venue::Venue& venue, const std::set<std::string>& closed);

  const venue::Venue& venue() const { return *venue_; }
  int layer_count() const { return static_cast<int>(layers_.size()); }
  const SpaceLayer& layer(int i) const { return layers_[static_cast<std::size_t>(i)]; }
  int level_layer(int level) const;  // -1 if there is no such level
  int stair_layer(int stair) const { return stair_layer_offset_ + stair; }

  // Adds the outline of hazard `id` (0..63) to the walls of its level's layer.
  void add_hazard(int id, int level, const geom::Polygon& polygon);

  // The walls near p: a superset of the walls within kReach of p (empty outside the grid).
  struct WallRange {
    const std::uint32_t* begin_ = nullptr;
    const std::uint32_t* end_ = nullptr;
    const std::uint32_t* begin() const { return begin_; }
    const std::uint32_t* end() const { return end_; }
  };
  WallRange walls_near(int layer, Vec2 p) const;

  // Is p inside the layer's walkable space (level walkable area, or the stair footprint)?
  bool inside(int layer, Vec2 p) const;
  // Distance from p to the nearest wall, capped at kReach. Walls of hazards in `ignore`
  // (bit h = hazard h) are not counted.
  double clearance(int layer, Vec2 p, std::uint64_t ignore = 0) const;

  // Moves a disc of radius r from `from` towards `to` without crossing a wall: a move into a
  // wall slides along it, and the end point is pushed out to at least r from every wall.
  // REQUIRES: `from` is inside the layer's walls. The result is inside them too.
  Vec2 constrain_move(int layer, Vec2 from, Vec2 to, double r, std::uint64_t ignore = 0) const;

  // A lower bound of the distance from p to the nearest portal of the layer, at most
  // kPortalGapCap (infinity on a layer without portals, 0 outside the grid): routing skips its
  // portal checks for most people with this one lookup.
  double portal_gap(int layer, Vec2 p) const;

  // Does the segment a->b cross a (not ignored) wall of the layer?
  bool crosses_wall(int layer, Vec2 a, Vec2 b, std::uint64_t ignore = 0) const;

 private:
  Vec2 constrain_piece(int layer, Vec2 from, Vec2 to, double r, std::uint64_t ignore) const;
  void index_walls(SpaceLayer& layer);

  const venue::Venue* venue_ = nullptr;
  std::vector<SpaceLayer> layers_;
  std::vector<int> level_of_layer_;
  int min_level_ = 0;
  std::vector<int> level_layer_;  // indexed by level - min_level_
  int stair_layer_offset_ = 0;
};

}  // namespace vigil::sim
