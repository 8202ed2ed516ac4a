// SPDX-License-Identifier: Apache-2.0
// The geocode table: what region a CAP <geocode> (valueName, value) stands for, e.g.
// {"SAME", "006037"} -> the polygon of Los Angeles County. Loaded from a JSON file
// (format in docs/warnings.md):
//
//   {"geocodes": [
//     {"valueName": "SAME", "value": "006037", "name": "Los Angeles County",
//      "polygons": [[[34.82, -118.88], [33.70, -118.95], ..., [34.82, -118.88]]]},
//     {"valueName": "OKATO", "value": "45286560000", "name": "Район Хамовники",
//      "circle": {"lat": 55.73, "lon": 37.57, "radius_km": 2.5}}
//   ]}
//
// "polygons" is a list of closed rings of [lat, lon] pairs (the CAP order), "polygon" a single
// ring; "circle" a disc; an entry has at least one of them. valueName and value are matched
// exactly (case-sensitive), as CAP defines them.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "warn/cap.hpp"

namespace vigil::warn {

struct GeocodeRegion {
  std::string value_name;
  std::string value;
  std::string name;  // human-readable, optional
  std::vector<CapPolygon> polygons;
  std::vector<CapCircle> circles;
  double area_m2 = 0;  // sum of the shapes' areas
};

class GeocodeTable {
 public:
  GeocodeTable() = default;

  // All problems are reported (`geocodes[3].polygons[0][2]: latitude 91 not in [-90, 90]`).
  static Expected<GeocodeTable, std::vector<Error>> from_json(const nlohmann::json& doc);
  static Expected<GeocodeTable, std::vector<Error>> from_json_text(std::string_view text);
  static Expected<GeocodeTable, std::vector<Error>> load_file(const std::filesystem::path& path);

  // Adds or replaces the region for (value_name, value); the area is computed here.
  void add(GeocodeRegion region);
  // The region, or nullptr when the table does not know the geocode.
  const GeocodeRegion* find(std::string_view value_name, std::string_view value) const;
  std::size_t size() const { return regions_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, GeocodeRegion, std::less<>> regions_;
};

}  // namespace vigil::warn
