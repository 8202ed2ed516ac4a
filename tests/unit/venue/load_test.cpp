// SPDX-License-Identifier: Apache-2.0
// The venue loader against each error and warning of docs/venue-format.md.
#include "venue/load.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vigil::venue {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json rect_coords(double x0, double y0, double x1, double y1) {
  return json::array({json::array({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}})});
}

json feature(json props, json geometry) {
  return {{"type", "Feature"}, {"properties", std::move(props)}, {"geometry", std::move(geometry)}};
}

json polygon(json coords) { return {{"type", "Polygon"}, {"coordinates", std::move(coords)}}; }
json line(double x0, double y0, double x1, double y1) {
  return {{"type", "LineString"}, {"coordinates", {{x0, y0}, {x1, y1}}}};
}
json point(double x, double y) { return {{"type", "Point"}, {"coordinates", {x, y}}}; }

// A 20 m x 10 m room on level 0 with a 2 m exit on its east wall.
json base_venue() {
  json features = json::array();
  features.push_back(feature({{"kind", "area"}, {"level", 0}}, polygon(rect_coords(0, 0, 20, 10))));
  features.push_back(feature({{"kind", "exit"}, {"id", "E1"}, {"level", 0}}, line(20, 4, 20, 6)));
  return {{"type", "FeatureCollection"},
          {"vigil", {{"format", "venue"}, {"version", 1}, {"id", "test-hall"}, {"name", "Test"}}},
          {"features", features}};
}

LoadResult load(const json& doc) { return load_venue(doc.dump()); }

// The messages of all issues, one per line, for readable failures.
std::string all(const LoadResult& r) {
  std::string s;
  for (const Issue& i : r.issues) s += i.to_string() + "\n";
  return s;
}

TEST(VenueLoad, LoadsMinimalVenueAndDerivesFigures) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "floor"}, {"level", 0}},
                                    polygon(rect_coords(0, 0, 10, 10))));
  doc["features"].push_back(feature({{"kind", "obstacle"}, {"level", 0}},
                                    polygon(rect_coords(12, 2, 14, 4))));
  LoadResult r = load(doc);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_TRUE(r.issues.empty()) << all(r);
  const Venue& v = *r.venue;
  EXPECT_EQ(v.id, "test-hall");
  EXPECT_DOUBLE_EQ(v.egress_limit_s, 480);
  EXPECT_NEAR(v.levels.at(0).walkable_area_m2, 200 - 4, 1e-6);
  ASSERT_EQ(v.exits.size(), 1u);
  EXPECT_NEAR(v.exits[0].width_m, 2.0, 1e-9);
  const Zone* z = v.find_zone("floor");
  ASSERT_NE(z, nullptr);
  EXPECT_NEAR(z->area_m2, 100, 1e-6);
  EXPECT_FALSE(z->capacity_given);
  EXPECT_DOUBLE_EQ(z->capacity, 200);  // standing: 2 persons/m² by default
}

TEST(VenueLoad, InvalidJsonGivesLineAndColumn) {
  LoadResult r = load_venue("{\n  \"type\": \"FeatureCollection\",\n  \"features\": [,]\n}");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].location(), "3:16");
  EXPECT_THAT(r.issues[0].message, HasSubstr("invalid JSON"));
}

TEST(VenueLoad, UnknownKind) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "wall"}}, line(0, 0, 1, 1)));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("features[2]: unknown kind \"wall\""));
}

TEST(VenueLoad, MissingRequiredProperty) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "exit"}, {"level", 0}}, line(0, 4, 0, 6)));
  doc["features"].push_back(feature({{"kind", "stair"}, {"id", "S1"}, {"from_level", 0}},
                                    polygon(rect_coords(0, 0, 1, 1))));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("features[2] (exit): properties.id: missing"));
  EXPECT_THAT(all(r), HasSubstr("features[3] (stair \"S1\"): properties.to_level: missing"));
  EXPECT_THAT(all(r), HasSubstr("features[3] (stair \"S1\"): properties.bottom: missing"));
}

