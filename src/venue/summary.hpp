// SPDX-License-Identifier: Apache-2.0
// The derived figures of a venue as JSON (`vigil venue info --json`, and the API's venue view).
#pragma once

#include <nlohmann/json.hpp>

#include "venue/venue.hpp"

namespace vigil::venue {

// { "id", "name", "use", "egress_limit_s", "levels": [...], "area_m2": {"0": ...},
//   "zones": {ID: {area_m2, capacity, level, use, max_density}}, "exits": {ID: {width_m, level}},
//   "doors": {...}, "stairs": {ID: {from_level, to_level, length_m}}, "sensors": {ID: {type, level, ...}},
//   "capacity": total }
nlohmann::json summary_json(const Venue& venue);

}  // namespace vigil::venue
