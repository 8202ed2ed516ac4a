#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds Vigil's example venues and their evacuation scenarios.

Running this script (Python 3 standard library only, fully deterministic) rewrites, next to it:

  concert-hall.geojson  "riverside-hall": a ~6,000-person concert hall; a standing floor with a
                        stage, front-of-stage pit and bars, a foyer with three main entrances, and
                        a seated balcony on level 1 reached by two stairs.
  stadium.geojson       "north-stadium": a ~24,000-seat single-level stadium bowl round a pitch,
                        vomitories to a concourse ring and twelve gates.
  school.geojson        "school-43": a two-storey school; corridors with classrooms on both sides,
                        two stairways, an entrance hall and a sports/assembly hall.
  *-evacuation.json     one evacuation scenario per venue (docs: scenario-and-results.md).

The venue format is described in venue-format.md (a GeoJSON profile): coordinates are local
metres, x east and y north, the same frame on every level. Walls are the absence of area: rooms
are separate `area` polygons with a wall gap between them, and every doorway is a small area
rectangle bridging the gap with a `door` line across it.

Usage:
  python3 examples/make_examples.py           write every file, then check them
  python3 examples/make_examples.py --check   only check the files on disk (exit 1 on errors)

The check uses plain Python geometry: rings closed and simple, unique ids, exits on the outline
of their level's areas (0.05 m), doors across walkable space and spanning their doorway, stair
edges on area outlines of the right levels and footprints clear of every area, zones inside
walkable space and not overlapping, capacities within max_density x walkable area, line counters
oriented so that `in` enters their `into` zone, and every walkable cell reaching an exit (a
0.25 m raster flood fill through the stairs).
"""

import argparse
import json
import math
import os
import sys
from collections import deque

HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------------------------------------
# Small geometry helpers (shared by the builders and the check)


def rect(x0, y0, x1, y1):
    """An open counter-clockwise ring of the rectangle [x0,x1] x [y0,y1]."""
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def signed_area(ring):
    n = len(ring)
    return 0.5 * sum(ring[i][0] * ring[(i + 1) % n][1] - ring[(i + 1) % n][0] * ring[i][1]
                     for i in range(n))


def ring_contains(ring, p):
    """Even-odd point in ring (ring open or closed)."""
    x, y = p
    inside = False
    n = len(ring)
    for i in range(n):
        (x0, y0), (x1, y1) = ring[i], ring[(i + 1) % n]
        if (y0 > y) != (y1 > y):
            xc = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if xc > x:
                inside = not inside
    return inside


def poly_contains(rings, p):
    """Even-odd over the outer ring and its holes."""
    return sum(1 for r in rings if ring_contains(r, p)) % 2 == 1


def seg_dist(p, a, b):
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / L2))
    return math.hypot(ax + t * dx - p[0], ay + t * dy - p[1])


def ring_edges(ring):
    n = len(ring)
    return [(ring[i], ring[(i + 1) % n]) for i in range(n)]


def dist_to_boundary(rings, p):
    return min(seg_dist(p, a, b) for r in rings for a, b in ring_edges(r))


def lerp(a, b, t):
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def left_normal(a, b):
    dx, dy = b[0] - a[0], b[1] - a[1]
    L = math.hypot(dx, dy)
    return (-dy / L, dx / L)


def offset(p, n, d):
    return (p[0] + n[0] * d, p[1] + n[1] * d)


def orient(o, a, b):
    v = (b[0] - a[0]) * (o[1] - a[1]) - (b[1] - a[1]) * (o[0] - a[0])
    return 0 if abs(v) < 1e-12 else (1 if v > 0 else -1)


def on_segment(p, a, b):
    return (min(a[0], b[0]) - 1e-12 <= p[0] <= max(a[0], b[0]) + 1e-12 and
            min(a[1], b[1]) - 1e-12 <= p[1] <= max(a[1], b[1]) + 1e-12)


def segments_intersect(a, b, c, d):
    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    if o1 != o2 and o3 != o4:
        return True
    return ((o1 == 0 and on_segment(c, a, b)) or (o2 == 0 and on_segment(d, a, b)) or
            (o3 == 0 and on_segment(a, c, d)) or (o4 == 0 and on_segment(b, c, d)))


def self_intersection(ring):
    """First pair of non-adjacent edges that touch, or None (ring open)."""
    n = len(ring)
    for i in range(n):
        if ring[i] == ring[(i + 1) % n]:
            return (i, i + 1)
    edges = ring_edges(ring)
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if segments_intersect(*edges[i], *edges[j]):
                return (i, j)
    return None


# ----------------------------------------------------------------------------------------------
# Output formatting


def num(v):
    """Rounds to the millimetre; integral values are written without a decimal point."""
    r = round(float(v), 3)
    if r == int(r):
        return int(r)
    return r


def pt(p):
    return [num(p[0]), num(p[1])]


def closed(ring):
    pts = [pt(p) for p in ring]
    return pts + [pts[0]]


def compact(obj, indent=0, width=100):
    """JSON, indented, but any value whose one-line form fits in `width` stays on one line."""
    one = json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    if len(one) + indent <= width or not isinstance(obj, (dict, list)) or not obj:
        return one
    pad = " " * (indent + 2)
    if isinstance(obj, dict):
        items = [f'{pad}{json.dumps(k)}: {compact(v, indent + 2, width)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + compact(v, indent + 2, width) for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


# ----------------------------------------------------------------------------------------------
# Venue builder


class Venue:
    def __init__(self, **header):
        self.header = {"format": "venue", "version": 1, **header}
        self.features = []
        self.ids = set()
        self.areas = {}  # level -> list of open rings (outer only; builders use no area holes
        #                  where orientation matters)
        self.area_rings = {}  # level -> list of ring lists
        self.zones = {}  # id -> (level, rings)

    def _add(self, kind, fid, name, geometry, **props):
        assert fid not in self.ids, f"duplicate id {fid}"
        self.ids.add(fid)
        p = {"kind": kind, "id": fid, "name": name}
        p.update({k: v for k, v in props.items() if v is not None})
        self.features.append({"type": "Feature", "properties": p, "geometry": geometry})

    @staticmethod
    def _poly(ring, holes=()):
        outer = list(ring) if signed_area(ring) > 0 else list(reversed(ring))
        rings = [closed(outer)]
        for h in holes:
            h = list(h) if signed_area(h) < 0 else list(reversed(h))
            rings.append(closed(h))
        return {"type": "Polygon", "coordinates": rings}

    @staticmethod
    def _line(a, b):
        return {"type": "LineString", "coordinates": [pt(a), pt(b)]}

    def area(self, level, fid, name, ring, holes=()):
        self._add("area", fid, name, self._poly(ring, holes), level=level)
        self.area_rings.setdefault(level, []).append([list(ring)] + [list(h) for h in holes])

    def obstacle(self, level, fid, name, ring):
        self._add("obstacle", fid, name, self._poly(ring), level=level)

    def inside_areas(self, level, p):
        return any(poly_contains(rings, p) for rings in self.area_rings.get(level, []))

    def zone(self, level, fid, name, ring, use, capacity=None, max_density=None, holes=()):
        self._add("zone", fid, name, self._poly(ring, holes), level=level, use=use,
                  capacity=capacity, max_density=max_density)
        self.zones[fid] = (level, [list(ring)] + [list(h) for h in holes])

    def zone_at(self, level, p):
        for zid, (zl, rings) in self.zones.items():
            if zl == level and poly_contains(rings, p):
                return zid
        return None

    def line_counter(self, level, fid, name, a, b, into, frm, inward=None):
        """A line counter across a..b, flipped if needed so that `in` (crossing right to left
        when walking a->b) enters zone `into`: towards the unit vector `inward` when given, else
        towards the side where zone `into` is."""
        n = left_normal(a, b)
        m = lerp(a, b, 0.5)
        zl, rings = self.zones[into]
        if inward is not None:
            if n[0] * inward[0] + n[1] * inward[1] < 0:
                a, b = b, a
        elif zl == level:
            for d in (0.3, 0.6, 1.0, 1.5, 2.0, 3.0):
                if poly_contains(rings, offset(m, n, d)):
                    break
                if poly_contains(rings, offset(m, n, -d)):
                    a, b = b, a
                    break
            else:
                raise AssertionError(f"{fid}: zone {into} is on neither side")
        self._add("sensor", fid, name, self._line(a, b), level=level, type="line_counter",
                  into=into, **{"from": frm})

    def point_sensor(self, level, fid, name, p, kind, zone):
        assert self.zones[zone][0] == level and poly_contains(self.zones[zone][1], p), fid
        self._add("sensor", fid, name, {"type": "Point", "coordinates": pt(p)}, level=level,
                  type=kind, zone=zone)

    def exit(self, level, fid, name, a, b, counter=True, inset=0.3):
        """A final exit on an area outline, with a line counter `inset` metres inside it."""
        self._add("exit", fid, name, self._line(a, b), level=level)
        if not counter:
            return
        n = left_normal(a, b)
        m = lerp(a, b, 0.5)
        if not self.inside_areas(level, offset(m, n, 0.1)):
            n = (-n[0], -n[1])
        assert self.inside_areas(level, offset(m, n, 0.1)), fid
        ca, cb = offset(a, n, inset), offset(b, n, inset)
        into = self.zone_at(level, offset(m, n, inset + 0.2))
        assert into, f"no zone inside exit {fid}"
        self.line_counter(level, f"lc-{fid}", f"Counter at {name}", ca, cb, into, "outside",
                          inward=n)

    def door(self, level, fid, name, a, b):
        self._add("door", fid, name, self._line(a, b), level=level)

    def doorway(self, level, fid, name, a, b, wall, into=None, frm=None):
        """A doorway through a wall: `a`-`b` is the door line in the middle of the wall (its
        length is the door width), `wall` the wall thickness. Adds the bridging area, the door
        and, when `into` is given, a line counter on the door line."""
        n = left_normal(a, b)
        h = wall / 2
        ring = [offset(a, n, -h), offset(b, n, -h), offset(b, n, h), offset(a, n, h)]
        self.area(level, f"a-{fid}", f"{name} (doorway)", ring)
        self.door(level, fid, name, a, b)
        if into:
            self.line_counter(level, f"lc-{fid}", f"Counter at {name}", a, b, into, frm)

    def stair(self, fid, name, footprint, bottom, top, from_level, to_level, length_m):
        self._add("stair", fid, name, self._poly(footprint), from_level=from_level,
                  to_level=to_level, bottom=[pt(bottom[0]), pt(bottom[1])],
                  top=[pt(top[0]), pt(top[1])], length_m=length_m)

    def dumps(self):
        out = ["{", '  "type": "FeatureCollection",',
               '  "vigil": ' + compact(self.header, 2) + ",",
               '  "features": [']
        lines = [
            "    " + json.dumps(f, ensure_ascii=False, separators=(", ", ": ")) for f in self.features
        ]
        out.append(",\n".join(lines))
        out += ["  ]", "}"]
        return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------
# 1. Riverside Hall: a concert hall for about 6,000


def concert_hall():
    v = Venue(id="riverside-hall", name="Riverside Hall", origin={"lat": 55.8233, "lon": 37.3869},
              use="concert_hall", egress_limit_s=480)
    # Level 0. The hall is 44 m x 70 m (x 0..44, y 0..70) with the stage at the north end; the
    # foyer runs along the south side behind a 0.5 m wall (y -0.5..0), 11.5 m deep plus a 2 m strip
    # along the entrance front that also reaches the two stair towers (x -6..0 and 44..50).
    W = 0.5
    v.area(0, "a-hall", "Main hall", rect(0, 0, 44, 70))
    v.area(0, "a-foyer", "Foyer",
           [(-6, -14), (50, -14), (50, -12), (44, -12), (44, -0.5), (0, -0.5), (0, -12), (-6, -12)])
    v.obstacle(0, "o-stage", "Stage", rect(8, 58, 36, 70))
    v.obstacle(0, "o-bar-w", "West bar", rect(0, 20, 3, 30))
    v.obstacle(0, "o-bar-e", "East bar", rect(41, 20, 44, 30))
    v.obstacle(0, "o-bar-foyer", "Foyer bar", rect(0, -10, 1.2, -3))
    v.obstacle(0, "o-cloakroom", "Cloakroom counter and store", rect(17, -3.5, 27, -0.5))

    # Level 1: the balcony over the back of the hall (y 0..14) and its foyer over the main foyer,
    # with landings at the top of the two stairs.
    v.area(1, "a-balcony", "Balcony", rect(0, 0, 44, 14))
    v.area(1, "a-balcony-foyer", "Balcony foyer",
           [(-6, -4), (0, -4), (0, -12), (44, -12), (44, -4), (50, -4), (50, -0.5), (-6, -0.5)])

    # Zones (before the openings, whose counters look their zones up).
    floor = [(0, 0), (44, 0), (44, 20), (37, 20), (37, 30), (44, 30), (44, 58), (36, 58), (36, 50),
             (8, 50), (8, 58), (0, 58), (0, 30), (7, 30), (7, 20), (0, 20)]
    v.zone(0, "floor", "Standing floor", floor, "standing", capacity=4300, max_density=2.0)
    v.zone(0, "pit", "Front-of-stage pit", rect(8, 50, 36, 58), "standing", capacity=550,
           max_density=2.5)
    v.zone(0, "wing-w", "Stage-left wing", rect(0, 58, 8, 70), "circulation", max_density=1.0)
    v.zone(0, "wing-e", "Stage-right wing", rect(36, 58, 44, 70), "circulation", max_density=1.0)
    v.zone(0, "bar-queue-w", "West bar queue", rect(3, 20, 7, 30), "queue", capacity=60,
           max_density=2.0)
    v.zone(0, "bar-queue-e", "East bar queue", rect(37, 20, 41, 30), "queue", capacity=60,
           max_density=2.0)
    foyer = [(-6, -14), (50, -14), (50, -12), (44, -12), (44, -0.5), (27, -0.5), (27, -7),
             (17, -7), (17, -0.5), (0, -0.5), (0, -3), (4.2, -3), (4.2, -10), (0, -10), (0, -12),
             (-6, -12)]
    v.zone(0, "foyer", "Foyer", foyer, "circulation", max_density=2.0)
    v.zone(0, "foyer-bar-queue", "Foyer bar queue", rect(1.2, -10, 4.2, -3), "queue", capacity=40,
           max_density=2.0)
    v.zone(0, "cloakroom-queue", "Cloakroom queue", rect(17, -7, 27, -3.5), "queue", capacity=60,
           max_density=2.0)
    v.zone(1, "balcony", "Balcony seating", rect(0, 0, 44, 14), "seated", capacity=950,
           max_density=2.0)
    v.zone(1, "balcony-foyer", "Balcony foyer",
           [(-6, -4), (0, -4), (0, -12), (44, -12), (44, -4), (50, -4), (50, -0.5), (-6, -0.5)],
           "circulation", max_density=2.0)

    # Doors between the foyer and the hall: four double doors (2.4 m), symmetric about x = 22.
    for k, cx in enumerate((6.7, 14.2, 29.8, 37.3), start=1):
        v.doorway(0, f"D{k}", f"Hall door {k}", (cx - 1.2, -W / 2), (cx + 1.2, -W / 2), W,
                  into="floor", frm="foyer")
    # Doors between the balcony foyer and the balcony: three 2.0 m openings.
    for k, cx in enumerate((8, 22, 36), start=1):
        v.doorway(1, f"BD{k}", f"Balcony door {k}", (cx - 1.0, -W / 2), (cx + 1.0, -W / 2), W,
                  into="balcony", frm="balcony-foyer")

    # Final exits. Three 3.6 m main entrances on the foyer front, two 2.4 m exits on each side
    # wall of the hall, one 2.4 m exit from each stage wing, and a 1.8 m exit from each end of
    # the balcony to an external escape stair.
    for k, x0 in enumerate((4.2, 20.2, 36.2), start=1):
        v.exit(0, f"E{k}", f"Main entrance {k}", (x0, -14), (x0 + 3.6, -14))
    v.exit(0, "E4", "Hall west exit (south)", (0, 10), (0, 12.4))
    v.exit(0, "E5", "Hall west exit (north)", (0, 40), (0, 42.4))
    v.exit(0, "E6", "Hall east exit (south)", (44, 10), (44, 12.4))
    v.exit(0, "E7", "Hall east exit (north)", (44, 40), (44, 42.4))
    v.exit(0, "E8", "Stage-left wing exit", (0, 62), (0, 64.4))
    v.exit(0, "E9", "Stage-right wing exit", (44, 62), (44, 64.4))
    v.exit(1, "E10", "Balcony west exit to external stair", (0, 10), (0, 11.8))
    v.exit(1, "E11", "Balcony east exit to external stair", (44, 10), (44, 11.8))

    # Two 2.4 m stairs in towers at the ends of the foyer: each rises northwards from the foyer
    # strip (y = -12, level 0) to a landing of the balcony foyer (y = -4, level 1).
    for sid, name, x0 in (("S1", "West stair", -6), ("S2", "East stair", 47.6)):
        v.stair(sid, name, rect(x0, -12, x0 + 2.4, -4), ((x0, -12), (x0 + 2.4, -12)),
                ((x0, -4), (x0 + 2.4, -4)), 0, 1, 12)
        v.line_counter(1, f"lc-{sid}", f"Counter at top of {name.lower()}", (x0, -3.5),
                       (x0 + 2.4, -3.5), "balcony-foyer", "foyer")

    for zid, p, lvl in (("floor", (22, 25), 0), ("pit", (22, 54), 0), ("foyer", (22, -10), 0),
                        ("balcony", (22, 7), 1), ("balcony-foyer", (22, -8), 1)):
        v.point_sensor(lvl, f"zc-{zid}", f"Occupancy of {zid.replace('-', ' ')}", p, "zone_counter",
                       zid)
    v.point_sensor(0, "dn-floor", "Density camera, floor", (22, 40), "density", "floor")
    v.point_sensor(0, "dn-pit", "Density camera, pit", (22, 52), "density", "pit")

    scenario = {
        "vigil": {"format": "scenario", "version": 1},
        "venue": "concert-hall.geojson",
        "seed": 1,
        "runs": 1,
        "model": {"name": "cfsm"},
        "time_step_s": 0.05,
        "max_time_s": 1800,
        "population": [
            {"zone": "floor", "count": 3900},
            {"zone": "pit", "count": 500},
            {"zone": "bar-queue-w", "count": 40},
            {"zone": "bar-queue-e", "count": 40},
            {"zone": "foyer", "count": 150},
            {"zone": "foyer-bar-queue", "count": 25},
            {"zone": "cloakroom-queue", "count": 35},
            {"zone": "balcony", "count": 900},
            {"zone": "balcony-foyer", "count": 30},
        ],
        "profile": {
            "speed_m_s": {"distribution": "normal", "mean": 1.34, "sd": 0.26, "min": 0.46,
                          "max": 1.61},
            "premovement_s": {"distribution": "uniform", "min": 0, "max": 60},
            "radius_m": 0.2,
        },
        "groups": [{"name": "limited mobility", "share": 0.03,
                    "speed_m_s": {"distribution": "uniform", "min": 0.46, "max": 0.76}}],
        "routing": "quickest",
        "measure": {"lines": [{"id": "M1", "level": 0, "line": [[20.2, -13.5], [23.8, -13.5]]}]},
    }
    return v, scenario


# ----------------------------------------------------------------------------------------------
# 2. North Stadium: a ~24,000-seat single-level bowl


def stadium():
    v = Venue(id="north-stadium", name="North Stadium", origin={"lat": 55.8915, "lon": 37.4412},
              use="stadium", egress_limit_s=480)
    # The pitch with its run-off (x -60..60, y -40..40) is not walkable: it is the hole of the
    # stand bowl. The bowl is 25 m deep all round (x -85..85, y -65..65): side stands, end stands
    # and corner stands. A 1 m wall separates it from a 10 m concourse ring (x -96..96,
    # y -76..76) whose outer wall holds the gates. The stands are drawn at concourse level (one
    # level): the rake is not modelled, a seated spectator needs ~0.5 m^2 including aisles.
    v.area(0, "a-bowl", "Stand bowl", rect(-85, -65, 85, 65), holes=[rect(-60, -40, 60, 40)])
    v.area(0, "a-concourse", "Concourse ring", rect(-96, -76, 96, 76), holes=[rect(-86, -66, 86, 66)])

    blocks = []  # (id, name, ring, seats)
    for side, ys, label in (("n", (40, 65), "North"), ("s", (-65, -40), "South")):
        for k, x0 in enumerate((-60, -30, 0, 30), start=1):
            blocks.append((f"{side}{k}", f"{label} stand block {side.upper()}{k}",
                           rect(x0, ys[0], x0 + 30, ys[1]), 1460))
    for side, xs, label in (("e", (60, 85), "East"), ("w", (-85, -60), "West")):
        for k, y0 in enumerate((-40, 0), start=1):
            blocks.append((f"{side}{k}", f"{label} stand block {side.upper()}{k}",
                           rect(xs[0], y0, xs[1], y0 + 40), 1950))
    for cid, xs, ys, label in (("ne", (60, 85), (40, 65), "North-east"),
                               ("nw", (-85, -60), (40, 65), "North-west"),
                               ("se", (60, 85), (-65, -40), "South-east"),
                               ("sw", (-85, -60), (-65, -40), "South-west")):
        blocks.append((cid, f"{label} corner block", rect(xs[0], ys[0], xs[1], ys[1]), 1220))
    for bid, name, ring, seats in blocks:
        v.zone(0, f"block-{bid}", name, ring, "seated", capacity=seats, max_density=2.0)

    conc = {"n": ("North concourse", rect(-96, 66, 96, 76)),
            "s": ("South concourse", rect(-96, -76, 96, -66)),
            "e": ("East concourse", rect(86, -66, 96, 66)),
            "w": ("West concourse", rect(-96, -66, -86, 66))}
    for c, (name, ring) in conc.items():
        v.zone(0, f"concourse-{c}", name, ring, "circulation", max_density=2.0)

    # Vomitories: 2.4 m openings through the 1 m wall at the back of the stands, two per block.
    VW, WALL = 2.4, 1.0

    def vom(vid, name, centre, axis, into, frm):
        cx, cy = centre
        if axis == "x":  # wall runs along x (north/south stands): door line along x
            a, b = (cx - VW / 2, cy), (cx + VW / 2, cy)
        else:
            a, b = (cx, cy - VW / 2), (cx, cy + VW / 2)
        v.doorway(0, vid, name, a, b, WALL, into=into, frm=frm)

    n = 0
    for bid, name, ring, seats in blocks:
        x0, y0 = ring[0]
        x1, y1 = ring[2]
        if bid[0] in "ns" and len(bid) == 2:  # side stand block: back wall at y = +-65.5
            yw = 65.5 if bid[0] == "n" else -65.5
            for cx in (x0 + 7.5, x0 + 22.5):
                n += 1
                vom(f"V{n}", f"Vomitory V{n} ({name})", (cx, yw), "x", f"block-{bid}",
                    f"concourse-{bid[0]}")
        elif bid[0] in "ew" and len(bid) == 2:  # end stand block: back wall at x = +-85.5
            xw = 85.5 if bid[0] == "e" else -85.5
            for cy in (y0 + 10, y0 + 30):
                n += 1
                vom(f"V{n}", f"Vomitory V{n} ({name})", (xw, cy), "y", f"block-{bid}",
                    f"concourse-{bid[0]}")
        else:  # corner block: one vomitory on each outer face
            yw = 65.5 if bid[0] == "n" else -65.5
            xw = 85.5 if bid[1] == "e" else -85.5
            n += 1
            vom(f"V{n}", f"Vomitory V{n} ({name})", ((x0 + x1) / 2, yw), "x", f"block-{bid}",
                f"concourse-{bid[0]}")
            n += 1
            vom(f"V{n}", f"Vomitory V{n} ({name})", (xw, (y0 + y1) / 2), "y", f"block-{bid}",
                f"concourse-{bid[1]}")

    # Twelve 4.8 m gates on the outer wall: four on each side, two at each end.
    GW = 4.8
    g = 0
    for y, label in ((76, "North"), (-76, "South")):
        for cx in (-60, -20, 20, 60):
            g += 1
            v.exit(0, f"G{g}", f"{label} gate {g}", (cx - GW / 2, y), (cx + GW / 2, y))
    for x, label in ((96, "East"), (-96, "West")):
        for cy in (-30, 30):
            g += 1
            v.exit(0, f"G{g}", f"{label} gate {g}", (x, cy - GW / 2), (x, cy + GW / 2))

    for bid, name, ring, seats in blocks:
        x0, y0 = ring[0]
        x1, y1 = ring[2]
        v.point_sensor(0, f"zc-block-{bid}", f"Occupancy of {name}", ((x0 + x1) / 2, (y0 + y1) / 2),
                       "zone_counter", f"block-{bid}")
    for c, (name, ring) in conc.items():
        x0, y0 = ring[0]
        x1, y1 = ring[2]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        v.point_sensor(0, f"zc-concourse-{c}", f"Occupancy of {name}", (cx, cy), "zone_counter",
                       f"concourse-{c}")
        dx, dy = (20, 0) if c in "ns" else (0, 20)
        v.point_sensor(0, f"dn-concourse-{c}", f"Density camera, {name}", (cx + dx, cy + dy),
                       "density", f"concourse-{c}")

    # About 90 % full: 21,900 spectators plus 400 on the concourse.
    population = []
    for bid, name, ring, seats in blocks:
        population.append({"zone": f"block-{bid}", "count": int(round(seats * 0.9, -1))})
    for c in conc:
        population.append({"zone": f"concourse-{c}", "count": 100})
    scenario = {
        "vigil": {"format": "scenario", "version": 1},
        "venue": "stadium.geojson",
        "seed": 1,
        "runs": 1,
        "model": {"name": "cfsm"},
        "time_step_s": 0.05,
        "max_time_s": 3600,
        "population": population,
        "profile": {
            "speed_m_s": {"distribution": "normal", "mean": 1.34, "sd": 0.26, "min": 0.46,
                          "max": 1.61},
            "premovement_s": {"distribution": "uniform", "min": 0, "max": 90},
            "radius_m": 0.2,
        },
        "groups": [{"name": "limited mobility", "share": 0.03,
                    "speed_m_s": {"distribution": "uniform", "min": 0.46, "max": 0.76}}],
        "routing": "quickest",
        "measure": {"lines": [{"id": "M1", "level": 0, "line": [[-22.4, 75.5], [-17.6, 75.5]]}]},
    }
    return v, scenario


# ----------------------------------------------------------------------------------------------
# 3. School No. 43: two storeys of classrooms


def school():
    v = Venue(id="school-43", name="School No. 43", origin={"lat": 55.9107, "lon": 37.7326},
              use="school", egress_limit_s=300)
    # A 3 m corridor (y -1.5..1.5, x 0..76.5) on both levels. On each side, behind a 0.5 m wall,
    # nine 8 m x 7 m slots (x 0.5+8.5k .. 8.5+8.5k, y 2..9 north and -9..-2 south) hold the
    # classrooms; the north slots 0 and 8 are the stairwells, and on level 0 south slot 4 is the
    # entrance hall. The sports and assembly hall (24 m x 18 m) closes the east end of level 0.
    W = 0.5
    CW = 3.0
    v.area(0, "a-corridor-0", "Ground floor corridor", rect(0, -1.5, 76.5, 1.5))
    # Level 1: the corridor with the two stair landings: from the top of each flight (y 8.5) a
    # landing leads back, behind a 0.6 m wall beside the flight, to the corridor (dog-leg stair).
    corridor1 = [(0, -1.5), (76.5, -1.5), (76.5, 1.5), (73.0, 1.5), (73.0, 8.5), (76.0, 8.5),
                 (76.0, 11), (70.6, 11), (70.6, 1.5), (6.4, 1.5), (6.4, 11), (1.0, 11),
                 (1.0, 8.5), (4.0, 8.5), (4.0, 1.5), (0, 1.5)]
    v.area(1, "a-corridor-1", "First floor corridor and stair landings", corridor1)
    v.area(0, "a-entrance", "Entrance hall", rect(34.5, -9, 42.5, -2))
    v.area(0, "a-hall", "Sports and assembly hall", rect(77, -9, 101, 9))

    v.zone(0, "corridor-0", "Ground floor corridor", rect(0, -1.5, 76.5, 1.5), "circulation",
           max_density=1.0)
    v.zone(1, "corridor-1", "First floor corridor", corridor1, "circulation", max_density=1.0)
    v.zone(0, "entrance", "Entrance hall", rect(34.5, -9, 42.5, -2), "circulation",
           max_density=1.0)
    v.zone(0, "hall", "Sports and assembly hall", rect(77, -9, 101, 9), "standing", capacity=400,
           max_density=2.0)

    rooms = []  # (level, id, name, ring, door a, door b)
    for level in (0, 1):
        number = 1
        for side in ("n", "s"):
            for k in range(9):
                if side == "n" and k in (0, 8):
                    continue  # stairwells
                if level == 0 and side == "s" and k == 4:
                    continue  # entrance hall
                x0 = 0.5 + 8.5 * k
                if side == "n":
                    ring = rect(x0, 2, x0 + 8, 9)
                    a, b = (x0 + 1.0, 1.75), (x0 + 2.0, 1.75)
                else:
                    ring = rect(x0, -9, x0 + 8, -2)
                    a, b = (x0 + 1.0, -1.75), (x0 + 2.0, -1.75)
                rid = f"{level + 1}{number:02d}"
                rooms.append((level, f"room-{rid}", f"Classroom {rid}", ring, a, b))
                number += 1
    for level, rid, name, ring, a, b in rooms:
        v.area(level, f"a-{rid}", name, ring)
        v.zone(level, rid, name, ring, "seated", capacity=30, max_density=1.0)
        v.doorway(level, f"d-{rid}", f"Door of {name.lower()}", a, b, W)

    v.doorway(0, "d-entrance", "Entrance hall doors", (36.5, -1.75), (40.5, -1.75), W,
              into="corridor-0", frm="entrance")
    v.doorway(0, "d-hall", "Hall doors", (76.75, -1.2), (76.75, 1.2), W, into="hall",
              frm="corridor-0")

    v.exit(0, "E1", "Main entrance", (36.7, -9), (40.3, -9))
    v.exit(0, "E2", "West end exit", (0, -0.9), (0, 0.9))
    v.exit(0, "E3", "Hall east exit", (101, -0.9), (101, 0.9))
    v.exit(0, "E4", "Hall north exit", (88.1, 9), (89.9, 9))

    # Two dog-leg stairs, 2.4 m wide: the flight rises north from the ground-floor corridor
    # (y = 1.5) to the landing (y = 8.5); 3.6 m storey height, 7 m going.
    for sid, name, x0 in (("S1", "West stair", 1.0), ("S2", "East stair", 73.6)):
        v.stair(sid, name, rect(x0, 1.5, x0 + 2.4, 8.5), ((x0, 1.5), (x0 + 2.4, 1.5)),
                ((x0, 8.5), (x0 + 2.4, 8.5)), 0, 1, 8.5)
        v.line_counter(1, f"lc-{sid}", f"Counter at top of {name.lower()}", (x0, 9.0),
                       (x0 + 2.4, 9.0), "corridor-1", "corridor-0")

    v.point_sensor(0, "zc-hall", "Occupancy of the sports and assembly hall", (89, 0),
                   "zone_counter", "hall")
    v.point_sensor(0, "dn-hall", "Density camera, sports and assembly hall", (85, 4), "density",
                   "hall")
    v.point_sensor(0, "zc-entrance", "Occupancy of the entrance hall", (38.5, -5.5),
                   "zone_counter", "entrance")

    population = [{"zone": rid, "count": 30} for level, rid, name, ring, a, b in rooms]
    population.append({"zone": "hall", "count": 28})
    scenario = {
        "vigil": {"format": "scenario", "version": 1},
        "venue": "school.geojson",
        "seed": 1,
        "runs": 1,
        "model": {"name": "cfsm"},
        "time_step_s": 0.05,
        "max_time_s": 1200,
        "population": population,
        "profile": {
            "speed_m_s": {"distribution": "normal", "mean": 1.3, "sd": 0.25, "min": 0.6,
                          "max": 1.8},
            "premovement_s": {"distribution": "uniform", "min": 0, "max": 30},
            "radius_m": 0.18,
        },
        "routing": "quickest",
        "measure": {"lines": [{"id": "M1", "level": 0, "line": [[36.7, -8.5], [40.3, -8.5]]}]},
    }
    return v, scenario


EXAMPLES = {
    "concert-hall": concert_hall,
    "stadium": stadium,
    "school": school,
}


# ----------------------------------------------------------------------------------------------
# The check


class Raster:
    """Cells of `cell` metres; a cell is inside a polygon when its centre is (even-odd)."""

    def __init__(self, box, cell=0.25):
        x0, y0, x1, y1 = box
        self.cell = cell
        self.ox = math.floor(x0) - 1
        self.oy = math.floor(y0) - 1
        self.nx = int(math.ceil((x1 - self.ox) / cell)) + 4
        self.ny = int(math.ceil((y1 - self.oy) / cell)) + 4

    def new(self):
        return bytearray(self.nx * self.ny)

    def centre(self, i, j):
        return (self.ox + (i + 0.5) * self.cell, self.oy + (j + 0.5) * self.cell)

    def cells(self, rings):
        """Yields (i, j) of every cell whose centre is inside the polygon."""
        ys = [p[1] for r in rings for p in r]
        j0 = max(0, int(math.floor((min(ys) - self.oy) / self.cell)) - 1)
        j1 = min(self.ny - 1, int(math.ceil((max(ys) - self.oy) / self.cell)) + 1)
        edges = [e for r in rings for e in ring_edges(r)]
        for j in range(j0, j1 + 1):
            yc = self.oy + (j + 0.5) * self.cell
            xs = []
            for (xa, ya), (xb, yb) in edges:
                if (ya > yc) != (yb > yc):
                    xs.append(xa + (yc - ya) * (xb - xa) / (yb - ya))
            xs.sort()
            for k in range(0, len(xs) - 1, 2):
                i0 = max(0, int(math.ceil((xs[k] - self.ox) / self.cell - 0.5)))
                i1 = min(self.nx - 1, int(math.floor((xs[k + 1] - self.ox) / self.cell - 0.5)))
                for i in range(i0, i1 + 1):
                    yield i, j

    def fill(self, mask, rings, value):
        for i, j in self.cells(rings):
            mask[j * self.nx + i] = value


def check_file(path, quiet=False):
    """Returns (errors, warnings, summary lines)."""
    errors, warnings, info = [], [], []
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    name = os.path.basename(path)

    def err(where, msg):
        errors.append(f"{name}: {where}: {msg}")

    def warn(where, msg):
        warnings.append(f"{name}: {where}: warning: {msg}")

    h = doc.get("vigil", {})
    if doc.get("type") != "FeatureCollection" or h.get("format") != "venue" or h.get("version") != 1:
        err("vigil", "not a version 1 venue FeatureCollection")
    if h.get("use") not in ("concert_hall", "theatre", "stadium", "arena", "exhibition",
                            "shopping_centre", "transport_hub", "school", "university",
                            "hospital", "place_of_worship", "outdoor_event", "other"):
        err("vigil.use", f"unknown use {h.get('use')!r}")

    ids = {}
    areas, obstacles = {}, {}  # level -> [rings]
    exits, doors, zones, stairs, sensors = [], [], {}, [], []
    for idx, feat in enumerate(doc["features"]):
        p = feat.get("properties", {})
        kind = p.get("kind")
        fid = p.get("id")
        where = f"features[{idx}] ({kind} {fid!r})"
        if not fid:
            err(where, "no id")
        elif fid in ids:
            err(where, f"duplicate id (features[{ids[fid]}])")
        else:
            ids[fid] = idx
        if not p.get("name"):
            err(where, "no name")
        g = feat.get("geometry", {})
        gtype = g.get("type")
        rings = None
        if gtype == "Polygon":
            rings = []
            for r, ring in enumerate(g["coordinates"]):
                if len(ring) < 4:
                    err(where, f"ring {r} has {len(ring)} positions (< 4)")
                if ring[0] != ring[-1]:
                    err(where, f"ring {r} is not closed")
                op = [tuple(q) for q in ring[:-1]]
                hit = self_intersection(op)
                if hit:
                    err(where, f"ring {r} self-intersects (edges {hit[0]} and {hit[1]})")
                if (signed_area(op) > 0) != (r == 0):
                    warn(where, f"ring {r} is not {'counter-' if r == 0 else ''}clockwise "
                                "(RFC 7946 winding)")
                rings.append(op)
        level = p.get("level", 0)
        if kind == "area":
            areas.setdefault(level, []).append(rings)
        elif kind == "obstacle":
            obstacles.setdefault(level, []).append(rings)
        elif kind in ("exit", "door"):
            c = [tuple(q) for q in g["coordinates"]]
            if gtype != "LineString" or len(c) != 2:
                err(where, "not a 2-point LineString")
                continue
            (exits if kind == "exit" else doors).append((where, fid, level, c[0], c[1]))
        elif kind == "zone":
            zones[fid] = (where, level, rings, p)
        elif kind == "stair":
            stairs.append((where, fid, p, rings))
        elif kind == "sensor":
            sensors.append((where, fid, level, p, g))
        else:
            err(where, f"unknown kind {kind!r}")

    def in_area(level, q):
        return any(poly_contains(r, q) for r in areas.get(level, []))

    def walkable(level, q):
        return in_area(level, q) and not any(poly_contains(r, q) for r in obstacles.get(level, []))

    def near_area_edge(level, q, tol=0.05):
        return min((dist_to_boundary(r, q) for r in areas.get(level, [])), default=1e9) <= tol

    # Exits: on an area outline, with walkable space on exactly one side.
    for where, fid, level, a, b in exits:
        if level not in areas:
            err(where, f"level {level} has no area")
            continue
        for t in (0, 0.25, 0.5, 0.75, 1):
            q = lerp(a, b, t)
            if not near_area_edge(level, q):
                err(where, f"point at t={t} is not on an area boundary (0.05 m)")
                break
        n = left_normal(a, b)
        for t in (0.1, 0.5, 0.9):
            q = lerp(a, b, t)
            sides = [in_area(level, offset(q, n, 0.1)), in_area(level, offset(q, n, -0.1))]
            if sides.count(True) != 1:
                err(where, "is not on the outline of the level's areas (area on "
                           f"{'both' if all(sides) else 'neither'} side(s))")
                break
        w = math.dist(a, b)
        if not 0.8 <= w <= 6.0:
            warn(where, f"unusual exit width {w:.2f} m")

    # Doors: across walkable space, spanning a doorway (wall just beyond both ends).
    for where, fid, level, a, b in doors:
        n = left_normal(a, b)
        m = lerp(a, b, 0.5)
        if not walkable(level, m):
            err(where, "midpoint is not in walkable space")
        for d in (0.2, -0.2):
            if not walkable(level, offset(m, n, d)):
                err(where, "walkable space does not continue through the door")
        u = ((b[0] - a[0]) / math.dist(a, b), (b[1] - a[1]) / math.dist(a, b))
        if walkable(level, offset(b, u, 0.1)) or walkable(level, offset(a, u, -0.1)):
            warn(where, "door does not span its whole doorway (walkable space beyond an end)")

    # Stairs: edges on the footprint and on area outlines of the right levels; footprint clear
    # of every area.
    for where, fid, p, rings in stairs:
        fl, tl = p.get("from_level"), p.get("to_level")
        for key, lvl in (("bottom", fl), ("top", tl)):
            e = [tuple(q) for q in p[key]]
            if lvl not in areas:
                err(where, f"level {lvl} has no area")
                continue
            for t in (0, 0.5, 1):
                q = lerp(e[0], e[1], t)
                if dist_to_boundary(rings, q) > 0.05:
                    err(where, f"{key} edge is not on the footprint outline")
                    break
                if not near_area_edge(lvl, q):
                    err(where, f"{key} edge is not on an area outline of level {lvl}")
                    break
            n = left_normal(*e)
            inner = offset(lerp(e[0], e[1], 0.5), n, 0.1)
            if not poly_contains(rings, inner):
                n = (-n[0], -n[1])
            if not in_area(lvl, offset(lerp(e[0], e[1], 0.5), n, -0.1)):
                err(where, f"no level-{lvl} area beyond the {key} edge")
        xs = [q[0] for q in rings[0]]
        ys = [q[1] for q in rings[0]]
        ras = Raster((min(xs), min(ys), max(xs), max(ys)), 0.1)
        for lvl in areas:
            bad = sum(1 for i, j in ras.cells(rings) if in_area(lvl, ras.centre(i, j)))
            if bad:
                err(where, f"footprint overlaps level-{lvl} areas (~{bad * 0.01:.2f} m²)")

    # Rasters per level: walkable space, zones, connectivity.
    rasters, walk = {}, {}
    for lvl, polys in areas.items():
        pts = [q for r in polys for ring in r for q in ring]
        ras = Raster((min(q[0] for q in pts), min(q[1] for q in pts),
                      max(q[0] for q in pts), max(q[1] for q in pts)))
        m = ras.new()
        for r in polys:
            ras.fill(m, r, 1)
        for r in obstacles.get(lvl, []):
            ras.fill(m, r, 0)
        rasters[lvl], walk[lvl] = ras, m

    owner = {lvl: {} for lvl in areas}
    cell_area = 0.25 * 0.25
    zone_area = {}
    for zid, (where, level, rings, p) in zones.items():
        if level not in areas:
            err(where, f"level {level} has no area")
            continue
        ras = rasters[level]
        total = inside = 0
        for i, j in ras.cells(rings):
            k = j * ras.nx + i
            total += 1
            if walk[level][k]:
                inside += 1
            other = owner[level].get(k)
            if other and other != zid:
                warn(where, f"overlaps zone {other!r}")
                owner[level][k] = zid
            owner[level][k] = zid
        a_exact = abs(signed_area(rings[0])) - sum(abs(signed_area(r)) for r in rings[1:])
        a_walk = inside * cell_area
        zone_area[zid] = (a_exact, a_walk)
        if total and inside / total < 0.97:
            warn(where, f"only {100 * inside / total:.0f}% of the zone is walkable")
        cap, md = p.get("capacity"), p.get("max_density")
        if cap is not None and md is not None and cap > md * a_exact * (inside / max(total, 1)) + 0.5:
            warn(where, f"capacity {cap} above max_density {md} x walkable area {a_walk:.1f} m²")
        if p.get("use") not in ("standing", "seated", "circulation", "queue", "stair", "other"):
            err(where, f"unknown zone use {p.get('use')!r}")
    # de-duplicate overlap warnings
    warnings[:] = list(dict.fromkeys(warnings))

    # Sensors.
    for where, fid, level, p, g in sensors:
        t = p.get("type")
        if t == "line_counter":
            into, frm = p.get("into"), p.get("from")
            if into not in zones:
                err(where, f"unknown into zone {into!r}")
                continue
            if frm != "outside" and frm not in zones:
                err(where, f"unknown from zone {frm!r}")
                continue
            a, b = [tuple(q) for q in g["coordinates"]]
            n = left_normal(a, b)
            m = lerp(a, b, 0.5)

            def side_zone(sign, skip=None):
                # The first zone met walking away from the line on one side (ignoring `skip`),
                # or "outside" once past the level's areas.
                for d in (0.2, 0.4, 0.6, 1.0, 1.5, 2.0):
                    q = offset(m, n, sign * d)
                    for zid, (_, zl, rings, _) in zones.items():
                        if zl == level and zid != skip and poly_contains(rings, q):
                            return zid
                    if not in_area(level, q):
                        return "outside"
                return None
            left, right = side_zone(1), side_zone(-1, skip=into)
            if zones[into][1] == level and left != into:
                err(where, f"the left side (in) is {left!r}, not into={into!r}")
            if (frm == "outside" or zones[frm][1] == level) and right != frm and left == into:
                err(where, f"the right side (out) is {right!r}, not from={frm!r}")
        elif t in ("zone_counter", "density"):
            z = p.get("zone")
            if z not in zones:
                err(where, f"unknown zone {z!r}")
                continue
            if zones[z][1] != level or not poly_contains(zones[z][2], tuple(g["coordinates"])):
                err(where, f"point is not inside zone {z!r}")
        else:
            err(where, f"unknown sensor type {t!r}")

    # Connectivity: flood fill from the exits, through the stairs.
    reached = {lvl: bytearray(len(walk[lvl])) for lvl in walk}
    queue = deque()

    def seed_near(lvl, a, b, d=0.35):
        ras = rasters[lvl]
        i0 = int((min(a[0], b[0]) - d - ras.ox) / ras.cell) - 1
        i1 = int((max(a[0], b[0]) + d - ras.ox) / ras.cell) + 1
        j0 = int((min(a[1], b[1]) - d - ras.oy) / ras.cell) - 1
        j1 = int((max(a[1], b[1]) + d - ras.oy) / ras.cell) + 1
        out = []
        for j in range(max(0, j0), min(ras.ny, j1 + 1)):
            for i in range(max(0, i0), min(ras.nx, i1 + 1)):
                k = j * ras.nx + i
                if walk[lvl][k] and seg_dist(ras.centre(i, j), a, b) <= d:
                    out.append(k)
        return out

    for where, fid, level, a, b in exits:
        if level in walk:
            for k in seed_near(level, a, b):
                if not reached[level][k]:
                    reached[level][k] = 1
                    queue.append((level, k))
    portals = []
    for where, fid, p, rings in stairs:
        fl, tl = p.get("from_level"), p.get("to_level")
        if fl in walk and tl in walk:
            portals.append((seed_near(fl, *[tuple(q) for q in p["bottom"]]), fl,
                            seed_near(tl, *[tuple(q) for q in p["top"]]), tl))
    while True:
        while queue:
            lvl, k = queue.popleft()
            nx = rasters[lvl].nx
            w, r = walk[lvl], reached[lvl]
            for kk in (k - 1, k + 1, k - nx, k + nx):
                if 0 <= kk < len(w) and w[kk] and not r[kk]:
                    r[kk] = 1
                    queue.append((lvl, kk))
        for bot, fl, top, tl in portals:
            for (src, sl), (dst, dl) in (((bot, fl), (top, tl)), ((top, tl), (bot, fl))):
                if any(reached[sl][k] for k in src):
                    for k in dst:
                        if not reached[dl][k]:
                            reached[dl][k] = 1
                            queue.append((dl, k))
        if not queue:
            break
    for lvl in walk:
        lost = sum(1 for k in range(len(walk[lvl])) if walk[lvl][k] and not reached[lvl][k])
        if lost:
            warn(f"level {lvl}", f"{lost * cell_area:.1f} m² of walkable space cannot reach an exit")

    # Summary.
    info.append(f"{name}: {h.get('id')} ({h.get('use')}), {len(doc['features'])} features")
    for lvl in sorted(walk):
        wa = sum(walk[lvl]) * cell_area
        info.append(f"  level {lvl}: walkable ~{wa:,.0f} m²")
    total_cap = 0
    for zid, (where, level, rings, p) in zones.items():
        a_exact, a_walk = zone_area.get(zid, (0, 0))
        cap = p.get("capacity")
        if cap:
            total_cap += cap
    info.append(f"  zones: {len(zones)}, stated capacity {total_cap:,}")
    by_level = {}
    for where, fid, level, a, b in exits:
        by_level.setdefault(level, []).append(math.dist(a, b))
    for lvl, ws in sorted(by_level.items()):
        info.append(f"  exits on level {lvl}: {len(ws)}, total width {sum(ws):.1f} m")
    info.append(f"  doors: {len(doors)}, stairs: {len(stairs)}, sensors: {len(sensors)}")
    return errors, warnings, info


def write_all():
    for base, build in EXAMPLES.items():
        venue, scenario = build()
        with open(os.path.join(HERE, base + ".geojson"), "w", encoding="utf-8") as f:
            f.write(venue.dumps())
        with open(os.path.join(HERE, base + "-evacuation.json"), "w", encoding="utf-8") as f:
            f.write(compact(scenario) + "\n")


def check_all():
    n_err = n_warn = 0
    for base in EXAMPLES:
        path = os.path.join(HERE, base + ".geojson")
        errors, warnings, info = check_file(path)
        for line in info + errors + warnings:
            print(line)
        n_err += len(errors)
        n_warn += len(warnings)
        with open(os.path.join(HERE, base + "-evacuation.json"), encoding="utf-8") as f:
            sc = json.load(f)
        ids = set()
        with open(path, encoding="utf-8") as f:
            for feat in json.load(f)["features"]:
                if feat["properties"].get("kind") == "zone":
                    ids.add(feat["properties"]["id"])
        people = 0
        for entry in sc["population"]:
            if "zone" in entry and entry["zone"] not in ids:
                print(f"{base}-evacuation.json: population: unknown zone {entry['zone']!r}")
                n_err += 1
            people += entry.get("count", 0)
        print(f"  {base}-evacuation.json: {people:,} people")
    print(f"check: {n_err} error(s), {n_warn} warning(s)")
    return n_err == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only check the files on disk")
    args = ap.parse_args()
    if not args.check:
        write_all()
    return 0 if check_all() else 1


if __name__ == "__main__":
    sys.exit(main())
