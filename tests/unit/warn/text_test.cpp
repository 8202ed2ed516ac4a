// SPDX-License-Identifier: Apache-2.0
// Case folding (Cyrillic included), words, keywords and names; the geocode table.
#include "warn/text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "warn/geocode.hpp"

namespace vigil::warn {
namespace {

TEST(Text, FoldCaseLatinAndCyrillic) {
  EXPECT_EQ(fold_case("Mass GATHERING"), "mass gathering");
  EXPECT_EQ(fold_case("КОНЦЕРТ Стадион"), "концерт стадион");
  EXPECT_EQ(fold_case("ЁЛКА ёлка"), "елка елка");  // ё folds to е
  EXPECT_EQ(fold_case("ЪЫЬЭЮЯ"), "ъыьэюя");
  EXPECT_EQ(fold_case("ЄІЇЎ"), "єіїў");  // Ukrainian, Belarusian
  EXPECT_EQ(fold_case("ÀÉÎÕÜ Ł Ő"), "àéîõü ł ő");
  EXPECT_EQ(fold_case("ΣΤΑΔΙΟ"), "σταδιο");
  EXPECT_EQ(fold_case("水庫"), "水庫");
  EXPECT_EQ(fold_case("bad\xff"), "bad\xEF\xBF\xBD");
  EXPECT_EQ(fold_case("\xc3"), "\xEF\xBF\xBD");  // truncated sequence
}

TEST(Text, WordsSplitAtPunctuationInAnyScript) {
  EXPECT_EQ(words_of("Стадион «Лужники» — матч!"),
            (std::vector<std::string>{"стадион", "лужники", "матч"}));
  EXPECT_EQ(words_of("concert-hall, 2024"), (std::vector<std::string>{"concert", "hall", "2024"}));
  EXPECT_TRUE(words_of(" ,.; ").empty());
}

TEST(Text, KeywordsWholeWordsOrStems) {
  const auto w = words_of("Воздержитесь от посещения массовых мероприятий в концертных залах");
  EXPECT_TRUE(contains_keyword(w, "массов* мероприяти*"));
  EXPECT_TRUE(contains_keyword(w, "концертн* зал*"));
  EXPECT_FALSE(contains_keyword(w, "стадион*"));
  const auto e = words_of("Start of the concerts at the STADIUM");
  EXPECT_TRUE(contains_keyword(e, "concert*"));
  EXPECT_TRUE(contains_keyword(e, "stadium*"));
  EXPECT_FALSE(contains_keyword(e, "art"));      // not inside "start"
  EXPECT_FALSE(contains_keyword(e, "concert"));  // whole word only without '*'
  EXPECT_FALSE(
      contains_keyword(words_of("mass of gatherings"), "mass gathering*"));  // consecutive only
}

TEST(Text, NamesMatchDeclinedForms) {
  EXPECT_TRUE(contains_name(words_of("Угроза в Лужниках"), "Лужники"));
  EXPECT_TRUE(contains_name(words_of("у Большого театра"), "Большой театр"));
  EXPECT_TRUE(contains_name(words_of("at the Royal Albert Hall tonight"), "Royal Albert Hall"));
  EXPECT_FALSE(contains_name(words_of("at the Royal Festival Hall"), "Royal Albert Hall"));
  EXPECT_FALSE(contains_name(words_of("anything"), ""));
  EXPECT_FALSE(contains_name(words_of("a b"), "a"));  // too short to mean anything
}

TEST(Text, EveryVenueUseAndKindHasEnglishAndRussianKeywords) {
  const auto has_cyrillic = [](std::string_view s) {
    return s.find("\xd0") != std::string_view::npos || s.find("\xd1") != std::string_view::npos;
  };
  for (auto use : known_venue_uses()) {
    const auto& list = venue_use_keywords(use);
    EXPECT_TRUE(std::any_of(list.begin(), list.end(), has_cyrillic)) << use;
    EXPECT_FALSE(std::all_of(list.begin(), list.end(), has_cyrillic)) << use;
  }
  for (auto kind : known_gathering_kinds()) {
    if (kind == "other") continue;
    const auto& list = gathering_kind_keywords(kind);
    EXPECT_TRUE(std::any_of(list.begin(), list.end(), has_cyrillic)) << kind;
  }
  EXPECT_EQ(known_venue_uses().size(), 12u);
  EXPECT_TRUE(venue_use_keywords("unknown").empty());
}

TEST(GeocodeTableTest, LoadsPolygonsAndCircles) {
  const char* text = R"({"geocodes": [
    {"valueName": "SAME", "value": "006037", "name": "Los Angeles County",
     "polygons": [[[34.8, -118.9], [33.7, -118.9], [33.7, -117.6], [34.8, -117.6], [34.8, -118.9]]]},
    {"valueName": "OKATO", "value": "45286560000", "circle": {"lat": 55.73, "lon": 37.57, "radius_km": 2.5}}
  ]})";
  auto t = GeocodeTable::from_json_text(text);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->size(), 2u);
  const GeocodeRegion* la = t->find("SAME", "006037");
  ASSERT_NE(la, nullptr);
  EXPECT_EQ(la->name, "Los Angeles County");
  EXPECT_NEAR(la->area_m2, 122.3e3 * 120.4e3, 0.05 * 122.3e3 * 120.4e3);
  EXPECT_EQ(t->find("same", "006037"), nullptr);  // valueName is case-sensitive
  ASSERT_NE(t->find("OKATO", "45286560000"), nullptr);
}

TEST(GeocodeTableTest, ReportsEveryProblemWithItsPath) {
  const char* text = R"({"geocodes": [
    {"valueName": "A", "value": "1", "polygon": [[0, 0], [0, 1], [1, 1], [0, 0.5]]},
    {"valueName": "A", "value": "2", "circle": {"lat": 95, "lon": 0, "radius_km": 1}},
    {"value": "3", "circle": {"lat": 0, "lon": 0, "radius_km": 1}},
    {"valueName": "A", "value": "4"}
  ]})";
  auto t = GeocodeTable::from_json_text(text);
  ASSERT_FALSE(t);
  std::string all;
  for (const auto& e : t.error()) all += e.to_string() + "\n";
  EXPECT_NE(all.find("geocodes[0].polygon: the ring is not closed"), std::string::npos) << all;
  EXPECT_NE(all.find("geocodes[1].circle: [95, 0]: latitude"), std::string::npos) << all;
  EXPECT_NE(all.find("geocodes[2].valueName"), std::string::npos) << all;
  EXPECT_NE(all.find("geocodes[3]: needs a"), std::string::npos) << all;
  EXPECT_FALSE(GeocodeTable::from_json_text("{"));
  EXPECT_FALSE(GeocodeTable::load_file("/nonexistent/geocodes.json"));
}

}  // namespace
}  // namespace vigil::warn
