// SPDX-License-Identifier: Apache-2.0
// Venue loading in three passes: (1) read every feature into the model, recording every
// structural problem; (2) build each level's walkable space; (3) check the features against the
// geometry (exits on boundaries, doors across walkable space, zones, connectivity) and derive
// the quantities. All problems are collected; a venue is returned only without errors.
#include "venue/load.hpp"


#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/text_position.hpp"
#include "geom/boolean.hpp"

namespace vigil::venue {

using nlohmann::json;

std::string Issue::location() const {
  if (feature_index < 0) return feature_id.empty() ? std::string("(file)") : feature_id;
  std::string loc = fmt::format("features[{}]", feature_index);
  if (!feature_kind.empty()) {
    if (feature_id.empty())
      loc += fmt::format(" ({})", feature_kind);
    else
      loc += fmt::format(" ({} \"{}\")", feature_kind, feature_id);
  }
  return loc;
}

std::string Issue::to_string() const {
  return location() + ": " + (severity == Severity::warning ? "warning: " : "") + message;
}

std::size_t LoadResult::error_count() const {
  return static_cast<std::size_t>(std::count_if(
      issues.begin(), issues.end(), [](const Issue& i) { return i.severity == Severity::error; }));
}

std::size_t LoadResult::warning_count() const { return issues.size() - error_count(); }

namespace {

constexpr double kMaxCoordinate_m = 1e6;  // local metres; anything larger is a unit mistake
constexpr int kMaxLevel = 1000;
constexpr int kMaxJsonDepth = 64;

const std::set<std::string> kVenueUses = {
    "concert_hall", "theatre",  "stadium",  "arena",           "exhibition",
    "shopping_centre", "transport_hub", "school", "university", "hospital",
    "place_of_worship", "outdoor_event", "other"};

std::string type_name(const json& j) { return j.type_name(); }

// j[key], or null when j is not an object or has no such member (never throws, never asserts).
const json& member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// j[key] when it is a string, else "".
std::string string_member(const json& j, const char* key) {
  const json& m = member(j, key);
  return m.is_string() ? m.get<std::string>() : std::string();
}

std::string fmt_num(double v) { return fmt::format("{:.2f}", v); }

// Where a feature is, for messages.
struct FeatureRef {
  int index = -1;
  std::string kind;
  std::string id;
};

class Loader {
 public:
  explicit Loader(const LoadOptions& opt) : opt_(opt) {}

  LoadResult run(const json& doc);

 private:
  // --- reporting
  void error(const FeatureRef& f, std::string msg) { add(Severity::error, f, std::move(msg)); }
  void warning(const FeatureRef& f, std::string msg) { add(Severity::warning, f, std::move(msg)); }
  void header_error(const std::string& path, std::string msg) {
    result_.issues.push_back({Severity::error, -1, path, "", std::move(msg)});
  }
  void add(Severity s, const FeatureRef& f, std::string msg) {
    result_.issues.push_back({s, f.index, f.id, f.kind, std::move(msg)});
  }

  // --- pass 1
  void read_header(const json& doc);
  void read_feature(int index, const json& feature);
  std::optional<Vec2> read_position(const FeatureRef& f, const json& j, const std::string& what);
  std::optional<geom::Ring> read_ring(const FeatureRef& f, const json& j, const std::string& what);
  std::optional<Polygon> read_polygon_coords(const FeatureRef& f, const json& coords,
                                             const std::string& what);
  std::optional<Polygon> read_polygon(const FeatureRef& f, const json& geometry);
  std::optional<MultiPolygon> read_areal(const FeatureRef& f, const json& geometry);
  std::optional<Segment> read_two_points(const FeatureRef& f, const json& coords,
                                         const std::string& what);
  std::optional<Segment> read_line(const FeatureRef& f, const json& geometry);
  std::optional<int> read_int(const FeatureRef& f, const json& props, const char* key,
                              std::optional<int> fallback);
  std::optional<double> read_number(const FeatureRef& f, const json& props, const char* key,
                                    double lo, double hi);
  std::optional<std::string> read_string(const FeatureRef& f, const json& props, const char* key,
                                         bool required);

  // --- pass 2 and 3
  void build_levels();
  void check_exits();
  void check_doors();
  void check_stairs();
  void check_zones();
  void check_sensors();
  void check_connectivity();

