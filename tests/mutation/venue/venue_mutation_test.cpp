// SPDX-License-Identifier: Apache-2.0
// Feeds corrupted variants of the example venues to the loader: each must load or fail with
// clear errors, never crash (this suite also runs under AddressSanitizer + UBSan).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "venue/load.hpp"

namespace vigil::venue {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::vector<fs::path> example_venues() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(VIGIL_SOURCE_DIR) / "examples"))
    if (e.path().extension() == ".geojson") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every JSON value inside `j`, by pointer.
void collect(json& j, std::vector<json*>& out) {
  out.push_back(&j);
  if (j.is_structured())
    for (auto& child : j) collect(child, out);
}

// Structural mutations of a parsed document.
json mutate_structure(json doc, std::mt19937_64& rng) {
  std::vector<json*> nodes;
  collect(doc, nodes);
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits; ++e) {
    json& n = *nodes[rng() % nodes.size()];
    switch (rng() % 12) {
      case 0: n = nullptr; break;
      case 1: n = "text"; break;
      case 2: n = 1e308; break;
      case 3: n = -1e308; break;
      case 4: n = json::array(); break;
      case 5: n = json::object(); break;
      case 6: n = static_cast<double>(static_cast<std::int64_t>(rng() % 2000) - 1000); break;
      case 7:  // drop a member or element
        if (n.is_object() && !n.empty()) n.erase(n.begin());
        else if (n.is_array() && !n.empty()) n.erase(n.begin() + static_cast<long>(rng() % n.size()));
        break;
      case 8:  // duplicate an element (duplicate ids, repeated points)
        if (n.is_array() && !n.empty()) n.push_back(n[rng() % n.size()]);
        break;
      case 9:  // open a ring / shorten a line
        if (n.is_array() && n.size() > 1) n.erase(n.end() - 1);
        break;
      case 10: n = true; break;
      default:  // shuffle an array: rings become self-intersecting
        if (n.is_array() && n.size() > 2) {
          std::vector<json> v(n.begin(), n.end());
          std::shuffle(v.begin(), v.end(), rng);
          n = v;
        }
        break;
    }
    nodes.clear();
    collect(doc, nodes);
  }
  return doc;
}

// Byte-level mutations of the text: truncation, flipped bytes, NaN/huge literals.
std::string mutate_text(std::string s, std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: s.resize(rng() % s.size()); break;
    case 1:
      for (int k = 0; k < 8; ++k) s[rng() % s.size()] = static_cast<char>(rng() % 256);
      break;
    case 2: {
      const std::size_t at = s.find_first_of("0123456789", rng() % s.size());
      if (at != std::string::npos) s.replace(at, 1, rng() % 2 ? "NaN" : "1e999");
      break;
    }
    default: {
      const std::size_t at = rng() % s.size();
      s.insert(at, std::string(1 + rng() % 4, rng() % 3 ? '}' : '['));
      break;
    }
  }
  return s;
}

void expect_clear_result(const LoadResult& r, const std::string& what) {
  if (r.ok()) return;
  ASSERT_GT(r.error_count(), 0u) << what;
  for (const Issue& i : r.issues) {
    EXPECT_FALSE(i.message.empty()) << what;
    EXPECT_FALSE(i.location().empty()) << what;
  }
}

TEST(VenueMutation, ExamplesLoadCleanly) {
  const auto files = example_venues();
  ASSERT_GE(files.size(), 3u) << "the examples/ folder should hold the example venues";
  for (const fs::path& f : files) {
    const LoadResult r = load_venue_file(f);
    EXPECT_TRUE(r.ok()) << f;
    EXPECT_EQ(r.warning_count(), 0u) << f;
  }
}

TEST(VenueMutation, ThousandCorruptedVariantsNeverCrash) {
  const auto files = example_venues();
  ASSERT_FALSE(files.empty());
  std::mt19937_64 rng(20261125);
  int variants = 0, rejected = 0;
  constexpr int kPerFile = 400;
  for (const fs::path& f : files) {
    const std::string text = read(f);
    const json doc = json::parse(text);
    for (int k = 0; k < kPerFile; ++k) {
      const bool structural = k % 3 != 0;
      const std::string variant =
          structural ? mutate_structure(doc, rng).dump() : mutate_text(text, rng);
      const LoadResult r = load_venue(variant);
      expect_clear_result(r, f.filename().string() + " variant " + std::to_string(k));
      ++variants;
      rejected += r.ok() ? 0 : 1;
    }
  }
  EXPECT_GE(variants, 1000);
  // Most corruptions must be caught; a few (e.g. a changed name) are legitimately harmless.
  EXPECT_GT(rejected, variants / 2);
  std::printf("%d variants, %d rejected with errors, %d still valid\n", variants, rejected,
              variants - rejected);
}

}  // namespace
}  // namespace vigil::venue
