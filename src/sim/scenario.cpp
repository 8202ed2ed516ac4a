// SPDX-License-Identifier: Apache-2.0
#include "sim/scenario.hpp"


#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/text_position.hpp"
#include "geom/boolean.hpp"
#include "sim/model.hpp"
#include "sim/space.hpp"
#include "venue/load.hpp"

namespace vigil::sim {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Distributions

Distribution Distribution::constant(double v) {
  Distribution d;
  d.kind = Kind::constant;
  d.value = v;
  return d;
}

Distribution Distribution::normal(double mean, double sd, double min, double max) {
  Distribution d;
  d.kind = Kind::normal;
  d.mean = mean;
  d.sd = sd;
  d.min = min;
  d.max = max;
  return d;
}

Distribution Distribution::uniform(double min, double max) {
  Distribution d;
  d.kind = Kind::uniform;
  d.min = min;
  d.max = max;
  return d;
}

double Distribution::sample(Rng& rng) const {
  switch (kind) {
    case Kind::constant: return value;
    case Kind::uniform: return rng.uniform(min, max);
    case Kind::normal:
    case Kind::lognormal: {
      // Truncation by rejection; after many misses (a range far in a tail) fall back to the
      // range itself so that sampling always ends.
      for (int attempt = 0; attempt < 1000; ++attempt) {
        const double z = rng.normal();
        const double x = kind == Kind::normal ? mean + sd * z : std::exp(mu + sigma * z);
        if (x >= min && x <= max) return x;
      }
      return std::clamp(kind == Kind::normal ? mean : std::exp(mu), min, max);
    }
  }
  return value;
}

double Distribution::lowest() const { return kind == Kind::constant ? value : min; }
double Distribution::highest() const { return kind == Kind::constant ? value : max; }

// ---------------------------------------------------------------------------------------------
// Parsing helpers

namespace {

std::string join_path(const std::string& base, const std::string& key) {
  return base.empty() ? key : base + "." + key;
}
std::string index_path(const std::string& base, std::size_t i) {
  return base + "[" + std::to_string(i) + "]";
}
// Appends `v` as compact JSON, stopping once `out` is longer than `limit`: so a message never
// holds a whole venue, and a value nested 100,000 deep costs `limit` levels of recursion, not
// 100,000 (each level adds at least one character). NaN and infinities, which JSON cannot
// hold but a document built in memory can, are named (json::dump would write null).
void render(const json& v, std::string& out, std::size_t limit) {
  if (out.size() > limit) return;
  if (v.is_array() || v.is_object()) {
    out += v.is_array() ? '[' : '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end() && out.size() <= limit; ++it) {
      if (!first) out += ',';
      first = false;
      if (v.is_object()) {
        out += json(it.key()).dump(-1, ' ', false, json::error_handler_t::replace);
        out += ':';
      }
      render(it.value(), out, limit);
    }
    out += v.is_array() ? ']' : '}';
  } else if (v.is_number_float() && !std::isfinite(v.get<double>())) {
    out += std::isnan(v.get<double>()) ? "NaN" : v.get<double>() > 0 ? "Infinity" : "-Infinity";
  } else if (v.is_string() && v.get_ref<const std::string&>().size() > limit) {
    json head = v.get_ref<const std::string&>().substr(0, limit + 1);
    out += head.dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    out += v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

// The offending value for a message, cut to about 60 characters (on a UTF-8 boundary).
std::string show(const json& v) {
  constexpr std::size_t kLimit = 60;
  std::string out;
  render(v, out, kLimit);
  if (out.size() > kLimit + 3) {
    std::size_t cut = kLimit;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "\u2026";
  }
  return out;
}
std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

class Parser {
 public:
  explicit Parser(Errors& errs) : errs_(errs) {}

  void error(const std::string& where, const std::string& msg) { errs_.push_back({where, msg}); }

  // Reports keys of `obj` not in `known`.
  void check_keys(const json& obj, const std::string& path, std::initializer_list<const char*> known) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool ok = false;
      for (const char* k : known) ok = ok || it.key() == k;
      if (ok) continue;
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      error(join_path(path, it.key()), "unknown key (expected one of: " + list + ")");
    }
  }

  // A number in a range; `lo_open`/`hi_open` exclude the ends.
  std::optional<double> number(const json& v, const std::string& path, double lo, double hi,
                               bool lo_open = false, bool hi_open = false) {
    if (!v.is_number()) {
      error(path, "must be a number, got " + show(v));
      return std::nullopt;
    }
    const double x = v.get<double>();
    const bool below = lo_open ? !(x > lo) : !(x >= lo);
    const bool above = hi_open ? !(x < hi) : !(x <= hi);
    if (below || above || !std::isfinite(x)) {
      error(path, "must be in " + std::string(lo_open ? "(" : "[") + num(lo) + ", " + num(hi) +
                      (hi_open ? ")" : "]") + ", got " + show(v));
      return std::nullopt;
    }
    return x;
  }

  std::optional<long long> integer(const json& v, const std::string& path, long long lo, long long hi) {
    if (!v.is_number_integer()) {
      error(path, "must be an integer, got " + show(v));
      return std::nullopt;
    }
    // Unsigned above `hi` is out of range as it stands (hi + 1 would overflow for the seed,
    // whose hi is the largest long long).
    const bool too_large =
        v.is_number_unsigned() && v.get<unsigned long long>() > static_cast<unsigned long long>(hi);
    const long long x = too_large ? hi : v.get<long long>();
    if (too_large || x < lo || x > hi) {
      error(path, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                      "], got " + show(v));
      return std::nullopt;
    }
    return x;
  }