  const LoadOptions& opt_;
  LoadResult result_;
  Venue v_;
  std::map<std::string, int> id_index_;  // id -> first feature index
  std::map<int, std::vector<int>> area_features_;  // level -> feature indices of its areas
  std::vector<std::pair<int, Polygon>> area_polys_;  // (feature index, polygon), for messages
};

std::optional<Vec2> Loader::read_position(const FeatureRef& f, const json& j,
                                          const std::string& what) {
  if (!j.is_array() || j.size() < 2) {
    error(f, fmt::format("{}: a position must be an array of 2 numbers [x, y], got {}", what,
                         j.is_array() ? fmt::format("{} values", j.size()) : type_name(j)));
    return std::nullopt;
  }
  if (!j[0].is_number() || !j[1].is_number()) {
    error(f, fmt::format("{}: coordinates must be numbers, got [{}, {}]", what, type_name(j[0]),
                         type_name(j[1])));
    return std::nullopt;
  }
  const double x = j[0].get<double>();
  const double y = j[1].get<double>();
  if (!std::isfinite(x) || !std::isfinite(y) || std::abs(x) > kMaxCoordinate_m ||
      std::abs(y) > kMaxCoordinate_m) {
    error(f, fmt::format("{}: coordinate [{}, {}] out of range (local metres, |value| <= {:g})",
                         what, x, y, kMaxCoordinate_m));
    return std::nullopt;
  }
  return Vec2{x, y};
}

std::optional<geom::Ring> Loader::read_ring(const FeatureRef& f, const json& j,
                                            const std::string& what) {
  if (!j.is_array()) {
    error(f, fmt::format("{}: a ring must be an array of positions, got {}", what, type_name(j)));
    return std::nullopt;
  }
  geom::Ring ring;
  bool ok = true;
  for (std::size_t k = 0; k < j.size(); ++k) {
    auto p = read_position(f, j[k], fmt::format("{}[{}]", what, k));
    if (!p) {
      ok = false;
      continue;
    }
    ring.push_back(*p);
  }
  if (!ok) return std::nullopt;
  if (ring.size() < 4) {
    error(f, fmt::format("{}: a ring needs at least 4 positions (closed triangle), got {}", what,
                         ring.size()));
    return std::nullopt;
  }
  if (!(ring.front() == ring.back())) {
    error(f, fmt::format("{}: ring is not closed (first position [{}, {}] != last [{}, {}])",
                         what, ring.front().x, ring.front().y, ring.back().x, ring.back().y));
    return std::nullopt;
  }
  ring.pop_back();
  if (auto hit = geom::find_self_intersection(ring)) {
    error(f, fmt::format("{}: ring self-intersects (edge {} meets edge {} near [{}, {}])", what,
                         hit->first, hit->second, fmt_num(ring[hit->second].x),
                         fmt_num(ring[hit->second].y)));
    return std::nullopt;
  }
  if (std::abs(geom::signed_area(ring)) < 1e-6) {
    error(f, fmt::format("{}: ring has no area", what));
    return std::nullopt;
  }
  return ring;
}

std::optional<Polygon> Loader::read_polygon_coords(const FeatureRef& f, const json& coords,
                                                   const std::string& what) {
  if (!coords.is_array() || coords.empty()) {
    error(f, fmt::format("{}: a polygon must be a non-empty array of rings", what));
    return std::nullopt;
  }
  Polygon poly;
  bool ok = true;
  for (std::size_t r = 0; r < coords.size(); ++r) {
    auto ring = read_ring(f, coords[r], fmt::format("{}[{}]", what, r));
    if (!ring) {
      ok = false;
      continue;
    }
    if (r == 0)
      poly.outer = std::move(*ring);
    else
      poly.holes.push_back(std::move(*ring));
  }
  if (!ok) return std::nullopt;
  for (std::size_t h = 0; h < poly.holes.size(); ++h) {
    for (const Vec2& p : poly.holes[h]) {
      if (!geom::ring_contains(poly.outer, p) &&
          geom::distance_to_boundary(Polygon{poly.outer, {}}, p) > 1e-9) {
        error(f, fmt::format("{}[{}]: hole is not inside the outer ring", what, h + 1));
        return std::nullopt;
      }
    }
  }
  return poly;
}

std::optional<Polygon> Loader::read_polygon(const FeatureRef& f, const json& geometry) {
  const std::string type = string_member(geometry, "type");
  if (type != "Polygon") {
    error(f, fmt::format("geometry: expected a Polygon, got {}",
                         type.empty() ? std::string("no type") : type));
    return std::nullopt;
  }
  return read_polygon_coords(f, member(geometry, "coordinates"), "geometry.coordinates");
}

std::optional<MultiPolygon> Loader::read_areal(const FeatureRef& f, const json& geometry) {
  const std::string type = string_member(geometry, "type");
  if (type == "Polygon") {
    auto p = read_polygon(f, geometry);
    if (!p) return std::nullopt;
    return MultiPolygon{std::move(*p)};
  }
  if (type != "MultiPolygon") {
    error(f, fmt::format("geometry: expected a Polygon or MultiPolygon, got {}",
                         type.empty() ? std::string("no type") : type));
    return std::nullopt;
  }
  const json& coords = member(geometry, "coordinates");
  if (!coords.is_array() || coords.empty()) {
    error(f, "geometry.coordinates: a MultiPolygon must be a non-empty array of polygons");
    return std::nullopt;
  }
  MultiPolygon m;
  bool ok = true;
  for (std::size_t k = 0; k < coords.size(); ++k) {
    auto p = read_polygon_coords(f, coords[k], fmt::format("geometry.coordinates[{}]", k));
    if (p)
      m.push_back(std::move(*p));
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return m;
}

std::optional<Segment> Loader::read_two_points(const FeatureRef& f, const json& coords,
                                               const std::string& what) {
  if (!coords.is_array() || coords.size() != 2) {
    error(f, fmt::format("{}: expected exactly 2 positions, got {}", what,
                         coords.is_array() ? fmt::format("{}", coords.size()) : type_name(coords)));
    return std::nullopt;
  }
  auto a = read_position(f, coords[0], what + "[0]");
  auto b = read_position(f, coords[1], what + "[1]");
  if (!a || !b) return std::nullopt;
  if (geom::distance(*a, *b) < 1e-3) {
    error(f, fmt::format("{}: the two points coincide (zero width)", what));
    return std::nullopt;
  }
  return Segment{*a, *b};
}

std::optional<Segment> Loader::read_line(const FeatureRef& f, const json& geometry) {
  const std::string type = string_member(geometry, "type");
  if (type != "LineString") {
    error(f, fmt::format("geometry: expected a LineString of 2 points, got {}",
                         type.empty() ? std::string("no type") : type));
    return std::nullopt;
  }
  return read_two_points(f, member(geometry, "coordinates"), "geometry.coordinates");
}

std::optional<int> Loader::read_int(const FeatureRef& f, const json& props, const char* key,
                                    std::optional<int> fallback) {
  auto it = props.find(key);
  if (it == props.end() || it->is_null()) {
    if (!fallback) error(f, fmt::format("properties.{}: missing (an integer level)", key));
    return fallback;
  }
  if (!it->is_number()) {
    error(f, fmt::format("properties.{}: expected an integer, got {}", key, type_name(*it)));
    return std::nullopt;
  }
  const double d = it->get<double>();
  if (!std::isfinite(d) || d != std::floor(d) || std::abs(d) > kMaxLevel) {
    error(f, fmt::format("properties.{}: expected an integer in [-{}, {}], got {}", key, kMaxLevel,
                         kMaxLevel, it->dump()));
    return std::nullopt;
  }
  return static_cast<int>(d);
}

std::optional<double> Loader::read_number(const FeatureRef& f, const json& props, const char* key,
                                          double lo, double hi) {
  auto it = props.find(key);
  if (it == props.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) {
    error(f, fmt::format("properties.{}: expected a number, got {}", key, type_name(*it)));
    return std::nullopt;
  }
  const double d = it->get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) {
    error(f, fmt::format("properties.{}: {} is outside [{:g}, {:g}]", key, it->dump(), lo, hi));
    return std::nullopt;
  }
  return d;
}

std::optional<std::string> Loader::read_string(const FeatureRef& f, const json& props,
                                               const char* key, bool required) {
  auto it = props.find(key);
  if (it == props.end() || it->is_null()) {
    if (required) error(f, fmt::format("properties.{}: missing", key));
    return std::nullopt;
  }
  if (!it->is_string()) {
    error(f, fmt::format("properties.{}: expected a string, got {}", key, type_name(*it)));
    return std::nullopt;
  }
  return it->get<std::string>();
}

void Loader::read_header(const json& doc) {
  if (doc.value("type", json()) != "FeatureCollection")
    header_error("type", "the venue must be a GeoJSON FeatureCollection");
  auto hit = doc.find("vigil");
  if (hit == doc.end() || !hit->is_object()) {
    header_error("vigil", "missing header object {\"format\": \"venue\", \"version\": 1, \"id\": ...}");
    return;
  }
  const json& h = *hit;
  if (h.value("format", json()) != "venue")
    header_error("vigil.format", "must be \"venue\"");
  auto ver = h.find("version");
  if (ver == h.end() || !ver->is_number_integer() || ver->get<long long>() != 1)
    header_error("vigil.version", fmt::format("unsupported version {} (this Vigil reads version 1)",
                                              ver == h.end() ? std::string("(missing)") : ver->dump()));
  auto id = h.find("id");
  if (id == h.end() || !id->is_string() || id->get<std::string>().empty()) {
    header_error("vigil.id", "missing (a non-empty string)");
  } else {
    v_.id = id->get<std::string>();
    const bool ok_chars = std::all_of(v_.id.begin(), v_.id.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
    if (!ok_chars || v_.id.size() > 64)
      header_error("vigil.id", fmt::format("\"{}\": use at most 64 letters, digits, '-', '_' or '.'",
                                           v_.id));
  }
  if (auto n = h.find("name"); n != h.end()) {
    if (n->is_string())
      v_.name = n->get<std::string>();
    else
      header_error("vigil.name", fmt::format("expected a string, got {}", type_name(*n)));
  }
  if (v_.name.empty()) v_.name = v_.id;
  if (auto u = h.find("use"); u != h.end()) {
    if (!u->is_string() || !kVenueUses.count(u->get<std::string>()))
      header_error("vigil.use", fmt::format("{} is not one of concert_hall, theatre, stadium, "
                                            "arena, exhibition, shopping_centre, transport_hub, "
                                            "school, university, hospital, place_of_worship, "
                                            "outdoor_event, other",
                                            u->dump()));
    else
      v_.use = u->get<std::string>();
  }
  if (auto o = h.find("origin"); o != h.end()) {
    const json lat = o->is_object() ? o->value("lat", json()) : json();
    const json lon = o->is_object() ? o->value("lon", json()) : json();
    if (!lat.is_number() || !lon.is_number()) {
      header_error("vigil.origin", "expected {\"lat\": number, \"lon\": number} in WGS84 degrees");
    } else if (std::abs(lat.get<double>()) > 90 || std::abs(lon.get<double>()) > 180) {
      header_error("vigil.origin", fmt::format("lat {} / lon {} out of range", lat.dump(), lon.dump()));
    } else {
      v_.origin = Origin{lat.get<double>(), lon.get<double>()};
    }
  }
  if (auto e = h.find("egress_limit_s"); e != h.end()) {
    if (!e->is_number() || !std::isfinite(e->get<double>()) || e->get<double>() <= 0 ||
        e->get<double>() > 86400)
      header_error("vigil.egress_limit_s", fmt::format("{} is not a time in (0, 86400] s", e->dump()));
    else
      v_.egress_limit_s = e->get<double>();
  }
}

void Loader::read_feature(int index, const json& feature) {
  FeatureRef f{index, "", ""};
  if (!feature.is_object()) {
    error(f, fmt::format("a feature must be an object, got {}", type_name(feature)));
    return;
  }
  const json& props = member(feature, "properties");
  if (!props.is_object()) {
    error(f, "properties: missing (an object with at least \"kind\")");
    return;
  }
  auto kind = read_string(f, props, "kind", true);
  if (!kind) return;
  f.kind = *kind;
  static const std::set<std::string> kKinds = {"area", "obstacle", "exit",  "door",
                                               "zone", "stair",    "sensor"};
  if (!kKinds.count(f.kind)) {
    const std::string unknown = f.kind;
    f.kind.clear();
    error(f, fmt::format("unknown kind \"{}\" (expected area, obstacle, exit, door, zone, stair "
                         "or sensor)",
                         unknown));
    return;
  }
  const bool needs_id = f.kind != "area" && f.kind != "obstacle";
  auto id = read_string(f, props, "id", needs_id);
  if (id) {
    f.id = *id;
    if (f.id.empty()) {
      error(f, "properties.id: must not be empty");
      return;
    }
    auto [it, inserted] = id_index_.emplace(f.id, index);
    if (!inserted) {
      error(f, fmt::format("duplicate id \"{}\" (first used by features[{}])", f.id, it->second));
      return;
    }
  } else if (needs_id) {
    return;
  }
  const std::string name = read_string(f, props, "name", false).value_or("");

  auto git = feature.find("geometry");
  if (git == feature.end() || !git->is_object()) {
    error(f, "geometry: missing or not an object");
    return;
  }
  const json& geometry = *git;

  if (f.kind == "area" || f.kind == "obstacle") {
    auto level = read_int(f, props, "level", 0);
    auto shape = f.kind == "area" ? read_areal(f, geometry)
                                  : [&]() -> std::optional<MultiPolygon> {
                                      auto p = read_polygon(f, geometry);
                                      if (!p) return std::nullopt;
                                      return MultiPolygon{std::move(*p)};
                                    }();
    if (!level || !shape) return;
    Level& lv = v_.levels[*level];
    lv.index = *level;
    for (Polygon& p : *shape) {
      if (f.kind == "area") {
        area_polys_.emplace_back(index, p);
        area_features_[*level].push_back(index);
        lv.areas.push_back(std::move(p));
      } else {
        lv.obstacles.push_back(std::move(p));
      }
    }
  } else if (f.kind == "exit" || f.kind == "door") {
    auto level = read_int(f, props, "level", 0);
    auto line = read_line(f, geometry);
    if (!level || !line) return;
    Opening o{f.id, name, *level, *line, line->length(), index};
    (f.kind == "exit" ? v_.exits : v_.doors).push_back(std::move(o));
  } else if (f.kind == "zone") {
    auto level = read_int(f, props, "level", 0);
    auto poly = read_polygon(f, geometry);
    auto capacity = read_number(f, props, "capacity", 0, 1e7);
    auto max_density = read_number(f, props, "max_density", 0.01, 10);
    ZoneUse use = ZoneUse::standing;
    bool use_ok = true;
    if (auto u = read_string(f, props, "use", false)) {
      static const std::map<std::string, ZoneUse> kUses = {
          {"standing", ZoneUse::standing}, {"seated", ZoneUse::seated},
          {"circulation", ZoneUse::circulation}, {"queue", ZoneUse::queue},
          {"stair", ZoneUse::stair}, {"other", ZoneUse::other}};
      auto it = kUses.find(*u);
      if (it == kUses.end()) {
        error(f, fmt::format("properties.use: \"{}\" is not one of standing, seated, circulation, "
                             "queue, stair, other",
                             *u));
        use_ok = false;
      } else {
        use = it->second;
      }
    }
    if (!level || !poly || !use_ok) return;
    Zone z;
    z.id = f.id;
    z.name = name.empty() ? f.id : name;
    z.level = *level;
    z.polygon = std::move(*poly);
    z.use = use;
    z.max_density_p_m2 = max_density.value_or(default_max_density(use));
    z.capacity_given = capacity.has_value();
    z.capacity = capacity.value_or(0);
    z.feature_index = index;
    v_.zones.push_back(std::move(z));
  } else if (f.kind == "stair") {
    auto from = read_int(f, props, "from_level", std::nullopt);
    auto to = read_int(f, props, "to_level", std::nullopt);
    auto poly = read_polygon(f, geometry);
    std::optional<Segment> bottom, top;
    if (auto b = props.find("bottom"); b != props.end())
      bottom = read_two_points(f, *b, "properties.bottom");
    else
      error(f, "properties.bottom: missing (the edge [[x,y],[x,y]] joining from_level)");
    if (auto t = props.find("top"); t != props.end())
      top = read_two_points(f, *t, "properties.top");
    else
      error(f, "properties.top: missing (the edge [[x,y],[x,y]] joining to_level)");
    auto length = read_number(f, props, "length_m", 0.1, 1000);
    auto down = read_number(f, props, "speed_factor_down", 0.05, 2);
    auto up = read_number(f, props, "speed_factor_up", 0.05, 2);
    if (!from || !to || !poly || !bottom || !top) return;
    if (*from == *to) {
      error(f, fmt::format("from_level and to_level are both {}", *from));
      return;
    }
    Stair s;
    s.id = f.id;
    s.name = name;
    s.from_level = *from;
    s.to_level = *to;
    s.footprint = std::move(*poly);
    s.bottom = *bottom;
    s.top = *top;
    s.length_m = length.value_or(s.plan_length_m());
    if (down) s.speed_factor_down = *down;
    if (up) s.speed_factor_up = *up;
    s.feature_index = index;
    v_.stairs.push_back(std::move(s));
  } else if (f.kind == "sensor") {
    auto type = read_string(f, props, "type", true);
    if (!type) return;
    auto level = read_int(f, props, "level", 0);
    Sensor s;
    s.id = f.id;
    s.name = name;
    s.feature_index = index;
    if (*type == "line_counter") {
      s.type = SensorType::line_counter;
      auto line = read_line(f, geometry);
      auto into = read_string(f, props, "into", true);
      auto from = read_string(f, props, "from", true);
      if (!line || !into || !from || !level) return;
      s.line = *line;
      s.into = *into;
      s.from = *from;
    } else if (*type == "zone_counter" || *type == "density") {
      s.type = *type == "density" ? SensorType::density : SensorType::zone_counter;
      if (string_member(geometry, "type") != "Point") {
        error(f, fmt::format("geometry: a {} sensor needs a Point, got {}", *type,
                             member(geometry, "type").dump()));
        return;
      }
      auto p = read_position(f, member(geometry, "coordinates"), "geometry.coordinates");
      auto zone = read_string(f, props, "zone", true);
      if (!p || !zone || !level) return;
      s.point = *p;
      s.zone = *zone;
    } else {
      error(f, fmt::format("properties.type: \"{}\" is not one of line_counter, zone_counter, "
                           "density",
                           *type));
      return;
    }
    s.level = *level;
    v_.sensors.push_back(std::move(s));
  }
}

void Loader::build_levels() {
  for (auto& [index, lv] : v_.levels) {
    lv.floor = geom::union_all(lv.areas);
    lv.walkable = lv.obstacles.empty() ? lv.floor
                                       : geom::difference(lv.floor, geom::union_all(lv.obstacles));
    lv.walkable_area_m2 = geom::area(lv.walkable);
    lv.bounds = geom::bounds(lv.areas);
    if (lv.areas.empty()) {
      // A level with obstacles only: reported where something needs the level.
      continue;
    }
    if (lv.walkable_area_m2 <= 0 && !area_features_[index].empty()) {
      FeatureRef f{area_features_[index].front(), "area", ""};
      error(f, fmt::format("level {} has no walkable space left after subtracting obstacles", index));
    }
  }
}

void Loader::check_exits() {
  for (const Opening& e : v_.exits) {
    FeatureRef f{e.feature_index, "exit", e.id};
    const Level* lv = v_.find_level(e.level);
    if (!lv || lv->areas.empty()) {
      error(f, fmt::format("level {} has no area", e.level));
      continue;
    }
    // The exit must lie along the outline of the level's (united) areas: check its two ends
    // and sample points in between.
    double worst = 0;
    for (int k = 0; k <= 4; ++k) {
      const Vec2 p = e.line.a + (e.line.b - e.line.a) * (k / 4.0);
      worst = std::max(worst, geom::distance_to_boundary(lv->floor, p));
    }
    if (worst > opt_.exit_tolerance_m)
      error(f, fmt::format("exit is {} m from any area boundary (tolerance {} m)", fmt_num(worst),
                           fmt_num(opt_.exit_tolerance_m)));
  }
}

void Loader::check_doors() {
  for (const Opening& d : v_.doors) {
    FeatureRef f{d.feature_index, "door", d.id};
    const Level* lv = v_.find_level(d.level);
    if (!lv || lv->areas.empty()) {
      error(f, fmt::format("level {} has no area", d.level));
      continue;
    }
    const double inside = geom::length_inside(d.line, lv->walkable);
    if (!geom::contains(lv->walkable, d.line.midpoint()) || inside < 0.5 * d.width_m)
      error(f, fmt::format("door does not cross walkable space ({} of its {} m lie in walkable "
                           "space on level {})",
                           fmt_num(inside), fmt_num(d.width_m), d.level));
  }
}

void Loader::check_stairs() {
  for (const Stair& s : v_.stairs) {
    FeatureRef f{s.feature_index, "stair", s.id};
    for (int level : {s.from_level, s.to_level}) {
      const Level* lv = v_.find_level(level);
      if (!lv || lv->areas.empty()) error(f, fmt::format("level {} has no area", level));
    }
    for (const auto& [edge, name] : {std::pair{s.bottom, "bottom"}, std::pair{s.top, "top"}}) {
      const double d = std::max(geom::distance_to_boundary(s.footprint, edge.a),
                                geom::distance_to_boundary(s.footprint, edge.b));
      if (d > 0.25)
        error(f, fmt::format("{} edge is {} m from the stair's outline (it must be one of its "
                             "sides)",
                             name, fmt_num(d)));
    }
    if (s.length_m < s.plan_length_m() * 0.99)
      warning(f, fmt::format("length_m {} is shorter than the plan distance {} m between the edges",
                             fmt_num(s.length_m), fmt_num(s.plan_length_m())));
  }
}

void Loader::check_zones() {
  for (Zone& z : v_.zones) {
    FeatureRef f{z.feature_index, "zone", z.id};
    const Level* lv = v_.find_level(z.level);
    if (!lv || lv->areas.empty()) {
      error(f, fmt::format("level {} has no area", z.level));
      continue;
    }
    MultiPolygon nearby;  // only the walkable parts the zone can touch
    const geom::Box zb = geom::bounds(z.polygon);
    for (const Polygon& part : lv->walkable)
      if (geom::bounds(part).intersects(zb)) nearby.push_back(part);
    z.area_m2 = geom::area(geom::intersection(MultiPolygon{z.polygon}, nearby));
    if (z.area_m2 < 0.01) {
      warning(f, "zone contains no walkable space");
    }
    const double limit = z.area_m2 * z.max_density_p_m2;
    if (!z.capacity_given) {
      z.capacity = std::floor(limit);
    } else if (z.capacity > limit + 0.5) {
      warning(f, fmt::format("capacity {:g} is above max_density {:g} /m² × walkable area {} m² = "
                             "{:g}",
                             z.capacity, z.max_density_p_m2, fmt_num(z.area_m2), std::floor(limit)));
    }
  }
  for (std::size_t i = 0; i < v_.zones.size(); ++i) {
    for (std::size_t j = i + 1; j < v_.zones.size(); ++j) {
      const Zone& a = v_.zones[i];
      const Zone& b = v_.zones[j];
      if (a.level != b.level) continue;
      const double overlap = geom::intersection_area(a.polygon, b.polygon);
      if (overlap > 0.01)
        warning(FeatureRef{b.feature_index, "zone", b.id},
                fmt::format("zone overlaps zone \"{}\" (features[{}]) by {} m²", a.id,
                            a.feature_index, fmt_num(overlap)));
    }
  }
}

void Loader::check_sensors() {
  for (const Sensor& s : v_.sensors) {
    FeatureRef f{s.feature_index, "sensor", s.id};
    auto check_zone = [&](const std::string& key, const std::string& zid, bool outside_ok) {
      if (outside_ok && zid == "outside") return;
      if (!v_.find_zone(zid))
        error(f, fmt::format("properties.{}: unknown zone \"{}\"", key, zid));
    };
    if (s.type == SensorType::line_counter) {
      check_zone("into", s.into, false);
      check_zone("from", s.from, true);
      if (s.into == s.from) error(f, "properties.into and properties.from name the same zone");
    } else {
      check_zone("zone", s.zone, false);
    }
  }
}

// Walkable regions (the polygons of each level's walkable space, and stair footprints) joined
// by stairs; a region joined to no exit is reported.
void Loader::check_connectivity() {
  struct Region {
    int level;
    const Polygon* poly;
    bool stair;
  };
  std::vector<Region> regions;
  for (const auto& [index, lv] : v_.levels)
    for (const Polygon& p : lv.walkable) regions.push_back({index, &p, false});
  for (const Stair& s : v_.stairs) regions.push_back({s.from_level, &s.footprint, true});

  const double tol = std::max(opt_.exit_tolerance_m, 0.1);
  std::vector<int> parent(regions.size());
  for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = static_cast<int>(i);
  auto find = [&](int x) {
    while (parent[static_cast<std::size_t>(x)] != x)
      x = parent[static_cast<std::size_t>(x)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
    return x;
  };
  auto touches = [&](const Polygon& p, const Segment& e) {
    return geom::distance_to_boundary(p, e.midpoint()) <= tol || geom::contains(p, e.midpoint());
  };
  std::vector<bool> has_exit(regions.size(), false);
  for (std::size_t r = 0; r < regions.size(); ++r) {
    if (regions[r].stair) continue;
    for (const Opening& e : v_.exits)
      if (e.level == regions[r].level && touches(*regions[r].poly, e.line)) has_exit[r] = true;
  }
  std::size_t first_stair = regions.size() - v_.stairs.size();
  for (std::size_t k = 0; k < v_.stairs.size(); ++k) {
    const Stair& s = v_.stairs[k];
    const int sr = static_cast<int>(first_stair + k);
    for (std::size_t r = 0; r < first_stair; ++r) {
      const bool joins = (regions[r].level == s.from_level && touches(*regions[r].poly, s.bottom)) ||
                         (regions[r].level == s.to_level && touches(*regions[r].poly, s.top));
      if (joins) parent[static_cast<std::size_t>(find(sr))] = find(static_cast<int>(r));
    }
  }
  std::vector<bool> group_has_exit(regions.size(), false);
  for (std::size_t r = 0; r < regions.size(); ++r)
    if (has_exit[r]) group_has_exit[static_cast<std::size_t>(find(static_cast<int>(r)))] = true;
  for (std::size_t r = 0; r < first_stair; ++r) {
    if (group_has_exit[static_cast<std::size_t>(find(static_cast<int>(r)))]) continue;
    const Polygon& p = *regions[r].poly;
    const geom::Box b = geom::bounds(p);
    // Name the area feature that covers this region, for the message.
    FeatureRef f{-1, "area", ""};
    for (const auto& [fi, ap] : area_polys_) {
      if (geom::bounds(ap).intersects(b) && geom::contains(ap, p.outer.front()) ) {
        f.index = fi;
        break;
      }
      if (geom::bounds(ap).intersects(b) && f.index < 0) f.index = fi;
    }
    warning(f, fmt::format("walkable space of {} m² on level {} (around [{}, {}]) cannot reach any "
                           "exit",
                           fmt_num(geom::area(p)), regions[r].level, fmt_num((b.min.x + b.max.x) / 2),
                           fmt_num((b.min.y + b.max.y) / 2)));
  }
}

LoadResult Loader::run(const json& doc) {
  if (!doc.is_object()) {
    header_error("(file)", fmt::format("a venue must be a JSON object, got {}", type_name(doc)));
    return std::move(result_);
  }
  read_header(doc);
  auto fit = doc.find("features");
  if (fit == doc.end() || !fit->is_array()) {
    header_error("features", "missing (an array of GeoJSON features)");
    return std::move(result_);
  }
  for (std::size_t i = 0; i < fit->size(); ++i) read_feature(static_cast<int>(i), (*fit)[i]);

  if (v_.levels.empty() || std::none_of(v_.levels.begin(), v_.levels.end(),
                                        [](const auto& kv) { return !kv.second.areas.empty(); }))
    header_error("features", "the venue has no area (walkable floor)");

  build_levels();
  check_exits();
  check_doors();
  check_stairs();
  check_zones();
  check_sensors();
  if (v_.exits.empty())
    header_error("features", "the venue has no exit");
  else if (result_.error_count() == 0)
    check_connectivity();

  // Keep file order: header issues first, then by feature.
  std::stable_sort(result_.issues.begin(), result_.issues.end(),
                   [](const Issue& a, const Issue& b) { return a.feature_index < b.feature_index; });
  if (result_.error_count() == 0) result_.venue = std::move(v_);
  return std::move(result_);
}

}  // namespace

LoadResult load_venue_json(const json& doc, const LoadOptions& opt) { return Loader(opt).run(doc); }

LoadResult load_venue(std::string_view text, const LoadOptions& opt) {
  json doc;
  bool too_deep = false;
  try {
    doc = json::parse(
        text.begin(), text.end(),
        [&](int depth, json::parse_event_t, json&) {
          if (depth > kMaxJsonDepth) too_deep = true;
          return !too_deep;
        },
        /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    LoadResult r;
    const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    auto [line, col] = line_column(text, offset);
    std::string what = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    if (auto p = what.find(": "); p != std::string::npos) {
      if (auto q = what.find(": ", p + 2); q != std::string::npos) what = what.substr(q + 2);
    }
    r.issues.push_back({Severity::error, -1, fmt::format("{}:{}", line, col), "",
                        "invalid JSON: " + what});
    return r;
  } catch (const json::exception& e) {
    // e.g. out_of_range.406 "number overflow parsing '1e999'", which carries no position.
    LoadResult r;
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    r.issues.push_back({Severity::error, -1, "(file)", "", "invalid JSON: " + what});
    return r;
  }
  if (too_deep) {
    LoadResult r;
    r.issues.push_back({Severity::error, -1, "(file)", "",
                        fmt::format("invalid venue: JSON nested deeper than {} levels",
                                    kMaxJsonDepth)});
    return r;
  }
  return load_venue_json(doc, opt);
}

LoadResult load_venue_file(const std::filesystem::path& path, const LoadOptions& opt) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    r.issues.push_back({Severity::error, -1, "(file)", "",
                        exists ? "cannot read the file" : "no such file"});
    return r;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return load_venue(ss.str(), opt);
}

}  // namespace vigil::venue
