// SPDX-License-Identifier: Apache-2.0
// The live crowd: arrivals, milling, leaving and evacuation stepped in real time (see the header
// and docs/simulation.md). The step mirrors the batch engine's stages (sim/simulation.cpp):
// routing (parallel), neighbours, model (parallel), movement (parallel), bookkeeping (serial:
// exits, stairs, state changes, every random decision, arrivals, the sensors' frame).
#include "sim/live_crowd.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <numbers>
#include <optional>
#include <set>
#include <utility>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "sim/model.hpp"
#include "sim/neighbour_grid.hpp"
#include "sim/routing.hpp"
#include "sim/space.hpp"
#include "venue/nav_field.hpp"

namespace vigil::sim {

namespace {

using Clock = std::chrono::steady_clock;
using geom::Segment;
using venue::NavField;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kArrivedM = 0.3;          // m: this close to one's spot is there
constexpr double kSlowShare = 0.25;        // moving less than this share of one's desired speed
constexpr double kSettleInZoneS = 4.0;     // s slowed down in one's zone: stay there
constexpr double kSettleMillS = 3.0;       // s slowed down on a short walk: stay there
constexpr double kSettleStuckS = 60.0;     // s slowed down anywhere on the way in: stay there
constexpr double kEntryOutsideM = 0.3;     // m: where the sensors first see an arriving person
constexpr double kSpotClearanceM = 0.05;   // m: a spot keeps r + this from walls
constexpr double kSpotOpeningM = 1.0;      // m: nobody picks a place this close to an exit or door
constexpr double kStopOpeningM = 2.5;      // m: nobody held up by the crowd stops this close to one
// m: the radius standing people present to those walking past (they turn sideways and make
// way), so that people can still reach their places through a standing crowd at up to about
// 2 persons/m² (at 1.6 persons/m² the centres are 0.8 m apart: 0.8 - 2 × 0.12 > 0.4 m).
constexpr double kMakeWayRadiusM = 0.12;
constexpr int kSpotTries = 200;
constexpr int kMillTries = 12;
constexpr int kMaxHazards = 64;

enum State : std::uint8_t { kArriving, kSettled, kMilling, kLeaving, kEvacuating };

int side(const Segment& s, Vec2 p) { return geom::cross(s.b - s.a, p - s.a) > 0 ? 1 : -1; }

bool crosses(const Segment& s, Vec2 p, Vec2 q) {
  if (side(s, p) == side(s, q)) return false;
  const int sa = geom::cross(q - p, s.a - p) > 0 ? 1 : -1;
  const int sb = geom::cross(q - p, s.b - p) > 0 ? 1 : -1;
  return sa != sb;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool positive_finite(double v) { return std::isfinite(v) && v > 0; }

// Per-agent state that the operational model does not read.
struct Info {
  std::int64_t id = 0;
  State state = kArriving;
  int zone = -1;        // destination zone (Venue::zones), -1 when leaving or evacuating
  Vec2 spot;            // where the person is heading inside the zone
  double v0 = 1.34;     // free walking speed
  double slow_s = 0;    // time spent moving much slower than desired
  double next_mill_s = kInf;
  bool up = false;      // on a stair: going up
  bool in_zone = false; // inside the destination zone (set by routing)
  std::uint64_t ignore = 0;  // hazards the person is inside (their outline is no wall to them)
  int target = -1;      // quickest evacuation: index into open exits
  bool fresh = false;   // arrived this step: the sensors see them outside first
  Vec2 entry;           // the point outside the entrance
  Vec2 next;            // position after this step's movement
  Vec2 nv;              // velocity of this step
  Vec2 ori{1, 0};
  double goal_speed = 0;
  // The last field evaluation (see route()).
  Vec2 cache_p;
  Vec2 cache_dir;
  double cache_d = kInf;
  int cache_layer = -1;
  int cache_key = -1;
  std::uint64_t cache_version = 0;
  bool cache_ok = false;
};

}  // namespace

const char* to_string(LiveCrowd::Phase p) {
  switch (p) {
    case LiveCrowd::Phase::arriving: return "arriving";
    case LiveCrowd::Phase::event: return "event";
    case LiveCrowd::Phase::evacuating: return "evacuating";
    case LiveCrowd::Phase::empty: return "empty";
  }
  return "unknown";
}

struct LiveCrowd::Impl {
  Impl(std::shared_ptr<const venue::Venue> v, LiveCrowdOptions o)
      : venue_ptr(std::move(v)),
        venue(*venue_ptr),
        opt(std::move(o)),
        space(Space::build(venue, {})),
        rng(mix_seed(opt.seed, 0x11fe)),
        arena(opt.threads) {}

  std::shared_ptr<const venue::Venue> venue_ptr;
  const venue::Venue& venue;
  LiveCrowdOptions opt;
  std::set<std::string> closed;
  std::vector<venue::Hazard> hazards;
  Space space;
  std::unique_ptr<OperationalModel> model;
  NeighbourGrid grid;
  Rng rng;
  std::unique_ptr<VirtualSensors> sensors;
  tbb::task_arena arena;

  std::vector<double> share;             // per zone, normalised
  std::vector<std::size_t> chosen;       // per zone: arrivals sent there
  std::vector<int> entrances;            // exit indices
  std::vector<Vec2> entrance_inward;     // per entrance: unit normal into the venue
  std::vector<geom::Box> zone_box;
  std::vector<std::optional<NavField>> zone_field;  // per destination zone
  std::optional<NavField> nearest;       // to the nearest open exit
  std::vector<NavField> exit_field;      // quickest: one per open exit (computed on evacuate)
  std::vector<int> open_exits;           // exit indices not closed
  std::vector<int> nav_layer;            // space layer -> field layer
  std::uint64_t fields_version = 1;
  std::size_t target = 0;