TEST(VenueLoad, WrongGeometryType) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "exit"}, {"id", "E2"}}, point(0, 5)));
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "Z"}}, line(0, 0, 1, 1)));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("(exit \"E2\"): geometry: expected a LineString of 2 points, got Point"));
  EXPECT_THAT(all(r), HasSubstr("(zone \"Z\"): geometry: expected a Polygon, got LineString"));
}

TEST(VenueLoad, UnclosedRing) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "obstacle"}},
      polygon(json::array({json::array({{1, 1}, {2, 1}, {2, 2}, {1, 2}})}))));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("features[2] (obstacle): geometry.coordinates[0]: ring is not closed"));
}

TEST(VenueLoad, SelfIntersectingRing) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "area"}, {"level", 0}},
      polygon(json::array({json::array({{0, 0}, {4, 4}, {4, 0}, {0, 4}, {0, 0}})}))));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("features[2] (area): geometry.coordinates[0]: ring self-intersects"));
}

TEST(VenueLoad, DuplicateId) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "exit"}, {"id", "E1"}}, line(0, 4, 0, 6)));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("features[2] (exit \"E1\"): duplicate id \"E1\" (first used by features[1])"));
}

TEST(VenueLoad, ExitNotOnAreaBoundary) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "exit"}, {"id", "E3"}}, line(10, 4, 10.4, 6)));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("features[2] (exit \"E3\"): exit is 5.00 m from any area boundary "
                                "(tolerance 0.05 m)"));
}

TEST(VenueLoad, DoorNotCrossingWalkableSpace) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "door"}, {"id", "D1"}}, line(25, 0, 25, 2)));
  doc["features"].push_back(feature({{"kind", "door"}, {"id", "D2"}}, line(5, 0, 5, 2)));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("(door \"D1\"): door does not cross walkable space"));
  EXPECT_THAT(all(r), ::testing::Not(HasSubstr("door \"D2\"")));
}

TEST(VenueLoad, StairLevelWithoutArea) {
  json doc = base_venue();
  json stair = feature({{"kind", "stair"}, {"id", "S1"}, {"from_level", 0}, {"to_level", 1},
                        {"bottom", {{20, 0}, {20, 2}}}, {"top", {{24, 0}, {24, 2}}}},
                       polygon(rect_coords(20, 0, 24, 2)));
  doc["features"].push_back(stair);
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("(stair \"S1\"): level 1 has no area"));
}

TEST(VenueLoad, SensorNamingUnknownZone) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "floor"}}, polygon(rect_coords(0, 0, 10, 10))));
  doc["features"].push_back(feature({{"kind", "sensor"}, {"id", "L1"}, {"type", "line_counter"},
                                     {"into", "flor"}, {"from", "outside"}},
                                    line(20, 4, 20, 6)));
  doc["features"].push_back(feature({{"kind", "sensor"}, {"id", "Z1"}, {"type", "zone_counter"},
                                     {"zone", "lobby"}},
                                    point(5, 5)));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("(sensor \"L1\"): properties.into: unknown zone \"flor\""));
  EXPECT_THAT(all(r), HasSubstr("(sensor \"Z1\"): properties.zone: unknown zone \"lobby\""));
}

TEST(VenueLoad, BadNumbersAreErrorsNotCrashes) {
  json doc = base_venue();
  doc["features"][0]["geometry"]["coordinates"][0][1] = {1e300, 0};
  doc["features"][1]["properties"]["level"] = "zero";
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("out of range"));
  EXPECT_THAT(all(r), HasSubstr("properties.level: expected an integer, got string"));
}

TEST(VenueLoad, ReportsEveryProblemNotOnlyTheFirst) {
  json doc = base_venue();
  doc["vigil"]["use"] = "disco";
  doc["features"].push_back(feature({{"kind", "wall"}}, line(0, 0, 1, 1)));
  doc["features"].push_back(feature({{"kind", "exit"}, {"id", "E1"}}, line(0, 4, 0, 6)));
  doc["features"].push_back(feature({{"kind", "exit"}, {"id", "E9"}}, line(10, 4, 10, 6)));
  LoadResult r = load(doc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error_count(), 4u) << all(r);
  EXPECT_EQ(r.issues[0].location(), "vigil.use");  // header first, then features in order
}