  std::optional<std::string> string(const json& v, const std::string& path) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      error(path, "must be a non-empty string, got " + show(v));
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  // A point [x, y] in local metres, |x| and |y| at most 1e6 as in a venue (larger is a unit
  // mistake, and areas of such coordinates overflow).
  std::optional<geom::Vec2> point(const json& v, const std::string& path) {
    constexpr double kMaxCoordinate_m = 1e6;
    auto coordinate = [&](const json& c) {
      return c.is_number() && std::isfinite(c.get<double>()) &&
             std::abs(c.get<double>()) <= kMaxCoordinate_m;
    };
    if (!v.is_array() || v.size() != 2 || !coordinate(v[0]) || !coordinate(v[1])) {
      error(path, "must be a point [x, y] in metres, |x| and |y| at most 1e6, got " + show(v));
      return std::nullopt;
    }
    return geom::Vec2{v[0].get<double>(), v[1].get<double>()};
  }

  // A ring [[x,y], ...] (closed or not), at least 3 distinct points, not self-intersecting.
  std::optional<geom::Polygon> polygon(const json& v, const std::string& path) {
    if (!v.is_array() || v.size() < 3) {
      error(path, "must be a ring of at least 3 points [[x, y], ...], got " + show(v));
      return std::nullopt;
    }
    geom::Polygon poly;
    bool ok = true;
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto p = point(v[i], index_path(path, i));
      if (!p) ok = false; else poly.outer.push_back(*p);
    }
    if (!ok) return std::nullopt;
    if (poly.outer.size() > 1 && poly.outer.front() == poly.outer.back()) poly.outer.pop_back();
    if (poly.outer.size() < 3 || geom::area(poly) <= 0) {
      error(path, "must enclose an area (at least 3 distinct points)");
      return std::nullopt;
    }
    if (auto si = geom::find_self_intersection(poly.outer)) {
      error(path, "ring intersects itself (edges " + std::to_string(si->first) + " and " +
                      std::to_string(si->second) + ")");
      return std::nullopt;
    }
    return poly;
  }

  std::optional<Distribution> distribution(const json& v, const std::string& path, double lo,
                                           double hi, bool lo_open) {
    if (v.is_number()) {
      auto x = number(v, path, lo, hi, lo_open);
      if (!x) return std::nullopt;
      return Distribution::constant(*x);
    }
    if (!v.is_object()) {
      error(path, "must be a number or a distribution object, got " + show(v));
      return std::nullopt;
    }
    if (!v.contains("distribution")) {
      error(path, "needs \"distribution\": normal, uniform, lognormal or constant");
      return std::nullopt;
    }
    const json& kind = v["distribution"];
    const std::string kpath = join_path(path, "distribution");
    const std::string k = kind.is_string() ? kind.get<std::string>() : "";
    auto field = [&](const char* key, double flo, double fhi, bool flo_open) -> std::optional<double> {
      if (!v.contains(key)) {
        error(path, k + " distribution needs \"" + key + "\"");
        return std::nullopt;
      }
      return number(v[key], join_path(path, key), flo, fhi, flo_open);
    };
    Distribution d;
    const std::size_t before = errs_.size();
    if (k == "constant") {
      check_keys(v, path, {"distribution", "value"});
      auto x = field("value", lo, hi, lo_open);
      if (!x) return std::nullopt;
      return Distribution::constant(*x);
    } else if (k == "uniform") {
      check_keys(v, path, {"distribution", "min", "max"});
      auto a = field("min", lo, hi, lo_open);
      auto b = field("max", lo, hi, lo_open);
      if (!a || !b) return std::nullopt;
      d = Distribution::uniform(*a, *b);
    } else if (k == "normal") {
      check_keys(v, path, {"distribution", "mean", "sd", "min", "max"});
      auto m = field("mean", -1e9, 1e9, false);
      auto s = field("sd", 0, 1e9, false);
      auto a = field("min", lo, hi, lo_open);
      auto b = field("max", lo, hi, lo_open);
      if (!m || !s || !a || !b) return std::nullopt;
      d = Distribution::normal(*m, *s, *a, *b);
    } else if (k == "lognormal") {
      check_keys(v, path, {"distribution", "mu", "sigma", "mean", "sd", "min", "max"});
      const bool log_params = v.contains("mu") || v.contains("sigma");
      const bool lin_params = v.contains("mean") || v.contains("sd");
      if (log_params == lin_params) {
        error(path, "lognormal distribution needs either \"mu\" and \"sigma\" (of the logarithm) "
                    "or \"mean\" and \"sd\" (of the value)");
        return std::nullopt;
      }
      d.kind = Distribution::Kind::lognormal;
      if (log_params) {
        auto mu = field("mu", -100, 100, false);
        auto sg = field("sigma", 0, 10, false);
        if (!mu || !sg) return std::nullopt;
        d.mu = *mu;
        d.sigma = *sg;
      } else {
        auto m = field("mean", 0, 1e9, true);
        auto s = field("sd", 0, 1e9, false);
        if (!m || !s) return std::nullopt;
        d.sigma = std::sqrt(std::log(1 + (*s * *s) / (*m * *m)));
        d.mu = std::log(*m) - d.sigma * d.sigma / 2;
        if (!std::isfinite(d.mu) || !(d.sigma <= 10)) {
          error(path, "lognormal distribution with mean " + num(*m) + " and sd " + num(*s) +
                          " has a logarithm out of range (sigma " + num(d.sigma) + ", at most 10)");
          return std::nullopt;
        }
      }
      d.min = std::max(lo, 0.0);
      if (v.contains("min")) {
        auto a = number(v["min"], join_path(path, "min"), lo, hi, lo_open);
        if (!a) return std::nullopt;
        d.min = *a;
      }
      if (!v.contains("max")) {
        error(path, "lognormal distribution needs \"max\" (it is truncated to [min, max])");
        return std::nullopt;
      }
      auto b = number(v["max"], join_path(path, "max"), lo, hi, lo_open);
      if (!b) return std::nullopt;
      d.max = *b;
    } else {
      error(kpath, "must be one of normal, uniform, lognormal, constant, got " + show(kind));
      return std::nullopt;
    }
    if (errs_.size() != before) return std::nullopt;
    if (d.min > d.max) {
      error(path, "min " + num(d.min) + " is greater than max " + num(d.max));
      return std::nullopt;
    }
    return d;
  }

