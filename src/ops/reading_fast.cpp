// SPDX-License-Identifier: Apache-2.0
// The fast path of telemetry parsing (reading.hpp, parse_telemetry_fast): simdjson's DOM parser,
// one per thread, reused between requests. It takes only what is plainly valid and gives up on
// anything else, so the answer for any body is exactly what the located-errors path gives.
#include <simdjson.h>

#include "ops/reading.hpp"

namespace vigil::ops {
namespace {

// The reading in `o`, or nullopt when anything is not plainly valid (the slow path then says
// what and where).
std::optional<Reading> fast_reading(simdjson::dom::object o) {
  Reading r;
  bool has_sensor = false;
  bool has_seq = false;
  bool has_ts = false;
  bool has_in_out = false;
  bool has_count = false;
  bool has_density = false;
  std::string_view kind;
  bool has_kind = false;
  auto number = [](simdjson::dom::element v, double& out) {
    return v.is_number() && v.get_double().get(out) == simdjson::SUCCESS;
  };
  for (auto field : o) {
    const std::string_view key = field.key;
    const simdjson::dom::element v = field.value;
    if (key == "sensor") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS || s.empty()) return std::nullopt;
      r.sensor.assign(s);
      has_sensor = true;
    } else if (key == "seq") {
      // A non-negative integer that fits int64 (simdjson types larger ones as uint64).
      std::int64_t seq = 0;
      if (!v.is_int64() || v.get_int64().get(seq) != simdjson::SUCCESS || seq < 0) {
        return std::nullopt;
      }
      r.seq = seq;
      has_seq = true;
    } else if (key == "ts") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return std::nullopt;
      auto t = parse_time(s);
      if (!t) return std::nullopt;
      r.ts_ms = *t;
      has_ts = true;
    } else if (key == "in") {
      if (!number(v, r.in)) return std::nullopt;
      has_in_out = true;
    } else if (key == "out") {
      if (!number(v, r.out)) return std::nullopt;
      has_in_out = true;
    } else if (key == "count") {
      if (!number(v, r.count)) return std::nullopt;
      has_count = true;
    } else if (key == "density") {
      if (!number(v, r.density)) return std::nullopt;
      has_density = true;
    } else if (key == "kind") {
      if (v.get_string().get(kind) != simdjson::SUCCESS) return std::nullopt;
      has_kind = true;
    }
    // Other members are ignored, as parse_reading does.
  }
  const int kinds = (has_in_out ? 1 : 0) + (has_count ? 1 : 0) + (has_density ? 1 : 0);
  if (!has_sensor || !has_seq || !has_ts || kinds != 1) return std::nullopt;
  r.kind = has_count ? ReadingKind::count : has_density ? ReadingKind::density : ReadingKind::in_out;
  if (has_kind && kind != to_string(r.kind)) return std::nullopt;
  return r;
}

}  // namespace

std::optional<std::vector<Reading>> parse_telemetry_fast(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  // The body is not padded: the parser copies it into its own padded buffer.
  if (parser.parse(body.data(), body.size(), /*realloc_if_needed=*/true).get(doc) !=
      simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::array list;
  bool found = false;
  for (auto field : root) {
    if (field.key != "readings") continue;
    if (field.value.get_array().get(list) != simdjson::SUCCESS) return std::nullopt;
    found = true;  // a repeated "readings": the last wins, as in nlohmann::json
  }
  if (!found) return std::nullopt;
  std::vector<Reading> readings;
  readings.reserve(list.size());
  for (simdjson::dom::element e : list) {
    simdjson::dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
    auto r = fast_reading(o);
    if (!r) return std::nullopt;
    readings.push_back(std::move(*r));
  }
  return readings;
}

}  // namespace vigil::ops
