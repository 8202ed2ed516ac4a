// SPDX-License-Identifier: Apache-2.0
// Telemetry readings: parsing the API body and validating against a venue, every error with
// the reading index and field.
#include "ops/reading.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using nlohmann::json;
using test::kT0;
using ::testing::HasSubstr;

std::string where_list(const std::vector<Error>& errors) {
  std::string s;
  for (const Error& e : errors) s += e.to_string() + "\n";
  return s;
}

bool has_error(const std::vector<Error>& errors, const std::string& where,
               const std::string& fragment = "") {
  for (const Error& e : errors)
    if (e.where == where && e.message.find(fragment) != std::string::npos) return true;
  return false;
}

TEST(OpsReading, ParsesTheSpecExample) {
  json body = json::parse(R"({ "readings": [
      { "sensor": "L1", "seq": 1041, "ts": "2023-11-14T22:13:20.000Z", "in": 3, "out": 0 },
      { "sensor": "Z1", "seq": 77, "ts": "2023-11-14T22:13:21Z", "count": 512 },
      { "sensor": "C2", "seq": 12, "ts": "2023-11-14T22:13:22.5Z", "density": 2.1 } ] })");
  auto r = parse_telemetry(body);
  ASSERT_TRUE(r.has_value()) << where_list(r.error());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].kind, ReadingKind::in_out);
  EXPECT_EQ((*r)[0].seq, 1041);
  EXPECT_EQ((*r)[0].ts_ms, kT0);
  EXPECT_EQ((*r)[0].in, 3);
  EXPECT_EQ((*r)[1].kind, ReadingKind::count);
  EXPECT_EQ((*r)[1].count, 512);
  EXPECT_EQ((*r)[2].kind, ReadingKind::density);
  EXPECT_DOUBLE_EQ((*r)[2].density, 2.1);
  EXPECT_EQ((*r)[2].ts_ms, kT0 + 2500);
  // Round trip through to_json.
  auto again = parse_reading(to_json((*r)[2]));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->ts_ms, (*r)[2].ts_ms);
  EXPECT_DOUBLE_EQ(again->density, 2.1);
}

TEST(OpsReading, ParseErrorsNameIndexAndField) {
  json body = json::parse(R"({ "readings": [
      { "sensor": "L1", "seq": 1, "ts": "2023-11-14T22:13:20Z", "in": 3 },
      { "sensor": "", "seq": -4, "ts": "noon", "in": "3" },
      { "seq": 2, "ts": 5, "count": 1, "density": 2 },
      { "sensor": "Z1", "ts": "2023-11-14T22:13:20Z" },
      { "sensor": "Z1", "seq": 3, "ts": "2023-11-14T22:13:20Z", "count": 4, "kind": "density" } ] })");
  auto r = parse_telemetry(body);
  ASSERT_FALSE(r.has_value());
  const auto& e = r.error();
  EXPECT_TRUE(has_error(e, "readings[1].sensor")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[1].seq", "negative")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[1].ts", "RFC 3339")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[1].in", "number")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[2].sensor", "missing")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[2].ts")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[2]", "one kind")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[3].seq", "missing")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[3]", "none of")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[4].kind")) << where_list(e);
  for (const Error& err : e) EXPECT_EQ(err.where.rfind("readings[0]", 0), std::string::npos);

  EXPECT_FALSE(parse_telemetry(json::array()).has_value());
  auto no_list = parse_telemetry(json{{"readings", 3}});
  ASSERT_FALSE(no_list.has_value());
  EXPECT_EQ(no_list.error()[0].where, "readings");
}

TEST(OpsReading, ValidAgainstVenue) {
  const venue::Venue v = test::small_venue();
  std::vector<Reading> rs = {test::flow("lc-in", 1, kT0, 3, 1), test::count("zc-hall", 1, kT0, 40),
                             test::density("dn-lobby", 1, kT0, 1.5)};
  EXPECT_TRUE(validate_readings(v, rs, kT0).empty()) << where_list(validate_readings(v, rs, kT0));
}

TEST(OpsReading, ValidationErrorsNameIndexAndField) {
  const venue::Venue v = test::small_venue();
  std::vector<Reading> rs = {
      test::flow("lc-in", 1, kT0, 3),                   // 0: fine
      test::flow("nope", 1, kT0, 3),                    // 1: unknown sensor
      test::count("lc-in", 2, kT0, 3),                  // 2: kind mismatch
      test::flow("lc-in", 3, kT0, -1, 0),               // 3: negative
      test::flow("lc-in", 4, kT0, 0, NAN),              // 4: non-finite
      test::flow("lc-in", 5, kT0, 20000),               // 5: absurd crossings
      test::flow("lc-in", 6, kT0 + test::sec(600), 1),  // 6: 10 min in the future
      test::count("zc-hall", 2, kT0, 1e6),              // 7: absurd count
      test::density("dn-lobby", 2, kT0, 12),            // 8: absurd density
      test::flow("lc-in", 7, kT0, 2.5),                 // 9: fractional crossings
      test::flow("lc-in", 8, 1000, 1),                  // 10: 1970
      test::density("dn-lobby", 3, kT0, INFINITY),      // 11: non-finite density
  };
  const auto e = validate_readings(v, rs, kT0);
  EXPECT_TRUE(has_error(e, "readings[1].sensor", "unknown sensor \"nope\"")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[2].count", "line_counter")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[3].in", "negative")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[4].out", "finite")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[5].in", "implausibly large")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[6].ts", "600 s in the future")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[7].count", "implausibly large")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[8].density", "implausibly large")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[9].in", "whole")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[10].ts", "before")) << where_list(e);
  EXPECT_TRUE(has_error(e, "readings[11].density", "finite")) << where_list(e);
  for (const Error& err : e) EXPECT_THAT(err.where, ::testing::Not(HasSubstr("readings[0]")));
  EXPECT_EQ(e.size(), 11u) << where_list(e);
  // A little ahead is tolerated (sensor clocks drift).
  std::vector<Reading> ahead = {test::flow("lc-in", 1, kT0 + test::sec(60), 1)};
  EXPECT_TRUE(validate_readings(v, ahead, kT0).empty());
}

}  // namespace
}  // namespace vigil::ops
