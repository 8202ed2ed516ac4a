// SPDX-License-Identifier: Apache-2.0
#include "geom/geom.hpp"

#include <algorithm>

namespace vigil::geom {

void Box::extend(Vec2 p) {
  min.x = std::min(min.x, p.x);
  min.y = std::min(min.y, p.y);
  max.x = std::max(max.x, p.x);
  max.y = std::max(max.y, p.y);
}

void Box::extend(const Box& b) {
  if (b.empty()) return;
  extend(b.min);
  extend(b.max);
}

Box bounds(const Ring& r) {
  Box b;
  for (const Vec2& p : r) b.extend(p);
  return b;
}

Box bounds(const Polygon& p) { return bounds(p.outer); }

Box bounds(const MultiPolygon& m) {
  Box b;
  for (const Polygon& p : m) b.extend(bounds(p));
  return b;
}

Box bounds(const Segment& s) {
  Box b;
  b.extend(s.a);
  b.extend(s.b);
  return b;
}

double signed_area(const Ring& r) {
  const std::size_t n = r.size();
  if (n < 3) return 0;
  double twice = 0;
  for (std::size_t i = 0; i < n; ++i) twice += cross(r[i], r[(i + 1) % n]);
  return twice / 2;
}

double area(const Polygon& p) {
  double a = std::abs(signed_area(p.outer));
  for (const Ring& h : p.holes) a -= std::abs(signed_area(h));
  return std::max(a, 0.0);
}

double area(const MultiPolygon& m) {
  double a = 0;
  for (const Polygon& p : m) a += area(p);
  return a;
}

bool ring_contains(const Ring& r, Vec2 p) {
  bool inside = false;
  const std::size_t n = r.size();
  for (std::size_t i = 0, j = n - 1; i < n; j = i++) {
    const Vec2& a = r[i];
    const Vec2& b = r[j];
    if ((a.y > p.y) != (b.y > p.y)) {
      const double x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
      if (p.x < x) inside = !inside;
    }
  }
  return inside;
}

bool contains(const Polygon& poly, Vec2 p) {
  if (!ring_contains(poly.outer, p)) return false;
  for (const Ring& h : poly.holes)
    if (ring_contains(h, p)) return false;
  return true;
}

bool contains(const MultiPolygon& m, Vec2 p) {
  return std::any_of(m.begin(), m.end(), [&](const Polygon& poly) { return contains(poly, p); });
}

double distance(Vec2 p, const Segment& s, double* t_out) {
  const Vec2 d = s.b - s.a;
  const double len2 = dot(d, d);
  double t = len2 > 0 ? dot(p - s.a, d) / len2 : 0;
  t = std::clamp(t, 0.0, 1.0);
  if (t_out) *t_out = t;
  return distance(p, s.a + d * t);
}

Vec2 closest_point(const Segment& s, Vec2 p) {
  double t = 0;
  distance(p, s, &t);
  return s.a + (s.b - s.a) * t;
}

namespace {

double distance_to_ring(const Ring& r, Vec2 p) {
  double best = INFINITY;
  const std::size_t n = r.size();
  for (std::size_t i = 0; i < n; ++i) best = std::min(best, distance(p, Segment{r[i], r[(i + 1) % n]}));
  return best;
}

// Orientation of c relative to the line a->b: >0 left, <0 right, 0 collinear (with tolerance
// scaled to the coordinates).
int orientation(Vec2 a, Vec2 b, Vec2 c) {
  const double v = cross(b - a, c - a);
  const double scale = std::max({std::abs(b.x - a.x), std::abs(b.y - a.y), std::abs(c.x - a.x),
                                 std::abs(c.y - a.y), 1e-12});
  const double eps = 1e-12 * scale * scale;
  return v > eps ? 1 : (v < -eps ? -1 : 0);
}

bool on_segment(Vec2 a, Vec2 b, Vec2 p) {
  return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) && std::min(a.y, b.y) <= p.y &&
         p.y <= std::max(a.y, b.y);
}

}  // namespace

double distance_to_boundary(const Polygon& poly, Vec2 p) {
  double best = distance_to_ring(poly.outer, p);
  for (const Ring& h : poly.holes) best = std::min(best, distance_to_ring(h, p));
  return best;
}

