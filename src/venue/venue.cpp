// SPDX-License-Identifier: Apache-2.0
#include "venue/venue.hpp"

#include <algorithm>

namespace vigil::venue {

const char* to_string(ZoneUse u) {
  switch (u) {
    case ZoneUse::standing: return "standing";
    case ZoneUse::seated: return "seated";
    case ZoneUse::circulation: return "circulation";
    case ZoneUse::queue: return "queue";
    case ZoneUse::stair: return "stair";
    case ZoneUse::other: return "other";
  }
  return "other";
}

double default_max_density(ZoneUse u) {
  // Planning densities (persons per m² of walkable floor), deliberately below the 4–5 /m² at
  // which standing crowds become dangerous. Venues set `max_density` from their own licence.
  switch (u) {
    case ZoneUse::standing: return 2.0;
    case ZoneUse::seated: return 1.5;
    case ZoneUse::circulation: return 1.0;
    case ZoneUse::queue: return 2.5;
    case ZoneUse::stair: return 1.0;
    case ZoneUse::other: return 1.0;
  }
  return 1.0;
}

const char* to_string(SensorType t) {
  switch (t) {
    case SensorType::line_counter: return "line_counter";
    case SensorType::zone_counter: return "zone_counter";
    case SensorType::density: return "density";
  }
  return "zone_counter";
}

namespace {
template <class T>
const T* find_by_id(const std::vector<T>& items, const std::string& id) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& t) { return t.id == id; });
  return it == items.end() ? nullptr : &*it;
}
}  // namespace

const Zone* Venue::find_zone(const std::string& zid) const { return find_by_id(zones, zid); }
const Opening* Venue::find_exit(const std::string& eid) const { return find_by_id(exits, eid); }
const Opening* Venue::find_door(const std::string& did) const { return find_by_id(doors, did); }
const Stair* Venue::find_stair(const std::string& sid) const { return find_by_id(stairs, sid); }
const Sensor* Venue::find_sensor(const std::string& sid) const { return find_by_id(sensors, sid); }

const Level* Venue::find_level(int index) const {
  auto it = levels.find(index);
  return it == levels.end() ? nullptr : &it->second;
}

double Venue::total_walkable_area_m2() const {
  double a = 0;
  for (const auto& [index, level] : levels) a += level.walkable_area_m2;
  for (const Stair& s : stairs) a += geom::area(s.footprint);
  return a;
}

}  // namespace vigil::venue
