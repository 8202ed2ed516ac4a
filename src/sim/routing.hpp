// SPDX-License-Identifier: Apache-2.0
// Following a navigation field, shared by the batch engine (simulation.cpp) and the live crowd
// (live_crowd.cpp), so that both route people the same way (docs/simulation.md, "Routing"):
// the field distance robust next to walls, the desired direction (through a useful portal when
// close to it, else down the field), and when an evaluation can be reused.
#pragma once

#include <span>

#include "geom/geom.hpp"
#include "sim/space.hpp"
#include "venue/nav_field.hpp"
#include "venue/venue.hpp"

namespace vigil::sim {

constexpr double kNavCell = 0.25;      // m: cell of the walking-distance fields
constexpr double kPortalSteer = 1.0;   // m: closer than this to a useful portal, head through it
constexpr double kRouteReuse = 0.1;    // m: a route is re-evaluated after moving this far
constexpr double kReroute = 2.0;       // s between quickest-exit re-evaluations
constexpr double kQueueRange = 10.0;   // m: people this close to an exit count as its queue
constexpr double kExitFlow = 1.3;      // persons/(m s) through an exit

// What routing reads: the venue, its walkable space and, per space layer, the field layer.
struct RouteSpace {
  const venue::Venue& venue;
  const Space& space;
  std::span<const int> nav_layer;  // space layer -> field layer
};

// The field distance at p (d_field = f.distance(layer, p)), or, when p's own cell is not
// walkable (within a cell of a wall), the best of the cells around p. Infinity when no target
// is reachable from there.
inline double robust_distance(const venue::NavField& f, int layer, geom::Vec2 p, double d_field) {
  return f.distance_or_around(layer, p, kNavCell, d_field);
}
inline double robust_distance(const venue::NavField& f, int layer, geom::Vec2 p) {
  return robust_distance(f, layer, p, f.distance(layer, p));
}

// The desired direction on field f of a person of radius r at p on space layer sl, with
// d_field = f.distance(p) and d_here = robust_distance(p): through the nearest useful portal
// within kPortalSteer (a stair edge leading closer; an open exit on an exit field), else down
// the field, else towards the lowest sample around p. (0, 0) when there is none.
geom::Vec2 field_direction(const RouteSpace& rs, const venue::NavField& f, int sl, geom::Vec2 p, double r,
                           double d_field, double d_here);

// Can an evaluation made at p be reused while the person stays within kRouteReuse of p? Not
// where a portal may come within kPortalSteer.
bool route_reusable(const Space& space, int sl, geom::Vec2 p);

}  // namespace vigil::sim
