// SPDX-License-Identifier: Apache-2.0
// Plain 2-D geometry in local metres: the value types every layer shares, and the cheap
// operations on them. Boolean operations (union, difference) are in geom/boolean.hpp.
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace vigil::geom {

struct Vec2 {
  double x = 0;
  double y = 0;

  Vec2 operator+(Vec2 o) const { return {x + o.x, y + o.y}; }
  Vec2 operator-(Vec2 o) const { return {x - o.x, y - o.y}; }
  Vec2 operator*(double s) const { return {x * s, y * s}; }
  Vec2 operator/(double s) const { return {x / s, y / s}; }
  Vec2& operator+=(Vec2 o) { x += o.x; y += o.y; return *this; }
  Vec2& operator-=(Vec2 o) { x -= o.x; y -= o.y; return *this; }
  bool operator==(const Vec2&) const = default;
};

inline double dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
inline double cross(Vec2 a, Vec2 b) { return a.x * b.y - a.y * b.x; }
inline double norm(Vec2 a) { return std::sqrt(dot(a, a)); }
inline double distance(Vec2 a, Vec2 b) { return norm(a - b); }
// Unit vector along `a`, or (0,0) for a zero vector.
inline Vec2 normalized(Vec2 a) {
  const double n = norm(a);
  return n > 0 ? a / n : Vec2{};
}

struct Segment {
  Vec2 a;
  Vec2 b;
  double length() const { return distance(a, b); }
  Vec2 midpoint() const { return (a + b) * 0.5; }
};

// A ring is stored open: the closing point of GeoJSON is dropped, so ring[i]..ring[(i+1)%n]
// are its edges.
using Ring = std::vector<Vec2>;

struct Polygon {
  Ring outer;
  std::vector<Ring> holes;
};
using MultiPolygon = std::vector<Polygon>;

struct Box {
  Vec2 min{INFINITY, INFINITY};
  Vec2 max{-INFINITY, -INFINITY};
  void extend(Vec2 p);
  void extend(const Box& b);
  bool empty() const { return min.x > max.x; }
  double width() const { return max.x - min.x; }
  double height() const { return max.y - min.y; }
  bool contains(Vec2 p) const { return p.x >= min.x && p.x <= max.x && p.y >= min.y && p.y <= max.y; }
  bool intersects(const Box& b) const {
    return !(b.min.x > max.x || b.max.x < min.x || b.min.y > max.y || b.max.y < min.y);
  }
};

Box bounds(const Ring& r);
Box bounds(const Polygon& p);
Box bounds(const MultiPolygon& m);
Box bounds(const Segment& s);

// Shoelace area: positive for counter-clockwise rings.
double signed_area(const Ring& r);
// Area of the outer ring minus its holes (always >= 0).
double area(const Polygon& p);
// Sum of part areas (the parts are assumed not to overlap; see geom/boolean.hpp otherwise).
double area(const MultiPolygon& m);

// Even-odd point-in-ring test; points on the boundary may go either way.
bool ring_contains(const Ring& r, Vec2 p);
bool contains(const Polygon& poly, Vec2 p);
bool contains(const MultiPolygon& m, Vec2 p);

// Distance from p to the closest point of segment s, and that point's parameter t in [0,1].
double distance(Vec2 p, const Segment& s, double* t_out = nullptr);
Vec2 closest_point(const Segment& s, Vec2 p);
// Distance from p to the nearest edge of any ring of the polygon(s).
double distance_to_boundary(const Polygon& poly, Vec2 p);
double distance_to_boundary(const MultiPolygon& m, Vec2 p);

// Do the closed segments s and t share a point?
bool segments_intersect(const Segment& s, const Segment& t);
// Proper crossing: the segments cross at one interior point of both.
bool segments_cross(const Segment& s, const Segment& t);

// The first pair of non-adjacent edges (i, j) of the ring that touch or cross, if any.
// Also reports a ring with repeated consecutive points (as (i, i+1)).
std::optional<std::pair<std::size_t, std::size_t>> find_self_intersection(const Ring& r);

// Length of the part of segment s that lies inside the polygon(s), in metres.
double length_inside(const Segment& s, const MultiPolygon& m);

}  // namespace vigil::geom
