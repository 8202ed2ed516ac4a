// SPDX-License-Identifier: Apache-2.0
// The navigation field: walking distance from every walkable point of a venue to the nearest
// open exit, round obstacles and through doors and stairs. See docs/navigation-field.md
// for the method and its measured accuracy.
//
// Space is split into layers: one per level, and one per stair (a stair's footprint is not part
// of any level's walkable space; its bottom edge joins `from_level`, its top edge `to_level`).
// Each layer is a regular grid; distances are solved on all layers together by fast marching,
// with the stair edges as portals between layers. On a stair layer, plan distance is scaled by
// length_m / plan_length_m so that the field is the walking distance along the slope.
#pragma once

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "geom/raster.hpp"
#include "venue/venue.hpp"

namespace vigil::venue {

struct Hazard {
  int level = 0;
  Polygon polygon;
};

// A region to walk to (see NavOptions::targets).
struct NavTarget {
  int level = 0;
  Polygon polygon;
};

struct NavOptions {
  double cell_m = 0.25;
  std::set<std::string> closed;  // exit and door ids that are closed (closed doors become walls)
  std::vector<Hazard> hazards;   // impassable regions
  // When not empty, the field is the walking distance to the nearest of these regions instead
  // of to the nearest open exit: the walkable cells whose centres lie inside a target are at
  // distance 0 (a target too small to hold a cell centre seeds the walkable cell nearest its
  // centroid). Exits are then only openings in the outline, not destinations.
  std::vector<NavTarget> targets;
};

struct NavLayer {
  enum class Kind { level, stair };
  Kind kind = Kind::level;
  int level = 0;          // Kind::level: the level index; Kind::stair: from_level
  int stair = -1;         // Kind::stair: index into Venue::stairs
  double metric = 1.0;    // walking metres per plan metre on this layer
  geom::GridSpec grid;
  std::vector<std::uint8_t> walkable;  // 1 = walkable cell
  std::vector<float> distance_m;       // +inf where unreachable or not walkable
};

class NavField {
 public:
  static constexpr float kUnreachable = std::numeric_limits<float>::infinity();

  // Builds the layers and solves the field. Never fails: with no open exit every distance is
  // unreachable.
  static NavField compute(const Venue& venue, const NavOptions& opt = {});

  const std::vector<NavLayer>& layers() const { return layers_; }
  // The layer of level `level`, or -1.
  int level_layer(int level) const;
  // The layer of stair index `stair`, or -1.
  int stair_layer(int stair) const;

  // Walking distance (m) from p on the layer to the nearest open exit, bilinearly interpolated
  // between walkable cells; kUnreachable outside walkable space or where no exit is reachable.
  double distance(int layer, Vec2 p) const;
  // Unit direction of steepest descent of the distance at p (towards the exit), or (0,0).
  Vec2 direction(int layer, Vec2 p) const { return direction(layer, p, distance(layer, p)); }
  // The same for a caller that has d0 = distance(layer, p) already.
  Vec2 direction(int layer, Vec2 p, double d0) const;
  // d_here = distance(layer, p), or, when p itself is unreachable (its cell blocked: within a
  // cell of a wall), the least of distance + step over the 8 points `step` around p;
  // kUnreachable when none of them reaches a target either.
  double distance_or_around(int layer, Vec2 p, double step, double d_here) const;
  // Of the 16 unit vectors around p, the one towards the lowest distance at `step` from p that
  // is below `below`, or (0,0) when none is: for where direction() finds no slope.
  Vec2 lowest_around(int layer, Vec2 p, double step, double below) const;
  // Is p on walkable (not blocked) space of the layer?
  bool walkable(int layer, Vec2 p) const;

  const NavOptions& options() const { return options_; }

 private:
  NavOptions options_;
  std::vector<NavLayer> layers_;
  std::vector<int> level_layer_;  // indexed by level - min_level_
  int min_level_ = 0;
  std::vector<int> stair_layer_;
};

}  // namespace vigil::venue
