// SPDX-License-Identifier: Apache-2.0
// Geodesy for warnings: great-circle distances, CAP shapes against a venue point, region areas
// and bounding boxes in degrees. WGS 84 coordinates on a sphere of the mean Earth radius (the
// error, < 0.5 %, is far below the precision of any warning area). Planar work (point in
// polygon, distance to edges, area) is done by src/geom in a local frame around the point.
#pragma once

#include <vector>

#include "warn/cap.hpp"

namespace vigil::warn {

inline constexpr double kEarthRadiusM = 6371008.8;  // mean radius (IUGG)

// Great-circle (haversine) distance in metres.
double distance_m(LatLon a, LatLon b);

// Bounding box in degrees; lon_min > lon_max never happens (boxes that would cross the
// antimeridian are split by query_boxes()).
struct DegBox {
  double lat_min = 0, lon_min = 0, lat_max = 0, lon_max = 0;
};

// Distance in metres from `p` to the polygon: 0 inside, else to the nearest edge. Computed in a
// local azimuthal-equidistant-like frame around `p` (exact enough for areas up to ~1000 km).
double distance_to_polygon_m(const CapPolygon& poly, LatLon p);
// Distance from `p` to the circle's disc (0 inside).
double distance_to_circle_m(const CapCircle& c, LatLon p);

// Areas in square metres.
double area_m2(const CapPolygon& poly);
double area_m2(const CapCircle& c);

// Boxes (1 or 2, split at the antimeridian) that contain the shape.
std::vector<DegBox> query_boxes(const CapPolygon& poly);
std::vector<DegBox> query_boxes(const CapCircle& c);
// The box around a point and a radius (for indexing venues), clamped to the valid range.
DegBox box_around(LatLon p, double radius_m);

}  // namespace vigil::warn
