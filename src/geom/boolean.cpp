// SPDX-License-Identifier: Apache-2.0
#include "geom/boolean.hpp"

// Boost.Geometry's set operations trip GCC 12's -Wmaybe-uninitialized in optimised builds
// (false positives inside boost/geometry/algorithms/detail/overlay).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <boost/geometry/geometries/multi_polygon.hpp>

namespace vigil::geom {
namespace {

namespace bg = boost::geometry;
using BPoint = bg::model::d2::point_xy<double>;
using BPolygon = bg::model::polygon<BPoint>;  // clockwise outer, closed
using BMulti = bg::model::multi_polygon<BPolygon>;

void to_boost_ring(const Ring& r, bool want_clockwise, BPolygon::ring_type& out) {
  const bool clockwise = signed_area(r) < 0;
  out.clear();
  if (clockwise == want_clockwise) {
    for (const Vec2& p : r) out.emplace_back(p.x, p.y);
  } else {
    for (auto it = r.rbegin(); it != r.rend(); ++it) out.emplace_back(it->x, it->y);
  }
  if (!r.empty()) out.push_back(out.front());
}

BPolygon to_boost(const Polygon& p) {
  BPolygon out;
  to_boost_ring(p.outer, true, out.outer());
  for (const Ring& h : p.holes) {
    out.inners().emplace_back();
    to_boost_ring(h, false, out.inners().back());
  }
  return out;
}

BMulti to_boost(const MultiPolygon& m) {
  BMulti out;
  for (const Polygon& p : m) out.push_back(to_boost(p));
  return out;
}

Ring from_boost_ring(const BPolygon::ring_type& r) {
  Ring out;
  out.reserve(r.size());
  for (const BPoint& p : r) out.push_back({p.x(), p.y()});
  if (out.size() > 1 && out.front() == out.back()) out.pop_back();
  return out;
}

MultiPolygon from_boost(const BMulti& m) {
  MultiPolygon out;
  for (const BPolygon& p : m) {
    Polygon poly;
    poly.outer = from_boost_ring(p.outer());
    for (const auto& h : p.inners()) poly.holes.push_back(from_boost_ring(h));
    out.push_back(std::move(poly));
  }
  return out;
}

}  // namespace

MultiPolygon union_all(const MultiPolygon& parts) {
  BMulti acc;
  for (const Polygon& p : parts) {
    BMulti next;
    BPolygon bp = to_boost(p);
    bg::union_(acc, bp, next);
    acc = std::move(next);
  }
  return from_boost(acc);
}

MultiPolygon difference(const MultiPolygon& a, const MultiPolygon& b) {
  if (b.empty()) return a;
  BMulti out;
  bg::difference(to_boost(a), to_boost(b), out);
  return from_boost(out);
}

MultiPolygon intersection(const MultiPolygon& a, const MultiPolygon& b) {
  BMulti out;
  bg::intersection(to_boost(a), to_boost(b), out);
  return from_boost(out);
}

double intersection_area(const Polygon& a, const Polygon& b) {
  if (!bounds(a).intersects(bounds(b))) return 0;
  BMulti out;
  bg::intersection(to_boost(a), to_boost(b), out);
  return bg::area(out);
}

}  // namespace vigil::geom

#pragma GCC diagnostic pop