 private:
  Errors& errs_;
};

struct FigureRange {
  const char* key;
  double lo;
  double hi;
  bool lo_open;
};
constexpr FigureRange kSpeed{"speed_m_s", 0, 10, true};
constexpr FigureRange kPremovement{"premovement_s", 0, 86400, false};
constexpr FigureRange kRadius{"radius_m", 0.05, 1.0, false};

void parse_profile_fields(Parser& ps, const json& obj, const std::string& path, Profile& prof) {
  for (const FigureRange& f : {kSpeed, kPremovement, kRadius}) {
    if (!obj.contains(f.key)) continue;
    auto d = ps.distribution(obj[f.key], join_path(path, f.key), f.lo, f.hi, f.lo_open);
    if (!d) continue;
    if (std::string(f.key) == kSpeed.key) prof.speed_m_s = *d;
    else if (std::string(f.key) == kPremovement.key) prof.premovement_s = *d;
    else prof.radius_m = *d;
  }
}

std::string level_list(const venue::Venue& v) {
  std::string s;
  for (const auto& [index, level] : v.levels) s += (s.empty() ? "" : ", ") + std::to_string(index);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// parse_scenario

Expected<Scenario, Errors> parse_scenario(const json& doc, const std::filesystem::path& base_dir) {
  Errors errs;
  Parser ps(errs);
  Scenario sc;
  if (!doc.is_object()) {
    errs.push_back({"", "a scenario must be a JSON object"});
    return unexpected(std::move(errs));
  }
  ps.check_keys(doc, "", {"vigil", "name", "description", "venue", "seed", "runs", "model",
                          "time_step_s", "max_time_s", "population", "profile", "groups",
                          "closed", "hazards", "routing", "measure"});

  if (doc.contains("vigil")) {
    const json& h = doc["vigil"];
    if (!h.is_object()) {
      ps.error("vigil", "must be an object {\"format\": \"scenario\", \"version\": 1}, got " + show(h));
    } else {
      ps.check_keys(h, "vigil", {"format", "version"});
      if (h.contains("format") && h["format"] != "scenario")
        ps.error("vigil.format", "must be \"scenario\", got " + show(h["format"]));
      if (h.contains("version") && h["version"] != 1)
        ps.error("vigil.version", "this vigil reads version 1, got " + show(h["version"]));
    }
  }

  // Venue.
  if (!doc.contains("venue")) {
    ps.error("venue", "missing: a venue file path or an inline venue object");
  } else {
    const json& v = doc["venue"];
    venue::LoadResult lr;
    bool tried = true;
    if (v.is_string()) {
      const std::filesystem::path p = base_dir / v.get<std::string>();
      sc.venue_source = v.get<std::string>();
      lr = venue::load_venue_file(p);
    } else if (v.is_object()) {
      sc.venue_source = "inline";
      lr = venue::load_venue_json(v);
    } else {
      ps.error("venue", "must be a file path or a venue object, got " + show(v));
      tried = false;
    }
    if (tried) {
      for (const venue::Issue& issue : lr.issues) {
        const std::string text = sc.venue_source + ": " + issue.to_string();
        if (issue.severity == venue::Severity::error) ps.error("venue", text);
        else sc.warnings.push_back("venue: " + text);
      }
      if (lr.venue) {
        sc.venue = std::make_shared<const venue::Venue>(std::move(*lr.venue));
      } else if (lr.issues.empty()) {
        ps.error("venue", sc.venue_source + ": could not be loaded");
      }
    }
  }
  const venue::Venue* venue = sc.venue.get();
  auto check_level = [&](const json& obj, const std::string& path) -> std::optional<int> {
    int level = 0;
    if (obj.contains("level")) {
      auto l = ps.integer(obj["level"], join_path(path, "level"), -1000, 1000);
      if (!l) return std::nullopt;
      level = static_cast<int>(*l);
    }
    if (venue && !venue->find_level(level)) {
      ps.error(join_path(path, "level"), "unknown level " + std::to_string(level) + " (the venue has " +
                                             level_list(*venue) + ")");
      return std::nullopt;
    }
    return level;
  };

  if (doc.contains("seed")) {
    auto s = ps.integer(doc["seed"], "seed", 0, std::numeric_limits<long long>::max());
    if (s) sc.seed = static_cast<std::uint64_t>(*s);
  }
  if (doc.contains("runs")) {
    auto r = ps.integer(doc["runs"], "runs", 1, 10000);
    if (r) sc.runs = static_cast<int>(*r);
  }

  // Model.
  if (doc.contains("model")) {
    const json& m = doc["model"];
    if (m.is_string()) {
      sc.model.name = m.get<std::string>();
    } else if (m.is_object()) {
      if (!m.contains("name")) ps.error("model", "needs \"name\" (cfsm or sfm)");
      else if (!m["name"].is_string()) ps.error("model.name", "must be a string, got " + show(m["name"]));
      else sc.model.name = m["name"].get<std::string>();
    } else {
      ps.error("model", "must be an object {\"name\": \"cfsm\", ...}, got " + show(m));
    }
    const ModelInfo* info = find_model(sc.model.name);
    if (!info) {
      std::string names;
      for (const ModelInfo& mi : model_registry()) names += (names.empty() ? "" : ", ") + std::string(mi.name);
      ps.error(m.is_object() ? "model.name" : "model",
               "unknown model " + show(json(sc.model.name)) + " (known: " + names + ")");
    } else if (m.is_object()) {
      for (auto it = m.begin(); it != m.end(); ++it) {
        if (it.key() == "name") continue;
        const ParamSpec* spec = nullptr;
        for (const ParamSpec& p : info->params) if (p.key == it.key()) spec = &p;
        const std::string path = "model." + it.key();
        if (!spec) {
          std::string keys;
          for (const ParamSpec& p : info->params) keys += (keys.empty() ? "" : ", ") + std::string(p.key);
          ps.error(path, "unknown parameter of " + sc.model.name + " (known: " + keys + ")");
          continue;
        }
        auto x = ps.number(it.value(), path, spec->min, spec->max);
        if (x) sc.model.params[it.key()] = *x;
      }
    }
  }
  if (const ModelInfo* info = find_model(sc.model.name)) {
    for (const ParamSpec& p : info->params)
      sc.model.params.emplace(std::string(p.key), p.default_value);  // keeps given values
  }
  sc.time_step_s = sc.model.name == "sfm" ? 0.01 : 0.05;
  if (doc.contains("time_step_s")) {
    auto x = ps.number(doc["time_step_s"], "time_step_s", 0, 1, true, false);
    if (x) sc.time_step_s = *x;
  }
  if (doc.contains("max_time_s")) {
    auto x = ps.number(doc["max_time_s"], "max_time_s", 0, 1e6, true, false);
    if (x) sc.max_time_s = *x;
  }
  if (doc.contains("routing")) {
    const json& r = doc["routing"];
    if (r == "nearest") sc.routing = Routing::nearest;
    else if (r == "quickest") sc.routing = Routing::quickest;
    else ps.error("routing", "must be \"nearest\" or \"quickest\", got " + show(r));
  }

  // Closed exits and doors.
  if (doc.contains("closed")) {
    const json& c = doc["closed"];
    if (!c.is_array()) {
      ps.error("closed", "must be an array of exit and door ids, got " + show(c));
    } else {
      for (std::size_t i = 0; i < c.size(); ++i) {
        const std::string path = index_path("closed", i);
        auto id = ps.string(c[i], path);
        if (!id) continue;
        if (venue && !venue->find_exit(*id) && !venue->find_door(*id)) {
          ps.error(path, "unknown exit or door " + show(c[i]));
          continue;
        }
        sc.closed.insert(*id);
      }
    }
  }

  // Profile and groups.
  if (doc.contains("profile")) {
    const json& p = doc["profile"];
    if (!p.is_object()) {
      ps.error("profile", "must be an object, got " + show(p));
    } else {
      ps.check_keys(p, "profile", {"speed_m_s", "premovement_s", "radius_m"});
      parse_profile_fields(ps, p, "profile", sc.profile);
    }
  }
  if (doc.contains("groups")) {
    const json& g = doc["groups"];
    if (!g.is_array()) {
      ps.error("groups", "must be an array, got " + show(g));
    } else {
      double total = 0;
      for (std::size_t i = 0; i < g.size(); ++i) {
        const std::string path = index_path("groups", i);
        if (!g[i].is_object()) {
          ps.error(path, "must be an object, got " + show(g[i]));
          continue;
        }
        ps.check_keys(g[i], path, {"name", "share", "speed_m_s", "premovement_s", "radius_m"});
        Group grp;
        grp.profile = sc.profile;
        if (!g[i].contains("name")) ps.error(path, "needs \"name\"");
        else if (auto n = ps.string(g[i]["name"], join_path(path, "name"))) grp.name = *n;
        if (!g[i].contains("share")) {
          ps.error(path, "needs \"share\" (fraction of all people, in (0, 1])");
        } else if (auto s = ps.number(g[i]["share"], join_path(path, "share"), 0, 1, true)) {
          grp.share = *s;
          total += *s;
        }
        parse_profile_fields(ps, g[i], path, grp.profile);
        sc.groups.push_back(std::move(grp));
      }
      if (total > 1 + 1e-9) ps.error("groups", "shares add up to " + num(total) + ", must be at most 1");
    }
  }

  // Population.
  if (!doc.contains("population")) {
    ps.error("population", "missing: at least one population entry");
  } else if (!doc["population"].is_array() || doc["population"].empty()) {
    ps.error("population", "must be a non-empty array, got " + show(doc["population"]));
  } else {
    const json& pop = doc["population"];
    for (std::size_t i = 0; i < pop.size(); ++i) {
      const std::string path = index_path("population", i);
      const json& e = pop[i];
      if (!e.is_object()) {
        ps.error(path, "must be an object, got " + show(e));
        continue;
      }
      PopulationEntry entry;
      entry.path = path;
      const int kinds = static_cast<int>(e.contains("zone")) + static_cast<int>(e.contains("polygon")) +
                        static_cast<int>(e.contains("agents"));
      if (kinds != 1) {
        ps.error(path, kinds == 0 ? "needs one of \"zone\", \"polygon\" or \"agents\""
                                  : "has more than one of \"zone\", \"polygon\" and \"agents\"");
        continue;
      }
      double area_m2 = 0;
      bool ok = true;
      // An exit for these people (RiMEA 10's assigned exits), instead of the routing's choice.
      if (e.contains("exit")) {
        const std::string epath = join_path(path, "exit");
        auto id = ps.string(e["exit"], epath);
        if (!id) {
          ok = false;
        } else if (venue && std::none_of(venue->exits.begin(), venue->exits.end(),
                                         [&](const venue::Opening& x) { return x.id == *id; })) {
          ps.error(epath, "unknown exit " + show(e["exit"]));
          ok = false;
        } else if (sc.closed.count(*id)) {
          ps.error(epath, "exit " + show(e["exit"]) + " is closed (see \"closed\")");
          ok = false;
        } else {
          entry.exit = *id;
        }
      }
      if (e.contains("agents")) {
        entry.kind = PopulationEntry::Kind::agents;
        ps.check_keys(e, path, {"agents", "level", "exit"});
        auto level = check_level(e, path);
        const json& a = e["agents"];
        if (!a.is_array() || a.empty()) {
          ps.error(join_path(path, "agents"), "must be a non-empty array of [x, y], got " + show(a));
          continue;
        }
        if (!level) continue;
        entry.level = *level;
        for (std::size_t k = 0; k < a.size(); ++k) {
          const std::string apath = index_path(join_path(path, "agents"), k);
          auto p = ps.point(a[k], apath);
          if (!p) continue;
          if (venue && !geom::contains(venue->levels.at(entry.level).walkable, *p)) {
            ps.error(apath, show(a[k]) + " is not in the walkable space of level " + std::to_string(entry.level));
            continue;
          }
          entry.agents.push_back(*p);
        }
        entry.count = static_cast<int>(entry.agents.size());
        if (ok) sc.population.push_back(std::move(entry));
        continue;
      }
      if (e.contains("zone")) {
        entry.kind = PopulationEntry::Kind::zone;
        ps.check_keys(e, path, {"zone", "count", "density", "exit"});
        auto z = ps.string(e["zone"], join_path(path, "zone"));
        if (!z) {
          ok = false;
        } else if (venue) {
          const venue::Zone* zone = venue->find_zone(*z);
          if (!zone) {
            ps.error(join_path(path, "zone"), "unknown zone " + show(e["zone"]));
            ok = false;
          } else {
            entry.zone = *z;
            entry.level = zone->level;
            entry.polygon = zone->polygon;
            area_m2 = zone->area_m2;
          }
        }
      } else {
        entry.kind = PopulationEntry::Kind::polygon;
        ps.check_keys(e, path, {"polygon", "level", "count", "density", "exit"});
        auto poly = ps.polygon(e["polygon"], join_path(path, "polygon"));
        auto level = check_level(e, path);
        if (!poly || !level) {
          ok = false;
        } else {
          entry.polygon = *poly;
          entry.level = *level;
          if (venue)
            area_m2 = geom::area(geom::intersection({entry.polygon}, venue->levels.at(entry.level).walkable));
        }
      }
      const bool has_count = e.contains("count");
      const bool has_density = e.contains("density");
      if (has_count == has_density) {
        ps.error(path, has_count ? "has both \"count\" and \"density\"; give one"
                                 : "needs \"count\" (persons) or \"density\" (persons/m²)");
        continue;
      }
      if (has_count) {
        auto c = ps.integer(e["count"], join_path(path, "count"), 0, 10000000);
        if (!c) continue;
        entry.count = static_cast<int>(*c);
      } else {
        auto d = ps.number(e["density"], join_path(path, "density"), 0, 10, true);
        if (!d) continue;
        entry.count = static_cast<int>(std::llround(*d * area_m2));
      }
      if (ok) sc.population.push_back(std::move(entry));
    }
  }

  // Hazards.
  if (doc.contains("hazards")) {
    const json& h = doc["hazards"];
    if (!h.is_array()) {
      ps.error("hazards", "must be an array, got " + show(h));
    } else if (h.size() > 64) {
      ps.error("hazards", "at most 64 hazards, got " + std::to_string(h.size()));
    } else {
      for (std::size_t i = 0; i < h.size(); ++i) {
        const std::string path = index_path("hazards", i);
        if (!h[i].is_object()) {
          ps.error(path, "must be an object, got " + show(h[i]));
          continue;
        }
        ps.check_keys(h[i], path, {"polygon", "level", "from_s", "name"});
        ScenarioHazard hz;
        std::optional<geom::Polygon> poly;
        if (!h[i].contains("polygon")) ps.error(path, "needs \"polygon\"");
        else poly = ps.polygon(h[i]["polygon"], join_path(path, "polygon"));
        auto level = check_level(h[i], path);
        std::optional<double> from = 0.0;
        if (h[i].contains("from_s")) from = ps.number(h[i]["from_s"], join_path(path, "from_s"), 0, 1e6);
        if (!poly || !level || !from) continue;
        hz.polygon = *poly;
        hz.level = *level;
        hz.from_s = *from;
        sc.hazards.push_back(std::move(hz));
      }
    }
  }

  // Measurement lines.
  if (doc.contains("measure")) {
    const json& m = doc["measure"];
    if (!m.is_object()) {
      ps.error("measure", "must be an object {\"lines\": [...]}, got " + show(m));
    } else {
      ps.check_keys(m, "measure", {"lines"});
      if (m.contains("lines")) {
        const json& ls = m["lines"];
        if (!ls.is_array()) ps.error("measure.lines", "must be an array, got " + show(ls));
        for (std::size_t i = 0; ls.is_array() && i < ls.size(); ++i) {
          const std::string path = index_path("measure.lines", i);
          if (!ls[i].is_object()) {
            ps.error(path, "must be an object, got " + show(ls[i]));
            continue;
          }
          ps.check_keys(ls[i], path, {"id", "level", "line"});
          MeasureLine line;
          std::optional<std::string> id;
          if (!ls[i].contains("id")) ps.error(path, "needs \"id\"");
          else id = ps.string(ls[i]["id"], join_path(path, "id"));
          if (id) {
            for (const MeasureLine& other : sc.lines)
              if (other.id == *id) {
                ps.error(join_path(path, "id"), "duplicate line id " + show(ls[i]["id"]));
                id.reset();
                break;
              }
          }
          auto level = check_level(ls[i], path);
          geom::Segment seg;
          bool seg_ok = false;
          const std::string lpath = join_path(path, "line");
          if (!ls[i].contains("line")) {
            ps.error(path, "needs \"line\": [[x, y], [x, y]]");
          } else if (!ls[i]["line"].is_array() || ls[i]["line"].size() != 2) {
            ps.error(lpath, "must be two points [[x, y], [x, y]], got " + show(ls[i]["line"]));
          } else {
            auto a = ps.point(ls[i]["line"][0], index_path(lpath, 0));
            auto b = ps.point(ls[i]["line"][1], index_path(lpath, 1));
            if (a && b) {
              seg = {*a, *b};
              seg_ok = seg.length() >= 1e-6;
              if (!seg_ok) ps.error(lpath, "the two points are the same");
            }
          }
          if (!id || !level || !seg_ok) continue;
          line.id = *id;
          line.level = *level;
          line.line = seg;
          sc.lines.push_back(std::move(line));
        }
      }
    }
  }

  if (!errs.empty()) return unexpected(std::move(errs));

  // The placement must work: checked for the first seed.
  auto placed = place_population(sc, sc.seed);
  if (!placed) return unexpected(std::move(placed).error());
  return sc;
}

namespace {

constexpr int kMaxJsonDepth = 64;  // a scenario nests 6 deep, an inline venue about 8

// The JSON path the parser is at, from its events, so that invalid JSON is reported where it
// is (`population[3].count`) and not only by line and column.
class PathTracker {
 public:
  bool on(int depth, json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth > kMaxJsonDepth && too_deep_at_.empty()) too_deep_at_ = path();
        frames_.push_back({event == json::parse_event_t::array_start, {}, 0});
        break;
      case json::parse_event_t::key:
        if (!frames_.empty())
          frames_.back().key = parsed.is_string() ? parsed.get<std::string>() : "";
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        next();
        break;
      case json::parse_event_t::value:
        next();
        break;
    }
    return true;  // keep everything: discarding would stop the end events that pop frames
  }

  // The value being parsed: the current element of each open array, the current key of each
  // open object.
  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) {
      if (f.array)
        p = index_path(p, f.index);
      else if (!f.key.empty())
        p = join_path(p, f.key);
      else
        break;  // before the object's first key
    }
    return p;
  }
  // Where the document first nests deeper than kMaxJsonDepth, or empty.
  const std::string& too_deep_at() const { return too_deep_at_; }

 private:
  struct Frame {
    bool array;
    std::string key;
    std::size_t index;
  };
  void next() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  std::vector<Frame> frames_;
  std::string too_deep_at_;
};

// nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: msg" -> "msg".
std::string exception_text(const json::exception& e) {
  std::string what = e.what();
  if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
  if (what.rfind("parse error", 0) == 0) {
    if (auto p = what.find(": "); p != std::string::npos) what = what.substr(p + 2);
  }
  return what;
}

}  // namespace

Expected<Scenario, Errors> parse_scenario_text(std::string_view json_text,
                                               const std::filesystem::path& base_dir) {
  json doc;
  PathTracker tracker;
  try {
    doc = json::parse(json_text.begin(), json_text.end(),
                      [&](int depth, json::parse_event_t event, json& parsed) {
                        return tracker.on(depth, event, parsed);
                      });
  } catch (const json::parse_error& e) {
    const auto [line, column] = line_column(json_text, e.byte > 0 ? e.byte - 1 : 0);
    return unexpected(
        Errors{{tracker.path(), "invalid JSON at line " + std::to_string(line) + ", column " +
                                    std::to_string(column) + ": " + exception_text(e)}});
  } catch (const json::exception& e) {
    // e.g. out_of_range.406 "number overflow parsing '1e999'", which carries no position.
    return unexpected(Errors{{tracker.path(), "invalid JSON: " + exception_text(e)}});
  }
  if (!tracker.too_deep_at().empty())
    return unexpected(Errors{{tracker.too_deep_at(),
                              "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"}});
  return parse_scenario(doc, base_dir);
}

