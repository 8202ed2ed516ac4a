// SPDX-License-Identifier: Apache-2.0
// Time for the operations core: milliseconds since the Unix epoch (UTC), behind a Clock interface
// so that everything time-dependent can be driven by a ManualClock in tests (no sleeps), and the
// RFC 3339 text form the operations API uses ("2024-05-01T20:15:00.123Z").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace vigil::ops {

// Milliseconds since 1970-01-01T00:00:00Z.
using TimeMs = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now_ms() const = 0;
};

// Wall-clock time (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  TimeMs now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start_ms = 0) : now_(start_ms) {}
  TimeMs now_ms() const override { return now_; }
  void set(TimeMs t_ms) { now_ = t_ms; }
  void advance(TimeMs delta_ms) { now_ += delta_ms; }
  void advance_s(double delta_s) { now_ += static_cast<TimeMs>(delta_s * 1000.0); }

 private:
  TimeMs now_;
};

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (always UTC, always milliseconds).
std::string format_time(TimeMs t_ms);
// RFC 3339 date-time: "2024-05-01T20:15:00Z", with optional fraction (truncated to ms) and a
// "Z" or "+hh:mm"/"-hh:mm" offset; 't'/'z' and a space for 'T' are accepted.
Result<TimeMs> parse_time(std::string_view text);

}  // namespace vigil::ops
