// SPDX-License-Identifier: Apache-2.0
// Matching warnings to gatherings: place (polygon, circle, geocode, tolerance), time (windows,
// defaults, now), status/msgType, target (English and Russian), the index (upsert/remove).
#include "warn/match.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "warn/cap.hpp"
#include "warn/geo.hpp"

namespace vigil::warn {
namespace {

constexpr TimeMs kHour = 3600 * 1000;

TimeMs t(const char* s) { return *parse_cap_time(s); }

// The concert hall: Moscow, Bolshaya Nikitskaya area.
constexpr double kLat = 55.7601, kLon = 37.6186;

GatheringRef concert() {
  GatheringRef g;
  g.id = "g-concert";
  g.venue_id = "v-hall";
  g.name = "Symphony Night";
  g.kind = "concert";
  g.starts_ms = t("2024-05-01T19:00:00+03:00");
  g.ends_ms = t("2024-05-01T22:00:00+03:00");
  g.lat = kLat;
  g.lon = kLon;
  g.radius_m = 150;
  g.venue_use = "concert_hall";
  g.venue_name = "Grand Concert Hall";
  return g;
}

CapAlert alert_with(CapArea area, std::string event = "Security threat") {
  CapAlert a;
  a.identifier = "A1";
  a.sender = "police@example.org";
  a.sent_ms = t("2024-05-01T12:00:00+03:00");
  CapInfo in;
  in.categories = {Category::Security};
  in.event = std::move(event);
  in.urgency = Urgency::Expected;
  in.severity = Severity::Severe;
  in.certainty = Certainty::Likely;
  in.onset_ms = t("2024-05-01T18:00:00+03:00");
  in.expires_ms = t("2024-05-01T23:00:00+03:00");
  in.areas.push_back(std::move(area));
  a.infos.push_back(std::move(in));
  return a;
}

// A square of side `half_deg * 2` around (lat, lon).
CapArea square(double lat, double lon, double half_deg, std::string desc = "square") {
  CapArea a;
  a.area_desc = std::move(desc);
  CapPolygon p;
  p.points = {{lat - half_deg, lon - half_deg},
              {lat - half_deg, lon + half_deg},
              {lat + half_deg, lon + half_deg},
              {lat + half_deg, lon - half_deg},
              {lat - half_deg, lon - half_deg}};
  a.polygons.push_back(p);
  return a;
}

CapArea circle(double lat, double lon, double radius_km) {
  CapArea a;
  a.area_desc = "circle";
  a.circles.push_back({{lat, lon}, radius_km});
  return a;
}

const TimeMs kNow = t("2024-05-01T12:00:00+03:00");

TEST(Geo, DistancesAndAreas) {
  EXPECT_NEAR(distance_m({55.7558, 37.6173}, {59.9343, 30.3351}), 634e3,
              3e3);                                               // Moscow-St Petersburg
  EXPECT_NEAR(distance_m({0, 179.9}, {0, -179.9}), 22.24e3, 50);  // across the antimeridian
  CapPolygon sq;
  sq.points = {{0, 0}, {0, 0.01}, {0.01, 0.01}, {0.01, 0}, {0, 0}};
  EXPECT_NEAR(area_m2(sq), 1.2364e6, 0.01e6);  // 1.112 km x 1.112 km
  EXPECT_NEAR(area_m2(CapCircle{{0, 0}, 1}), 3.14159265e6, 1);
  EXPECT_EQ(distance_to_polygon_m(sq, {0.005, 0.005}), 0.0);
  EXPECT_NEAR(distance_to_polygon_m(sq, {0.005, 0.0109}), 100, 1);
}

TEST(Match, PolygonContainsTheVenue) {
  GatheringIndex idx;
  idx.upsert(concert());
  auto m = idx.match(alert_with(square(kLat, kLon, 0.01)), kNow);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].gathering_id, "g-concert");
  EXPECT_EQ(m[0].venue_id, "v-hall");
  EXPECT_EQ(m[0].place_via, "polygon[0]");
  EXPECT_EQ(m[0].distance_m, 0.0);
  EXPECT_EQ(m[0].info_index, 0u);
  EXPECT_EQ(m[0].area_index, 0u);
}

