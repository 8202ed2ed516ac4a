// SPDX-License-Identifier: Apache-2.0
#include "sim/routing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::sim {

using geom::Vec2;
using venue::NavField;

Vec2 field_direction(const RouteSpace& rs, const NavField& f, int sl, Vec2 p, double r, double d_field,
                     double d_here) {
  const SpaceLayer& layer = rs.space.layer(sl);
  const bool exit_field = f.options().targets.empty();
  const Portal* chosen = nullptr;
  double chosen_dp = kPortalSteer;
  Vec2 chosen_target;
  // Portals at kPortalSteer or more are passed over: most people skip the loop.
  std::span<const Portal> portals;
  if (rs.space.portal_gap(sl, p) < kPortalSteer) portals = layer.portals;
  for (const Portal& portal : portals) {
    const double dp = geom::distance(p, portal.seg);
    if (dp >= chosen_dp) continue;
    bool useful = false;
    if (portal.kind == Portal::Kind::exit) {
      useful = exit_field && !f.options().closed.count(rs.venue.exits[static_cast<std::size_t>(portal.exit)].id);
    } else {
      const Vec2 q = geom::closest_point(portal.seg, p) + portal.outward * 0.3;
      const double dq = robust_distance(f, rs.nav_layer[static_cast<std::size_t>(portal.to_layer)], q);
      useful = dq < d_here - 0.05;
    }
    if (!useful) continue;
    // Head through the portal when that is a straight walk; beside a stair well, whose top
    // edge may be within reach but behind the well's side wall, first to the front of it.
    Vec2 target = portal_aim(portal, p, r);
    if (rs.space.crosses_wall(sl, p, target)) {
      target = portal_approach(portal, p, r);
      if (rs.space.crosses_wall(sl, p, target)) continue;
    }
    chosen_target = target;
    chosen = &portal;
    chosen_dp = dp;
  }
  if (chosen) {
    const Vec2 d = geom::normalized(chosen_target - p);
    if (d != Vec2{}) return d;
  }
  const int nl = rs.nav_layer[static_cast<std::size_t>(sl)];
  const Vec2 d = f.direction(nl, p, d_field);
  return d != Vec2{} ? d : f.lowest_around(nl, p, kNavCell, d_here);
}

bool route_reusable(const Space& space, int sl, Vec2 p) {
  // The portal gap settles it for most people without measuring each portal.
  const double clear = kPortalSteer + 2 * kRouteReuse;
  if (space.portal_gap(sl, p) > clear) return true;
  double near_portal = std::numeric_limits<double>::infinity();
  for (const Portal& portal : space.layer(sl).portals) near_portal = std::min(near_portal, geom::distance(p, portal.seg));
  return near_portal > clear;
}

}  // namespace vigil::sim
