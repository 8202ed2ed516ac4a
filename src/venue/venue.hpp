// SPDX-License-Identifier: Apache-2.0
// The venue model: what a venue file (docs/venue-format.md) describes, after validation, with
// the derived quantities (walkable areas, exit widths, default capacities).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "geom/geom.hpp"

namespace vigil::venue {

using geom::MultiPolygon;
using geom::Polygon;
using geom::Segment;
using geom::Vec2;

enum class ZoneUse { standing, seated, circulation, queue, stair, other };
const char* to_string(ZoneUse u);
// Persons/m² assumed for a zone of this use when the file gives no `max_density`.
double default_max_density(ZoneUse u);

struct Origin {
  double lat = 0;
  double lon = 0;
};

struct Zone {
  std::string id;
  std::string name;
  int level = 0;
  Polygon polygon;
  ZoneUse use = ZoneUse::standing;
  double max_density_p_m2 = 0;  // given or default_max_density(use)
  double capacity = 0;          // persons; given or area_m2 * max_density_p_m2
  bool capacity_given = false;
  double area_m2 = 0;           // walkable area inside the zone (zone ∩ level's walkable space)
  int feature_index = -1;
};

// A final exit or an internal door: an opening whose width is its length.
struct Opening {
  std::string id;
  std::string name;
  int level = 0;
  Segment line;
  double width_m = 0;
  int feature_index = -1;
};

struct Stair {
  std::string id;
  std::string name;
  int from_level = 0;  // the level at the `bottom` edge
  int to_level = 0;    // the level at the `top` edge
  Polygon footprint;
  Segment bottom;
  Segment top;
  double length_m = 0;          // walking length along the slope (default: plan distance)
  double speed_factor_down = 0.8;
  double speed_factor_up = 0.6;
  int feature_index = -1;

  // Plan distance between the midpoints of the two edges.
  double plan_length_m() const { return geom::distance(bottom.midpoint(), top.midpoint()); }
};

enum class SensorType { line_counter, zone_counter, density };
const char* to_string(SensorType t);

struct Sensor {
  std::string id;
  std::string name;
  SensorType type = SensorType::zone_counter;
  int level = 0;
  Segment line;      // line_counter: crossing right-to-left (walking a->b) is `in`
  Vec2 point;        // zone_counter, density
  std::string into;  // line_counter: zone entered by `in`
  std::string from;  // line_counter: zone left by `in`, or "outside"
  std::string zone;  // zone_counter, density
  int feature_index = -1;
};

struct Level {
  int index = 0;
  MultiPolygon areas;      // as drawn
  MultiPolygon obstacles;  // as drawn
  MultiPolygon floor;      // union(areas): its outline is where exits lie
  MultiPolygon walkable;   // floor minus obstacles
  double walkable_area_m2 = 0;
  geom::Box bounds;
};

struct Venue {
  std::string id;
  std::string name;
  std::string use = "other";
  std::optional<Origin> origin;
  double egress_limit_s = 480;

  std::map<int, Level> levels;
  std::vector<Zone> zones;
  std::vector<Opening> exits;
  std::vector<Opening> doors;
  std::vector<Stair> stairs;
  std::vector<Sensor> sensors;

  const Zone* find_zone(const std::string& id) const;
  const Opening* find_exit(const std::string& id) const;
  const Opening* find_door(const std::string& id) const;
  const Stair* find_stair(const std::string& id) const;
  const Sensor* find_sensor(const std::string& id) const;
  const Level* find_level(int index) const;
  double total_walkable_area_m2() const;
};

}  // namespace vigil::venue
