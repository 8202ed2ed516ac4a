// SPDX-License-Identifier: Apache-2.0
#include "warn/geocode.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "warn/geo.hpp"

namespace vigil::warn {
namespace {

using nlohmann::json;

bool read_point(const json& j, const std::string& where, std::vector<Error>& errors, LatLon& out) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_number() || !j[1].is_number()) {
    errors.push_back({where, "expected [lat, lon] (two numbers, degrees)"});
    return false;
  }
  const double lat = j[0].get<double>(), lon = j[1].get<double>();
  if (!std::isfinite(lat) || lat < -90 || lat > 90 || !std::isfinite(lon) || lon < -180 ||
      lon > 180) {
    errors.push_back(
        {where, fmt::format("[{}, {}]: latitude must be in [-90, 90], longitude in [-180, 180]",
                            lat, lon)});
    return false;
  }
  out = {lat, lon};
  return true;
}

bool read_ring(const json& j, const std::string& where, std::vector<Error>& errors,
               CapPolygon& out) {
  if (!j.is_array()) {
    errors.push_back({where, "expected a ring: an array of [lat, lon] points"});
    return false;
  }
  bool ok = true;
  for (std::size_t i = 0; i < j.size(); ++i) {
    LatLon p;
    if (read_point(j[i], fmt::format("{}[{}]", where, i), errors, p))
      out.points.push_back(p);
    else
      ok = false;
  }
  if (!ok) return false;
  if (out.points.size() < 4) {
    errors.push_back(
        {where, fmt::format("a ring needs at least 4 points (closed), got {}", out.points.size())});
    return false;
  }
  if (out.points.front().lat != out.points.back().lat ||
      out.points.front().lon != out.points.back().lon) {
    errors.push_back({where, "the ring is not closed: the last point must repeat the first"});
    return false;
  }
  return true;
}

}  // namespace

void GeocodeTable::add(GeocodeRegion region) {
  region.area_m2 = 0;
  for (const auto& p : region.polygons) region.area_m2 += area_m2(p);
  for (const auto& c : region.circles) region.area_m2 += area_m2(c);
  auto key = std::make_pair(region.value_name, region.value);
  regions_.insert_or_assign(std::move(key), std::move(region));
}

const GeocodeRegion* GeocodeTable::find(std::string_view value_name, std::string_view value) const {
  const auto it = regions_.find(std::make_pair(std::string(value_name), std::string(value)));
  return it == regions_.end() ? nullptr : &it->second;
}

Expected<GeocodeTable, std::vector<Error>> GeocodeTable::from_json(const json& doc) {
  std::vector<Error> errors;
  if (!doc.is_object() || !doc.contains("geocodes") || !doc["geocodes"].is_array())
    return unexpected(std::vector<Error>{{"", "expected an object with a \"geocodes\" array"}});
  GeocodeTable table;
  const json& list = doc["geocodes"];
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = fmt::format("geocodes[{}]", i);
    const json& e = list[i];
    if (!e.is_object()) {
      errors.push_back({at, "expected an object"});
      continue;
    }
    GeocodeRegion r;
    bool ok = true;
    for (const char* key : {"valueName", "value"}) {
      if (!e.contains(key) || !e[key].is_string() || e[key].get<std::string>().empty()) {
        errors.push_back({at + "." + key, "missing or not a non-empty string"});
        ok = false;
      }
    }
    if (!ok) continue;
    r.value_name = e["valueName"].get<std::string>();
    r.value = e["value"].get<std::string>();
    if (e.contains("name") && e["name"].is_string()) r.name = e["name"].get<std::string>();
    if (e.contains("polygon")) {
      CapPolygon p;
      if (read_ring(e["polygon"], at + ".polygon", errors, p))
        r.polygons.push_back(std::move(p));
      else
        ok = false;
    }
    if (e.contains("polygons")) {
      if (!e["polygons"].is_array()) {
        errors.push_back({at + ".polygons", "expected an array of rings"});
        ok = false;
      } else {
        for (std::size_t k = 0; k < e["polygons"].size(); ++k) {
          CapPolygon p;
          if (read_ring(e["polygons"][k], fmt::format("{}.polygons[{}]", at, k), errors, p))
            r.polygons.push_back(std::move(p));
          else
            ok = false;
        }
      }
    }
    if (e.contains("circle")) {
      const json& c = e["circle"];
      const bool shape = c.is_object() && c.contains("lat") && c["lat"].is_number() &&
                         c.contains("lon") && c["lon"].is_number() && c.contains("radius_km") &&
                         c["radius_km"].is_number();
      LatLon center;
      if (!shape) {
        errors.push_back({at + ".circle", "expected {\"lat\", \"lon\", \"radius_km\"} numbers"});
        ok = false;
      } else if (read_point(json::array({c["lat"], c["lon"]}), at + ".circle", errors, center)) {
        const double rk = c["radius_km"].get<double>();
        if (!std::isfinite(rk) || rk < 0) {
          errors.push_back({at + ".circle.radius_km", fmt::format("{} must be >= 0", rk)});
          ok = false;
        } else {
          r.circles.push_back({center, rk});
        }
      } else {
        ok = false;
      }
    }
    if (ok && r.polygons.empty() && r.circles.empty()) {
      errors.push_back({at, "needs a \"polygon\", \"polygons\" or \"circle\""});
      ok = false;
    }
    if (ok) table.add(std::move(r));
  }
  if (!errors.empty()) return unexpected(std::move(errors));
  return table;
}

Expected<GeocodeTable, std::vector<Error>> GeocodeTable::from_json_text(std::string_view text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) return unexpected(std::vector<Error>{{"", "not valid JSON"}});
  return from_json(doc);
}

Expected<GeocodeTable, std::vector<Error>> GeocodeTable::load_file(
    const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(std::vector<Error>{{path.string(), "cannot open the geocode table"}});
  std::ostringstream ss;
  ss << in.rdbuf();
  auto r = from_json_text(ss.str());
  if (!r) {
    std::vector<Error> errors = r.error();
    for (auto& e : errors) e.where = path.string() + (e.where.empty() ? "" : ": " + e.where);
    return unexpected(std::move(errors));
  }
  return r;
}

}  // namespace vigil::warn