Expected<Scenario, Errors> load_scenario_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(Errors{{"", "cannot read " + path.string()}});
  std::ostringstream ss;
  ss << in.rdbuf();
  auto sc = parse_scenario_text(ss.str(), path.parent_path());
  if (sc) sc->file = path;
  return sc;
}

// ---------------------------------------------------------------------------------------------
// Placement

namespace {

// Placed people in a hash grid, for the no-overlap test.
class PlacedIndex {
 public:
  explicit PlacedIndex(double cell) : cell_(cell) {}

  void add(int level, geom::Vec2 p, double r) {
    cells_[key(level, cx(p.x), cy(p.y))].push_back({p, r});
  }
  bool free(int level, geom::Vec2 p, double r) const {
    const long long i = cx(p.x);
    const long long j = cy(p.y);
    for (long long dj = -1; dj <= 1; ++dj) {
      for (long long di = -1; di <= 1; ++di) {
        auto it = cells_.find(key(level, i + di, j + dj));
        if (it == cells_.end()) continue;
        for (const auto& [q, rq] : it->second)
          if (geom::distance(p, q) < std::max(r + rq, 0.4)) return false;
      }
    }
    return true;
  }

 private:
  long long cx(double x) const { return static_cast<long long>(std::floor(x / cell_)); }
  long long cy(double y) const { return static_cast<long long>(std::floor(y / cell_)); }
  static std::uint64_t key(int level, long long i, long long j) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(level)) << 48) ^
           (static_cast<std::uint64_t>(i & 0xFFFFFF) << 24) ^ static_cast<std::uint64_t>(j & 0xFFFFFF);
  }
  double cell_;
  std::unordered_map<std::uint64_t, std::vector<std::pair<geom::Vec2, double>>> cells_;
};

}  // namespace

