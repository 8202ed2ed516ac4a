// SPDX-License-Identifier: Apache-2.0
// Time: the manual clock and the RFC 3339 text form.
#include "ops/clock.hpp"

#include <gtest/gtest.h>

namespace vigil::ops {
namespace {

TEST(OpsClock, ManualClockMovesOnlyWhenTold) {
  ManualClock c(1000);
  EXPECT_EQ(c.now_ms(), 1000);
  c.advance(250);
  EXPECT_EQ(c.now_ms(), 1250);
  c.advance_s(1.5);
  EXPECT_EQ(c.now_ms(), 2750);
  c.set(42);
  EXPECT_EQ(c.now_ms(), 42);
}

TEST(OpsClock, SystemClockIsAfter2020) {
  SystemClock c;
  EXPECT_GT(c.now_ms(), 1'577'836'800'000);
}

TEST(OpsClock, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_time(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_time(-1), "1969-12-31T23:59:59.999Z");
}

TEST(OpsClock, ParsesRfc3339) {
  EXPECT_EQ(*parse_time("2023-11-14T22:13:20.123Z"), 1'700'000'000'123);
  EXPECT_EQ(*parse_time("2023-11-14T22:13:20Z"), 1'700'000'000'000);
  EXPECT_EQ(*parse_time("2023-11-14t22:13:20.1z"), 1'700'000'000'100);
  EXPECT_EQ(*parse_time("2023-11-14T22:13:20.123456Z"), 1'700'000'000'123);
  EXPECT_EQ(*parse_time("2023-11-15T00:13:20+02:00"), 1'700'000'000'000);
  EXPECT_EQ(*parse_time("2023-11-14T20:43:20-01:30"), 1'700'000'000'000);
  for (TimeMs t : {TimeMs{0}, TimeMs{951'782'400'000}, TimeMs{1'700'000'000'123}})
    EXPECT_EQ(*parse_time(format_time(t)), t);
}

TEST(OpsClock, RejectsMalformedTimes) {
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20+0200", "2023-11-14T22:13:20Zjunk", "yesterday"}) {
    auto r = parse_time(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("RFC 3339"), std::string::npos) << r.error().message;
    }
  }
}

}  // namespace
}  // namespace vigil::ops