double distance_to_boundary(const MultiPolygon& m, Vec2 p) {
  double best = INFINITY;
  for (const Polygon& poly : m) best = std::min(best, distance_to_boundary(poly, p));
  return best;
}

bool segments_intersect(const Segment& s, const Segment& t) {
  const int o1 = orientation(s.a, s.b, t.a);
  const int o2 = orientation(s.a, s.b, t.b);
  const int o3 = orientation(t.a, t.b, s.a);
  const int o4 = orientation(t.a, t.b, s.b);
  if (o1 != o2 && o3 != o4) return true;
  if (o1 == 0 && on_segment(s.a, s.b, t.a)) return true;
  if (o2 == 0 && on_segment(s.a, s.b, t.b)) return true;
  if (o3 == 0 && on_segment(t.a, t.b, s.a)) return true;
  if (o4 == 0 && on_segment(t.a, t.b, s.b)) return true;
  return false;
}

bool segments_cross(const Segment& s, const Segment& t) {
  const int o1 = orientation(s.a, s.b, t.a);
  const int o2 = orientation(s.a, s.b, t.b);
  const int o3 = orientation(t.a, t.b, s.a);
  const int o4 = orientation(t.a, t.b, s.b);
  return o1 * o2 < 0 && o3 * o4 < 0;
}

std::optional<std::pair<std::size_t, std::size_t>> find_self_intersection(const Ring& r) {
  const std::size_t n = r.size();
  if (n < 3) return std::nullopt;
  for (std::size_t i = 0; i < n; ++i)
    if (r[i] == r[(i + 1) % n]) return std::make_pair(i, (i + 1) % n);
  // Edge i joins r[i] and r[i+1]. Adjacent edges share one endpoint and are skipped unless
  // they fold back onto each other (collinear overlap).
  for (std::size_t i = 0; i < n; ++i) {
    const Segment ei{r[i], r[(i + 1) % n]};
    const Box bi = bounds(ei);
    for (std::size_t j = i + 1; j < n; ++j) {
      const Segment ej{r[j], r[(j + 1) % n]};
      const bool adjacent = (j == i + 1) || (i == 0 && j == n - 1);
      if (adjacent) {
        // Shared vertex: a fold-back is when the far endpoint of one lies on the other.
        const Vec2 shared = (j == i + 1) ? r[j] : r[i];
        const Vec2 far_i = (j == i + 1) ? ei.a : ei.b;
        const Vec2 far_j = (j == i + 1) ? ej.b : ej.a;
        if (orientation(far_i, shared, far_j) == 0 && dot(far_i - shared, far_j - shared) > 0)
          return std::make_pair(i, j);
        continue;
      }
      if (!bi.intersects(bounds(ej))) continue;
      if (segments_intersect(ei, ej)) return std::make_pair(i, j);
    }
  }
  return std::nullopt;
}

double length_inside(const Segment& s, const MultiPolygon& m) {
  // Split the segment at every crossing with any ring edge and test the midpoint of each piece.
  std::vector<double> ts{0.0, 1.0};
  const Vec2 d = s.b - s.a;
  auto add_ring = [&](const Ring& r) {
    const std::size_t n = r.size();
    for (std::size_t i = 0; i < n; ++i) {
      const Vec2 p = r[i];
      const Vec2 e = r[(i + 1) % n] - p;
      const double den = cross(d, e);
      if (std::abs(den) < 1e-15) continue;
      const double t = cross(p - s.a, e) / den;
      const double u = cross(p - s.a, d) / den;
      if (t > 0 && t < 1 && u >= 0 && u <= 1) ts.push_back(t);
    }
  };
  for (const Polygon& poly : m) {
    add_ring(poly.outer);
    for (const Ring& h : poly.holes) add_ring(h);
  }
  std::sort(ts.begin(), ts.end());
  double inside = 0;
  const double len = s.length();
  for (std::size_t k = 0; k + 1 < ts.size(); ++k) {
    const double t0 = ts[k];
    const double t1 = ts[k + 1];
    if (t1 - t0 <= 0) continue;
    if (contains(m, s.a + d * ((t0 + t1) / 2))) inside += (t1 - t0) * len;
  }
  return inside;
}

}  // namespace vigil::geom