TEST(VenueLoad, WarnsAboutUnreachableSpace) {
  json doc = base_venue();
  // A separate 5 x 4 room with no exit.
  doc["features"].push_back(feature({{"kind", "area"}, {"level", 0}}, polygon(rect_coords(30, 0, 35, 4))));
  LoadResult r = load(doc);
  ASSERT_TRUE(r.ok()) << all(r);
  ASSERT_EQ(r.warning_count(), 1u);
  EXPECT_THAT(all(r), HasSubstr("features[2] (area): warning: walkable space of 20.00 m² on level 0"));
  EXPECT_THAT(all(r), HasSubstr("cannot reach any exit"));
}

TEST(VenueLoad, StairMakesUpperLevelReachable) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "area"}, {"level", 1}}, polygon(rect_coords(0, 14, 20, 20))));
  doc["features"].push_back(feature({{"kind", "stair"}, {"id", "S1"}, {"from_level", 0}, {"to_level", 1},
                                     {"bottom", {{2, 10}, {4, 10}}}, {"top", {{2, 14}, {4, 14}}},
                                     {"length_m", 6}},
                                    polygon(rect_coords(2, 10, 4, 14))));
  LoadResult r = load(doc);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.warning_count(), 0u) << all(r);
  EXPECT_DOUBLE_EQ(r.venue->stairs[0].length_m, 6);
  EXPECT_NEAR(r.venue->stairs[0].plan_length_m(), 4, 1e-9);

  doc["features"].erase(doc["features"].size() - 1);  // without the stair level 1 is cut off
  LoadResult cut = load(doc);
  ASSERT_TRUE(cut.ok());
  EXPECT_THAT(all(cut), HasSubstr("on level 1"));
}

TEST(VenueLoad, WarnsAboutCapacityAboveMaxDensity) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "floor"}, {"capacity", 500}, {"max_density", 2}},
                                    polygon(rect_coords(0, 0, 10, 10))));
  LoadResult r = load(doc);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_THAT(all(r), HasSubstr("(zone \"floor\"): warning: capacity 500 is above max_density 2 /m² × "
                                "walkable area 100.00 m² = 200"));
}

TEST(VenueLoad, WarnsAboutOverlappingZones) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "A"}}, polygon(rect_coords(0, 0, 10, 10))));
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "B"}}, polygon(rect_coords(8, 0, 18, 10))));
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "C"}}, polygon(rect_coords(18, 0, 20, 10))));
  LoadResult r = load(doc);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_EQ(r.warning_count(), 1u) << all(r);
  EXPECT_THAT(all(r), HasSubstr("(zone \"B\"): warning: zone overlaps zone \"A\" (features[2]) by 20.00 m²"));
}

TEST(VenueLoad, ZoneAreaCountsOnlyWalkableSpace) {
  json doc = base_venue();
  doc["features"].push_back(feature({{"kind", "obstacle"}}, polygon(rect_coords(2, 2, 4, 4))));
  doc["features"].push_back(feature({{"kind", "zone"}, {"id", "Z"}, {"use", "seated"}},
                                    polygon(rect_coords(0, 0, 10, 10))));
  LoadResult r = load(doc);
  ASSERT_TRUE(r.ok()) << all(r);
  EXPECT_NEAR(r.venue->zones[0].area_m2, 96, 1e-6);
  EXPECT_DOUBLE_EQ(r.venue->zones[0].capacity, 144);  // seated default 1.5 /m²
}

TEST(VenueLoad, MissingFileIsAnError) {
  LoadResult r = load_venue_file("/nonexistent/venue.geojson");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("no such file"));
}

TEST(VenueLoad, DeepNestingIsRejected) {
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  LoadResult r = load_venue(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(all(r), HasSubstr("nested deeper"));
}

}  // namespace
}  // namespace vigil::venue