TEST(Match, VenueRadiusIsTheTolerance) {
  GatheringIndex idx;
  idx.upsert(concert());
  // Polygon edge ~100 m east of the venue point: reached with radius 150 m, not with 50 m.
  const double dlon = 100.0 / (111195.0 * std::cos(kLat * 3.14159265 / 180));
  CapArea a;
  a.area_desc = "east block";
  CapPolygon p;
  p.points = {{kLat - 0.01, kLon + dlon},
              {kLat - 0.01, kLon + 0.02},
              {kLat + 0.01, kLon + 0.02},
              {kLat + 0.01, kLon + dlon},
              {kLat - 0.01, kLon + dlon}};
  a.polygons.push_back(p);
  auto m = idx.match(alert_with(a), kNow);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NEAR(m[0].distance_m, 100, 2);
  GatheringRef small = concert();
  small.radius_m = 50;
  idx.upsert(small);
  EXPECT_TRUE(idx.match(alert_with(a), kNow).empty());
}

TEST(Match, CircleByGreatCircleDistance) {
  GatheringIndex idx;
  idx.upsert(concert());
  // A circle 2 km away with a 1.9 km radius: the venue edge (150 m) reaches it.
  const double dlat = 2000.0 / 111195.0;
  EXPECT_EQ(idx.match(alert_with(circle(kLat + dlat, kLon, 1.9)), kNow).size(), 1u);
  EXPECT_TRUE(idx.match(alert_with(circle(kLat + dlat, kLon, 1.8)), kNow).empty());
}

TEST(Match, GeocodeThroughTheTable) {
  GatheringIndex idx;
  idx.upsert(concert());
  CapArea a;
  a.area_desc = "Central district";
  a.geocodes.push_back({"OKATO", "45286"});
  EXPECT_TRUE(idx.match(alert_with(a), kNow).empty());  // no table: nothing
  auto table = std::make_shared<GeocodeTable>();
  GeocodeRegion r;
  r.value_name = "OKATO";
  r.value = "45286";
  r.circles.push_back({{kLat, kLon}, 2});
  table->add(r);
  idx.set_geocodes(table);
  auto m = idx.match(alert_with(a), kNow);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].place_via, "geocode OKATO=45286");
  EXPECT_NEAR(m[0].area_m2, 12.566e6, 0.01e6);
  a.geocodes[0].value = "99999";
  EXPECT_TRUE(idx.match(alert_with(a), kNow).empty());
}

TEST(Match, AreaWithoutShapesMatchesNothing) {
  GatheringIndex idx;
  idx.upsert(concert());
  CapArea a;
  a.area_desc = "Moscow";  // a description alone says nothing checkable
  EXPECT_TRUE(idx.match(alert_with(a), kNow).empty());
  CapAlert none = alert_with(a);
  none.infos[0].areas.clear();
  EXPECT_TRUE(idx.match(none, kNow).empty());
}

TEST(Match, FarAwayDoesNotMatch) {
  GatheringIndex idx;
  idx.upsert(concert());
  EXPECT_TRUE(idx.match(alert_with(square(59.93, 30.33, 0.05)), kNow).empty());
}

TEST(Match, TimeWindowsMustOverlap) {
  GatheringIndex idx;
  idx.upsert(concert());
  CapAlert a = alert_with(square(kLat, kLon, 0.01));
  a.infos[0].onset_ms = t("2024-05-01T22:30:00+03:00");  // after the concert
  a.infos[0].expires_ms = t("2024-05-02T02:00:00+03:00");
  EXPECT_TRUE(idx.match(a, kNow).empty());
  a.infos[0].onset_ms = t("2024-05-01T21:30:00+03:00");  // overlaps its last half hour
  EXPECT_EQ(idx.match(a, kNow).size(), 1u);
}

