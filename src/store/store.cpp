// SPDX-License-Identifier: Apache-2.0
// The parts of store.hpp that do not depend on a backend.
#include "store/store.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace vigil::store {

std::string_view to_string(ReadingKind kind) {
  switch (kind) {
    case ReadingKind::in_out:
      return "in_out";
    case ReadingKind::count:
      return "count";
    case ReadingKind::density:
      return "density";
  }
  return "count";
}

std::optional<ReadingKind> parse_reading_kind(std::string_view text) {
  if (text == "in_out") return ReadingKind::in_out;
  if (text == "count") return ReadingKind::count;
  if (text == "density") return ReadingKind::density;
  return std::nullopt;
}

TimeMs now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_rfc3339_ms(TimeMs t) {
  TimeMs seconds = t / 1000;
  TimeMs millis = t % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::optional<TimeMs> parse_rfc3339_ms(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != '.' || s[23] != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  const int millis = number(20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59 || millis < 0) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto days = sys_days{ymd}.time_since_epoch().count();
  return ((static_cast<TimeMs>(days) * 24 + hour) * 60 + minute) * 60000 +
         static_cast<TimeMs>(second) * 1000 + millis;
}

}  // namespace vigil::store
