// SPDX-License-Identifier: Apache-2.0
// The fast telemetry parser (simdjson) takes every plainly valid body and never disagrees with
// the located-errors path (nlohmann::json + parse_telemetry): on valid bodies, on bodies with
// one problem each, and on thousands of byte-level mutations of valid ones.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "ops/reading.hpp"

namespace vigil::ops {
namespace {

using nlohmann::json;

// What the slow path makes of `body`: the readings, or nullopt for any problem.
std::optional<std::vector<Reading>> slow(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  auto r = parse_telemetry(j);
  if (!r) return std::nullopt;
  return *r;
}

bool same(const std::vector<Reading>& a, const std::vector<Reading>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const Reading& x = a[i];
    const Reading& y = b[i];
    if (x.sensor != y.sensor || x.seq != y.seq || x.ts_ms != y.ts_ms || x.kind != y.kind ||
        x.in != y.in || x.out != y.out || x.count != y.count || x.density != y.density) {
      return false;
    }
  }
  return true;
}

// The property: whatever the fast path accepts, the slow path accepts identically.
void expect_agree(const std::string& body) {
  const auto fast = parse_telemetry_fast(body);
  if (!fast) return;
  const auto reference = slow(body);
  ASSERT_TRUE(reference.has_value()) << "fast path accepted what the slow path refuses: " << body;
  EXPECT_TRUE(same(*fast, *reference)) << body;
}

const std::vector<std::string>& valid_bodies() {
  static const std::vector<std::string> bodies = {
      R"({"readings":[]})",
      R"({"readings":[{"sensor":"L1","seq":1041,"ts":"2026-11-26T20:00:00.250Z","in":3,"out":0}]})",
      R"({"readings":[{"sensor":"Z1","seq":77,"ts":"2026-11-26T20:00:00Z","count":512},
                      {"sensor":"C2","seq":12,"ts":"2026-11-26T21:00:00+01:00","density":2.1},
                      {"sensor":"L1","seq":0,"ts":"2026-11-26T20:00:01Z","in":1}]})",
      R"({"gateway":"north","readings":[{"kind":"count","sensor":"Z1","seq":9223372036854775807,
          "ts":"2026-11-26T20:00:00Z","count":0,"extra":{"fw":"1.2"}}]})",
      // Repeated members: the last one counts, in both parsers.
      R"({"readings":[{"sensor":"A","sensor":"B","seq":1,"seq":2,"ts":"2026-11-26T20:00:00Z","out":4}]})",
      R"({"readings":[],"readings":[{"sensor":"L1","seq":5,"ts":"2026-11-26T20:00:00Z","in":1e2}]})",
  };
  return bodies;
}

TEST(ReadingFast, TakesEveryPlainlyValidBodyWithTheSameReadings) {
  for (const std::string& body : valid_bodies()) {
    const auto fast = parse_telemetry_fast(body);
    ASSERT_TRUE(fast.has_value()) << body;
    const auto reference = slow(body);
    ASSERT_TRUE(reference.has_value()) << body;
    EXPECT_TRUE(same(*fast, *reference)) << body;
  }
  const auto repeated = parse_telemetry_fast(valid_bodies()[4]);
  ASSERT_TRUE(repeated);
  EXPECT_EQ((*repeated)[0].sensor, "B");
  EXPECT_EQ((*repeated)[0].seq, 2);
}

TEST(ReadingFast, LeavesEveryProblemToTheLocatingPath) {
  const std::vector<std::string> bad = {
      "",
      "[]",
      R"({"readings":{}})",
      R"({"data":[]})",
      R"({"readings":[1]})",
      R"({"readings":[{"seq":1,"ts":"2026-11-26T20:00:00Z","in":1}]})",
      R"({"readings":[{"sensor":"","seq":1,"ts":"2026-11-26T20:00:00Z","in":1}]})",
      R"({"readings":[{"sensor":"L1","seq":-1,"ts":"2026-11-26T20:00:00Z","in":1}]})",
      R"({"readings":[{"sensor":"L1","seq":1.5,"ts":"2026-11-26T20:00:00Z","in":1}]})",
      R"({"readings":[{"sensor":"L1","seq":18446744073709551615,"ts":"2026-11-26T20:00:00Z","in":1}]})",
      R"({"readings":[{"sensor":"L1","seq":1,"ts":"yesterday","in":1}]})",
      R"({"readings":[{"sensor":"L1","seq":1,"ts":"2026-11-26T20:00:00Z","in":"3"}]})",
      R"({"readings":[{"sensor":"L1","seq":1,"ts":"2026-11-26T20:00:00Z"}]})",
      R"({"readings":[{"sensor":"L1","seq":1,"ts":"2026-11-26T20:00:00Z","in":1,"count":3}]})",
      R"({"readings":[{"sensor":"L1","seq":1,"ts":"2026-11-26T20:00:00Z","in":1,"kind":"count"}]})",
      R"({"readings":[{"sensor":"L1","seq":1,"ts":"2026-11-26T20:00:00Z","in":1}])",
  };
  for (const std::string& body : bad) {
    EXPECT_FALSE(parse_telemetry_fast(body).has_value()) << body;
    EXPECT_FALSE(slow(body).has_value()) << body;
  }
}

TEST(ReadingFast, AgreesWithTheLocatingPathOnMutatedBodies) {
  std::mt19937 rng(20261126);
  const std::string alphabet = "{}[]\":,0123456789-+.eE tnrufalsZT\\x\x01\xff";
  int accepted = 0;
  int total = 0;
  for (const std::string& base : valid_bodies()) {
    for (int n = 0; n < 2000; ++n) {
      std::string body = base;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < edits && !body.empty(); ++k) {
        const std::size_t at = rng() % body.size();
        switch (rng() % 3) {
          case 0: body[at] = alphabet[rng() % alphabet.size()]; break;
          case 1: body.erase(at, 1); break;
          default: body.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        }
      }
      ++total;
      if (parse_telemetry_fast(body)) ++accepted;
      expect_agree(body);
      if (HasFailure()) return;
    }
  }
  // Some mutations stay valid (a digit for a digit); the check above covers those too.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, total);
}

}  // namespace
}  // namespace vigil::ops