  // Agents: the model's snapshot arrays, and the rest.
  std::vector<double> x, y, vx, vy, radius, goal_dx, goal_dy, route_m;
  std::vector<double> model_radius;  // radius as the model sees it (see kMakeWayRadiusM)
  std::vector<std::int32_t> layer;
  std::vector<Info> info;
  std::vector<double> dist_e;  // quickest: [agent * open exits + e]

  std::int64_t steps = 0;
  double requested_s = 0;
  std::int64_t next_id = 0;
  std::size_t arrived = 0;
  std::size_t left = 0;
  std::map<std::string, std::size_t> out_by_exit;
  bool evacuating = false;
  bool reroute_now = false;
  double arrival_due = 0;
  double leave_due = 0;
  double wall_s = 0;
  std::vector<FrameAgent> frame_buf;
  std::deque<SensorTruth> truth;  // the latest truth_kept reports not yet taken

  void keep_truth() {
    for (SensorTruth& t : sensors->take_truth()) truth.push_back(std::move(t));
    while (truth.size() > opt.truth_kept) truth.pop_front();
  }

  double dt() const { return opt.dt_s; }
  double now() const { return static_cast<double>(steps) * opt.dt_s; }

  template <class F>
  void parallel(std::size_t n, F&& body) {
    if (n == 0) return;
    if (opt.threads <= 1) {
      for (std::size_t i = 0; i < n; ++i) body(i);
      return;
    }
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 256),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i != r.end(); ++i) body(i);
                        },
                        tbb::static_partitioner());
    });
  }

  // ---- fields -------------------------------------------------------------------------------

  venue::NavOptions base_options() const {
    venue::NavOptions o;
    o.cell_m = kNavCell;
    o.closed = closed;
    o.hazards = hazards;
    return o;
  }

  void compute_fields() {
    const venue::NavOptions base = base_options();
    zone_field.assign(venue.zones.size(), std::nullopt);
    for (std::size_t z = 0; z < venue.zones.size(); ++z) {
      if (!(share[z] > 0)) continue;
      venue::NavOptions o = base;
      o.targets.push_back({venue.zones[z].level, venue.zones[z].polygon});
      zone_field[z] = NavField::compute(venue, o);
    }
    nearest = NavField::compute(venue, base);
    open_exits.clear();
    for (std::size_t e = 0; e < venue.exits.size(); ++e)
      if (!closed.count(venue.exits[e].id)) open_exits.push_back(static_cast<int>(e));
    exit_field.clear();
    if (evacuating) compute_exit_fields();
    ++fields_version;
    reroute_now = true;
    for (Info& a : info) a.target = -1;
  }

  void compute_exit_fields() {
    exit_field.clear();
    if (opt.routing != Routing::quickest) return;
    const venue::NavOptions base = base_options();
    for (int e : open_exits) {
      venue::NavOptions o = base;
      for (int other : open_exits)
        if (other != e) o.closed.insert(venue.exits[static_cast<std::size_t>(other)].id);
      exit_field.push_back(NavField::compute(venue, o));
    }
  }

  RouteSpace route_space() const { return {venue, space, nav_layer}; }

  // Direction and remaining distance along field f (key identifies it for the cache); the
  // evaluation is reused while the person stays within kRouteReuse of where it was made, away
  // from portals (per-agent state only: the same for any number of threads).
  Vec2 route(std::size_t i, const NavField& f, int key, double& d_out) {
    Info& a = info[i];
    const Vec2 p{x[i], y[i]};
    const int sl = layer[i];
    const Vec2 moved = p - a.cache_p;
    if (a.cache_ok && a.cache_key == key && a.cache_layer == sl && a.cache_version == fields_version &&
        geom::dot(moved, moved) < kRouteReuse * kRouteReuse) {
      d_out = a.cache_d;
      return a.cache_dir;
    }
    a.cache_ok = false;
    const int nl = nav_layer[static_cast<std::size_t>(sl)];
    const double d_field = f.distance(nl, p);
    const double d = robust_distance(f, nl, p, d_field);
    d_out = d;
    if (d == kInf) return {};
    const Vec2 dir = field_direction(route_space(), f, sl, p, radius[i], d_field, d);
    a.cache_ok = route_reusable(space, sl, p);
    a.cache_p = p;
    a.cache_dir = dir;
    a.cache_d = d;
    a.cache_layer = sl;
    a.cache_key = key;
    a.cache_version = fields_version;
    return dir;
  }

  bool in_hazard(int level, Vec2 p) const {
    for (const venue::Hazard& h : hazards)
      if (h.level == level && geom::contains(h.polygon, p)) return true;
    return false;
  }

  std::uint64_t hazard_mask(std::size_t i) const {
    const SpaceLayer& sl = space.layer(layer[i]);
    if (sl.kind != SpaceLayer::Kind::level || hazards.empty()) return 0;
    std::uint64_t mask = 0;
    for (std::size_t h = 0; h < hazards.size(); ++h)
      if (hazards[h].level == sl.level && geom::contains(hazards[h].polygon, {x[i], y[i]}))
        mask |= std::uint64_t{1} << h;
    return mask;
  }

  // Out of the hazards in `mask`: towards the nearest point of their outlines, 0.5 m beyond.
  Vec2 escape_direction(std::size_t i, std::uint64_t mask) const {
    const Vec2 p{x[i], y[i]};
    double best = kInf;
    Vec2 aim = p;
    for (std::size_t h = 0; h < hazards.size(); ++h) {
      if (!((mask >> h) & 1U)) continue;
      const geom::Ring& ring = hazards[h].polygon.outer;
      for (std::size_t k = 0; k < ring.size(); ++k) {
        const Segment e{ring[k], ring[(k + 1) % ring.size()]};
        const Vec2 c = geom::closest_point(e, p);
        const double d = geom::distance(p, c);
        if (d < best) {
          best = d;
          aim = c + geom::normalized(c - p) * 0.5;
        }
      }
    }
    return geom::normalized(aim - p);
  }

  // Is q at least kSpotOpeningM from every exit and door of the level (nobody stands in a
  // doorway)?
  bool clear_of_openings(int level, Vec2 q, double by_m = kSpotOpeningM) const {
    for (const auto* list : {&venue.exits, &venue.doors})
      for (const venue::Opening& o : *list)
        if (o.level == level && geom::distance(q, o.line) < by_m) return false;
    return true;
  }

  bool in_zone(std::size_t z, int sl, Vec2 p) const {
    const SpaceLayer& l = space.layer(sl);
    const venue::Zone& zone = venue.zones[z];
    return l.kind == SpaceLayer::Kind::level && l.level == zone.level && zone_box[z].contains(p) &&
           geom::contains(zone.polygon, p);
  }

  // ---- stages -------------------------------------------------------------------------------

  void stage_routing() {
    const std::size_t n = x.size();
    parallel(n, [&](std::size_t i) {
      Info& a = info[i];
      a.ignore = hazard_mask(i);
      goal_dx[i] = goal_dy[i] = 0;
      a.goal_speed = 0;
      route_m[i] = kInf;
      const Vec2 p{x[i], y[i]};
      Vec2 dir;
      double speed = 0;
      double d = kInf;
      switch (a.state) {
        case kSettled:
          a.in_zone = a.zone >= 0 && in_zone(static_cast<std::size_t>(a.zone), layer[i], p);
          route_m[i] = 0;
          break;
        case kArriving:
        case kMilling: {
          a.in_zone = in_zone(static_cast<std::size_t>(a.zone), layer[i], p);
          if (a.state == kArriving && !a.in_zone) {
            const auto& f = zone_field[static_cast<std::size_t>(a.zone)];
            dir = route(i, *f, a.zone, d);
            speed = a.v0;
          } else {
            const Vec2 to = a.spot - p;
            d = geom::norm(to);
            if (d > 0.05) {
              dir = to / d;
              speed = a.state == kArriving ? a.v0 : std::min(a.v0, opt.mill_speed_m_s);
            }
          }
          break;
        }
        case kLeaving:
          dir = route(i, *nearest, -1, d);
          speed = a.v0;
          break;
        case kEvacuating:
          if (opt.routing == Routing::quickest && a.target >= 0 &&
              static_cast<std::size_t>(a.target) < exit_field.size())
            dir = route(i, exit_field[static_cast<std::size_t>(a.target)], -2 - a.target, d);
          else
            dir = route(i, *nearest, -1, d);
          speed = a.v0;
          break;
      }
      if (a.ignore != 0) {
        dir = escape_direction(i, a.ignore);
        speed = a.v0;
      }
      model_radius[i] = a.state == kSettled && a.ignore == 0 ? std::min(radius[i], kMakeWayRadiusM) : radius[i];
      route_m[i] = d == kInf ? (a.state == kSettled ? 0 : kInf) : d;
      if (dir == Vec2{} || speed <= 0) return;
      const SpaceLayer& sl = space.layer(layer[i]);
      if (sl.kind == SpaceLayer::Kind::stair) {
        const venue::Stair& st = venue.stairs[static_cast<std::size_t>(sl.stair)];
        const double plan = st.plan_length_m();
        const double along = st.length_m > 0 && plan > 0 ? plan / st.length_m : 1.0;
        speed *= (a.up ? st.speed_factor_up : st.speed_factor_down) * along;
      }
      goal_dx[i] = dir.x;
      goal_dy[i] = dir.y;
      a.goal_speed = speed;
    });
  }

  // Quickest routing (as the batch engine): the exit with the least walking time plus expected
  // wait for the people queued ahead; switch only when clearly better.
  void choose_exits() {
    const std::size_t n = x.size();
    const std::size_t ne = exit_field.size();
    if (ne == 0) return;
    dist_e.assign(n * ne, kInf);
    parallel(n, [&](std::size_t i) {
      if (info[i].state != kEvacuating) return;
      const int nl = nav_layer[static_cast<std::size_t>(layer[i])];
      for (std::size_t e = 0; e < ne; ++e) dist_e[i * ne + e] = robust_distance(exit_field[e], nl, {x[i], y[i]});
    });
    std::vector<std::vector<double>> queue(ne);
    for (std::size_t i = 0; i < n; ++i) {
      const Info& a = info[i];
      if (a.target < 0 || a.state != kEvacuating) continue;
      const double d = dist_e[i * ne + static_cast<std::size_t>(a.target)];
      if (d <= kQueueRange) queue[static_cast<std::size_t>(a.target)].push_back(d);
    }
    for (auto& q : queue) std::sort(q.begin(), q.end());
    parallel(n, [&](std::size_t i) {
      Info& a = info[i];
      if (a.state != kEvacuating) return;
      double best = kInf;
      int best_e = -1;
      double current = kInf;
      for (std::size_t e = 0; e < ne; ++e) {
        const double d = dist_e[i * ne + e];
        if (d == kInf) continue;
        const auto& q = queue[e];
        const auto ahead = static_cast<double>(std::lower_bound(q.begin(), q.end(), d) - q.begin());
        const double width = venue.exits[static_cast<std::size_t>(open_exits[e])].width_m;
        const double cost = d / std::max(a.v0, 0.1) + ahead / (std::max(width, 0.1) * kExitFlow);
        if (cost < best) {
          best = cost;
          best_e = static_cast<int>(e);
        }
        if (static_cast<int>(e) == a.target) current = cost;
      }
      if (best_e < 0) return;
      if (a.target < 0 || current == kInf || best < current - std::max(1.0, 0.1 * current)) a.target = best_e;
    });
  }

  AgentSnapshot snapshot() const {
    return AgentSnapshot::of(x, y, vx, vy, model_radius, layer, goal_dx, goal_dy, route_m);
  }

  // In cell order, so that consecutive agents share their neighbours in the cache.
  void stage_model() {
    const AgentSnapshot snap = snapshot();
    const ModelContext ctx{snap, grid, space, dt()};
    const std::vector<std::uint32_t>& order = grid.order();
    parallel(order.size(), [&](std::size_t k) {
      const std::size_t i = order[k];
      Info& a = info[i];
      if (a.goal_speed <= 0) {
        a.nv = {};
        return;
      }
      AgentGoal g;
      g.index = i;
      g.direction = {goal_dx[i], goal_dy[i]};
      g.speed_m_s = a.goal_speed;
      g.ignore_hazards = a.ignore;
      a.nv = model->velocity(ctx, g);
    });
  }

  void stage_movement() {
    parallel(x.size(), [&](std::size_t i) {
      Info& a = info[i];
      const Vec2 p{x[i], y[i]};
      const Vec2 want = p + a.nv * dt();
      a.next = want == p ? p : space.constrain_move(layer[i], p, want, radius[i], a.ignore);
    });
  }

  double exponential(double mean_s) { return -mean_s * std::log(1.0 - rng.uniform01()); }

  // A place for a person of radius r in zone z: walkable, clear of walls and hazards, reachable.
  std::optional<Vec2> zone_spot(std::size_t z, double r) {
    const venue::Zone& zone = venue.zones[z];
    const int sl = space.level_layer(zone.level);
    if (sl < 0 || !zone_field[z]) return std::nullopt;
    const geom::Box& b = zone_box[z];
    const int nl = nav_layer[static_cast<std::size_t>(sl)];
    for (int k = 0; k < kSpotTries; ++k) {
      const Vec2 q{rng.uniform(b.min.x, b.max.x), rng.uniform(b.min.y, b.max.y)};
      if (!geom::contains(zone.polygon, q) || !space.inside(sl, q)) continue;
      if (space.clearance(sl, q) < r + kSpotClearanceM || in_hazard(zone.level, q)) continue;
      if (!clear_of_openings(zone.level, q)) continue;
      if (zone_field[z]->distance(nl, q) == NavField::kUnreachable) continue;
      return q;
    }
    return std::nullopt;
  }

  // A spot for a short walk from p: within mill_radius, seen from p, in the zone p is in.
  std::optional<Vec2> mill_spot(std::size_t i) {
    const Vec2 p{x[i], y[i]};
    const int sl = layer[i];
    const SpaceLayer& l = space.layer(sl);
    if (l.kind != SpaceLayer::Kind::level) return std::nullopt;
    int here = -1;
    for (std::size_t z = 0; z < venue.zones.size() && here < 0; ++z)
      if (in_zone(z, sl, p)) here = static_cast<int>(z);
    for (int k = 0; k < kMillTries; ++k) {
      const double a = rng.uniform(0, 2 * std::numbers::pi);
      const double d = rng.uniform(0.5, std::max(0.5, opt.mill_radius_m));
      const Vec2 q = p + Vec2{std::cos(a), std::sin(a)} * d;
      if (here >= 0 && !in_zone(static_cast<std::size_t>(here), sl, q)) continue;
      if (!space.inside(sl, q) || space.clearance(sl, q) < radius[i] + kSpotClearanceM) continue;
      if (in_hazard(l.level, q) || !clear_of_openings(l.level, q) || space.crosses_wall(sl, p, q)) continue;
      return q;
    }
    return std::nullopt;
  }

  void settle(Info& a) {
    a.state = kSettled;
    a.slow_s = 0;
    a.next_mill_s = now() + exponential(opt.mill_interval_s);
  }

  void stage_bookkeeping() {
    const std::size_t n = x.size();
    const double t_end = now() + dt();
    std::vector<std::uint8_t> gone(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      Info& a = info[i];
      const Vec2 p{x[i], y[i]};
      Vec2 q = a.next;
      const SpaceLayer& l = space.layer(layer[i]);
      int exit = -1;
      if (p != q)
        for (const Portal& portal : l.portals)
          if (portal.kind == Portal::Kind::exit && crosses(portal.seg, p, q)) exit = portal.exit;
      // Only people on their way out go out: anyone else pushed over an exit line stays put.
      if (exit >= 0 && a.state != kLeaving && a.state != kEvacuating) {
        exit = -1;
        q = p;
      }
      if (exit >= 0) {
        gone[i] = 1;
        ++left;
        ++out_by_exit[venue.exits[static_cast<std::size_t>(exit)].id];
        continue;
      }
      if (l.kind == SpaceLayer::Kind::level) {
        for (int s : l.stairs) {
          const venue::Stair& st = venue.stairs[static_cast<std::size_t>(s)];
          const bool via_bottom = st.from_level == l.level && crosses(st.bottom, p, q);
          const bool via_top = st.to_level == l.level && crosses(st.top, p, q);
          if (via_bottom || via_top || geom::contains(st.footprint, q)) {
            layer[i] = space.stair_layer(s);
            a.up = via_bottom || (!via_top && st.from_level == l.level);
            break;
          }
        }
      } else {
        const venue::Stair& st = venue.stairs[static_cast<std::size_t>(l.stair)];
        int to = 0;
        bool off = true;
        if (crosses(st.top, p, q)) to = st.to_level;
        else if (crosses(st.bottom, p, q)) to = st.from_level;
        else if (!geom::contains(st.footprint, q))
          to = geom::distance(q, st.top) < geom::distance(q, st.bottom) ? st.to_level : st.from_level;
        else off = false;
        if (off) {
          const int nl = space.level_layer(to);
          if (nl >= 0) layer[i] = nl;
        }
      }
      const Vec2 d = q - p;
      const double moved = geom::norm(d);
      if (moved > 1e-9) a.ori = d / moved;
      vx[i] = d.x / dt();
      vy[i] = d.y / dt();
      x[i] = q.x;
      y[i] = q.y;
      if (a.goal_speed > 0 && moved < kSlowShare * a.goal_speed * dt()) a.slow_s += dt();
      else a.slow_s = std::max(0.0, a.slow_s - dt());
      switch (a.state) {
        case kArriving: {
          // Held up by the crowd, people stay where they are, but never in a doorway.
          const bool may_stop = space.layer(layer[i]).kind == SpaceLayer::Kind::level &&
                                clear_of_openings(frame_level(layer[i]), q, kStopOpeningM);
          if (a.in_zone && (geom::distance(q, a.spot) < kArrivedM || (a.slow_s > kSettleInZoneS && may_stop)))
            settle(a);
          else if (a.slow_s > kSettleStuckS && may_stop)
            settle(a);
          break;
        }
        case kMilling:
          if (geom::distance(q, a.spot) < kArrivedM ||
              (a.slow_s > kSettleMillS && clear_of_openings(frame_level(layer[i]), q, kStopOpeningM)))
            settle(a);
          break;
        case kSettled:
          if (t_end >= a.next_mill_s) {
            if (const auto s = mill_spot(i)) {
              a.spot = *s;
              a.state = kMilling;
              a.slow_s = 0;
            } else {
              a.next_mill_s = t_end + exponential(opt.mill_interval_s);
            }
          }
          break;
        case kLeaving:
        case kEvacuating:
          break;
      }
    }
    std::size_t w = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (gone[i]) continue;
      if (w != i) move_agent(i, w);
      ++w;
    }
    resize(w);
    ++steps;
    if (!evacuating) {
      leave_normally();
      arrive();
    }
  }

  void leave_normally() {
    if (!(opt.leave_rate_p_s > 0)) return;
    leave_due += opt.leave_rate_p_s * dt();
    while (leave_due >= 1) {
      const std::size_t n = x.size();
      std::size_t pick = n;
      if (n > 0) {
        const std::size_t start = static_cast<std::size_t>(rng.below(n));
        for (std::size_t k = 0; k < n && pick == n; ++k) {
          const std::size_t i = (start + k) % n;
          if (info[i].state == kSettled || info[i].state == kMilling) pick = i;
        }
      }
      if (pick == n) {
        leave_due = 0;  // nobody to leave: no backlog
        return;
      }
      leave_due -= 1;
      info[pick].state = kLeaving;
      info[pick].zone = -1;
      info[pick].slow_s = 0;
    }
  }

  // The destination of the next arrival: the zone furthest below its share.
  std::size_t next_zone() const {
    std::size_t best = 0;
    double best_deficit = -kInf;
    for (std::size_t z = 0; z < share.size(); ++z) {
      if (!(share[z] > 0)) continue;
      const double deficit = share[z] * static_cast<double>(arrived + 1) - static_cast<double>(chosen[z]);
      if (deficit > best_deficit) {
        best_deficit = deficit;
        best = z;
      }
    }
    return best;
  }

  bool room_at(int sl, Vec2 p, double r) const {
    for (std::size_t j = 0; j < x.size(); ++j) {
      if (layer[j] != sl) continue;
      const double dx = x[j] - p.x;
      const double dy = y[j] - p.y;
      const double need = r + radius[j] + 0.1;
      if (dx * dx + dy * dy < need * need) return false;
    }
    return true;
  }

  void arrive() {
    if (arrived >= target) return;
    arrival_due = std::min(arrival_due + opt.arrival_rate_p_s * dt(),
                           opt.arrival_rate_p_s * 1.0 + 1.0);  // a blocked entrance: at most 1 s backlog
    std::vector<std::size_t> open;
    double width_sum = 0;
    for (std::size_t k = 0; k < entrances.size(); ++k) {
      if (closed.count(venue.exits[static_cast<std::size_t>(entrances[k])].id)) continue;
      open.push_back(k);
      width_sum += venue.exits[static_cast<std::size_t>(entrances[k])].width_m;
    }
    if (open.empty()) return;
    while (arrival_due >= 1 && arrived < target) {
      const double r = opt.profile.radius_m.sample(rng);
      const double v0 = opt.profile.speed_m_s.sample(rng);
      bool placed = false;
      for (int attempt = 0; attempt < 3 && !placed; ++attempt) {
        double pick = rng.uniform(0, width_sum);
        std::size_t k = open.back();
        for (std::size_t c : open) {
          pick -= venue.exits[static_cast<std::size_t>(entrances[c])].width_m;
          if (pick < 0) {
            k = c;
            break;
          }
        }
        const venue::Opening& e = venue.exits[static_cast<std::size_t>(entrances[k])];
        const int sl = space.level_layer(e.level);
        const double len = e.line.length();
        const double margin = std::min(r + 0.1, len / 2);
        const Vec2 u = (e.line.b - e.line.a) / len;
        const Vec2 on = e.line.a + u * rng.uniform(margin, std::max(margin, len - margin));
        const Vec2 p = on + entrance_inward[k] * (r + 0.15);
        if (!space.inside(sl, p) || space.clearance(sl, p) < r || !room_at(sl, p, r)) continue;
        const std::size_t z = next_zone();
        const auto spot = zone_spot(z, r);
        if (!spot) continue;
        Info a;
        a.id = next_id++;
        a.state = kArriving;
        a.zone = static_cast<int>(z);
        a.spot = *spot;
        a.v0 = v0;
        a.fresh = true;
        a.entry = on - entrance_inward[k] * kEntryOutsideM;
        a.ori = entrance_inward[k];
        add_agent(p, sl, r, a);
        ++chosen[z];
        ++arrived;
        arrival_due -= 1;
        placed = true;
      }
      if (!placed) return;  // no room now: try again next step
    }
  }

  void add_agent(Vec2 p, int sl, double r, const Info& a) {
    x.push_back(p.x);
    y.push_back(p.y);
    vx.push_back(0);
    vy.push_back(0);
    radius.push_back(r);
    model_radius.push_back(r);
    goal_dx.push_back(0);
    goal_dy.push_back(0);
    route_m.push_back(kInf);
    layer.push_back(sl);
    info.push_back(a);
  }

  void move_agent(std::size_t from, std::size_t to) {
    x[to] = x[from];
    y[to] = y[from];
    vx[to] = vx[from];
    vy[to] = vy[from];
    radius[to] = radius[from];
    goal_dx[to] = goal_dx[from];
    goal_dy[to] = goal_dy[from];
    route_m[to] = route_m[from];
    layer[to] = layer[from];
    info[to] = info[from];
  }

  void resize(std::size_t n) {
    for (auto* v : {&x, &y, &vx, &vy, &radius, &model_radius, &goal_dx, &goal_dy, &route_m}) v->resize(n);
    layer.resize(n);
    info.resize(n);
  }

  int frame_level(int sl) const {
    const SpaceLayer& l = space.layer(sl);
    return l.kind == SpaceLayer::Kind::level ? l.level
                                             : venue.stairs[static_cast<std::size_t>(l.stair)].from_level;
  }

  void send_frame() {
    frame_buf.clear();
    for (std::size_t i = 0; i < x.size(); ++i) {
      Info& a = info[i];
      const Vec2 p = a.fresh ? a.entry : Vec2{x[i], y[i]};
      a.fresh = false;
      frame_buf.push_back({a.id, p.x, p.y, a.ori.x, a.ori.y, frame_level(layer[i])});
    }
    sensors->frame(steps, frame_buf);
  }

  void one_step() {
    const auto reroute_every = std::max<std::int64_t>(1, std::llround(kReroute / dt()));
    if (evacuating && opt.routing == Routing::quickest && (reroute_now || steps % reroute_every == 0))
      choose_exits();
    reroute_now = false;
    stage_routing();
    grid.rebuild(snapshot());
    stage_model();
    stage_movement();
    stage_bookkeeping();
    send_frame();
  }
};

