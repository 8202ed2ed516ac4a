// SPDX-License-Identifier: Apache-2.0
#include "warn/geo.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "geom/geom.hpp"

namespace vigil::warn {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kMetresPerDegLat = kEarthRadiusM * kDeg;

// Longitude difference folded into [-180, 180).
double dlon_deg(double lon, double lon0) {
  double d = std::fmod(lon - lon0 + 540.0, 360.0) - 180.0;
  if (d < -180.0) d += 360.0;
  return d;
}

// Local equirectangular frame around `o` (metres east, metres north).
geom::Vec2 project(LatLon p, LatLon o) {
  const double mean_lat = 0.5 * (p.lat + o.lat) * kDeg;
  return {dlon_deg(p.lon, o.lon) * kMetresPerDegLat * std::cos(mean_lat),
          (p.lat - o.lat) * kMetresPerDegLat};
}

// The polygon in the frame around `o`, as an open ring (geom's convention).
geom::Polygon project(const CapPolygon& poly, LatLon o) {
  geom::Polygon out;
  const auto& pts = poly.points;
  const std::size_t n =
      pts.size() >= 2 && pts.front().lat == pts.back().lat && pts.front().lon == pts.back().lon
          ? pts.size() - 1
          : pts.size();
  out.outer.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.outer.push_back(project(pts[i], o));
  return out;
}

void split_lon(double lat_min, double lat_max, double lon_lo, double lon_hi,
               std::vector<DegBox>& out) {
  if (lon_hi - lon_lo >= 360.0) {
    out.push_back({lat_min, -180.0, lat_max, 180.0});
    return;
  }
  if (lon_lo < -180.0) {
    out.push_back({lat_min, lon_lo + 360.0, lat_max, 180.0});
    lon_lo = -180.0;
  }
  if (lon_hi > 180.0) {
    out.push_back({lat_min, -180.0, lat_max, lon_hi - 360.0});
    lon_hi = 180.0;
  }
  out.push_back({lat_min, lon_lo, lat_max, lon_hi});
}

}  // namespace

double distance_m(LatLon a, LatLon b) {
  const double p1 = a.lat * kDeg, p2 = b.lat * kDeg;
  const double dp = p2 - p1, dl = dlon_deg(b.lon, a.lon) * kDeg;
  const double h = std::sin(dp / 2) * std::sin(dp / 2) +
                   std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

double distance_to_polygon_m(const CapPolygon& poly, LatLon p) {
  if (poly.points.size() < 2) return INFINITY;
  const geom::Polygon local = project(poly, p);  // p is the origin
  if (local.outer.size() >= 3 && geom::contains(local, geom::Vec2{})) return 0.0;
  return geom::distance_to_boundary(local, geom::Vec2{});
}

double distance_to_circle_m(const CapCircle& c, LatLon p) {
  return std::max(0.0, distance_m(c.center, p) - c.radius_km * 1000.0);
}

double area_m2(const CapPolygon& poly) {
  const auto& pts = poly.points;
  if (pts.size() < 3) return 0;
  LatLon o{0, pts.front().lon};  // frame at the mean latitude
  for (const auto& q : pts) o.lat += q.lat;
  o.lat /= static_cast<double>(pts.size());
  return std::abs(geom::signed_area(project(poly, o).outer));
}

double area_m2(const CapCircle& c) {
  const double r = c.radius_km * 1000.0;
  return std::numbers::pi * r * r;
}

std::vector<DegBox> query_boxes(const CapPolygon& poly) {
  std::vector<DegBox> out;
  if (poly.points.empty()) return out;
  // Longitudes relative to the first point, so a polygon across the antimeridian stays compact.
  const double lon0 = poly.points.front().lon;
  double lat_min = 90, lat_max = -90, lo = 0, hi = 0;
  for (const auto& q : poly.points) {
    lat_min = std::min(lat_min, q.lat);
    lat_max = std::max(lat_max, q.lat);
    const double d = dlon_deg(q.lon, lon0);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  split_lon(lat_min, lat_max, lon0 + lo, lon0 + hi, out);
  return out;
}

std::vector<DegBox> query_boxes(const CapCircle& c) {
  std::vector<DegBox> out;
  const DegBox b = box_around(c.center, c.radius_km * 1000.0);
  const double dlat = c.radius_km * 1000.0 / kMetresPerDegLat;
  const double coslat = std::cos(std::min(89.9, std::abs(c.center.lat) + dlat) * kDeg);
  const double dlon = dlat / std::max(coslat, 1e-6);
  if (b.lat_max >= 90.0 || b.lat_min <= -90.0 || dlon >= 180.0)
    out.push_back({b.lat_min, -180.0, b.lat_max, 180.0});
  else
    split_lon(b.lat_min, b.lat_max, c.center.lon - dlon, c.center.lon + dlon, out);
  return out;
}

DegBox box_around(LatLon p, double radius_m) {
  const double dlat = std::max(0.0, radius_m) / kMetresPerDegLat;
  const double coslat = std::cos(std::min(89.9, std::abs(p.lat) + dlat) * kDeg);
  const double dlon = std::min(180.0, dlat / std::max(coslat, 1e-6));
  return {std::max(-90.0, p.lat - dlat), std::max(-180.0, p.lon - dlon),
          std::min(90.0, p.lat + dlat), std::min(180.0, p.lon + dlon)};
}

}  // namespace vigil::warn
