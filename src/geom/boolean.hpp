// SPDX-License-Identifier: Apache-2.0
// Polygon boolean operations (Boost.Geometry behind a plain interface, so that only
// geom/boolean.cpp pays its compile time).
#pragma once

#include "geom/geom.hpp"

namespace vigil::geom {

// The union of all parts, as non-overlapping polygons.
MultiPolygon union_all(const MultiPolygon& parts);
MultiPolygon difference(const MultiPolygon& a, const MultiPolygon& b);
MultiPolygon intersection(const MultiPolygon& a, const MultiPolygon& b);
// Area of a ∩ b without building the result where it is cheap to avoid.
double intersection_area(const Polygon& a, const Polygon& b);

}  // namespace vigil::geom