LiveCrowd::LiveCrowd(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LiveCrowd::~LiveCrowd() = default;

Expected<std::unique_ptr<LiveCrowd>, Errors> LiveCrowd::create(std::shared_ptr<const venue::Venue> venue,
                                                               LiveCrowdOptions options) {
  if (!venue) return unexpected(Errors{{"venue", "no venue given"}});
  Errors errs;
  const auto check = [&](const char* name, double v) {
    if (!positive_finite(v))
      errs.push_back({name, "must be a positive number, got " + std::to_string(v)});
  };
  check("dt_s", options.dt_s);
  check("mill_speed_m_s", options.mill_speed_m_s);
  check("mill_interval_s", options.mill_interval_s);
  check("mill_radius_m", options.mill_radius_m);
  if (!(std::isfinite(options.arrival_rate_p_s) && options.arrival_rate_p_s >= 0))
    errs.push_back({"arrival_rate_p_s", "must be a number >= 0, got " + std::to_string(options.arrival_rate_p_s)});
  if (!(std::isfinite(options.leave_rate_p_s) && options.leave_rate_p_s >= 0))
    errs.push_back({"leave_rate_p_s", "must be a number >= 0, got " + std::to_string(options.leave_rate_p_s)});
  if (options.threads < 1) errs.push_back({"threads", "must be >= 1, got " + std::to_string(options.threads)});
  if (!(options.profile.radius_m.lowest() > 0))
    errs.push_back({"profile.radius_m", "must be positive"});
  if (!(options.profile.speed_m_s.lowest() > 0))
    errs.push_back({"profile.speed_m_s", "must be positive"});

  // Shares.
  std::vector<double> share(venue->zones.size(), 0);
  if (options.zone_share.empty()) {
    for (std::size_t z = 0; z < venue->zones.size(); ++z) {
      const venue::ZoneUse u = venue->zones[z].use;
      if (u != venue::ZoneUse::circulation && u != venue::ZoneUse::stair) share[z] = venue->zones[z].capacity;
    }
  } else {
    for (const auto& [id, s] : options.zone_share) {
      const std::string where = "zone_share[\"" + id + "\"]";
      const venue::Zone* zone = venue->find_zone(id);
      if (!zone) {
        errs.push_back({where, "unknown zone"});
        continue;
      }
      if (!(std::isfinite(s) && s >= 0)) {
        errs.push_back({where, "must be a number >= 0, got " + std::to_string(s)});
        continue;
      }
      share[static_cast<std::size_t>(zone - venue->zones.data())] = s;
    }
  }
  double share_sum = 0;
  for (double s : share) share_sum += s;
  if (errs.empty() && !(share_sum > 0))
    errs.push_back({"zone_share", options.zone_share.empty()
                                      ? "the venue has no zone that is not circulation or stair to head for"
                                      : "the shares sum to 0"});

  // Entrances.
  std::vector<int> entrances;
  if (!options.entrances.empty()) {
    for (std::size_t k = 0; k < options.entrances.size(); ++k) {
      const venue::Opening* e = venue->find_exit(options.entrances[k]);
      if (!e) {
        errs.push_back({"entrances[" + std::to_string(k) + "]", "unknown exit \"" + options.entrances[k] + "\""});
        continue;
      }
      entrances.push_back(static_cast<int>(e - venue->exits.data()));
    }
  } else {
    for (std::size_t e = 0; e < venue->exits.size(); ++e)
      if (lower(venue->exits[e].id).find("entrance") != std::string::npos ||
          lower(venue->exits[e].name).find("entrance") != std::string::npos)
        entrances.push_back(static_cast<int>(e));
    if (entrances.empty())
      for (std::size_t e = 0; e < venue->exits.size(); ++e) entrances.push_back(static_cast<int>(e));
  }
  if (errs.empty() && entrances.empty()) errs.push_back({"entrances", "the venue has no exit to arrive through"});
  if (!errs.empty()) return unexpected(std::move(errs));

  const std::uint64_t sensor_seed = mix_seed(options.seed, options.sensors.seed);
  options.sensors.seed = sensor_seed;
  auto impl = std::make_unique<Impl>(std::move(venue), std::move(options));
  Impl& m = *impl;
  try {
    m.sensors = std::make_unique<VirtualSensors>(m.venue, m.opt.dt_s, m.opt.sensors);
  } catch (const std::invalid_argument& e) {
    return unexpected(Errors{{"sensors", e.what()}});
  }
  m.model = make_model("cfsm", {});
  m.grid.configure(m.space, m.model->interaction_range_m());
  for (double& s : share) s /= share_sum;
  m.share = std::move(share);
  m.chosen.assign(m.venue.zones.size(), 0);
  for (const venue::Zone& z : m.venue.zones) m.zone_box.push_back(geom::bounds(z.polygon));
  m.entrances = entrances;
  for (int e : entrances) {
    const venue::Opening& ex = m.venue.exits[static_cast<std::size_t>(e)];
    Vec2 inward;
    const int sl = m.space.level_layer(ex.level);
    if (sl >= 0)
      for (const Portal& p : m.space.layer(sl).portals)
        if (p.kind == Portal::Kind::exit && p.exit == e) inward = p.outward * -1.0;
    if (inward == Vec2{})
      return unexpected(Errors{{"entrances", "exit \"" + ex.id + "\" is not on the outline of level " +
                                                 std::to_string(ex.level) + " (no way in)"}});
    m.entrance_inward.push_back(inward);
  }
  m.compute_fields();
  const NavField& f0 = *m.nearest;
  for (int l = 0; l < m.space.layer_count(); ++l) {
    const SpaceLayer& sl = m.space.layer(l);
    m.nav_layer.push_back(sl.kind == SpaceLayer::Kind::level ? f0.level_layer(sl.level) : f0.stair_layer(sl.stair));
  }
  // Every destination must have a place that can be reached from an entrance.
  double capacity = 0;
  for (std::size_t z = 0; z < m.venue.zones.size(); ++z) {
    if (!(m.share[z] > 0)) continue;
    const venue::Zone& zone = m.venue.zones[z];
    capacity += zone.capacity;
    const std::string where = "zones[\"" + zone.id + "\"]";
    if (!m.zone_spot(z, m.opt.profile.radius_m.highest())) {
      errs.push_back({where, "no walkable place in the zone for a person"});
      continue;
    }
    bool reachable = false;
    for (std::size_t k = 0; k < m.entrances.size() && !reachable; ++k) {
      const venue::Opening& e = m.venue.exits[static_cast<std::size_t>(m.entrances[k])];
      const int sl = m.space.level_layer(e.level);
      const Vec2 p = e.line.midpoint() + m.entrance_inward[k] * 0.4;
      reachable = robust_distance(*m.zone_field[z], m.nav_layer[static_cast<std::size_t>(sl)], p) < kInf;
    }
    if (!reachable) errs.push_back({where, "cannot be reached from any entrance"});
  }
  if (!errs.empty()) return unexpected(std::move(errs));
  m.target = m.opt.target_people > 0 ? m.opt.target_people
                                     : static_cast<std::size_t>(std::llround(0.8 * capacity));
  // A fresh random stream after the checks above (which drew from it).
  m.rng = Rng(mix_seed(m.opt.seed, 0xa771));
  m.send_frame();  // t = 0: the sensors' first report
  return std::unique_ptr<LiveCrowd>(new LiveCrowd(std::move(impl)));
}

void LiveCrowd::step(double seconds) {
  Impl& m = *impl_;
  if (!(seconds > 0) || !std::isfinite(seconds)) return;
  const auto start = Clock::now();
  m.requested_s += seconds;
  const auto until = static_cast<std::int64_t>(std::floor(m.requested_s / m.dt() + 1e-9));
  while (m.steps < until) m.one_step();
  m.keep_truth();
  m.wall_s += std::chrono::duration<double>(Clock::now() - start).count();
}

void LiveCrowd::evacuate() {
  Impl& m = *impl_;
  if (m.evacuating) return;
  m.evacuating = true;
  for (Info& a : m.info) {
    a.state = kEvacuating;
    a.zone = -1;
    a.target = -1;
    a.slow_s = 0;
  }
  m.compute_exit_fields();
  m.reroute_now = true;
}

Expected<void, Error> LiveCrowd::close_exit(const std::string& id) {
  Impl& m = *impl_;
  const std::string where = "close_exit(\"" + id + "\")";
  if (!m.venue.find_exit(id) && !m.venue.find_door(id))
    return unexpected(Error{where, "no exit or door with this id"});
  if (!m.closed.insert(id).second) return {};
  m.space = Space::build(m.venue, m.closed);
  for (std::size_t h = 0; h < m.hazards.size(); ++h)
    m.space.add_hazard(static_cast<int>(h), m.hazards[h].level, m.hazards[h].polygon);
  m.compute_fields();
  return {};
}

Expected<void, Error> LiveCrowd::add_hazard(int level, geom::Polygon polygon) {
  Impl& m = *impl_;
  const std::string where = "add_hazard(level " + std::to_string(level) + ")";
  if (m.space.level_layer(level) < 0) return unexpected(Error{where, "the venue has no such level"});
  if (polygon.outer.size() < 3) return unexpected(Error{where, "the polygon needs at least 3 points"});
  if (m.hazards.size() >= static_cast<std::size_t>(kMaxHazards))
    return unexpected(Error{where, "at most " + std::to_string(kMaxHazards) + " hazards"});
  m.space.add_hazard(static_cast<int>(m.hazards.size()), level, polygon);
  m.hazards.push_back({level, std::move(polygon)});
  m.compute_fields();
  // People whose place is now in a hazard pick another one, or leave.
  for (std::size_t i = 0; i < m.x.size(); ++i) {
    Info& a = m.info[i];
    if (a.zone < 0 || (a.state != kArriving && a.state != kMilling && a.state != kSettled)) continue;
    const venue::Zone& zone = m.venue.zones[static_cast<std::size_t>(a.zone)];
    const bool place_hit = a.state == kSettled ? m.in_hazard(zone.level, {m.x[i], m.y[i]}) : m.in_hazard(zone.level, a.spot);
    if (!place_hit) continue;
    if (const auto s = m.zone_spot(static_cast<std::size_t>(a.zone), m.radius[i])) {
      a.spot = *s;
      a.state = kArriving;
    } else {
      a.state = kLeaving;
      a.zone = -1;
    }
    a.slow_s = 0;
  }
  return {};
}

double LiveCrowd::time_s() const { return impl_->now(); }

LiveCrowd::Phase LiveCrowd::phase() const {
  const Impl& m = *impl_;
  if (m.evacuating) return m.x.empty() ? Phase::empty : Phase::evacuating;
  return m.arrived < m.target ? Phase::arriving : Phase::event;
}

std::size_t LiveCrowd::inside() const { return impl_->x.size(); }
std::size_t LiveCrowd::arrived() const { return impl_->arrived; }
std::size_t LiveCrowd::left() const { return impl_->left; }
std::size_t LiveCrowd::target_people() const { return impl_->target; }
double LiveCrowd::step_wall_s() const { return impl_->wall_s; }

std::map<std::string, std::size_t> LiveCrowd::zone_counts() const {
  const Impl& m = *impl_;
  std::vector<std::size_t> c(m.venue.zones.size(), 0);
  for (std::size_t i = 0; i < m.x.size(); ++i)
    for (std::size_t z = 0; z < c.size(); ++z)
      if (m.in_zone(z, m.layer[i], {m.x[i], m.y[i]})) ++c[z];
  std::map<std::string, std::size_t> out;
  for (std::size_t z = 0; z < c.size(); ++z) out[m.venue.zones[z].id] = c[z];
  return out;
}

std::vector<VirtualReading> LiveCrowd::take_readings() { return impl_->sensors->take_readings(); }
std::vector<SensorTruth> LiveCrowd::take_truth() {
  Impl& m = *impl_;
  m.keep_truth();
  std::vector<SensorTruth> out(std::make_move_iterator(m.truth.begin()), std::make_move_iterator(m.truth.end()));
  m.truth.clear();
  return out;
}

std::vector<FrameAgent> LiveCrowd::positions() const {
  const Impl& m = *impl_;
  std::vector<FrameAgent> out;
  out.reserve(m.x.size());
  for (std::size_t i = 0; i < m.x.size(); ++i) {
    const Info& a = m.info[i];
    out.push_back({a.id, m.x[i], m.y[i], a.ori.x, a.ori.y, m.frame_level(m.layer[i])});
  }
  return out;
}

std::vector<std::string> LiveCrowd::open_exits() const {
  std::vector<std::string> out;
  for (int e : impl_->open_exits) out.push_back(impl_->venue.exits[static_cast<std::size_t>(e)].id);
  return out;
}

std::map<std::string, std::size_t> LiveCrowd::exit_counts() const { return impl_->out_by_exit; }

}  // namespace vigil::sim
