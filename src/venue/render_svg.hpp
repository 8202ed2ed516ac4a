// SPDX-License-Identifier: Apache-2.0
// Draws one level of a venue as a self-contained SVG plan.
#pragma once

#include <string>

#include "venue/nav_field.hpp"
#include "venue/venue.hpp"

namespace vigil::venue {

struct RenderOptions {
  int level = 0;
  // When set, shades walkable space by the distance to the nearest open exit, with a legend.
  const NavField* field = nullptr;
  bool labels = true;  // zone names with capacities, exit/door/sensor ids
};

// The SVG document. y grows north in venue coordinates and is flipped for the picture.
std::string render_svg(const Venue& venue, const RenderOptions& opt);

}  // namespace vigil::venue
