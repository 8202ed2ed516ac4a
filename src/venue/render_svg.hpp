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
  // Exits and doors closed in the field's options are drawn as closed, and its hazards shown.
  const NavField* field = nullptr;
  bool labels = true;   // zone names with capacities, exit/door/sensor ids
  int width_px = 1200;  // picture width (clamped to [800, 8000]); the height follows the plan
};

// The SVG document. y grows north in venue coordinates and is flipped for the picture.
// The output is deterministic (fixed number formatting, features in venue order). Features
// carry `class` ("zone", "exit", "door", "stair", "sensor") and `data-id` attributes so that
// a viewer can find them.
std::string render_svg(const Venue& venue, const RenderOptions& opt);

}  // namespace vigil::venue
