// SPDX-License-Identifier: Apache-2.0
#include "ops/reading.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>

namespace vigil::ops {

using nlohmann::json;

const char* to_string(ReadingKind k) {
  switch (k) {
    case ReadingKind::in_out:
      return "in_out";
    case ReadingKind::count:
      return "count";
    case ReadingKind::density:
      return "density";
  }
  return "in_out";
}

ReadingKind reading_kind_for(venue::SensorType t) {
  switch (t) {
    case venue::SensorType::line_counter:
      return ReadingKind::in_out;
    case venue::SensorType::zone_counter:
      return ReadingKind::count;
    case venue::SensorType::density:
      return ReadingKind::density;
  }
  return ReadingKind::in_out;
}

namespace {

// The field a reading of this kind carries (used to name the field in errors).
const char* value_field(ReadingKind k) {
  switch (k) {
    case ReadingKind::in_out:
      return "in";
    case ReadingKind::count:
      return "count";
    case ReadingKind::density:
      return "density";
  }
  return "in";
}

// Checks a persons value: finite, >= 0, whole (if `whole`), <= `max`.
// `where` makes the error's path (called only when there is an error).
template <class Where>
void check_value(std::vector<Error>& errors, const Where& where, double v, double max, bool whole) {
  if (std::isfinite(v) && v >= 0 && v <= max && (!whole || v == std::floor(v))) return;
  if (!std::isfinite(v)) {
    errors.push_back({where(), "must be a finite number"});
  } else if (v < 0) {
    errors.push_back({where(), fmt::format("{:g} is negative", v)});
  } else if (whole && v != std::floor(v)) {
    errors.push_back({where(), fmt::format("{:g} is not a whole number", v)});
  } else if (v > max) {
    errors.push_back({where(), fmt::format("{:g} is implausibly large (limit {:g})", v, max)});
  }
}

}  // namespace

std::vector<Error> validate_readings(const venue::Venue& venue, std::span<const Reading> readings,
                                     TimeMs now_ms, const ReadingLimits& limits,
                                     const std::string& prefix) {
  std::vector<Error> errors;
  for (std::size_t i = 0; i < readings.size(); ++i) {
    const Reading& r = readings[i];
    // The path is formatted only for an error: doing it for every valid reading would
    // dominate the cost of validation.
    auto at = [&](std::string_view field) { return fmt::format("{}[{}]{}", prefix, i, field); };
    const venue::Sensor* s = r.sensor.empty() ? nullptr : venue.find_sensor(r.sensor);
    if (r.sensor.empty()) {
      errors.push_back({at(".sensor"), "missing sensor id"});
    } else if (s == nullptr) {
      errors.push_back({at(".sensor"),
                        fmt::format("unknown sensor \"{}\" in venue \"{}\"", r.sensor, venue.id)});
    }
    if (r.seq < 0) errors.push_back({at(".seq"), fmt::format("{} is negative", r.seq)});
    if (r.ts_ms < limits.min_ts_ms) {
      errors.push_back(
          {at(".ts"), fmt::format("{} is before {} (sensor clock not set?)", format_time(r.ts_ms),
                                  format_time(limits.min_ts_ms))});
    } else if (r.ts_ms > now_ms + limits.max_future_ms) {
      errors.push_back(
          {at(".ts"),
           fmt::format("{} is {:.0f} s in the future (limit {:.0f} s)", format_time(r.ts_ms),
                       static_cast<double>(r.ts_ms - now_ms) / 1000.0,
                       static_cast<double>(limits.max_future_ms) / 1000.0)});
    }
    if (s != nullptr && reading_kind_for(s->type) != r.kind) {
      errors.push_back({at(std::string(".") + value_field(r.kind)),
                        fmt::format("sensor \"{}\" is a {}: it reports {}, not {}", s->id,
                                    venue::to_string(s->type),
                                    value_field(reading_kind_for(s->type)), to_string(r.kind))});
      continue;
    }
    switch (r.kind) {
      case ReadingKind::in_out:
        check_value(
            errors, [&] { return at(".in"); }, r.in, limits.max_crossings, true);
        check_value(
            errors, [&] { return at(".out"); }, r.out, limits.max_crossings, true);
        break;
      case ReadingKind::count: {
        double capacity = 0;
        if (s != nullptr) {
          if (const venue::Zone* z = venue.find_zone(s->zone)) capacity = z->capacity;
        }
        check_value(
            errors, [&] { return at(".count"); }, r.count,
            limits.max_count_factor * std::max(capacity, 100.0), true);
        break;
      }
      case ReadingKind::density:
        check_value(
            errors, [&] { return at(".density"); }, r.density, limits.max_density_p_m2, false);
        break;
    }
  }
  return errors;
}

namespace {

// Reads an optional number field; records an error if present and not a number.
bool read_number(const json& j, const char* key, const std::string& at, double& out,
                 std::vector<Error>& errors) {
  auto it = j.find(key);
  if (it == j.end()) return false;
  if (!it->is_number()) {
    errors.push_back({at + "." + key, "must be a number"});
    return true;
  }
  out = it->get<double>();
  return true;
}

}  // namespace

Expected<Reading, std::vector<Error>> parse_reading(const json& j, const std::string& path) {
  std::vector<Error> errors;
  Reading r;
  if (!j.is_object()) {
    errors.push_back({path, "must be an object"});
    return unexpected(std::move(errors));
  }
  if (auto it = j.find("sensor"); it == j.end()) {
    errors.push_back({path + ".sensor", "missing"});
  } else if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    errors.push_back({path + ".sensor", "must be a non-empty string"});
  } else {
    r.sensor = it->get<std::string>();
  }
  if (auto it = j.find("seq"); it == j.end()) {
    errors.push_back({path + ".seq", "missing"});
  } else if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      errors.push_back({path + ".seq", "too large"});
    else
      r.seq = static_cast<std::int64_t>(v);
  } else if (it->is_number_integer()) {
    const auto v = it->get<std::int64_t>();
    if (v < 0)
      errors.push_back({path + ".seq", fmt::format("{} is negative", v)});
    else
      r.seq = v;
  } else {
    errors.push_back({path + ".seq", "must be a non-negative integer"});
  }
  if (auto it = j.find("ts"); it == j.end()) {
    errors.push_back({path + ".ts", "missing"});
  } else if (!it->is_string()) {
    errors.push_back({path + ".ts", "must be an RFC 3339 time string"});
  } else if (auto t = parse_time(it->get_ref<const std::string&>()); !t) {
    errors.push_back({path + ".ts", t.error().message});
  } else {
    r.ts_ms = *t;
  }
  const bool has_in = read_number(j, "in", path, r.in, errors);
  const bool has_out = read_number(j, "out", path, r.out, errors);
  const bool has_count = read_number(j, "count", path, r.count, errors);
  const bool has_density = read_number(j, "density", path, r.density, errors);
  const int kinds = (has_in || has_out ? 1 : 0) + (has_count ? 1 : 0) + (has_density ? 1 : 0);
  if (kinds == 0) {
    errors.push_back({path, "has none of \"in\"/\"out\", \"count\", \"density\""});
  } else if (kinds > 1) {
    errors.push_back(
        {path, "mixes \"in\"/\"out\", \"count\" and \"density\": one kind per reading"});
  } else {
    r.kind = has_count     ? ReadingKind::count
             : has_density ? ReadingKind::density
                           : ReadingKind::in_out;
  }
  if (auto it = j.find("kind"); it != j.end() && kinds == 1) {
    if (!it->is_string() || it->get_ref<const std::string&>() != to_string(r.kind))
      errors.push_back(
          {path + ".kind", fmt::format("must be \"{}\" for these fields", to_string(r.kind))});
  }
  if (!errors.empty()) return unexpected(std::move(errors));
  return r;
}

