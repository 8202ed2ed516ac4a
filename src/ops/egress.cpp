// SPDX-License-Identifier: Apache-2.0
#include "ops/egress.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace vigil::ops {

namespace {

using geom::Segment;
using geom::Vec2;
using venue::NavField;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNudge_m = 0.3;         // off an edge onto the layer beyond it
constexpr double kPortalReach_m = 0.75;  // a stair edge this close is taken when it helps
// Seconds of metered arrivals kept per exit; later arrivals count as arrived (as unmetered).
constexpr std::size_t kArrivalBins = 1024;

// One leg of a route: an opening passed on the way to the exit, and the walking distance from
// it to the exit.
struct Leg {
  int resource = -1;
  double remaining_m = 0;
};

// A tile of a zone as seen from one exit.
struct TileExit {
  bool reachable = false;
  double min_m = 0;
  double mean_m = 0;
  double max_m = 0;
  std::vector<Leg> legs;  // doors and stairs on the way (the exit itself is implicit)
};

struct Tile {
  double weight = 0;               // reachable cells of the tile
  std::vector<TileExit> per_exit;  // indexed like Data::open
};

struct ZoneData {
  std::string id;
  double area_m2 = 0;
  double reachable_cells = 0;
  double cut_off_cells = 0;
  std::vector<Tile> tiles;
};

// Unit normal of the edge pointing into the polygon.
Vec2 inward_normal(const Segment& e, const geom::Polygon& poly) {
  const Vec2 d = geom::normalized(e.b - e.a);
  Vec2 n{-d.y, d.x};
  if (!geom::contains(poly, e.midpoint() + n * 0.1)) n = n * -1.0;
  return n;
}

}  // namespace

struct EgressModel::Data {
  const venue::Venue* venue = nullptr;
  EgressConditions conditions;
  EgressOptions options;
  std::vector<int> open;         // venue exit index of each field
  std::vector<NavField> fields;  // one per open exit
  // Resources: exits [0, E), doors [E, E+D), stairs [E+D, E+D+2S) (down, up per stair).
  std::vector<std::string> resource_id;
  std::vector<double> capacity_p_s;
  std::vector<double>
      visible_people;  // per field: people who fit within visible_queue_m of its exit
  std::vector<ZoneData> zones;
  std::map<std::string, std::size_t> zone_index;

  int door_resource(std::size_t d) const { return static_cast<int>(venue->exits.size() + d); }
  int stair_resource(std::size_t s, bool up) const {
    return static_cast<int>(venue->exits.size() + venue->doors.size() + 2 * s + (up ? 1 : 0));
  }
};

double weidmann_speed_m_s(double density_p_m2, double free_speed_m_s) {
  if (!(density_p_m2 > 0.1)) return free_speed_m_s;
  const double rho = std::min(density_p_m2, 5.4);
  const double v = 1.34 * (1 - std::exp(-1.913 * (1 / rho - 1 / 5.4)));
  return std::max(0.05, std::min(free_speed_m_s, v * free_speed_m_s / 1.34));
}

double weidmann_max_flow_p_m_s(double free_speed_m_s) {
  double best = 0;
  for (int i = 100; i <= 1080; ++i) {  // 0.5 to 5.4 /m² in steps of 0.005
    const double rho = 0.005 * i;
    best = std::max(best, rho * weidmann_speed_m_s(rho, free_speed_m_s));
  }
  return best;
}

