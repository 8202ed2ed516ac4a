// SPDX-License-Identifier: Apache-2.0
// Shared by the ops tests: a small venue built from JSON, the concert-hall example, and
// reading makers.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "ops/clock.hpp"
#include "ops/reading.hpp"
#include "venue/load.hpp"

namespace vigil::ops::test {

// 2023-11-14T22:13:20Z: a whole second, far from any epoch edge.
inline constexpr TimeMs kT0 = 1'700'000'000'000;

inline nlohmann::json rect(double x0, double y0, double x1, double y1) {
  return {{"type", "Polygon"},
          {"coordinates", nlohmann::json::array({nlohmann::json::array(
                              {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}})})}};
}
inline nlohmann::json line(double x0, double y0, double x1, double y1) {
  return {{"type", "LineString"}, {"coordinates", {{x0, y0}, {x1, y1}}}};
}
inline nlohmann::json point(double x, double y) {
  return {{"type", "Point"}, {"coordinates", {x, y}}};
}
inline nlohmann::json feature(nlohmann::json props, nlohmann::json geometry) {
  return {{"type", "Feature"}, {"properties", std::move(props)}, {"geometry", std::move(geometry)}};
}

// A 40 m × 20 m floor: zone "hall" (west half, standing, 400 m², capacity 400) and zone
// "lobby" (east half, circulation, 400 m², capacity 200), an exit on the east wall.
// Sensors: lc-in (outside → lobby, 4 m), lc-door (lobby → hall, 2 m), lc-side (outside → hall,
// 2 m), zc-hall (zone counter of hall), dn-lobby (density in lobby).
inline nlohmann::json small_venue_json() {
  using nlohmann::json;
  json f = json::array();
  f.push_back(feature({{"kind", "area"}, {"level", 0}}, rect(0, 0, 40, 20)));
  f.push_back(feature({{"kind", "exit"}, {"id", "E1"}, {"level", 0}}, line(40, 8, 40, 12)));
  f.push_back(feature({{"kind", "zone"},
                       {"id", "hall"},
                       {"level", 0},
                       {"use", "standing"},
                       {"capacity", 400},
                       {"max_density", 2.0}},
                      rect(0, 0, 20, 20)));
  f.push_back(feature({{"kind", "zone"},
                       {"id", "lobby"},
                       {"level", 0},
                       {"use", "circulation"},
                       {"capacity", 200},
                       {"max_density", 1.0}},
                      rect(20, 0, 40, 20)));
  f.push_back(feature({{"kind", "sensor"},
                       {"id", "lc-in"},
                       {"type", "line_counter"},
                       {"level", 0},
                       {"into", "lobby"},
                       {"from", "outside"}},
                      line(39.7, 8, 39.7, 12)));
  f.push_back(feature({{"kind", "sensor"},
                       {"id", "lc-door"},
                       {"type", "line_counter"},
                       {"level", 0},
                       {"into", "hall"},
                       {"from", "lobby"}},
                      line(20, 9, 20, 11)));
  f.push_back(feature({{"kind", "sensor"},
                       {"id", "lc-side"},
                       {"type", "line_counter"},
                       {"level", 0},
                       {"into", "hall"},
                       {"from", "outside"}},
                      line(0.3, 9, 0.3, 11)));
  f.push_back(feature({{"kind", "sensor"},
                       {"id", "zc-hall"},
                       {"type", "zone_counter"},
                       {"level", 0},
                       {"zone", "hall"}},
                      point(10, 10)));
  f.push_back(feature({{"kind", "sensor"},
                       {"id", "dn-lobby"},
                       {"type", "density"},
                       {"level", 0},
                       {"zone", "lobby"}},
                      point(30, 10)));
  return {{"type", "FeatureCollection"},
          {"vigil",
           {{"format", "venue"},
            {"version", 1},
            {"id", "test-hall"},
            {"name", "Test"},
            {"egress_limit_s", 480}}},
          {"features", f}};
}

inline venue::Venue load_or_die(const venue::LoadResult& r) {
  std::string issues;
  for (const auto& i : r.issues) issues += i.to_string() + "\n";
  if (!r.ok()) throw std::runtime_error("venue did not load:\n" + issues);
  return *r.venue;
}

inline venue::Venue small_venue() {
  return load_or_die(venue::load_venue(small_venue_json().dump()));
}

inline venue::Venue concert_hall() {
  return load_or_die(
      venue::load_venue_file(std::string(VIGIL_SOURCE_DIR) + "/examples/concert-hall.geojson"));
}

inline Reading flow(const std::string& sensor, std::int64_t seq, TimeMs ts, double in,
                    double out = 0) {
  Reading r;
  r.sensor = sensor;
  r.seq = seq;
  r.ts_ms = ts;
  r.kind = ReadingKind::in_out;
  r.in = in;
  r.out = out;
  return r;
}
inline Reading count(const std::string& sensor, std::int64_t seq, TimeMs ts, double c) {
  Reading r;
  r.sensor = sensor;
  r.seq = seq;
  r.ts_ms = ts;
  r.kind = ReadingKind::count;
  r.count = c;
  return r;
}
inline Reading density(const std::string& sensor, std::int64_t seq, TimeMs ts, double d) {
  Reading r;
  r.sensor = sensor;
  r.seq = seq;
  r.ts_ms = ts;
  r.kind = ReadingKind::density;
  r.density = d;
  return r;
}

// Milliseconds in `s` seconds.
constexpr TimeMs sec(double s) { return static_cast<TimeMs>(s * 1000); }

}  // namespace vigil::ops::test