TEST(Match, WindowStartsAtOnsetThenEffectiveThenSent) {
  CapAlert a = alert_with(square(kLat, kLon, 0.01));
  CapInfo& in = a.infos[0];
  in.effective_ms = t("2024-05-01T13:00:00+03:00");
  EXPECT_EQ(info_window(a, in).start_ms, *in.onset_ms);
  in.onset_ms.reset();
  EXPECT_EQ(info_window(a, in).start_ms, *in.effective_ms);
  in.effective_ms.reset();
  EXPECT_EQ(info_window(a, in).start_ms, a.sent_ms);
}

TEST(Match, DefaultDurationWhenNoExpires) {
  CapAlert a = alert_with(square(kLat, kLon, 0.01));
  CapInfo& in = a.infos[0];
  in.expires_ms.reset();
  in.onset_ms = t("2024-04-30T12:00:00+03:00");  // a day and a half before the concert
  in.urgency = Urgency::Immediate;               // 6 h default: over before the concert
  GatheringIndex idx;
  idx.upsert(concert());
  EXPECT_TRUE(idx.match(a, t("2024-04-30T12:00:00+03:00")).empty());
  in.urgency = Urgency::Future;  // 48 h default: still running
  auto m = idx.match(a, t("2024-04-30T12:00:00+03:00"));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].expires_assumed);
  EXPECT_EQ(m[0].window_end_ms - m[0].window_start_ms, 48 * kHour);
}

TEST(Match, NothingEndedBeforeNowMatches) {
  GatheringIndex idx;
  idx.upsert(concert());
  CapAlert a = alert_with(square(kLat, kLon, 0.01));
  EXPECT_TRUE(idx.match(a, t("2024-05-01T23:30:00+03:00")).empty());  // warning expired
  a.infos[0].expires_ms = t("2024-05-02T23:00:00+03:00");
  EXPECT_TRUE(idx.match(a, t("2024-05-01T22:30:00+03:00")).empty());   // concert over
  EXPECT_EQ(idx.match(a, t("2024-05-01T21:30:00+03:00")).size(), 1u);  // during the concert
}

TEST(Match, StatusAndMessageType) {
  GatheringIndex idx;
  idx.upsert(concert());
  CapAlert a = alert_with(square(kLat, kLon, 0.01));
  a.msg_type = MsgType::Cancel;
  EXPECT_TRUE(idx.match(a, kNow).empty());
  a.msg_type = MsgType::Update;
  EXPECT_EQ(idx.match(a, kNow).size(), 1u);
  a.status = Status::Test;
  EXPECT_TRUE(idx.match(a, kNow).empty());
  a.status = Status::Exercise;
  EXPECT_EQ(idx.match(a, kNow).size(), 1u);
  MatchOptions no_ex;
  no_ex.match_exercises = false;
  GatheringIndex strict(no_ex);
  strict.upsert(concert());
  EXPECT_TRUE(strict.match(a, kNow).empty());
}

TEST(Match, EachInfoSeparatelyAndTheNarrowestArea) {
  GatheringIndex idx;
  idx.upsert(concert());
  CapAlert a = alert_with(square(kLat, kLon, 0.1, "city"));
  a.infos[0].areas.push_back(square(59.9, 30.3, 0.01, "elsewhere"));
  a.infos[0].areas.push_back(square(kLat, kLon, 0.005, "block"));
  CapInfo ru = a.infos[0];
  ru.language = "ru-RU";
  a.infos.push_back(ru);
  auto m = idx.match(a, kNow);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].info_index, 0u);
  EXPECT_EQ(m[1].info_index, 1u);
  EXPECT_EQ(m[0].area_index, 2u);
  EXPECT_EQ(m[0].area_desc, "block");
  EXPECT_EQ(m[0].area_indices, (std::vector<std::size_t>{0, 2}));
}

TEST(Match, IndexUpsertRemove) {
  GatheringIndex idx;
  idx.upsert(concert());
  GatheringRef far = concert();
  far.id = "g-far";
  far.lat = 59.93;
  far.lon = 30.33;
  idx.upsert(far);
  EXPECT_EQ(idx.size(), 2u);
  CapAlert a = alert_with(square(59.93, 30.33, 0.01));
  EXPECT_EQ(idx.match(a, kNow).size(), 1u);
  far.lat = kLat;  // moved: update re-indexes
  far.lon = kLon;
  idx.upsert(far);
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_TRUE(idx.match(a, kNow).empty());
  EXPECT_TRUE(idx.remove("g-far"));
  EXPECT_FALSE(idx.remove("g-far"));
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_EQ(idx.find("g-far"), nullptr);
  ASSERT_NE(idx.find("g-concert"), nullptr);
  GatheringRef bad = concert();
  bad.lat = 91;
  EXPECT_THROW(idx.upsert(bad), std::invalid_argument);
}

