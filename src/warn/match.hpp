// SPDX-License-Identifier: Apache-2.0
// Matching CAP warnings to gatherings (docs/warnings.md, "Matching").
//
// A gathering is matched by each <info> block of an alert separately when
//   place: one of the info's <area>s covers the venue point: a <polygon> contains it, or a
//          <circle> reaches it, or a <geocode> the GeocodeTable maps to a region does, each
//          with the venue's radius as tolerance; an area with no usable shape matches nothing;
//   time:  the warning window [onset | effective | sent, expires] overlaps the gathering's
//          [starts, ends], and neither has ended before `now` (a missing <expires> is replaced
//          by a default duration, MatchOptions);
//   status and msgType: Actual (and Exercise unless disabled) Alerts and Updates; Cancel, Ack,
//          Error, Test, System and Draft messages match nothing (the caller follows references).
// The target (event, headline, description, instruction, parameters, areaDesc against the venue
// name, venue use and gathering kind) is not required; it raises the specificity.
//
// GatheringIndex keeps the upcoming gatherings in an R-tree (Boost.Geometry, inside match.cpp)
// over their lat/lon boxes. Not thread-safe for writes; concurrent const match() calls are safe.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warn/cap.hpp"
#include "warn/geocode.hpp"
#include "warn/specificity.hpp"

namespace vigil::warn {

struct GatheringRef {
  std::string id;
  std::string venue_id;
  std::string name;  // e.g. "Symphony night"
  std::string kind;  // concert, sport, theatre, conference, religious, market, school_day, other
  TimeMs starts_ms = 0;
  TimeMs ends_ms = 0;
  double lat = 0;  // venue point, WGS 84 degrees
  double lon = 0;
  double radius_m = 100;   // how far the venue reaches around its point (tolerance)
  std::string venue_use;   // concert_hall, theatre, stadium, arena, exhibition, shopping_centre,
                           // transport_hub, school, university, hospital, place_of_worship,
                           // outdoor_event, other
  std::string venue_name;  // e.g. "Grand Concert Hall"
};

struct MatchOptions {
  // Window length when <expires> is absent, by urgency (CAP leaves it to the recipient).
  TimeMs default_duration_immediate_ms = 6 * 3600 * 1000LL;
  TimeMs default_duration_expected_ms = 24 * 3600 * 1000LL;
  TimeMs default_duration_other_ms = 48 * 3600 * 1000LL;  // Future, Past, Unknown
  bool match_exercises = true;  // status Exercise matches (flagged by alert.status)
};

struct Match {
  std::string gathering_id;
  std::string venue_id;
  std::size_t info_index = 0;             // alert.infos[info_index]
  std::size_t area_index = 0;             // the narrowest matching area of that info
  std::vector<std::size_t> area_indices;  // every matching area
  std::string area_desc;
  std::string place_via;  // "polygon[0]", "circle[1]" or "geocode SAME=006037"
  double distance_m = 0;  // from the venue point to the matched shape (0 inside)
  double area_m2 = 0;     // size of the matched area
  TimeMs window_start_ms = 0;
  TimeMs window_end_ms = 0;
  bool expires_assumed = false;
  TargetLevel target = TargetLevel::none;
  std::vector<std::string> target_terms;
  Specificity specificity;
};

nlohmann::json to_json(const Match& m);

class GatheringIndex {
 public:
  explicit GatheringIndex(MatchOptions opt = {});
  ~GatheringIndex();
  GatheringIndex(GatheringIndex&&) noexcept;
  GatheringIndex& operator=(GatheringIndex&&) noexcept;
  GatheringIndex(const GatheringIndex&) = delete;
  GatheringIndex& operator=(const GatheringIndex&) = delete;

  // The table used for <geocode>s (may be null: geocodes then match nothing).
  void set_geocodes(std::shared_ptr<const GeocodeTable> table);

  // Adds the gathering, or replaces the one with the same id. REQUIRES: lat in [-90, 90],
  // lon in [-180, 180], radius_m >= 0 (throws std::invalid_argument otherwise).
  void upsert(GatheringRef g);
  // Removes by id; false when unknown.
  bool remove(std::string_view id);
  const GatheringRef* find(std::string_view id) const;
  std::size_t size() const;

  // Every (info, gathering) match, ordered by info, then by decreasing specificity.
  std::vector<Match> match(const CapAlert& alert, TimeMs now_ms) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The window [start, end] of an info block and whether its end was assumed.
struct Window {
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;
  bool expires_assumed = false;
};
Window info_window(const CapAlert& alert, const CapInfo& info, const MatchOptions& opt = {});

// The target level of `info` (+ areaDesc) for a gathering, with the words that matched.
TargetLevel classify_target(const CapInfo& info, const CapArea* area, const GatheringRef& g,
                            std::vector<std::string>* terms = nullptr);

}  // namespace vigil::warn