Expected<std::vector<AgentInit>, Errors> place_population(const Scenario& sc, std::uint64_t seed) {
  Errors errs;
  const venue::Venue& venue = *sc.venue;
  const Space space = Space::build(venue, sc.closed);
  Rng profile_rng(mix_seed(seed, 1));
  Rng place_rng(mix_seed(seed, 2));

  // Where the people of each entry may go: its polygon's bounds, clipped to the bounds of its
  // level's walkable space (a polygon may reach far beyond the venue). And how many are placed:
  // a count that cannot possibly fit is cut to one more than could (n people at least 0.4 m
  // apart are n disjoint discs of diameter 0.4 m in the box grown by 0.2 m), so that asking for
  // ten million costs no more than asking for slightly too many; the error names the count
  // asked for.
  constexpr double kMinSpacing_m = 0.4;
  std::vector<geom::Box> boxes(sc.population.size());
  std::vector<std::size_t> counts(sc.population.size());
  for (std::size_t e = 0; e < sc.population.size(); ++e) {
    const PopulationEntry& entry = sc.population[e];
    // A Scenario built in code rather than parsed may break what parsing ensures.
    if (entry.count < 0 || !venue.find_level(entry.level) ||
        (entry.kind == PopulationEntry::Kind::agents &&
         entry.agents.size() != static_cast<std::size_t>(entry.count))) {
      errs.push_back({entry.path, "count " + std::to_string(entry.count) + " or level " +
                                      std::to_string(entry.level) + " is invalid"});
      continue;
    }
    counts[e] = static_cast<std::size_t>(entry.count);
    if (entry.kind == PopulationEntry::Kind::agents) continue;
    geom::Box box = geom::bounds(entry.polygon);
    const geom::Box level = geom::bounds(venue.levels.at(entry.level).walkable);
    box.min = {std::max(box.min.x, level.min.x), std::max(box.min.y, level.min.y)};
    box.max = {std::min(box.max.x, level.max.x), std::min(box.max.y, level.max.y)};
    boxes[e] = box;
    const double at_most =
        box.min.x > box.max.x || box.min.y > box.max.y
            ? 0
            : std::floor((box.width() + kMinSpacing_m) * (box.height() + kMinSpacing_m) /
                         (std::numbers::pi * kMinSpacing_m * kMinSpacing_m / 4));
    if (static_cast<double>(counts[e]) > at_most) counts[e] = static_cast<std::size_t>(at_most) + 1;
  }
  if (!errs.empty()) return unexpected(std::move(errs));

  std::size_t total = 0;
  for (const std::size_t n : counts) total += n;
  std::vector<AgentInit> agents(total);

  // Groups: round(share x N) people each, chosen at random.
  std::vector<std::size_t> perm(total);
  for (std::size_t k = 0; k < total; ++k) perm[k] = k;
  for (std::size_t k = total; k > 1; --k) std::swap(perm[k - 1], perm[profile_rng.below(k)]);
  std::size_t next = 0;
  for (std::size_t g = 0; g < sc.groups.size(); ++g) {
    const auto n = static_cast<std::size_t>(std::llround(sc.groups[g].share * static_cast<double>(total)));
    for (std::size_t m = 0; m < n && next < total; ++m) agents[perm[next++]].group = static_cast<int>(g);
  }
  double max_radius = 0;
  for (AgentInit& a : agents) {
    const Profile& p = a.group >= 0 ? sc.groups[static_cast<std::size_t>(a.group)].profile : sc.profile;
    a.speed_m_s = p.speed_m_s.sample(profile_rng);
    a.premovement_s = p.premovement_s.sample(profile_rng);
    a.radius_m = p.radius_m.sample(profile_rng);
    max_radius = std::max(max_radius, a.radius_m);
  }

  PlacedIndex placed(std::max(1.0, 2 * max_radius));
  // The people of entry e are agents[first[e] .. first[e] + count).
  std::vector<std::size_t> first(sc.population.size());
  std::size_t at = 0;
  for (std::size_t e = 0; e < sc.population.size(); ++e) {
    first[e] = at;
    at += counts[e];
  }
  // Given positions first, so random placement keeps clear of them.
  for (std::size_t e = 0; e < sc.population.size(); ++e) {
    const PopulationEntry& entry = sc.population[e];
    if (entry.kind != PopulationEntry::Kind::agents) continue;
    for (std::size_t k = 0; k < entry.agents.size(); ++k) {
      AgentInit& a = agents[first[e] + k];
      a.position = entry.agents[k];
      a.level = entry.level;
      a.entry = static_cast<int>(e);
      placed.add(a.level, a.position, a.radius_m);
    }
  }
  for (std::size_t e = 0; e < sc.population.size(); ++e) {
    const PopulationEntry& entry = sc.population[e];
    if (entry.kind == PopulationEntry::Kind::agents || counts[e] == 0) continue;
    const int layer = space.level_layer(entry.level);
    const SpaceLayer& sl = space.layer(layer);
    const geom::Box box = geom::bounds(entry.polygon);  // random positions are drawn in it
    const geom::Box& clip = boxes[e];                   // where they can fit
    auto fits = [&](geom::Vec2 p, double r) {
      if (!geom::contains(entry.polygon, p) || !space.inside(layer, p)) return false;
      if (space.clearance(layer, p) < r + 0.01) return false;
      for (int s : sl.stairs)
        if (geom::contains(venue.stairs[static_cast<std::size_t>(s)].footprint, p)) return false;
      return true;
    };
    const std::size_t n = counts[e];
    // 1. Random sequential placement.
    std::vector<geom::Vec2> pos(n);
    bool done = true;
    {
      PlacedIndex trial = placed;
      for (std::size_t k = 0; k < n && done; ++k) {
        const AgentInit& a = agents[first[e] + k];
        bool ok = false;
        for (int attempt = 0; attempt < 60 && !ok; ++attempt) {
          const geom::Vec2 p{place_rng.uniform(box.min.x, box.max.x), place_rng.uniform(box.min.y, box.max.y)};
          if (trial.free(entry.level, p, a.radius_m) && fits(p, a.radius_m)) {
            pos[k] = p;
            trial.add(entry.level, p, a.radius_m);
            ok = true;
          }
        }
        done = ok;
      }
      if (done) placed = std::move(trial);
    }
    // 2. Crowded: a random choice among the points of a hexagonal lattice at the minimum
    //    spacing, which is also the number reported as fitting.
    if (!done) {
      double r_max = 0;
      for (std::size_t k = 0; k < n; ++k) r_max = std::max(r_max, agents[first[e] + k].radius_m);
      const double s = std::max(2 * r_max, 0.4);
      const double row = s * std::sqrt(3.0) / 2;
      std::vector<geom::Vec2> lattice;
      // The lattice starts at the polygon's corner; only its points inside `clip` are tried
      // (the others cannot fit), each row from the first at or right of clip.min.x, reached by
      // the same additions as the row would make.
      double x_first[2] = {INFINITY, INFINITY};
      for (int parity = 0; parity < 2 && clip.min.x <= clip.max.x; ++parity) {
        double x = box.min.x + r_max + (parity ? s / 2 : 0);
        while (x < clip.min.x) x += s;
        x_first[parity] = x;
      }
      int rown = 0;
      for (double y = box.min.y + r_max; y <= clip.max.y; y += row, ++rown) {
        if (y < clip.min.y) continue;
        for (double x = x_first[rown % 2]; x <= clip.max.x; x += s) {
          const geom::Vec2 p{x, y};
          if (fits(p, r_max) && placed.free(entry.level, p, r_max)) lattice.push_back(p);
        }
      }
      if (lattice.size() < n) {
        std::string what = entry.kind == PopulationEntry::Kind::zone
                               ? "zone " + show(json(entry.zone))
                               : "the polygon";
        errs.push_back({entry.path, std::to_string(entry.count) + " people asked for in " + what +
                                        ", only " + std::to_string(lattice.size()) +
                                        " fit (radius " + num(r_max) + " m, spacing " + num(s) +
                                        " m)"});
        continue;
      }
      for (std::size_t k = 0; k < n; ++k) {
        std::swap(lattice[k], lattice[k + place_rng.below(lattice.size() - k)]);
        pos[k] = lattice[k];
        placed.add(entry.level, pos[k], agents[first[e] + k].radius_m);
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      AgentInit& a = agents[first[e] + k];
      a.position = pos[k];
      a.level = entry.level;
      a.entry = static_cast<int>(e);
    }
  }
  if (!errs.empty()) return unexpected(std::move(errs));
  return agents;
}

}  // namespace vigil::sim
