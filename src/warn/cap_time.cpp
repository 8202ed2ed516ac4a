// SPDX-License-Identifier: Apache-2.0
// CAP date-times: "YYYY-MM-DDThh:mm:ss+hh:mm" <-> milliseconds since the epoch (UTC).
// CAP 1.2 (3.3.2): no "Z"; UTC MUST be written "-00:00", which format_cap_time does.
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "warn/cap.hpp"

namespace vigil::warn {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Reads `n` decimal digits at `pos`; false if any is not a digit.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

std::string_view trim(std::string_view s) {
  const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<TimeMs> parse_cap_time(std::string_view text, bool allow_z_and_fraction,
                              int* offset_minutes) {
  const std::string_view s = trim(text);
  const auto fail = [&](std::string_view why) -> Result<TimeMs> {
    return unexpected(
        Error{"", fmt::format("\"{}\" is not a CAP date-time ({}); expected "
                              "YYYY-MM-DDThh:mm:ss+hh:mm, e.g. 2024-05-01T20:15:00-00:00",
                              s.substr(0, 64), why)});
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 19 || !digits(s, 0, 4, year) || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || s[10] != 'T' || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second))
    return fail("malformed date or time of day");
  std::size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    if (!allow_z_and_fraction) return fail("CAP 1.2 allows no fraction of a second");
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
      ++n;
    }
    if (n == 0) return fail("empty fraction of a second");
    for (std::size_t k = n; k < 3; ++k) millis *= 10;
  }
  int offset = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    if (!allow_z_and_fraction)
      return fail("CAP 1.2 requires a numeric offset, \"-00:00\" for UTC, not \"Z\"");
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om))
      return fail("malformed offset");
    if (om > 59 || oh * 60 + om > 14 * 60) return fail("offset beyond +-14:00");
    offset = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return fail("missing offset");
  }
  if (pos != s.size()) return fail("unexpected text after the offset");
  if (year < 1 || month < 1 || month > 12) return fail("month out of range");
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)))
    return fail("day out of range");
  if (hour > 23 || minute > 59 || second > 59) return fail("time of day out of range");
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t local_s = days * 86400 + hour * 3600 + minute * 60 + second;
  if (offset_minutes) *offset_minutes = offset;
  return (local_s - std::int64_t{offset} * 60) * 1000 + millis;
}

std::string format_cap_time(TimeMs t_ms, int offset_minutes) {
  const std::int64_t local_ms = t_ms + std::int64_t{offset_minutes} * 60000;
  std::int64_t secs = local_ms / 1000;
  if (local_ms % 1000 < 0) --secs;  // floor for times before 1970
  std::int64_t days = secs / 86400;
  std::int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const Civil c = civil_from_days(days);
  const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}{}{:02d}:{:02d}", c.y, c.m, c.d,
                     rem / 3600, (rem / 60) % 60, rem % 60, offset_minutes <= 0 ? '-' : '+',
                     off / 60, off % 60);
}

}  // namespace vigil::warn
