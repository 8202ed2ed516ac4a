// SPDX-License-Identifier: Apache-2.0
// One telemetry reading (operations API, "Telemetry"), its JSON form and its validation against
// a venue. Counts only: no images, no identities.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "ops/clock.hpp"
#include "venue/venue.hpp"

namespace vigil::ops {

enum class ReadingKind { in_out, count, density };
const char* to_string(ReadingKind k);

// What a sensor reported at `ts_ms`. Which fields matter depends on `kind`:
//   in_out  (line_counter): `in`, `out` = crossings since the sensor's previous reading;
//   count   (zone_counter): `count` = persons in the sensor's zone now;
//   density (density):      `density` = persons/m² measured in the sensor's zone now.
// `seq` increases by one per reading of a sensor; (sensor, seq) identifies a reading, so a
// retried reading is counted once.
struct Reading {
  std::string sensor;
  std::int64_t seq = 0;
  TimeMs ts_ms = 0;
  ReadingKind kind = ReadingKind::in_out;
  double in = 0;
  double out = 0;
  double count = 0;
  double density = 0;
};

// The reading kind a sensor type reports.
ReadingKind reading_kind_for(venue::SensorType t);

struct ReadingLimits {
  double max_crossings = 10000;        // per reading, for `in` and for `out`
  double max_count_factor = 10;        // count > factor × max(zone capacity, 100) is absurd
  double max_density_p_m2 = 10;        // no crowd is denser (crush densities are 6–9 /m²)
  TimeMs max_future_ms = 5 * 60'000;   // sensor clocks may run a little ahead, not more
  TimeMs min_ts_ms = 946'684'800'000;  // 2000-01-01T00:00:00Z: anything earlier is a bad clock
};

// Every problem of every reading, each located as `readings[3].in` (with `prefix` =
// "readings"); empty when all are valid. Checks: unknown sensor, kind not matching the
// sensor's type, negative / non-finite / fractional / absurd values, timestamps too far in
// the future (relative to `now_ms`) or before `min_ts_ms`, negative seq.
std::vector<Error> validate_readings(const venue::Venue& venue, std::span<const Reading> readings,
                                     TimeMs now_ms, const ReadingLimits& limits = {},
                                     const std::string& prefix = "readings");

// A telemetry body `{ "readings": [ {...}, ... ] }` → readings, or every structural problem
// (`readings[3].ts: ...`). The kind of each reading follows from its fields: `in`/`out`,
// `count` or `density` (an explicit "kind" is accepted and must agree). Semantic checks
// against a venue are validate_readings()'s job.
Expected<std::vector<Reading>, std::vector<Error>> parse_telemetry(const nlohmann::json& body);
// The same for the body as text, fast (simdjson): the readings when the body is plainly valid,
// nullopt for anything else (malformed JSON, a missing or mistyped field, ...), for which the
// caller takes json::parse + parse_telemetry to locate every problem. For every body both paths
// give the same readings (tests/unit/ops/reading_fast_test.cpp).
std::optional<std::vector<Reading>> parse_telemetry_fast(std::string_view body);
// One reading (e.g. an MQTT payload); errors are located under `path`.
Expected<Reading, std::vector<Error>> parse_reading(const nlohmann::json& j,
                                                    const std::string& path = "reading");
nlohmann::json to_json(const Reading& r);

}  // namespace vigil::ops
