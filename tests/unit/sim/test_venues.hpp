// SPDX-License-Identifier: Apache-2.0
// Small venues and scenarios for the simulation tests, built as JSON.
#pragma once

#include <initializer_list>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigil::sim::testing {

using nlohmann::json;

inline json ring(std::initializer_list<std::pair<double, double>> pts) {
  json r = json::array();
  for (const auto& [x, y] : pts) r.push_back({x, y});
  r.push_back(r.front());
  return r;
}
inline json rect(double x0, double y0, double x1, double y1) {
  return ring({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}});
}
inline json feature(json props, json geometry) {
  return {{"type", "Feature"}, {"properties", std::move(props)}, {"geometry", std::move(geometry)}};
}
inline json polygon(json outer) { return {{"type", "Polygon"}, {"coordinates", json::array({std::move(outer)})}}; }
inline json line(double x0, double y0, double x1, double y1) {
  return {{"type", "LineString"}, {"coordinates", {{x0, y0}, {x1, y1}}}};
}
inline json area(json outer, int level = 0) {
  return feature({{"kind", "area"}, {"level", level}}, polygon(std::move(outer)));
}
inline json exit_line(const char* id, double x0, double y0, double x1, double y1, int level = 0) {
  return feature({{"kind", "exit"}, {"id", id}, {"level", level}}, line(x0, y0, x1, y1));
}
inline json zone(const char* id, json outer, int level = 0) {
  return feature({{"kind", "zone"}, {"id", id}, {"level", level}}, polygon(std::move(outer)));
}
inline json venue(std::vector<json> features) {
  return {{"type", "FeatureCollection"},
          {"vigil", {{"format", "venue"}, {"version", 1}, {"id", "test"}, {"name", "Test"}}},
          {"features", json(std::move(features))}};
}

// A 20 m x 10 m room with a 2 m exit E1 in its east wall and zone "floor" over its west half.
inline json room_venue() {
  return venue({area(rect(0, 0, 20, 10)), exit_line("E1", 20, 4, 20, 6),
                zone("floor", rect(0, 0, 10, 10))});
}

// RiMEA test 1: a 2 m x 42 m corridor with its exit across the east end.
inline json corridor_venue() {
  return venue({area(rect(0, 0, 42, 2)), exit_line("E1", 42, 0, 42, 2)});
}

// RiMEA test 6: a 2 m wide corridor turning left, 12 m legs (inner corner at (12, 2)).
inline json l_corridor_venue() {
  return venue({area(ring({{0, 0}, {14, 0}, {14, 14}, {12, 14}, {12, 2}, {0, 2}})),
                exit_line("E1", 12, 14, 14, 14), zone("start", rect(0, 0, 10, 2))});
}

inline json scenario(json venue_doc, json population) {
  return {{"vigil", {{"format", "scenario"}, {"version", 1}}},
          {"venue", std::move(venue_doc)},
          {"seed", 1},
          {"population", std::move(population)}};
}

}  // namespace vigil::sim::testing
