// SPDX-License-Identifier: Apache-2.0
#include "venue/summary.hpp"

#include <cmath>
#include <string>

namespace vigil::venue {
namespace {
double round2(double v) { return std::round(v * 100) / 100; }
}  // namespace

nlohmann::json summary_json(const Venue& v) {
  using nlohmann::json;
  json out;
  out["id"] = v.id;
  out["name"] = v.name;
  out["use"] = v.use;
  out["egress_limit_s"] = v.egress_limit_s;
  if (v.origin) out["origin"] = {{"lat", v.origin->lat}, {"lon", v.origin->lon}};
  json levels = json::array();
  json area = json::object();
  for (const auto& [index, lv] : v.levels) {
    if (lv.areas.empty()) continue;
    levels.push_back(index);
    area[std::to_string(index)] = round2(lv.walkable_area_m2);
  }
  out["levels"] = levels;
  out["area_m2"] = area;
  json zones = json::object();
  double capacity = 0;
  for (const Zone& z : v.zones) {
    zones[z.id] = {{"name", z.name},
                   {"level", z.level},
                   {"use", to_string(z.use)},
                   {"area_m2", round2(z.area_m2)},
                   {"capacity", z.capacity},
                   {"capacity_given", z.capacity_given},
                   {"max_density", z.max_density_p_m2}};
    capacity += z.capacity;
  }
  out["zones"] = zones;
  out["capacity"] = capacity;
  auto openings = [](const std::vector<Opening>& items) {
    json o = json::object();
    for (const Opening& e : items)
      o[e.id] = {{"name", e.name}, {"level", e.level}, {"width_m", round2(e.width_m)}};
    return o;
  };
  out["exits"] = openings(v.exits);
  out["doors"] = openings(v.doors);
  json stairs = json::object();
  for (const Stair& s : v.stairs)
    stairs[s.id] = {{"name", s.name},
                    {"from_level", s.from_level},
                    {"to_level", s.to_level},
                    {"length_m", round2(s.length_m)},
                    {"width_m", round2(std::min(s.bottom.length(), s.top.length()))}};
  out["stairs"] = stairs;
  json sensors = json::object();
  for (const Sensor& s : v.sensors) {
    json j = {{"type", to_string(s.type)}, {"level", s.level}};
    if (s.type == SensorType::line_counter) {
      j["into"] = s.into;
      j["from"] = s.from;
      j["width_m"] = round2(s.line.length());
    } else {
      j["zone"] = s.zone;
    }
    sensors[s.id] = j;
  }
  out["sensors"] = sensors;
  return out;
}

}  // namespace vigil::venue
