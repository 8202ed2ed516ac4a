// SPDX-License-Identifier: Apache-2.0
// The only translation unit of src/warn that includes Boost.Geometry (the R-tree).
#include "warn/match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/geometry.hpp>
#include <boost/geometry/index/rtree.hpp>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "warn/geo.hpp"
#include "warn/text.hpp"

namespace vigil::warn {
namespace {

namespace bg = boost::geometry;
namespace bgi = boost::geometry::index;

using BPoint = bg::model::point<double, 2, bg::cs::cartesian>;  // (lon, lat) in degrees
using BBox = bg::model::box<BPoint>;
using Entry = std::pair<BBox, std::size_t>;  // box, slot
using Tree = bgi::rtree<Entry, bgi::quadratic<16>>;

BBox to_bbox(const DegBox& b) {
  return BBox(BPoint(b.lon_min, b.lat_min), BPoint(b.lon_max, b.lat_max));
}

// One shape of an area: a CAP polygon/circle or one from the geocode table.
struct Shape {
  const CapPolygon* polygon = nullptr;
  const CapCircle* circle = nullptr;
  std::string via;
};

double distance_to(const Shape& s, LatLon p) {
  return s.polygon ? distance_to_polygon_m(*s.polygon, p) : distance_to_circle_m(*s.circle, p);
}

bool allowed(const CapAlert& a, const MatchOptions& opt) {
  if (a.msg_type != MsgType::Alert && a.msg_type != MsgType::Update) return false;
  return a.status == Status::Actual || (a.status == Status::Exercise && opt.match_exercises);
}

bool any_keyword(const std::vector<std::string>& info_words,
                 const std::vector<std::string>& area_words,
                 const std::vector<std::string_view>& list, std::vector<std::string>& found) {
  bool hit = false;
  for (std::string_view k : list)
    if (contains_keyword(info_words, k) || contains_keyword(area_words, k)) {
      found.emplace_back(k);
      hit = true;
    }
  return hit;
}

std::vector<std::string> info_text_words(const CapInfo& info) {
  std::string text;
  for (const std::string* s : {&info.event, &info.headline, &info.description, &info.instruction}) {
    text += *s;
    text += '\n';
  }
  for (const auto& p : info.parameters) {
    text += p.value;
    text += '\n';
  }
  return words_of(text);
}

TargetLevel classify(const std::vector<std::string>& info_words,
                     const std::vector<std::string>& area_words, const GatheringRef& g,
                     std::vector<std::string>* terms) {
  std::vector<std::string> found;
  for (const std::string* name : {&g.venue_name, &g.name})
    if (!name->empty() && (contains_name(info_words, *name) || contains_name(area_words, *name)))
      found.push_back(*name);
  TargetLevel level = TargetLevel::none;
  if (!found.empty()) {
    level = TargetLevel::venue;
  } else {
    const bool use = any_keyword(info_words, area_words, venue_use_keywords(g.venue_use), found);
    const bool kind = any_keyword(info_words, area_words, gathering_kind_keywords(g.kind), found);
    if (use && kind)
      level = TargetLevel::both;
    else if (use)
      level = TargetLevel::use;
    else if (kind)
      level = TargetLevel::kind;
    else if (any_keyword(info_words, area_words, generic_gathering_keywords(), found))
      level = TargetLevel::generic;
  }
  if (terms) *terms = std::move(found);
  return level;
}

}  // namespace

struct GatheringIndex::Impl {
  MatchOptions opt;
  std::shared_ptr<const GeocodeTable> geocodes;
  std::vector<std::optional<GatheringRef>> slots;
  std::vector<BBox> boxes;
  std::vector<std::size_t> free_slots;
  std::unordered_map<std::string, std::size_t> by_id;
  Tree tree;
};

GatheringIndex::GatheringIndex(MatchOptions opt) : impl_(std::make_unique<Impl>()) {
  impl_->opt = opt;
}
GatheringIndex::~GatheringIndex() = default;
GatheringIndex::GatheringIndex(GatheringIndex&&) noexcept = default;
GatheringIndex& GatheringIndex::operator=(GatheringIndex&&) noexcept = default;

void GatheringIndex::set_geocodes(std::shared_ptr<const GeocodeTable> table) {
  impl_->geocodes = std::move(table);
}

void GatheringIndex::upsert(GatheringRef g) {
  if (!(g.lat >= -90 && g.lat <= 90 && g.lon >= -180 && g.lon <= 180 && g.radius_m >= 0 &&
        std::isfinite(g.radius_m)))
    throw std::invalid_argument(
        fmt::format("gathering {}: venue point ({}, {}) radius {} m out of range", g.id, g.lat,
                    g.lon, g.radius_m));
  remove(g.id);
  Impl& m = *impl_;
  std::size_t slot;
  if (!m.free_slots.empty()) {
    slot = m.free_slots.back();
    m.free_slots.pop_back();
  } else {
    slot = m.slots.size();
    m.slots.emplace_back();
    m.boxes.emplace_back();
  }
  const BBox box = to_bbox(box_around({g.lat, g.lon}, g.radius_m));
  m.by_id.emplace(g.id, slot);
  m.slots[slot] = std::move(g);
  m.boxes[slot] = box;
  m.tree.insert(Entry(box, slot));
}

bool GatheringIndex::remove(std::string_view id) {
  Impl& m = *impl_;
  const auto it = m.by_id.find(std::string(id));
  if (it == m.by_id.end()) return false;
  const std::size_t slot = it->second;
  m.tree.remove(Entry(m.boxes[slot], slot));
  m.slots[slot].reset();
  m.free_slots.push_back(slot);
  m.by_id.erase(it);
  return true;
}

const GatheringRef* GatheringIndex::find(std::string_view id) const {
  const auto it = impl_->by_id.find(std::string(id));
  return it == impl_->by_id.end() ? nullptr : &*impl_->slots[it->second];
}

std::size_t GatheringIndex::size() const { return impl_->by_id.size(); }

Window info_window(const CapAlert& alert, const CapInfo& info, const MatchOptions& opt) {
  Window w;
  w.start_ms = info.onset_ms       ? *info.onset_ms
               : info.effective_ms ? *info.effective_ms
                                   : alert.sent_ms;
  if (info.expires_ms) {
    w.end_ms = *info.expires_ms;
  } else {
    w.expires_assumed = true;
    const TimeMs d = info.urgency == Urgency::Immediate  ? opt.default_duration_immediate_ms
                     : info.urgency == Urgency::Expected ? opt.default_duration_expected_ms
                                                         : opt.default_duration_other_ms;
    w.end_ms = w.start_ms + d;
  }
  return w;
}

TargetLevel classify_target(const CapInfo& info, const CapArea* area, const GatheringRef& g,
                            std::vector<std::string>* terms) {
  return classify(info_text_words(info),
                  area ? words_of(area->area_desc) : std::vector<std::string>{}, g, terms);
}

std::vector<Match> GatheringIndex::match(const CapAlert& alert, TimeMs now_ms) const {
  const Impl& m = *impl_;
  std::vector<Match> out;
  if (!allowed(alert, m.opt)) return out;
  struct Hit {
    std::size_t area = 0;
    double area_m2 = INFINITY;
    std::string via;
    double distance_m = 0;
    std::vector<std::size_t> areas;
  };
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < alert.infos.size(); ++i) {
    const CapInfo& info = alert.infos[i];
    const Window w = info_window(alert, info, m.opt);
    if (w.end_ms < now_ms) continue;
    const TimeMs from_ms = std::max(w.start_ms, now_ms);
    std::unordered_map<std::size_t, Hit> hits;
    for (std::size_t k = 0; k < info.areas.size(); ++k) {
      const CapArea& area = info.areas[k];
      std::vector<Shape> shapes;
      double size_m2 = 0;
      for (std::size_t j = 0; j < area.polygons.size(); ++j) {
        shapes.push_back({&area.polygons[j], nullptr, fmt::format("polygon[{}]", j)});
        size_m2 += area_m2(area.polygons[j]);
      }
      for (std::size_t j = 0; j < area.circles.size(); ++j) {
        shapes.push_back({nullptr, &area.circles[j], fmt::format("circle[{}]", j)});
        size_m2 += area_m2(area.circles[j]);
      }
      if (m.geocodes) {
        for (const auto& gc : area.geocodes) {
          const GeocodeRegion* r = m.geocodes->find(gc.name, gc.value);
          if (!r) continue;
          const std::string via = fmt::format("geocode {}={}", gc.name, gc.value);
          for (const auto& p : r->polygons) shapes.push_back({&p, nullptr, via});
          for (const auto& c : r->circles) shapes.push_back({nullptr, &c, via});
          size_m2 += r->area_m2;
        }
      }
      for (const Shape& s : shapes) {
        candidates.clear();
        for (const DegBox& b : s.polygon ? query_boxes(*s.polygon) : query_boxes(*s.circle))
          for (auto it = m.tree.qbegin(bgi::intersects(to_bbox(b))); it != m.tree.qend(); ++it)
            candidates.push_back(it->second);
        for (std::size_t slot : candidates) {
          const GatheringRef& g = *m.slots[slot];
          if (g.ends_ms < from_ms || g.starts_ms > w.end_ms || g.ends_ms < w.start_ms) continue;
          const double d = distance_to(s, {g.lat, g.lon});
          if (!(d <= g.radius_m)) continue;
          Hit& h = hits[slot];
          if (h.areas.empty() || h.areas.back() != k) h.areas.push_back(k);
          if (size_m2 < h.area_m2) {
            h.area = k;
            h.area_m2 = size_m2;
            h.via = s.via;
            h.distance_m = d;
          }
        }
      }
    }
    if (hits.empty()) continue;
    const std::vector<std::string> info_words = info_text_words(info);
    std::vector<std::vector<std::string>> area_words(info.areas.size());
    for (std::size_t k = 0; k < info.areas.size(); ++k)
      area_words[k] = words_of(info.areas[k].area_desc);
    const std::size_t first = out.size();
    for (auto& [slot, h] : hits) {
      const GatheringRef& g = *m.slots[slot];
      Match mt;
      mt.gathering_id = g.id;
      mt.venue_id = g.venue_id;
      mt.info_index = i;
      mt.area_index = h.area;
      mt.area_indices = std::move(h.areas);
      std::sort(mt.area_indices.begin(), mt.area_indices.end());
      mt.area_indices.erase(std::unique(mt.area_indices.begin(), mt.area_indices.end()),
                            mt.area_indices.end());
      mt.area_desc = info.areas[h.area].area_desc;
      mt.place_via = std::move(h.via);
      mt.distance_m = h.distance_m;
      mt.area_m2 = h.area_m2;
      mt.window_start_ms = w.start_ms;
      mt.window_end_ms = w.end_ms;
      mt.expires_assumed = w.expires_assumed;
      mt.target = classify(info_words, area_words[h.area], g, &mt.target_terms);
      SpecificityInput in;
      in.area_m2 = h.area_m2;
      in.window_h = static_cast<double>(std::max<TimeMs>(0, w.end_ms - w.start_ms)) / 3.6e6;
      in.expires_assumed = w.expires_assumed;
      in.target = mt.target;
      in.target_terms = mt.target_terms;
      in.certainty = info.certainty;
      in.urgency = info.urgency;
      in.severity = info.severity;
      mt.specificity = specificity(in);
      out.push_back(std::move(mt));
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
              [](const Match& a, const Match& b) {
                if (a.specificity.score != b.specificity.score)
                  return a.specificity.score > b.specificity.score;
                return a.gathering_id < b.gathering_id;
              });
  }
  return out;
}

nlohmann::json to_json(const Match& m) {
  return {{"gathering", m.gathering_id},
          {"venue", m.venue_id},
          {"info", m.info_index},
          {"area", m.area_index},
          {"areas", m.area_indices},
          {"areaDesc", m.area_desc},
          {"place_via", m.place_via},
          {"distance_m", m.distance_m},
          {"area_m2", m.area_m2},
          {"window",
           {{"start", format_cap_time(m.window_start_ms)},
            {"end", format_cap_time(m.window_end_ms)},
            {"expires_assumed", m.expires_assumed}}},
          {"target", to_string(m.target)},
          {"target_terms", m.target_terms},
          {"specificity", to_json(m.specificity)}};
}

}  // namespace vigil::warn