Expected<std::vector<Reading>, std::vector<Error>> parse_telemetry(const json& body) {
  std::vector<Error> errors;
  std::vector<Reading> readings;
  if (!body.is_object()) {
    errors.push_back({"", "telemetry must be an object { \"readings\": [...] }"});
    return unexpected(std::move(errors));
  }
  auto it = body.find("readings");
  if (it == body.end() || !it->is_array()) {
    errors.push_back({"readings", it == body.end() ? "missing" : "must be an array"});
    return unexpected(std::move(errors));
  }
  readings.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto r = parse_reading((*it)[i], fmt::format("readings[{}]", i));
    if (r) {
      readings.push_back(std::move(*r));
    } else {
      auto e = std::move(r).error();
      errors.insert(errors.end(), e.begin(), e.end());
    }
  }
  if (!errors.empty()) return unexpected(std::move(errors));
  return readings;
}

json to_json(const Reading& r) {
  json j = {{"sensor", r.sensor}, {"seq", r.seq}, {"ts", format_time(r.ts_ms)}};
  switch (r.kind) {
    case ReadingKind::in_out:
      j["in"] = r.in;
      j["out"] = r.out;
      break;
    case ReadingKind::count:
      j["count"] = r.count;
      break;
    case ReadingKind::density:
      j["density"] = r.density;
      break;
  }
  return j;
}

}  // namespace vigil::ops
