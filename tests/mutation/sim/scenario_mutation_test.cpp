// SPDX-License-Identifier: Apache-2.0
// Feeds corrupted variants of the example scenarios (examples/*-evacuation.json with their
// venues) to the scenario parser, and to place_population when one parses. Each must parse or
// fail with errors that say where and what: a JSON path into the document (or the parent of a
// missing key) and, when that path holds a number, string or boolean, the value itself. Nothing
// may crash or throw (this suite also runs under AddressSanitizer + UBSan).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/scenario.hpp"
#include "venue/load.hpp"

namespace vigil::sim {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using Rng = std::mt19937_64;

const fs::path kExamples = fs::path(VIGIL_SOURCE_DIR) / "examples";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t pick(Rng& rng, std::size_t n) {
  return n == 0 ? 0 : static_cast<std::size_t>(rng() % n);
}

json ring(double x0, double y0, double x1, double y1) {
  return json::array({{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}});
}

// One example scenario, made small (at most 3 people per entry, so that placing them is quick)
// and given every optional part (closed exit, hazard, polygon and agents entries, lognormal
// distribution, model parameter) so that mutations reach every branch of the parser.
struct Seed {
  std::string name;
  json doc;
  json venue;  // the venue file's JSON, for inline-venue variants
  std::vector<std::string> zones, exits, doors;
};

std::vector<Seed> seeds() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kExamples))
    if (e.path().filename().string().ends_with("-evacuation.json")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Seed> out;
  for (const fs::path& f : files) {
    Seed s;
    s.name = f.filename().string();
    s.doc = json::parse(read(f));
    s.venue = json::parse(read(kExamples / s.doc["venue"].get<std::string>()));
    const venue::LoadResult lr = venue::load_venue_json(s.venue);
    if (!lr.venue) continue;  // reported by ExamplesParseCleanly
    const venue::Venue& v = *lr.venue;
    for (const auto& z : v.zones) s.zones.push_back(z.id);
    for (const auto& x : v.exits) s.exits.push_back(x.id);
    for (const auto& d : v.doors) s.doors.push_back(d.id);
    for (json& e : s.doc["population"]) e["count"] = std::min(e["count"].get<int>(), 3);
    const venue::Zone& z = v.zones.back();
    const geom::Box b = geom::bounds(z.polygon);
    const geom::Vec2 c{(b.min.x + b.max.x) / 2, (b.min.y + b.max.y) / 2};
    json zone_ring = json::array();
    for (const geom::Vec2& p : z.polygon.outer) zone_ring.push_back({p.x, p.y});
    s.doc["population"].push_back({{"polygon", zone_ring}, {"level", z.level}, {"count", 2}});
    s.doc["hazards"] = json::array({{{"polygon", ring(c.x - 0.5, c.y - 0.5, c.x + 0.5, c.y + 0.5)},
                                     {"level", z.level},
                                     {"from_s", 30}}});
    if (!s.exits.empty()) s.doc["closed"] = json::array({s.exits.back()});
    s.doc["profile"]["premovement_s"] = {
        {"distribution", "lognormal"}, {"mean", 20}, {"sd", 10}, {"max", 120}};
    s.doc["model"]["time_gap_s"] = 1.0;
    // One person at a given position: the first one placed for this scenario.
    auto sc = parse_scenario(s.doc, kExamples);
    if (sc) {
      auto placed = place_population(*sc, 7);
      if (placed && !placed->empty()) {
        const AgentInit& a = placed->front();
        s.doc["population"].push_back(
            {{"agents", {{a.position.x, a.position.y}}}, {"level", a.level}});
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Paths: `population[2].zone` into a document.

struct Node {
  std::string path;
  json* value;
};

std::string key_path(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}

void collect(json& j, const std::string& path, std::vector<Node>& out) {
  out.push_back({path, &j});
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      collect(it.value(), key_path(path, it.key()), out);
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i)
      collect(j[i], path + "[" + std::to_string(i) + "]", out);
  }
}

// How much of `path` (from `pos`) exists below `j`: 2 all of it (the value in *found), 1 all but
// a last key missing from an existing object (a required key reported missing), 0 not even
// that. Keys may themselves hold '.' or '[', so every key that fits is tried.
int resolve(const json& j, const std::string& path, std::size_t pos, const json** found) {
  if (pos == path.size()) {
    *found = &j;
    return 2;
  }
  if (path[pos] == '[') {
    const std::size_t close = path.find(']', pos);
    if (!j.is_array() || close == std::string::npos || close == pos + 1) return 0;
    const std::string digits = path.substr(pos + 1, close - pos - 1);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return 0;
    const std::size_t i = std::stoul(digits);
    return i < j.size() ? resolve(j[i], path, close + 1, found) : 0;
  }
  if (pos > 0) {
    if (path[pos] != '.') return 0;
    ++pos;
  }
  if (!j.is_object()) return 0;
  int best = 0;
  for (auto it = j.begin(); it != j.end() && best < 2; ++it) {
    const std::string& k = it.key();
    if (path.compare(pos, k.size(), k) != 0) continue;
    const std::size_t after = pos + k.size();
    if (after < path.size() && path[after] != '.' && path[after] != '[') continue;
    best = std::max(best, resolve(it.value(), path, after, found));
  }
  // A missing last key: the rest of the path is one plain key.
  if (best == 0 && path.find_first_of(".[", pos) == std::string::npos &&
      !j.contains(path.substr(pos)))
    best = 1;
  return best;
}

// How a message shows a scalar value: its JSON text (NaN and infinities by name), or for a
// string also its raw text; the first 20 bytes, as long values are shortened.
std::vector<std::string> renderings(const json& v) {
  auto head = [](std::string s) {
    if (s.size() > 20) {
      std::size_t cut = 20;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
      s.resize(cut);
    }
    return s;
  };
  if (v.is_number_float() && !std::isfinite(v.get<double>()))
    return {std::isnan(v.get<double>()) ? "NaN" : v.get<double>() > 0 ? "Infinity" : "-Infinity"};
  std::vector<std::string> out{head(v.dump(-1, ' ', false, json::error_handler_t::replace))};
  if (v.is_string()) out.push_back(head(v.get<std::string>()));
  return out;
}

struct Tally {
  int cases = 0, rejected = 0, placed = 0, invalid_json = 0;
};

// The errors of one variant: each located in `doc` (the variant as parsed; null when its text is
// not JSON), each naming the scalar value at its location.
void expect_located(const Errors& errs, const json* doc, const std::string& what) {
  ASSERT_FALSE(errs.empty()) << what;
  for (const Error& e : errs) {
    const std::string text = what + "\n  error: " + e.to_string();
    EXPECT_FALSE(e.message.empty()) << text;
    if (e.where.empty()) {
      // Only the whole document may be concerned: text that is not JSON at its top level, or
      // JSON that is not an object.
      EXPECT_TRUE(doc == nullptr || !doc->is_object()) << text;
      continue;
    }
    if (doc == nullptr) continue;  // invalid text: located by the parser's path, checked below
    const json* found = nullptr;
    const int depth = resolve(*doc, e.where, 0, &found);
    EXPECT_GT(depth, 0) << "the error's path is not in the document\n" << text;
    // An unknown key or model parameter is named by the path.
    if (depth != 2 || found->is_structured() || e.message.starts_with("unknown key") ||
        e.message.starts_with("unknown parameter"))
      continue;
    bool named = false;
    for (const std::string& r : renderings(*found))
      named = named || e.message.find(r) != std::string::npos;
    EXPECT_TRUE(named) << "the message does not name the value " << found->dump() << "\n" << text;
  }
}

// Runs one variant through the parser and, when it parses, place_population; never throws.
void run_variant(Tally& t, const json* doc, const std::string* text, const std::string& what,
                 const json* truncated_from) {
  ++t.cases;
  try {
    Expected<Scenario, Errors> sc =
        text ? parse_scenario_text(*text, kExamples) : parse_scenario(*doc, kExamples);
    if (!sc) {
      ++t.rejected;
      if (doc) {
        expect_located(sc.error(), doc, what);
      } else {
        // Text that is not JSON: one error, at the path where the parser stopped. For text cut
        // short, that path is in the original document, or is the next element of an array or
        // a key not yet read (the parent is).
        ++t.invalid_json;
        ASSERT_EQ(sc.error().size(), 1u) << what;
        const Error& e = sc.error()[0];
        EXPECT_TRUE(e.message.starts_with("invalid JSON") || e.message.starts_with("nested deeper"))
            << what << "\n  error: " << e.to_string();
        if (truncated_from && !e.where.empty()) {
          const json* found = nullptr;
          std::string parent = e.where;
          if (parent.back() == ']') parent.erase(parent.rfind('['));
          EXPECT_TRUE(resolve(*truncated_from, e.where, 0, &found) > 0 ||
                      resolve(*truncated_from, parent, 0, &found) == 2)
              << what << "\n  error: " << e.to_string();
        }
      }
      return;
    }
    auto placed = place_population(*sc, sc->seed + 1);
    if (!placed) {
      expect_located(placed.error(), doc, what + " (placement, seed + 1)");
      return;
    }
    ++t.placed;
    std::size_t asked = 0;
    for (const PopulationEntry& e : sc->population) asked += static_cast<std::size_t>(e.count);
    EXPECT_EQ(placed->size(), asked) << what;
    for (const AgentInit& a : *placed) {
      EXPECT_TRUE(std::isfinite(a.position.x) && std::isfinite(a.position.y)) << what;
      EXPECT_TRUE(sc->venue->find_level(a.level)) << what;
      EXPECT_GT(a.speed_m_s, 0) << what;
    }
  } catch (const std::exception& ex) {
    ADD_FAILURE() << what << "\n  threw: " << ex.what();
  } catch (...) {
    ADD_FAILURE() << what << "\n  threw a non-standard exception";
  }
}

// ---------------------------------------------------------------------------------------------
// Mutations

// A value to put somewhere it does not belong.
json bad_value(Rng& rng) {
  switch (rng() % 22) {
    case 0:
      return nullptr;
    case 1:
      return "text";
    case 2:
      return 1e308;
    case 3:
      return -1e308;
    case 4:
      return json::array();
    case 5:
      return json::object();
    case 6:
      return static_cast<std::int64_t>(rng() % 2001) - 1000;
    case 7:
      return true;
    case 8:
      return std::numeric_limits<double>::quiet_NaN();  // parse_scenario only; text: null
    case 9:
      return std::numeric_limits<double>::infinity();
    case 10:
      return std::numeric_limits<std::uint64_t>::max();
    case 11:
      return std::numeric_limits<std::int64_t>::min();
    case 12:
      return -1;
    case 13:
      return 0;
    case 14:
      return 0.5;
    case 15:
      return 1e-300;
    case 16:
      return std::string(100000, 'x');
    case 17:
      return "\"quoted\"\n\t\u00e9\u2026";
    case 18:
      return "";
    case 19:
      return json::array({1, 2});
    case 20:
      return json::array({json::array({0, 0}), json::array({1, 1})});
    default: {  // deep nesting
      json v = 1;
      for (int k = 0; k < 200; ++k) v = json::array({std::move(v)});
      return v;
    }
  }
}

// A shape that is not a valid ring, or one out of place.
json bad_polygon(Rng& rng) {
  switch (rng() % 10) {
    case 0:
      return json::array({{0, 0}, {4, 4}, {4, 0}, {0, 4}, {0, 0}});  // bow tie
    case 1:
      return json::array({{0, 0}, {1, 1}, {2, 2}, {0, 0}});  // no area
    case 2:
      return json::array({{0, 0}, {1, 1}});
    case 3:
      return json::array({{0, 0}, {1e300, 0}, {1e300, 1e300}, {0, 0}});
    case 4:
      return ring(-1e6, -1e6, 1e6, 1e6);  // far larger than the venue
    case 5:
      return ring(5e5, 5e5, 5e5 + 10, 5e5 + 10);  // far outside it
    case 6:
      return json::array({{0, 0}, {1, "x"}, {1, 1}});
    case 7:
      return json::array({{0, 0, 0}, {1, 0, 0}, {1, 1, 0}});
    case 8:
      return ring(0, 0, 1e-9, 1e-9);
    default:
      return json::array({{0, 0}, {0, 0}, {0, 0}, {0, 0}});
  }
}

// Sets the value at `path` (an existing node or a new key of an existing object).
void set_at(json& doc, std::vector<std::string>& sites, const std::string& path, json value) {
  std::vector<Node> nodes;
  collect(doc, "", nodes);
  for (Node& n : nodes) {
    if (n.path == path) {
      *n.value = std::move(value);
      sites.push_back(path);
      return;
    }
  }
  const std::size_t dot = path.rfind('.');
  const std::string parent = dot == std::string::npos ? "" : path.substr(0, dot);
  for (Node& n : nodes) {
    if (n.path == parent && n.value->is_object()) {
      (*n.value)[path.substr(dot == std::string::npos ? 0 : dot + 1)] = std::move(value);
      sites.push_back(path);
      return;
    }
  }
}

// One edit that knows the format: unknown ids, impossible counts, bad shapes and the like.
void targeted_edit(json& doc, const Seed& s, Rng& rng, std::vector<std::string>& sites) {
  if (!doc.is_object() || doc.empty()) return;
  // Appends to the array at `key` if there is one.
  auto append = [&](const char* key, json value) {
    if (doc.contains(key) && doc[key].is_array()) {
      doc[key].push_back(std::move(value));
      sites.push_back(key);
    }
  };
  const std::size_t npop =
      doc.contains("population") && doc["population"].is_array() ? doc["population"].size() : 0;
  const std::string pe =
      "population[" + std::to_string(pick(rng, std::max<std::size_t>(npop, 1))) + "]";
  const std::string other_zone = s.zones.empty() ? "floor" : s.zones[pick(rng, s.zones.size())];
  switch (rng() % 40) {
    case 0:
      set_at(doc, sites, pe + ".zone", "flor");
      break;
    case 1:
      set_at(doc, sites, pe + ".zone", other_zone + " ");
      break;
    case 2:
      set_at(doc, sites, pe + ".count", 10000000);
      break;
    case 3:
      set_at(doc, sites, pe + ".count", -5);
      break;
    case 4:
      set_at(doc, sites, pe + ".count", 2.5);
      break;
    case 5:
      set_at(doc, sites, pe + ".count", "3");
      break;
    case 6:
      set_at(doc, sites, pe + ".count", 100000);
      break;
    case 7:
      set_at(doc, sites, pe + ".density", 9.9);
      break;
    case 8:
      set_at(doc, sites, pe + ".level", static_cast<int>(rng() % 3) == 0 ? 99 : -1);
      break;
    case 9:
      set_at(doc, sites, pe + ".polygon", bad_polygon(rng));
      break;
    case 10:
      append("population", {{"polygon", bad_polygon(rng)}, {"level", 0}, {"count", 1 + rng() % 5}});
      break;
    case 11:
      append("population", {{"zone", other_zone}, {"count", 1}, {"polygon", ring(0, 0, 1, 1)}});
      break;
    case 12:
      append("population", {{"agents", {{1e7, 0}, {0, 0}, "x"}}, {"level", 0}});
      break;
    case 13:
      set_at(doc, sites, "closed", json::array({"E99"}));
      break;
    case 14:
      set_at(doc, sites, "closed", s.exits);
      break;  // every exit closed
    case 15:
      set_at(doc, sites, "closed", s.doors.empty() ? json::array({""}) : json(s.doors));
      break;
    case 16:
      set_at(doc, sites, "hazards[0].polygon", bad_polygon(rng));
      break;
    case 17:
      set_at(doc, sites, "hazards[0].from_s", -1);
      break;
    case 18: {
      json many = json::array();
      for (int k = 0; k < 65; ++k) many.push_back({{"polygon", ring(0, 0, 1, 1)}});
      set_at(doc, sites, "hazards", many);
      break;
    }
    case 19:
      set_at(doc, sites, "measure.lines[0].line", json::array({{1, 1}, {1, 1}}));
      break;
    case 20:  // a second line with the same id
      if (doc.contains("measure") && doc["measure"].is_object() &&
          doc["measure"].contains("lines") && doc["measure"]["lines"].is_array() &&
          !doc["measure"]["lines"].empty()) {
        json& lines = doc["measure"]["lines"];
        lines.push_back(lines[0]);
        sites.push_back("measure.lines");
      }
      break;
    case 21:
      set_at(doc, sites, "groups[0].share", rng() % 2 ? 1.5 : 0.0);
      break;
    case 22:
      append("groups", {{"name", "b"}, {"share", 0.99}});
      break;
    case 23:
      set_at(doc, sites, "profile.premovement_s.mean", 1e-300);
      break;
    case 24:
      set_at(doc, sites, "profile.speed_m_s",
             {{"distribution", "uniform"}, {"min", 2}, {"max", 1}});
      break;
    case 25:
      set_at(doc, sites, "profile.speed_m_s.distribution", rng() % 2 ? json("weibull") : json(3));
      break;
    case 26:
      set_at(doc, sites, "profile.radius_m", rng() % 2 ? 5.0 : 1.0);
      break;
    case 27:
      set_at(doc, sites, "profile.premovement_s.mu", 1);
      break;
    case 28:
      set_at(doc, sites, "venue", rng() % 2 ? "missing.geojson" : "");
      break;
    case 29:
      set_at(doc, sites, "venue", rng() % 2 ? "/dev/null" : ".");
      break;
    case 30:
      set_at(doc, sites, "model", rng() % 2 ? json("sfm") : json("bogus"));
      break;
    case 31:
      set_at(doc, sites, "model.bogus", 1);
      break;
    case 32:
      set_at(doc, sites, "model.name", 5);
      break;
    case 33:
      set_at(doc, sites, "seed",
             rng() % 2 ? json(-1) : json(std::numeric_limits<std::uint64_t>::max()));
      break;
    case 34:
      set_at(doc, sites, "runs", rng() % 2 ? 0 : 10001);
      break;
    case 35:
      set_at(doc, sites, "time_step_s", rng() % 2 ? 0.0 : 2.0);
      break;
    case 36:
      set_at(doc, sites, "vigil.version", 2);
      break;
    case 37:
      set_at(doc, sites, "routing", rng() % 2 ? json("fastest") : json(5));
      break;
    case 38: {  // a typo in a key
      std::vector<std::string> keys;
      for (auto it = doc.begin(); it != doc.end(); ++it) keys.push_back(it.key());
      const std::string k = keys[pick(rng, keys.size())];
      doc[k + "s"] = doc[k];
      doc.erase(k);
      sites.push_back(k);
      break;
    }
    default:
      set_at(doc, sites, "max_time_s", 1e7);
      break;
  }
}

// One edit anywhere (inside an inline venue only when `in_venue`): a node replaced, deleted,
// duplicated or shuffled.
void random_edit(json& doc, Rng& rng, bool in_venue, std::vector<std::string>& sites) {
  std::vector<Node> all, nodes;
  collect(doc, "", all);
  for (const Node& n : all)
    if (in_venue || !n.path.starts_with("venue.")) nodes.push_back(n);
  Node& n = nodes[pick(rng, nodes.size())];
  json& v = *n.value;
  switch (rng() % 6) {
    case 0:  // delete a member or element
      if (v.is_object() && !v.empty()) {
        auto it = v.begin();
        std::advance(it, static_cast<long>(pick(rng, v.size())));
        v.erase(it);
      } else if (v.is_array() && !v.empty()) {
        v.erase(v.begin() + static_cast<long>(pick(rng, v.size())));
      }
      break;
    case 1:  // duplicate an element (repeated ids and points)
      if (v.is_array() && !v.empty()) v.push_back(v[pick(rng, v.size())]);
      break;
    case 2:  // shuffle (rings become self-intersecting)
      if (v.is_array() && v.size() > 2) {
        std::vector<json> items(v.begin(), v.end());
        std::shuffle(items.begin(), items.end(), rng);
        v = items;
      }
      break;
    case 3:  // empty it
      if (v.is_structured()) v = v.is_array() ? json::array() : json::object();
      break;
    default:
      v = bad_value(rng);
      break;
  }
  sites.push_back(n.path);
}

// Byte-level corruption of the text; `truncated` says whether it was only cut short.
std::string mutate_text(std::string s, Rng& rng, bool& truncated) {
  const std::size_t kind = rng() % 7;
  truncated = kind == 0;
  switch (kind) {
    case 0:
      s.resize(pick(rng, s.size()));
      break;
    case 1:
      for (int k = 0; k < 6; ++k) s[pick(rng, s.size())] = static_cast<char>(rng() % 256);
      break;
    case 2: {
      const std::size_t at = s.find_first_of("0123456789", pick(rng, s.size()));
      static const char* const kNumbers[] = {"NaN",  "1e999", "-1e999", "Infinity",
                                             "0x10", "01",    "1.",     "-"};
      if (at != std::string::npos) s.replace(at, 1, kNumbers[pick(rng, 8)]);
      break;
    }
    case 3:
      s.insert(pick(rng, s.size()), std::string(1 + pick(rng, 4), rng() % 2 ? '}' : '['));
      break;
    case 4:
    case 5: {  // a member nested 100,000 or 70 deep
      const std::size_t at = s.find('{', pick(rng, s.size()));
      const std::size_t depth = rng() % 4 ? 70 : 100000;
      if (at != std::string::npos)
        s.insert(at + 1,
                 "\"deep\": " + std::string(depth, '[') + "1" + std::string(depth, ']') + ", ");
      break;
    }
    default:
      s.insert(pick(rng, s.size()), rng() % 2 ? "\xff\xfe" : "\"\\ud800\"");
      break;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------

TEST(ScenarioMutation, ExamplesParseCleanly) {
  const std::vector<Seed> all = seeds();
  ASSERT_GE(all.size(), 3u) << "examples/ should hold the example scenarios";
  for (const Seed& s : all) {
    auto sc = parse_scenario(s.doc, kExamples);
    std::string errs;
    if (!sc)
      for (const Error& e : sc.error()) errs += e.to_string() + "\n";
    ASSERT_TRUE(sc) << s.name << "\n" << errs;
    EXPECT_EQ(sc->population.size(), s.doc["population"].size()) << s.name;
    EXPECT_EQ(sc->hazards.size(), 1u) << s.name;
    // The unmodified files too, people and all.
    EXPECT_TRUE(load_scenario_file(kExamples / s.name)) << s.name;
  }
}

TEST(ScenarioMutation, ThousandCorruptedVariantsNeverCrash) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Seed> all = seeds();
  ASSERT_FALSE(all.empty());
  Rng rng(20261126);
  Tally t;
  // Loading the venue dominates the time of a variant (under ASan about 10 ms for the concert
  // hall, 40 ms for the school and the stadium), so the hall gets most of the variants.
  const std::map<std::string, int> per_seed{{"concert-hall-evacuation.json", 760},
                                            {"school-evacuation.json", 120},
                                            {"stadium-evacuation.json", 140}};
  for (const Seed& s : all) {
    const int n = per_seed.contains(s.name) ? per_seed.at(s.name) : 200;
    for (int k = 0; k < n; ++k) {
      const std::string what = s.name + " variant " + std::to_string(k);
      // Of 20 variants: 9 documents built in memory with the venue inline (how the HTTP API
      // parses a scenario; values JSON text cannot hold, such as NaN, included), one of them
      // with the venue itself mutated; 5 as text with the venue as a path; 6 corrupted text.
      const int route = k % 20 < 9 ? 0 : k % 20 < 14 ? 1 : 2;
      json doc = s.doc;
      const bool venue_mutated = k % 20 == 8;
      if (venue_mutated) doc["venue"] = s.venue;
      std::vector<std::string> sites;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits; ++e) {
        if (rng() % 2)
          targeted_edit(doc, s, rng, sites);
        else
          random_edit(doc, rng, venue_mutated, sites);
      }
      // Inlined after the edits, which then need not walk the venue's thousands of nodes.
      if (route == 0 && doc.is_object() && doc.contains("venue") && doc["venue"] == s.doc["venue"])
        doc["venue"] = s.venue;
      std::string where_mutated;
      for (const std::string& site : sites) where_mutated += " [" + site + "]";
      if (route == 0) {
        run_variant(t, &doc, nullptr, what + " (document)" + where_mutated, nullptr);
      } else if (route == 1) {
        const std::string text = doc.dump(-1, ' ', false, json::error_handler_t::replace);
        const json reparsed = json::parse(text);
        run_variant(t, &reparsed, &text, what + " (text)" + where_mutated, nullptr);
      } else {
        bool truncated = false;
        const std::string text = mutate_text(s.doc.dump(2), rng, truncated);
        const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
        run_variant(t, parsed.is_discarded() ? nullptr : &parsed, &text, what + " (corrupted text)",
                    truncated ? &s.doc : nullptr);
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(t.cases, 1000);
  // Most corruptions are caught; some (a changed count, a shuffled list) are harmless.
  EXPECT_GT(t.rejected, t.cases / 2);
  EXPECT_GT(t.placed, 20);
  std::printf(
      "%d variants: %d rejected with located errors (%d invalid JSON), %d parsed and placed; %.1f "
      "s\n",
      t.cases, t.rejected, t.invalid_json, t.placed, seconds);
}

}  // namespace
}  // namespace vigil::sim