namespace {

double robust_distance(const NavField& f, int layer, Vec2 p, double cell_m) {
  return f.distance_or_around(layer, p, cell_m, f.distance(layer, p));
}

// Follows field f down from p (on `layer`) to its exit and lists the doors and stairs passed.
std::vector<int> trace_route(const EgressModel::Data& m, const NavField& f, int layer, Vec2 p) {
  const venue::Venue& v = *m.venue;
  const double step = m.options.cell_m;
  std::vector<int> passed;
  auto add = [&](int r) {
    if (std::find(passed.begin(), passed.end(), r) == passed.end()) passed.push_back(r);
  };
  double d = robust_distance(f, layer, p, step);
  if (d == kInf) return passed;
  const auto max_steps = static_cast<int>(4 * d / step) + 200;
  for (int it = 0; it < max_steps && d > 0.5; ++it) {
    const venue::NavLayer& nl = f.layers()[static_cast<std::size_t>(layer)];
    // Portals: a stair edge within reach that leads lower.
    bool switched = false;
    if (nl.kind == venue::NavLayer::Kind::level) {
      for (std::size_t s = 0; s < v.stairs.size() && !switched; ++s) {
        const venue::Stair& st = v.stairs[s];
        for (int which = 0; which < 2 && !switched; ++which) {
          const bool bottom = which == 0;
          if ((bottom ? st.from_level : st.to_level) != nl.level) continue;
          const Segment& edge = bottom ? st.bottom : st.top;
          if (geom::distance(p, edge) > kPortalReach_m) continue;
          const Vec2 q =
              geom::closest_point(edge, p) + inward_normal(edge, st.footprint) * kNudge_m;
          const int sl = f.stair_layer(static_cast<int>(s));
          const double dq = sl >= 0 ? robust_distance(f, sl, q, step) : kInf;
          if (dq < d - 0.05) {
            add(m.stair_resource(s, bottom));
            layer = sl;
            p = q;
            d = dq;
            switched = true;
          }
        }
      }
    } else {
      const venue::Stair& st = v.stairs[static_cast<std::size_t>(nl.stair)];
      for (int which = 0; which < 2 && !switched; ++which) {
        const bool bottom = which == 0;
        const Segment& edge = bottom ? st.bottom : st.top;
        if (geom::distance(p, edge) > kPortalReach_m) continue;
        const Vec2 q = geom::closest_point(edge, p) - inward_normal(edge, st.footprint) * kNudge_m;
        const int ll = f.level_layer(bottom ? st.from_level : st.to_level);
        const double dq = ll >= 0 ? robust_distance(f, ll, q, step) : kInf;
        if (dq < d - 0.05) {
          layer = ll;
          p = q;
          d = dq;
          switched = true;
        }
      }
    }
    if (switched) continue;
    Vec2 dir = f.direction(layer, p);
    if (dir == Vec2{}) dir = f.lowest_around(layer, p, step, d);
    if (dir == Vec2{}) break;  // a local minimum: give up (the legs found so far stand)
    const Vec2 q = p + dir * step;
    if (nl.kind == venue::NavLayer::Kind::level) {
      for (std::size_t k = 0; k < v.doors.size(); ++k)
        if (v.doors[k].level == nl.level &&
            geom::segments_intersect(v.doors[k].line, Segment{p, q}))
          add(m.door_resource(k));
    }
    const double dq = robust_distance(f, layer, q, step);
    if (dq == kInf) break;
    p = q;
    d = dq;
  }
  return passed;
}

// Walking distance from an opening to the exit of field f: from the door's middle, or from
// just beyond the stair edge the route leaves by.
double remaining_distance(const EgressModel::Data& m, const NavField& f, int resource) {
  const venue::Venue& v = *m.venue;
  const auto ne = static_cast<int>(v.exits.size());
  const auto nd = static_cast<int>(v.doors.size());
  const double cell = m.options.cell_m;
  if (resource < ne + nd) {
    const venue::Opening& door = v.doors[static_cast<std::size_t>(resource - ne)];
    const int layer = f.level_layer(door.level);
    if (layer < 0) return 0;
    const Vec2 mid = door.line.midpoint();
    const Vec2 dir = geom::normalized(door.line.b - door.line.a);
    const Vec2 n{-dir.y, dir.x};
    double d = robust_distance(f, layer, mid, cell);
    for (double s : {kNudge_m, -kNudge_m})
      d = std::min(d, robust_distance(f, layer, mid + n * s, cell));
    return d == kInf ? 0 : d;
  }
  const auto s = static_cast<std::size_t>((resource - ne - nd) / 2);
  const bool up = (resource - ne - nd) % 2 == 1;
  const venue::Stair& st = v.stairs[s];
  const Segment& leave = up ? st.top : st.bottom;
  const int layer = f.level_layer(up ? st.to_level : st.from_level);
  if (layer < 0) return 0;
  const Vec2 q = leave.midpoint() - inward_normal(leave, st.footprint) * kNudge_m;
  const double d = robust_distance(f, layer, q, cell);
  return d == kInf ? 0 : d;
}

}  // namespace