TEST(Match, AntimeridianCircle) {
  GatheringIndex idx;
  GatheringRef g = concert();
  g.lat = -17.8;
  g.lon = 179.99;  // Fiji
  idx.upsert(g);
  EXPECT_EQ(idx.match(alert_with(circle(-17.8, -179.99, 5)), kNow).size(), 1u);
}

// ---- Target ---------------------------------------------------------------------------------

TEST(Target, LevelsInEnglish) {
  const GatheringRef g = concert();
  CapInfo in;
  in.event = "Weather";
  in.description = "Heavy rain.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::none);
  in.description = "Avoid large gatherings and crowded places.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::generic);
  in.description = "Threat against concerts tonight.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::kind);
  in.description = "Threat against concert halls in the city.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::both);  // "concert hall" and "concert"
  in.description = "Threat against theatres and concert halls.";
  in.event = "Threat";
  std::vector<std::string> terms;
  EXPECT_EQ(classify_target(in, nullptr, g, &terms), TargetLevel::both);
  in.description = "A device was reported at the GRAND CONCERT HALL.";
  EXPECT_EQ(classify_target(in, nullptr, g, &terms), TargetLevel::venue);
  EXPECT_EQ(terms, std::vector<std::string>{"Grand Concert Hall"});
  GatheringRef stadium = g;
  stadium.venue_use = "stadium";
  stadium.kind = "sport";
  stadium.venue_name = "Olympic Park";
  in.description = "Suspicious vehicle near the stadium.";
  EXPECT_EQ(classify_target(in, nullptr, stadium), TargetLevel::use);
}

TEST(Target, RussianWithDeclension) {
  GatheringRef g = concert();
  g.venue_name = "Лужники";
  g.venue_use = "stadium";
  g.kind = "sport";
  CapInfo in;
  in.event = "Угроза";
  in.description = "Рекомендуется воздержаться от посещения МАССОВЫХ МЕРОПРИЯТИЙ.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::generic);
  in.description = "Возможна угроза на стадионах города.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::use);
  in.description = "Угроза во время футбольного матча на стадионе.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::both);
  in.description = "Подозрительный предмет в Лужниках.";
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::venue);
  CapArea area;
  area.area_desc = "Стадион «Лужники» и прилегающая территория";
  in.description = "Угроза.";
  EXPECT_EQ(classify_target(in, &area, g), TargetLevel::venue);
}

TEST(Target, ParametersCount) {
  const GatheringRef g = concert();
  CapInfo in;
  in.event = "Threat";
  in.parameters.push_back({"targets", "concert venues"});
  EXPECT_EQ(classify_target(in, nullptr, g), TargetLevel::both);
}

TEST(Match, TargetRaisesSpecificityButIsNotRequired) {
  GatheringIndex idx;
  idx.upsert(concert());
  CapAlert vague = alert_with(square(kLat, kLon, 0.01), "Rain");
  CapAlert named = alert_with(square(kLat, kLon, 0.01), "Threat to the Grand Concert Hall");
  auto mv = idx.match(vague, kNow);
  auto mn = idx.match(named, kNow);
  ASSERT_EQ(mv.size(), 1u);
  ASSERT_EQ(mn.size(), 1u);
  EXPECT_EQ(mv[0].target, TargetLevel::none);
  EXPECT_EQ(mn[0].target, TargetLevel::venue);
  EXPECT_GT(mn[0].specificity.score, mv[0].specificity.score);
  const auto j = to_json(mn[0]);
  EXPECT_EQ(j["target"], "venue");
  EXPECT_EQ(j["specificity"]["parts"].size(), 6u);
}

}  // namespace
}  // namespace vigil::warn