EgressModel::EgressModel(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
EgressModel::EgressModel(EgressModel&&) noexcept = default;
EgressModel& EgressModel::operator=(EgressModel&&) noexcept = default;
EgressModel::~EgressModel() = default;

const EgressConditions& EgressModel::conditions() const { return data_->conditions; }
const EgressOptions& EgressModel::options() const { return data_->options; }

std::vector<std::string> EgressModel::open_exits() const {
  std::vector<std::string> ids;
  for (int e : data_->open) ids.push_back(data_->venue->exits[static_cast<std::size_t>(e)].id);
  return ids;
}

EgressModel EgressModel::build(const venue::Venue& venue, const EgressConditions& conditions,
                               const EgressOptions& options) {
  auto m = std::make_shared<Data>();
  m->venue = &venue;
  m->conditions = conditions;
  m->options = options;
  const EgressOptions& o = m->options;

  // Resources and their capacities (persons/s): maximum specific flow x effective width
  // (SFPE hydraulic model: the clear width less a boundary layer on each side).
  const double level_max_flow = weidmann_max_flow_p_m_s(o.free_speed_m_s);
  auto effective_m = [](double width_m, double boundary_m) {
    return std::max(width_m - 2 * boundary_m, 0.01);
  };
  for (const venue::Opening& e : venue.exits) {
    m->resource_id.push_back(e.id);
    m->capacity_p_s.push_back(effective_m(e.width_m, o.door_boundary_m) * o.door_flow_p_m_s);
  }
  for (const venue::Opening& d : venue.doors) {
    m->resource_id.push_back(d.id);
    m->capacity_p_s.push_back(effective_m(d.width_m, o.door_boundary_m) * o.door_flow_p_m_s);
  }
  for (const venue::Stair& s : venue.stairs) {
    const double width_m =
        effective_m(std::min(s.bottom.length(), s.top.length()), o.stair_boundary_m);
    double down = o.stair_down_flow_p_m_s;
    double up = o.stair_up_flow_p_m_s;
    if (o.stair_flow_from_speed) {
      // A stair is a passage: specific flow = density x speed (Weidmann's fundamental diagram)
      // with the speeds of the stair, the horizontal part of its walking speed (the venue's
      // speed factor along the slope x plan length / walking length), as the simulation walks
      // it. Its maximum is that factor x the level's maximum.
      const double plan_m = s.plan_length_m();
      const double along = s.length_m > plan_m && plan_m > 0 ? plan_m / s.length_m : 1.0;
      down = level_max_flow * s.speed_factor_down * along;
      up = level_max_flow * s.speed_factor_up * along;
    }
    m->resource_id.push_back(s.id);
    m->capacity_p_s.push_back(width_m * down);
    m->resource_id.push_back(s.id);
    m->capacity_p_s.push_back(width_m * up);
  }

  // One field per open exit.
  venue::NavOptions base;
  base.cell_m = o.cell_m;
  base.closed = conditions.closed;
  base.hazards = conditions.hazards;
  for (std::size_t e = 0; e < venue.exits.size(); ++e)
    if (!conditions.closed.count(venue.exits[e].id)) m->open.push_back(static_cast<int>(e));
  for (int e : m->open) {
    venue::NavOptions no = base;
    for (int other : m->open)
      if (other != e) no.closed.insert(venue.exits[static_cast<std::size_t>(other)].id);
    m->fields.push_back(NavField::compute(venue, no));
  }
  const std::size_t nf = m->fields.size();
  for (const NavField& f : m->fields) {
    if (!std::isfinite(o.visible_queue_m)) {
      m->visible_people.push_back(kInf);
      continue;
    }
    double cells = 0;
    for (const venue::NavLayer& l : f.layers())
      for (float d : l.distance_m) cells += d <= o.visible_queue_m ? 1 : 0;
    m->visible_people.push_back(cells * o.cell_m * o.cell_m * o.queue_density_p_m2);
  }
  // Remaining distance from every opening to every exit.
  std::vector<std::vector<double>> remaining(nf, std::vector<double>(m->resource_id.size(), 0));
  for (std::size_t k = 0; k < nf; ++k)
    for (std::size_t r = venue.exits.size(); r < m->resource_id.size(); ++r)
      remaining[k][r] = remaining_distance(*m, m->fields[k], static_cast<int>(r));

  // A field for the grids even without open exits (everyone is cut off then).
  const NavField grid_field = nf ? NavField{} : NavField::compute(venue, base);
  const NavField& g0 = nf ? m->fields.front() : grid_field;

  for (const venue::Zone& z : venue.zones) {
    ZoneData zd;
    zd.id = z.id;
    zd.area_m2 = z.area_m2;
    const int layer = g0.level_layer(z.level);
    if (layer >= 0) {
      const venue::NavLayer& nl = g0.layers()[static_cast<std::size_t>(layer)];
      const geom::GridSpec& g = nl.grid;
      const geom::Box box = geom::bounds(z.polygon);
      const int i0 = std::max(0, g.cell_x(box.min.x)), i1 = std::min(g.nx - 1, g.cell_x(box.max.x));
      const int j0 = std::max(0, g.cell_y(box.min.y)), j1 = std::min(g.ny - 1, g.cell_y(box.max.y));
      const int tx = std::max(1, static_cast<int>(std::ceil(box.width() / o.tile_m)));
      const int ty = std::max(1, static_cast<int>(std::ceil(box.height() / o.tile_m)));
      struct Acc {
        double cells = 0;
        Vec2 sum{0, 0};
        std::vector<double> n, sum_d, min_d, max_d;
        std::vector<Vec2> pts;
      };
      std::vector<Acc> acc(static_cast<std::size_t>(tx * ty));
      for (Acc& a : acc) {
        a.n.assign(nf, 0);
        a.sum_d.assign(nf, 0);
        a.min_d.assign(nf, kInf);
        a.max_d.assign(nf, 0);
      }
      for (int j = j0; j <= j1; ++j) {
        for (int i = i0; i <= i1; ++i) {
          const Vec2 c = g.centre(i, j);
          if (!geom::contains(z.polygon, c)) continue;
          bool in_hazard = false;
          for (const venue::Hazard& h : conditions.hazards)
            in_hazard = in_hazard || (h.level == z.level && geom::contains(h.polygon, c));
          if (in_hazard) continue;  // people there walk out of it; counted where it is safe
          if (!geom::contains(venue.levels.at(z.level).walkable, c)) continue;
          const auto ti = std::min(tx - 1, static_cast<int>((c.x - box.min.x) / o.tile_m));
          const auto tj = std::min(ty - 1, static_cast<int>((c.y - box.min.y) / o.tile_m));
          Acc& a = acc[static_cast<std::size_t>(tj * tx + ti)];
          bool any = false;
          for (std::size_t k = 0; k < nf; ++k) {
            const double d =
                m->fields[k].layers()[static_cast<std::size_t>(layer)].distance_m[g.index(i, j)];
            if (!std::isfinite(d)) continue;
            any = true;
            a.n[k] += 1;
            a.sum_d[k] += d;
            a.min_d[k] = std::min(a.min_d[k], d);
            a.max_d[k] = std::max(a.max_d[k], d);
          }
          if (!any) {
            // Beside a hazard or a closed door the raster blocks a cell more: such cells are
            // not cut off if a neighbour within two cells can reach an exit.
            bool edge = false;
            for (int dj = -2; dj <= 2 && !edge; ++dj)
              for (int di = -2; di <= 2 && !edge; ++di) {
                if (!g.in_range(i + di, j + dj)) continue;
                for (std::size_t k = 0; k < nf && !edge; ++k)
                  edge = std::isfinite(m->fields[k]
                                           .layers()[static_cast<std::size_t>(layer)]
                                           .distance_m[g.index(i + di, j + dj)]);
              }
            if (!edge) zd.cut_off_cells += 1;
            continue;
          }
          a.cells += 1;
          a.sum = a.sum + c;
          a.pts.push_back(c);
        }
      }
      for (Acc& a : acc) {
        if (a.cells == 0) continue;
        Tile t;
        t.weight = a.cells;
        zd.reachable_cells += a.cells;
        const Vec2 centroid = a.sum / a.cells;
        // The tile's cell nearest its centroid starts the route traces.
        Vec2 start = a.pts.front();
        for (const Vec2& q : a.pts)
          if (geom::distance(q, centroid) < geom::distance(start, centroid)) start = q;
        t.per_exit.resize(nf);
        for (std::size_t k = 0; k < nf; ++k) {
          TileExit& te = t.per_exit[k];
          if (a.n[k] == 0) continue;
          te.reachable = true;
          te.min_m = a.min_d[k];
          te.mean_m = a.sum_d[k] / a.n[k];
          te.max_m = a.max_d[k];
          Vec2 from = start;
          if (!std::isfinite(m->fields[k].distance(layer, from))) {
            // The start cell cannot reach this exit: trace from a tile cell that can.
            for (const Vec2& q : a.pts)
              if (std::isfinite(m->fields[k].distance(layer, q))) {
                from = q;
                break;
              }
          }
          for (int r : trace_route(*m, m->fields[k], layer, from))
            te.legs.push_back({r, remaining[k][static_cast<std::size_t>(r)]});
        }
        zd.tiles.push_back(std::move(t));
      }
    } else {
      zd.cut_off_cells = 1;
    }
    m->zone_index[z.id] = m->zones.size();
    m->zones.push_back(std::move(zd));
  }
  return EgressModel(std::move(m));
}

Result<EgressEstimate> EgressModel::estimate(const ZoneOccupancy& occupancy) const {
  const Data& m = *data_;
  const EgressOptions& o = m.options;
  for (const auto& [zone, persons] : occupancy) {
    if (!m.zone_index.count(zone))
      return unexpected(Error{"occupancy[\"" + zone + "\"]", "unknown zone"});
    if (!std::isfinite(persons) || persons < 0)
      return unexpected(
          Error{"occupancy[\"" + zone + "\"]",
                "persons must be a finite number >= 0, not " + std::to_string(persons)});
  }
  EgressEstimate est;
  est.limit_s = m.venue->egress_limit_s;
  for (int e : m.open) est.exits[m.venue->exits[static_cast<std::size_t>(e)].id] = {};

  // Groups of people: a share of a tile.
  struct GroupState {
    std::size_t zone = 0;
    const Tile* tile = nullptr;
    double people = 0;
    double walk_speed_m_s = 0;
    int exit = -1;  // index into m.open
  };
  std::vector<GroupState> groups;
  for (const auto& [zone, persons] : occupancy) {
    if (persons <= 0) continue;
    const std::size_t zi = m.zone_index.at(zone);
    const ZoneData& zd = m.zones[zi];
    const double all_cells = zd.reachable_cells + zd.cut_off_cells;
    const double cut = zd.reachable_cells > 0 ? persons * zd.cut_off_cells / all_cells : persons;
    if (cut > 0) {
      est.people_cut_off += cut;
      est.cut_off_by_zone[zone] = cut;
    }
    if (zd.reachable_cells <= 0 || m.open.empty()) continue;
    const double reachable = persons - cut;
    // People at the back of a crowd walk at the crowd's speed (Weidmann).
    const double density = zd.area_m2 > 0 ? persons / zd.area_m2 : 0;
    const double speed = weidmann_speed_m_s(density, o.free_speed_m_s);
    for (const Tile& t : zd.tiles) {
      const double n = reachable * t.weight / zd.reachable_cells;
      const int parts = std::max(1, static_cast<int>(std::ceil(n / std::max(1.0, o.group_people))));
      for (int p = 0; p < parts; ++p) groups.push_back({zi, &t, n / parts, speed, -1});
    }
  }
  const std::size_t nr = m.resource_id.size();
  std::vector<double> load(nr, 0);
  std::vector<double> first_s(nr, kInf);
  const double v0 = o.free_speed_m_s;

  // Arrival time of a group's first person at a leg of its route to exit k.
  auto arrival_s = [&](const TileExit& te, const Leg& leg) {
    return std::max(0.0, te.min_m - leg.remaining_m) / v0;
  };
  // When the group would be out through exit k, with the loads as they are plus the group.
  auto finish_s = [&](const GroupState& g, std::size_t k, bool include_self) {
    const TileExit& te = g.tile->per_exit[k];
    if (!te.reachable) return kInf;
    const double self = include_self ? g.people : 0;
    double t = te.max_m / g.walk_speed_m_s;
    const auto ex = static_cast<std::size_t>(m.open[k]);
    t = std::max(t, std::min(first_s[ex], te.min_m / v0) + (load[ex] + self) / m.capacity_p_s[ex]);
    for (const Leg& leg : te.legs) {
      const auto r = static_cast<std::size_t>(leg.resource);
      t = std::max(t, std::min(first_s[r], arrival_s(te, leg)) +
                          (load[r] + self) / m.capacity_p_s[r] + leg.remaining_m / v0);
    }
    return t;
  };
  // Metered arrivals at the exits (hydraulic model, SFPE "transitions"): a stream that passes
  // a door or stair on the way reaches the exit no faster than that opening lets it through,
  // so people still held in front of an opening upstream are not in the exit's queue: they
  // wait out of sight of the exit. Per open exit, the people held upstream by the second in
  // which they reach the exit (a Fenwick tree over kArrivalBins seconds), for the crowd's
  // choice only.
  bool track_held = false;
  std::vector<std::vector<double>> held(m.open.size());
  std::vector<double> held_total(m.open.size(), 0.0);
  auto bin_of = [](double t_s) {
    return std::min(kArrivalBins, static_cast<std::size_t>(std::max(0.0, t_s)) + 1);
  };
  auto add_held = [&](std::size_t k, double t_s, double people) {
    std::vector<double>& tree = held[k];
    if (tree.empty()) tree.assign(kArrivalBins + 1, 0.0);
    held_total[k] += people;
    for (std::size_t i = bin_of(t_s); i <= kArrivalBins; i += i & (~i + 1)) tree[i] += people;
  };
  // People held upstream who reach exit k only after t_s.
  auto held_after = [&](std::size_t k, double t_s) {
    const std::vector<double>& tree = held[k];
    if (tree.empty()) return 0.0;
    double by = 0;
    for (std::size_t i = bin_of(t_s); i > 0; i -= i & (~i + 1)) by += tree[i];
    return held_total[k] - by;
  };
  // When the middle of group g reaches exit k: its walk, or after the queue at each opening on
  // the way (the loads as they are, plus half the group when `self`), then the walk on.
  auto exit_arrival_s = [&](const GroupState& g, std::size_t k, bool self) {
    const TileExit& te = g.tile->per_exit[k];
    double t = te.mean_m / v0;
    for (const Leg& leg : te.legs) {
      const auto r = static_cast<std::size_t>(leg.resource);
      t = std::max(t, std::min(first_s[r], arrival_s(te, leg)) +
                          (load[r] + (self ? g.people / 2 : -g.people / 2)) / m.capacity_p_s[r] +
                          leg.remaining_m / v0);
    }
    return t;
  };
  auto apply = [&](const GroupState& g, double sign) {
    const TileExit& te = g.tile->per_exit[static_cast<std::size_t>(g.exit)];
    const auto ex = static_cast<std::size_t>(m.open[static_cast<std::size_t>(g.exit)]);
    load[ex] += sign * g.people;
    if (sign > 0) first_s[ex] = std::min(first_s[ex], te.min_m / v0);
    for (const Leg& leg : te.legs) {
      const auto r = static_cast<std::size_t>(leg.resource);
      load[r] += sign * g.people;
      if (sign > 0) first_s[r] = std::min(first_s[r], arrival_s(te, leg));
    }
    if (track_held && sign > 0 && !te.legs.empty()) {
      const auto k = static_cast<std::size_t>(g.exit);
      const double at_s = exit_arrival_s(g, k, false);
      if (at_s > te.mean_m / v0 + 0.5) add_held(k, at_s, g.people);
    }
  };
  // How groups choose. `crowd`: as people do on their own (and as the simulation's quickest
  // routing): walking time plus the queues they can see: at the exit (at most the people within
  // visible_queue_m of it; not those still held upstream) and in front of the first opening on
  // their way (the door out of their room). `guided`: the assignment that
  // gets everyone out soonest (each group takes the exit where it would be out first given all
  // queues, plus a little of its walk so that streams do not cross) — the recommendation.
  enum class Mode { crowd, guided };
  auto cost = [&](Mode mode, const GroupState& g, std::size_t k) {
    const TileExit& te = g.tile->per_exit[k];
    if (!te.reachable) return kInf;
    if (mode == Mode::guided) return finish_s(g, k, true) + o.walk_weight * te.mean_m / v0;
    // The queue the group finds when it arrives: those assigned before it (nearer groups)
    // less those served since the first arrival, as far as it can see.
    const auto ex = static_cast<std::size_t>(m.open[k]);
    const double arrive_s = te.mean_m / v0;
    const bool metered = track_held && !te.legs.empty();
    const double at_exit_s = metered ? exit_arrival_s(g, k, true) : arrive_s;
    const double before =
        track_held && held_total[k] > 0 ? load[ex] - held_after(k, at_exit_s) : load[ex];
    const double served =
        first_s[ex] < at_exit_s ? (at_exit_s - first_s[ex]) * m.capacity_p_s[ex] : 0;
    const double queue = std::min(std::max(0.0, before - served), m.visible_people[k]);
    double wait_s = queue / m.capacity_p_s[ex];
    if (o.first_queue_in_sight && !te.legs.empty()) {
      // The queue in front of the way out of the space the group is in (its first opening)
      // is in sight too.
      const Leg& leg = te.legs.front();
      const auto r = static_cast<std::size_t>(leg.resource);
      const double at_s = std::max(0.0, te.mean_m - leg.remaining_m) / v0;
      const double served_r = first_s[r] < at_s ? (at_s - first_s[r]) * m.capacity_p_s[r] : 0;
      wait_s += std::max(0.0, load[r] - served_r) / m.capacity_p_s[r];
    }
    return arrive_s + wait_s;
  };
  // A lower bound of cost(): the walk (crowd), the farthest person's walk (guided).
  auto cost_floor = [&](Mode mode, const GroupState& g, std::size_t k) {
    const TileExit& te = g.tile->per_exit[k];
    if (!te.reachable) return kInf;
    if (mode == Mode::guided) return te.max_m / g.walk_speed_m_s + o.walk_weight * te.mean_m / v0;
    return te.mean_m / v0;
  };
  auto choose = [&](Mode mode, const GroupState& g) {
    double best = kInf;
    int best_k = -1;
    for (std::size_t k = 0; k < m.open.size(); ++k) {
      if (cost_floor(mode, g, k) >= best) continue;
      const double t = cost(mode, g, k);
      if (t < best) {
        best = t;
        best_k = static_cast<int>(k);
      }
    }
    return best_k;
  };
  auto reload = [&] {
    std::fill(first_s.begin(), first_s.end(), kInf);
    std::fill(load.begin(), load.end(), 0.0);
    for (std::size_t k = 0; k < held.size(); ++k) {
      if (held_total[k] > 0) std::fill(held[k].begin(), held[k].end(), 0.0);
      held_total[k] = 0;
    }
    for (const GroupState& g : groups)
      if (g.exit >= 0) apply(g, +1);
  };
  // Nearest groups first (they reach the queues first).
  std::vector<std::size_t> order(groups.size());
  std::vector<double> nearest(groups.size(), kInf);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    order[i] = i;
    for (const TileExit& te : groups[i].tile->per_exit)
      if (te.reachable) nearest[i] = std::min(nearest[i], te.mean_m);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return nearest[a] < nearest[b]; });
  auto assign = [&](Mode mode) {
    track_held = mode == Mode::crowd && o.metered_arrivals;
    for (GroupState& g : groups) g.exit = -1;
    reload();
    for (std::size_t i : order) {
      GroupState& g = groups[i];
      g.exit = choose(mode, g);
      if (g.exit >= 0) apply(g, +1);
    }
    // The crowd decides in arrival order only; the recommendation is refined.
    for (int pass = 0; mode == Mode::guided && pass < o.refine_passes; ++pass) {
      reload();  // first arrivals of the current assignment, kept during the pass
      bool moved = false;
      for (std::size_t i : order) {
        GroupState& g = groups[i];
        if (g.exit < 0) continue;
        apply(g, -1);
        const int k = choose(mode, g);
        const double now = cost(mode, g, static_cast<std::size_t>(g.exit));
        const double alt = cost(mode, g, static_cast<std::size_t>(k));
        if (k != g.exit && alt < now - 0.5) {
          g.exit = k;
          moved = true;
        }
        apply(g, +1);
      }
      if (!moved) break;
    }
    reload();
  };
  // When each exit clears with the loads of the current assignment, and what sets it.
  auto exit_times = [&](std::vector<double>& exit_clear, std::vector<int>& exit_critical) {
    exit_clear.assign(m.open.size(), 0);
    exit_critical.assign(m.open.size(), -1);  // resource that sets the exit's time, -1: walking
    for (const GroupState& g : groups) {
      if (g.exit < 0) continue;
      const auto k = static_cast<std::size_t>(g.exit);
      const TileExit& te = g.tile->per_exit[k];
      double t = te.max_m / g.walk_speed_m_s;
      int crit = -1;
      auto consider = [&](std::size_t r, double remaining_m) {
        const double tr = first_s[r] + load[r] / m.capacity_p_s[r] + remaining_m / v0;
        if (tr > t) {
          t = tr;
          crit = static_cast<int>(r);
        }
      };
      consider(static_cast<std::size_t>(m.open[k]), 0);
      for (const Leg& leg : te.legs)
        consider(static_cast<std::size_t>(leg.resource), leg.remaining_m);
      if (t > exit_clear[k]) {
        exit_clear[k] = t;
        exit_critical[k] = crit;
      }
    }
  };

  // The recommendation first: guided assignment.
  std::vector<double> exit_clear;
  std::vector<int> exit_critical;
  assign(Mode::guided);
  exit_times(exit_clear, exit_critical);
  for (double t : exit_clear) est.guided_time_s = std::max(est.guided_time_s, t);
  std::vector<std::map<int, double>> zone_exit_people(m.zones.size());
  for (const GroupState& g : groups)
    if (g.exit >= 0) zone_exit_people[g.zone][g.exit] += g.people;
  // Then what the crowd would do on its own: the time, the exits' loads, the bottlenecks.
  // A crowd's choices depend on who happens to arrive first; a few orderings (nearest first,
  // distances jittered by up to ±crowd_order_jitter) are tried and the median outcome kept, so
  // that the estimate does not jump with small changes of the occupancy.
  if (o.crowd_choice) {
    const std::vector<std::size_t> base_order = order;
    struct Variant {
      double time_s = 0;
      std::uint64_t seed = 0;
    };
    std::vector<Variant> variants;
    const int n_variants = std::max(1, o.crowd_orderings);
    auto reorder = [&](std::uint64_t seed) {
      order = base_order;
      if (seed == 0) return;
      std::vector<double> key(groups.size());
      std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL;
      for (std::size_t i = 0; i < groups.size(); ++i) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        const double u =
            static_cast<double>((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;  // [0, 1)
        key[i] = nearest[i] * (1 + o.crowd_order_jitter * (2 * u - 1));
      }
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
    };
    for (int v = 0; v < n_variants; ++v) {
      reorder(static_cast<std::uint64_t>(v));
      assign(Mode::crowd);
      exit_times(exit_clear, exit_critical);
      const double t =
          exit_clear.empty() ? 0.0 : *std::max_element(exit_clear.begin(), exit_clear.end());
      variants.push_back({t, static_cast<std::uint64_t>(v)});
    }
    std::stable_sort(variants.begin(), variants.end(),
                     [](const Variant& a, const Variant& b) { return a.time_s < b.time_s; });
    reorder(variants[variants.size() / 2].seed);
    assign(Mode::crowd);
    exit_times(exit_clear, exit_critical);
  }
  for (std::size_t k = 0; k < m.open.size(); ++k) {
    ExitEgress& ee = est.exits[m.venue->exits[static_cast<std::size_t>(m.open[k])].id];
    ee.people = load[static_cast<std::size_t>(m.open[k])];
    ee.clear_s = exit_clear[k];
    est.time_s = std::max(est.time_s, exit_clear[k]);
  }
  if (!o.crowd_choice) est.guided_time_s = est.time_s;
  for (std::size_t z = 0; z < m.zones.size(); ++z) {
    if (zone_exit_people[z].empty()) continue;
    std::vector<std::pair<int, double>> ranked(zone_exit_people[z].begin(),
                                               zone_exit_people[z].end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    auto& list = est.zones[m.zones[z].id];
    for (const auto& [k, people] : ranked)
      if (people >= 0.5 || list.empty())
        list.push_back(
            m.venue->exits[static_cast<std::size_t>(m.open[static_cast<std::size_t>(k)])].id);
  }
  // Queue times (a stair's two directions are reported together under its id).
  for (std::size_t r = 0; r < nr; ++r) {
    if (load[r] <= 0) continue;
    est.queue_s[m.resource_id[r]] =
        std::max(est.queue_s[m.resource_id[r]], load[r] / m.capacity_p_s[r]);
  }
  // Bottlenecks: the openings that set the time of the critical exits with a long queue.
  std::vector<std::pair<double, std::string>> bn;
  for (std::size_t k = 0; k < m.open.size(); ++k) {
    if (exit_critical[k] < 0 || exit_clear[k] < o.critical_share * est.time_s || exit_clear[k] <= 0)
      continue;
    const auto r = static_cast<std::size_t>(exit_critical[k]);
    const double queue = load[r] / m.capacity_p_s[r];
    if (queue < o.bottleneck_queue_share * exit_clear[k]) continue;
    if (std::none_of(bn.begin(), bn.end(),
                     [&](const auto& b) { return b.second == m.resource_id[r]; }))
      bn.emplace_back(queue, m.resource_id[r]);
  }
  std::stable_sort(bn.begin(), bn.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [queue, id] : bn) est.bottlenecks.push_back(std::move(id));
  return est;
}

nlohmann::json to_json(const EgressEstimate& e) {
  auto r1 = [](double v) { return std::round(v * 10) / 10; };
  nlohmann::json j;
  j["time_s"] = r1(e.time_s);
  j["limit_s"] = e.limit_s;
  j["method"] = e.method;
  nlohmann::json exits = nlohmann::json::object();
  for (const auto& [id, x] : e.exits)
    exits[id] = {{"people", std::llround(x.people)}, {"clear_s", r1(x.clear_s)}};
  j["exits"] = std::move(exits);
  nlohmann::json zones = nlohmann::json::object();
  for (const auto& [id, list] : e.zones) zones[id] = list;
  j["zones"] = std::move(zones);
  j["bottlenecks"] = e.bottlenecks;
  j["guided_time_s"] = r1(e.guided_time_s);
  if (e.people_cut_off >= 0.5) j["cut_off"] = std::llround(e.people_cut_off);
  return j;
}

}  // namespace vigil::ops
