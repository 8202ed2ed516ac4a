// SPDX-License-Identifier: Apache-2.0
#include "sim/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>

#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "sim/model.hpp"
#include "sim/neighbour_grid.hpp"
#include "sim/routing.hpp"
#include "sim/space.hpp"
#include "venue/nav_field.hpp"

namespace vigil::sim {

namespace {

using Clock = std::chrono::steady_clock;
using venue::NavField;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kReorder = 1.0;         // s between re-sortings of the agents' slots by cell
constexpr std::uint8_t kActive = 0;
constexpr std::uint8_t kTrapped = 1;

const char* const kReasonNoExit = "no open exit can be reached from where they are";
const char* const kReasonHazard = "cut off from every open exit by a hazard";
const char* const kReasonTime = "still inside when max_time_s was reached";

// "model": each person's velocity and the step it allows (constrained by walls), one pass.
enum Stage { kHazards, kRouting, kNeighbours, kModel, kBookkeeping, kStageCount };
const char* const kStageNames[kStageCount] = {"hazards", "routing", "neighbours", "model", "bookkeeping"};

// Side of p relative to the directed line a->b (+1 left, -1 right or on it).
int side(const Segment& s, Vec2 p) { return geom::cross(s.b - s.a, p - s.a) > 0 ? 1 : -1; }

// Does the move p->q cross segment s (half-open: touching from one side counts once)?
bool crosses(const Segment& s, Vec2 p, Vec2 q) {
  if (side(s, p) == side(s, q)) return false;
  const int sa = geom::cross(q - p, s.a - p) > 0 ? 1 : -1;
  const int sb = geom::cross(q - p, s.b - p) > 0 ? 1 : -1;
  return sa != sb;
}

// The navigation fields valid in one hazard epoch: one field (routing `nearest`), or one per
// open exit with all other exits closed (routing `quickest`); with `nearest` and people assigned
// to exits, the nearest-exit field followed by the per-exit fields.
struct FieldSet {
  std::vector<NavField> fields;
  std::size_t exit_base = 0;  // fields[exit_base + e]: the field of open exit e, if there is one
};

class Engine {
 public:
  Engine(const Scenario& sc, std::uint64_t seed, const std::vector<AgentInit>& init, const SimOptions& opt)
      : sc_(sc), venue_(*sc.venue), opt_(opt), space_(Space::build(*sc.venue, sc.closed)) {
    result_.seed = seed;
    result_.agents = init.size();
    result_.evacuation_time_s.assign(init.size(), std::numeric_limits<double>::quiet_NaN());
    result_.exit_used.assign(init.size(), -1);
    result_.line_crossing_s.resize(sc.lines.size());
    model_ = make_model(sc.model.name, sc.model.params);
    grid_.configure(space_, model_->interaction_range_m());
    dt_ = sc.time_step_s;

    for (std::size_t e = 0; e < venue_.exits.size(); ++e)
      if (!sc.closed.count(venue_.exits[e].id)) open_exits_.push_back(static_cast<int>(e));
    hazard_epoch_.assign(sc.hazards.size(), -1);
    for (const PopulationEntry& entry : sc.population) any_assigned_ = any_assigned_ || !entry.exit.empty();
    epochs_.push_back(compute_fields());
    // The nav layer of each space layer (the same in every field).
    const NavField& f0 = any_field();
    for (int l = 0; l < space_.layer_count(); ++l) {
      const SpaceLayer& sl = space_.layer(l);
      nav_layer_.push_back(sl.kind == SpaceLayer::Kind::level ? f0.level_layer(sl.level) : f0.stair_layer(sl.stair));
    }

    const std::size_t n = init.size();
    x_.resize(n); y_.resize(n); vx_.assign(n, 0); vy_.assign(n, 0);
    nx_.resize(n); ny_.resize(n);
    v0_.resize(n); radius_.resize(n); premove_.resize(n); ox_.assign(n, 1); oy_.assign(n, 0);
    layer_.resize(n); id_.resize(n); target_.assign(n, -1); state_.assign(n, kActive);
    up_.assign(n, 0); ignore_.assign(n, 0); epoch_.assign(n, 0);
    goal_dx_.assign(n, 0); goal_dy_.assign(n, 0); goal_speed_.assign(n, 0); route_m_.assign(n, kInf);
    cache_x_.assign(n, 0); cache_y_.assign(n, 0); cache_dx_.assign(n, 0); cache_dy_.assign(n, 0);
    cache_d_.assign(n, kInf); cache_layer_.assign(n, -1); cache_epoch_.assign(n, -1); cache_target_.assign(n, -1);
    cache_ok_.assign(n, 0);
    assigned_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const AgentInit& a = init[i];
      // An exit assigned to the person's population entry: its target for good.
      const std::string& exit = sc.population[static_cast<std::size_t>(a.entry)].exit;
      for (std::size_t e = 0; e < open_exits_.size() && !exit.empty(); ++e) {
        if (venue_.exits[static_cast<std::size_t>(open_exits_[e])].id != exit) continue;
        target_[i] = static_cast<std::int32_t>(e);
        assigned_[i] = 1;
      }
      x_[i] = a.position.x;
      y_[i] = a.position.y;
      v0_[i] = a.speed_m_s;
      radius_[i] = a.radius_m;
      premove_[i] = a.premovement_s;
      layer_[i] = space_.level_layer(a.level);
      id_[i] = static_cast<std::int32_t>(i);
    }
    zone_box_.reserve(venue_.zones.size());
    for (const venue::Zone& z : venue_.zones) zone_box_.push_back(geom::bounds(z.polygon));
    for (const venue::Stair& st : venue_.stairs) {
      geom::Box b = geom::bounds(st.footprint);
      b.extend(geom::bounds(st.top));
      b.extend(geom::bounds(st.bottom));
      stair_box_.push_back(b);
    }
  }

  // REQUIRES: called in the arena of `threads` threads the engine was built in.
  RunResult run(int threads) {
    const auto start = Clock::now();
    result_.threads = threads;
    loop();
    result_.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
    for (int s = 0; s < kStageCount; ++s) result_.stage_wall_s.emplace_back(kStageNames[s], stage_s_[s]);
    return std::move(result_);
  }

 private:
  const NavField& any_field() const { return epochs_.front().fields.front(); }

  FieldSet compute_fields() const {
    venue::NavOptions base;
    base.cell_m = kNavCell;
    base.closed = sc_.closed;
    for (std::size_t h = 0; h < sc_.hazards.size(); ++h)
      if (hazard_epoch_[h] >= 0) base.hazards.push_back({sc_.hazards[h].level, sc_.hazards[h].polygon});
    FieldSet set;
    if (sc_.routing == Routing::nearest || open_exits_.empty()) {
      set.fields.push_back(NavField::compute(venue_, base));
      if (!any_assigned_ || open_exits_.empty()) return set;
      set.exit_base = 1;
    }
    // One field per open exit (the others closed), computed side by side.
    std::vector<std::optional<NavField>> fields(open_exits_.size());
    tbb::parallel_for(std::size_t{0}, open_exits_.size(), [&](std::size_t k) {
      venue::NavOptions o = base;
      for (int other : open_exits_)
        if (other != open_exits_[k]) o.closed.insert(venue_.exits[static_cast<std::size_t>(other)].id);
      fields[k].emplace(NavField::compute(venue_, o));
    });
    for (auto& f : fields) set.fields.push_back(std::move(*f));
    return set;
  }

  // Chunks of 256 people handed out by work stealing: people in a dense part of the crowd (in
  // cell order, next to each other) cost several times more than those walking freely.
  template <class F>
  void parallel(std::size_t n, F&& body) {
    if (n == 0) return;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 256),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t i = r.begin(); i != r.end(); ++i) body(i);
                      },
                      tbb::simple_partitioner());
  }

  template <class F>
  void timed(Stage s, F&& f) {
    const auto t0 = Clock::now();
    f();
    stage_s_[s] += std::chrono::duration<double>(Clock::now() - t0).count();
  }

  RouteSpace route_space() const { return {venue_, space_, nav_layer_}; }

  // ---- stages -------------------------------------------------------------------------------

  void stage_hazards(double t) {
    bool any = false;
    for (std::size_t h = 0; h < sc_.hazards.size(); ++h) {
      if (hazard_epoch_[h] >= 0 || sc_.hazards[h].from_s > t + 1e-9) continue;
      hazard_epoch_[h] = static_cast<int>(epochs_.size());  // the epoch that first avoids it
      space_.add_hazard(static_cast<int>(h), sc_.hazards[h].level, sc_.hazards[h].polygon);
      any = true;
    }
    if (!any) return;
    epochs_.push_back(compute_fields());
    compute_escapes();
  }

  // Points just outside each active hazard from which an exit can be reached, with their
  // field distance: people inside a hazard head for the best visible one.
  void compute_escapes() {
    escapes_.assign(sc_.hazards.size(), {});
    const FieldSet& set = epochs_.back();
    for (std::size_t h = 0; h < sc_.hazards.size(); ++h) {
      if (hazard_epoch_[h] < 0) continue;
      const int sl = space_.level_layer(sc_.hazards[h].level);
      const int nl = nav_layer_[static_cast<std::size_t>(sl)];
      const geom::Ring& ring = sc_.hazards[h].polygon.outer;
      for (std::size_t k = 0; k < ring.size(); ++k) {
        const Segment e{ring[k], ring[(k + 1) % ring.size()]};
        const double len = e.length();
        const int pieces = std::max(1, static_cast<int>(std::ceil(len / 0.5)));
        Vec2 n = geom::normalized(Vec2{-(e.b - e.a).y, (e.b - e.a).x});
        if (geom::contains(sc_.hazards[h].polygon, e.midpoint() + n * 0.05)) n = n * -1.0;
        for (int j = 0; j < pieces; ++j) {
          const Vec2 q = e.a + (e.b - e.a) * ((j + 0.5) / pieces) + n * 0.4;
          double d = kInf;
          for (const NavField& f : set.fields) d = std::min(d, robust_distance(f, nl, q));
          if (d == kInf || !space_.inside(sl, q)) continue;
          escapes_[h].push_back({q, d});
        }
      }
    }
  }

  // The way out of the hazards agent i is in: the escape point with the least
  // (3 x straight distance + field distance) that can be walked to in a straight line.
  Vec2 escape_direction(std::size_t i) const {
    const Vec2 p{x_[i], y_[i]};
    std::vector<std::pair<double, Vec2>> options;
    for (std::size_t h = 0; h < escapes_.size(); ++h) {
      if (!((ignore_[i] >> h) & 1U)) continue;
      for (const auto& [q, d] : escapes_[h]) options.emplace_back(3 * geom::distance(p, q) + d, q);
    }
    std::sort(options.begin(), options.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [cost, q] : options) {
      if (!space_.crosses_wall(layer_[i], p, q, ignore_[i])) return geom::normalized(q - p);
    }
    return {};
  }

  // Which hazards contain agent i (bit mask) and which field epoch it follows: the last epoch
  // that does not avoid any hazard the agent is inside.
  void hazard_state(std::size_t i, std::uint64_t& mask, int& epoch) const {
    mask = 0;
    epoch = static_cast<int>(epochs_.size()) - 1;
    const SpaceLayer& sl = space_.layer(layer_[i]);
    if (sl.kind != SpaceLayer::Kind::level) return;
    const Vec2 p{x_[i], y_[i]};
    for (std::size_t h = 0; h < sc_.hazards.size(); ++h) {
      if (hazard_epoch_[h] < 0 || sc_.hazards[h].level != sl.level) continue;
      if (!geom::contains(sc_.hazards[h].polygon, p)) continue;
      mask |= std::uint64_t{1} << h;
      epoch = std::min(epoch, hazard_epoch_[h] - 1);
    }
  }

  void stage_routing(double t, bool reroute) {
    const std::size_t n = x_.size();
    // Exit choice needs everyone's hazard state first; otherwise it is part of the one pass.
    const bool choose = sc_.routing == Routing::quickest && !open_exits_.empty() && reroute;
    if (choose) {
      parallel(n, [&](std::size_t i) { hazard_state(i, ignore_[i], epoch_[i]); });
      choose_exits();
    }
    parallel(n, [&](std::size_t i) {
      if (!choose) hazard_state(i, ignore_[i], epoch_[i]);
      goal_dx_[i] = goal_dy_[i] = goal_speed_[i] = 0;
      route_m_[i] = kInf;
      if (state_[i] != kActive) return;
      const FieldSet& set = epochs_[static_cast<std::size_t>(epoch_[i])];
      const bool own_exit = target_[i] >= 0 && (sc_.routing == Routing::quickest || assigned_[i]);
      const std::size_t fi = own_exit ? set.exit_base + static_cast<std::size_t>(target_[i]) : 0;
      const NavField& f = set.fields[std::min(fi, set.fields.size() - 1)];
      const Vec2 p{x_[i], y_[i]};
      const int sl = layer_[i];
      // The route of the last evaluation holds while the agent stays within kRouteReuse of
      // where it was evaluated, on the same layer, field and target, away from portals and
      // hazards (all per-agent state: the same for any number of threads).
      const Vec2 moved = p - Vec2{cache_x_[i], cache_y_[i]};
      const bool reuse = cache_ok_[i] && ignore_[i] == 0 && geom::dot(moved, moved) < kRouteReuse * kRouteReuse &&
                         cache_layer_[i] == sl && cache_epoch_[i] == epoch_[i] && cache_target_[i] == target_[i];
      double d = cache_d_[i];
      Vec2 dir{cache_dx_[i], cache_dy_[i]};
      if (!reuse) {
        const int nl = nav_layer_[static_cast<std::size_t>(sl)];
        const double d_field = f.distance(nl, p);
        d = robust_distance(f, nl, p, d_field);
        cache_ok_[i] = 0;
        if (d == kInf && assigned_[i]) {
          // Cut off from the assigned exit (a hazard): the routing chooses from the next step.
          assigned_[i] = 0;
          target_[i] = -1;
        }
        if (d == kInf) return;  // trapped agents are marked in bookkeeping
        dir = ignore_[i] ? escape_direction(i) : Vec2{};
        if (dir == Vec2{}) dir = field_direction(route_space(), f, sl, p, radius_[i], d_field, d);
        cache_ok_[i] = route_reusable(space_, sl, p) ? 1 : 0;
        cache_x_[i] = p.x;
        cache_y_[i] = p.y;
        cache_dx_[i] = dir.x;
        cache_dy_[i] = dir.y;
        cache_d_[i] = d;
        cache_layer_[i] = sl;
        cache_epoch_[i] = epoch_[i];
        cache_target_[i] = target_[i];
      }
      route_m_[i] = d;
      if (t + 1e-9 < premove_[i]) return;
      goal_dx_[i] = dir.x;
      goal_dy_[i] = dir.y;
      double v = v0_[i];
      const SpaceLayer& layer = space_.layer(sl);
      if (layer.kind == SpaceLayer::Kind::stair) {
        const venue::Stair& st = venue_.stairs[static_cast<std::size_t>(layer.stair)];
        const double plan = st.plan_length_m();
        const double along = st.length_m > 0 && plan > 0 ? plan / st.length_m : 1.0;
        v *= (up_[i] ? st.speed_factor_up : st.speed_factor_down) * along;
      }
      goal_speed_[i] = v;
    });
  }

  // Quickest routing: each agent picks the exit with the least walking time plus expected
  // wait (people queued ahead of it near that exit / (exit width x 1.3 persons/(m s))), and
  // switches only when that is clearly better than its current exit.
  void choose_exits() {
    const std::size_t n = x_.size();
    const std::size_t ne = open_exits_.size();
    dist_e_.assign(n * ne, kInf);
    parallel(n, [&](std::size_t i) {
      if (state_[i] != kActive) return;
      const FieldSet& set = epochs_[static_cast<std::size_t>(epoch_[i])];
      const Vec2 p{x_[i], y_[i]};
      const int nl = nav_layer_[static_cast<std::size_t>(layer_[i])];
      for (std::size_t e = 0; e < ne; ++e) dist_e_[i * ne + e] = robust_distance(set.fields[e], nl, p);
    });
    // Per exit: sorted distances of the people heading for it within the queue range.
    std::vector<std::vector<double>> queue(ne);
    for (std::size_t i = 0; i < n; ++i) {
      if (target_[i] < 0 || state_[i] != kActive) continue;
      const double d = dist_e_[i * ne + static_cast<std::size_t>(target_[i])];
      if (d <= kQueueRange) queue[static_cast<std::size_t>(target_[i])].push_back(d);
    }
    for (auto& q : queue) std::sort(q.begin(), q.end());
    parallel(n, [&](std::size_t i) {
      if (state_[i] != kActive || assigned_[i]) return;  // assigned people keep their exit
      double best = kInf;
      int best_e = -1;
      double current = kInf;
      for (std::size_t e = 0; e < ne; ++e) {
        const double d = dist_e_[i * ne + e];
        if (d == kInf) continue;
        const auto& q = queue[e];
        const auto ahead = static_cast<double>(std::lower_bound(q.begin(), q.end(), d) - q.begin());
        const double width = venue_.exits[static_cast<std::size_t>(open_exits_[e])].width_m;
        const double cost = d / std::max(v0_[i], 0.1) + ahead / (std::max(width, 0.1) * kExitFlow);
        if (cost < best) {
          best = cost;
          best_e = static_cast<int>(e);
        }
        if (static_cast<int>(e) == target_[i]) current = cost;
      }
      if (best_e < 0) return;
      if (target_[i] < 0 || current == kInf || best < current - std::max(1.0, 0.1 * current)) target_[i] = best_e;
    });
  }

  AgentSnapshot snapshot() const {
    return AgentSnapshot::of(x_, y_, vx_, vy_, radius_, layer_, goal_dx_, goal_dy_, route_m_);
  }

  // In cell order, so that consecutive agents share their neighbours in the cache. Each
  // person's velocity, then the step it allows (walls), in the same pass: the step writes only
  // nx_/ny_, which no velocity reads (the model sees the positions of the step's start).
  void stage_model() {
    const AgentSnapshot snap = snapshot();
    const ModelContext ctx{snap, grid_, space_, dt_};
    const std::vector<std::uint32_t>& order = grid_.order();
    parallel(order.size(), [&](std::size_t k) {
      const std::size_t i = order[k];
      AgentGoal g;
      g.index = i;
      g.direction = {goal_dx_[i], goal_dy_[i]};
      g.speed_m_s = goal_speed_[i];
      g.ignore_hazards = ignore_[i];
      const Vec2 v = model_->velocity(ctx, g);
      const Vec2 p{x_[i], y_[i]};
      const Vec2 want = p + v * dt_;
      const Vec2 q = want == p ? p : space_.constrain_move(layer_[i], p, want, radius_[i], ignore_[i]);
      nx_[i] = q.x;
      ny_[i] = q.y;
    });
  }

  // Each person's own step (exit, stairs, new position) in parallel, as they touch only their
  // own slot and result entry; the crossings of measurement lines, which append to shared
  // lists, in a serial pass before.
  void stage_bookkeeping(double t_end) {
    const std::size_t n = x_.size();
    for (std::size_t m = 0; m < sc_.lines.size(); ++m) {
      for (std::size_t i = 0; i < n; ++i) {
        const SpaceLayer& layer = space_.layer(layer_[i]);
        if (layer.kind != SpaceLayer::Kind::level || sc_.lines[m].level != layer.level) continue;
        const Vec2 p{x_[i], y_[i]};
        const Vec2 q{nx_[i], ny_[i]};
        if (p != q && crosses(sc_.lines[m].line, p, q)) result_.line_crossing_s[m].push_back(t_end);
      }
    }
    leave_.assign(n, 0);
    parallel(n, [&](std::size_t i) {
      const Vec2 p{x_[i], y_[i]};
      const Vec2 q{nx_[i], ny_[i]};
      const SpaceLayer& layer = space_.layer(layer_[i]);
      // Exits.
      int exit = -1;
      // A step shorter than the portal gap cannot reach a portal.
      if (p != q && space_.portal_gap(layer_[i], p) <= geom::distance(p, q)) {
        for (const Portal& portal : layer.portals)
          if (portal.kind == Portal::Kind::exit && crosses(portal.seg, p, q)) exit = portal.exit;
      }
      if (exit >= 0) {
        result_.evacuation_time_s[static_cast<std::size_t>(id_[i])] = t_end;
        result_.exit_used[static_cast<std::size_t>(id_[i])] = exit;
        leave_[i] = 1;
        return;
      }
      // Stairs.
      if (layer.kind == SpaceLayer::Kind::level) {
        geom::Box step_box;
        step_box.extend(p);
        step_box.extend(q);
        for (int s : layer.stairs) {
          // A step that does not meet the stair's box neither enters nor crosses it.
          if (!stair_box_[static_cast<std::size_t>(s)].intersects(step_box)) continue;
          const venue::Stair& st = venue_.stairs[static_cast<std::size_t>(s)];
          const bool via_bottom = st.from_level == layer.level && crosses(st.bottom, p, q);
          const bool via_top = st.to_level == layer.level && crosses(st.top, p, q);
          if (via_bottom || via_top || geom::contains(st.footprint, q)) {
            layer_[i] = space_.stair_layer(s);
            up_[i] = via_bottom || (!via_top && st.from_level == layer.level) ? 1 : 0;
            break;
          }
        }
      } else {
        const venue::Stair& st = venue_.stairs[static_cast<std::size_t>(layer.stair)];
        int to = 0;
        bool left = true;
        if (crosses(st.top, p, q)) to = st.to_level;
        else if (crosses(st.bottom, p, q)) to = st.from_level;
        else if (!geom::contains(st.footprint, q))
          to = geom::distance(q, st.top) < geom::distance(q, st.bottom) ? st.to_level : st.from_level;
        else left = false;
        if (left) {
          const int nl = space_.level_layer(to);
          if (nl >= 0) layer_[i] = nl;
        }
      }
      // Orientation for trajectories.
      const Vec2 d = q - p;
      if (geom::norm(d) > 1e-9) {
        const Vec2 o = geom::normalized(d);
        ox_[i] = o.x;
        oy_[i] = o.y;
      }
      vx_[i] = (q.x - p.x) / dt_;
      vy_[i] = (q.y - p.y) / dt_;
      x_[i] = q.x;
      y_[i] = q.y;
    });
    // Remove the evacuated, keeping order: the slots that stay from the first who left on,
    // then every array compacted by them from there (the arrays in parallel).
    const auto first_left =
        static_cast<std::size_t>(std::find(leave_.begin(), leave_.end(), 1) - leave_.begin());
    if (first_left == n) return;
    stay_.clear();
    for (std::size_t i = first_left; i < n; ++i)
      if (!leave_[i]) stay_.push_back(static_cast<std::uint32_t>(i));
    tbb::task_group group;
    for_each_agent_array([&](auto& v) {
      group.run([&v, first_left, this] {
        for (std::size_t w = 0; w < stay_.size(); ++w) v[first_left + w] = v[stay_[w]];
        v.resize(first_left + stay_.size());
      });
    });
    group.wait();
  }

  // Calls f(v) for every per-agent array (all indexed by slot).
  template <class F>
  void for_each_agent_array(F&& f) {
    for (auto* v : {&x_, &y_, &vx_, &vy_, &nx_, &ny_, &v0_, &radius_, &premove_, &ox_, &oy_,
                    &goal_dx_, &goal_dy_, &goal_speed_, &route_m_, &cache_x_, &cache_y_, &cache_dx_, &cache_dy_,
                    &cache_d_})
      f(*v);
    for (auto* v : {&cache_layer_, &cache_epoch_, &cache_target_, &layer_, &id_, &target_, &epoch_}) f(*v);
    for (auto* v : {&cache_ok_, &state_, &up_, &assigned_}) f(*v);
    f(ignore_);
  }

  // Puts the agents' slots in the neighbour grid's cell order, so that the agents the model
  // visits one after the other, and their neighbours, are near each other in memory.
  void reorder_by_cell() {
    const std::vector<std::uint32_t>& order = grid_.order();
    for_each_agent_array([&](auto& v) {
      std::remove_reference_t<decltype(v)> sorted(v.size());
      for (std::size_t k = 0; k < order.size(); ++k) sorted[k] = v[order[k]];
      v.swap(sorted);
    });
  }

  // Marks agents that cannot reach any exit (at the start, and when hazards change the fields).
  void mark_trapped(const char* reason) {
    for (std::size_t i = 0; i < x_.size(); ++i) {
      if (state_[i] != kActive) continue;
      std::uint64_t mask = 0;
      int epoch = 0;
      hazard_state(i, mask, epoch);
      const FieldSet& set = epochs_[static_cast<std::size_t>(epoch)];
      const int nl = nav_layer_[static_cast<std::size_t>(layer_[i])];
      bool reachable = false;
      for (const NavField& f : set.fields)
        reachable = reachable || robust_distance(f, nl, {x_[i], y_[i]}) != kInf;
      if (!reachable) {
        state_[i] = kTrapped;
        trapped_reason_[id_[i]] = reason;
      }
    }
  }

  std::size_t active_count() const {
    std::size_t c = 0;
    for (std::uint8_t s : state_) c += s == kActive ? 1 : 0;
    return c;
  }

  void sample(double t) {
    result_.sample_time_s.push_back(t);
    std::vector<std::uint32_t> counts(venue_.zones.size(), 0);
    for (std::size_t i = 0; i < x_.size(); ++i) {
      const SpaceLayer& layer = space_.layer(layer_[i]);
      if (layer.kind != SpaceLayer::Kind::level) continue;
      const Vec2 p{x_[i], y_[i]};
      for (std::size_t z = 0; z < venue_.zones.size(); ++z) {
        if (venue_.zones[z].level != layer.level || !zone_box_[z].contains(p)) continue;
        if (geom::contains(venue_.zones[z].polygon, p)) ++counts[z];
      }
    }
    result_.zone_persons.push_back(std::move(counts));
  }

  void write_frame(FrameSink& sink, std::int64_t frame) {
    frame_buf_.clear();
    for (std::size_t i = 0; i < x_.size(); ++i) {
      const SpaceLayer& layer = space_.layer(layer_[i]);
      frame_buf_.push_back({id_[i], x_[i], y_[i], ox_[i], oy_[i], layer.kind == SpaceLayer::Kind::level ? layer.level : venue_.stairs[static_cast<std::size_t>(layer.stair)].from_level});
    }
    sink.frame(frame, frame_buf_);
  }

  void loop() {
    const std::size_t total = result_.agents;
    const auto max_steps = static_cast<std::size_t>(std::ceil(sc_.max_time_s / dt_ - 1e-9));
    const auto reroute_every = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(kReroute / dt_)));
    const auto reorder_every = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(kReorder / dt_)));
    const int frame_every = std::max(1, opt_.frame_every_steps);
    const int playback_every = std::max(1, opt_.playback_every_steps);
    std::size_t step = 0;
    std::size_t next_sample = 0;  // in whole seconds
    timed(kHazards, [&] { stage_hazards(0); });
    mark_trapped(kReasonNoExit);
    while (true) {
      const double t = static_cast<double>(step) * dt_;
      // Samples at whole seconds (the state at the start of the step at or after them).
      while (static_cast<double>(next_sample) <= t + 1e-9) {
        sample(static_cast<double>(next_sample));
        if (opt_.progress) opt_.progress(static_cast<double>(next_sample), evacuated_, total);
        ++next_sample;
      }
      if (opt_.frames && step % static_cast<std::size_t>(frame_every) == 0)
        write_frame(*opt_.frames, static_cast<std::int64_t>(step / static_cast<std::size_t>(frame_every)));
      if (opt_.playback && step % static_cast<std::size_t>(playback_every) == 0)
        write_frame(*opt_.playback, static_cast<std::int64_t>(step / static_cast<std::size_t>(playback_every)));
      if (active_count() == 0) break;
      if (step >= max_steps) {
        result_.max_time_reached = true;
        break;
      }
      const std::size_t before_epochs = epochs_.size();
      timed(kHazards, [&] { stage_hazards(t); });
      if (epochs_.size() != before_epochs) mark_trapped(kReasonHazard);
      timed(kRouting, [&] { stage_routing(t, step % reroute_every == 0 || epochs_.size() != before_epochs); });
      timed(kNeighbours, [&] {
        grid_.rebuild(snapshot());
        if (step % reorder_every == 0) {
          reorder_by_cell();
          grid_.rebuild(snapshot());
        }
      });
      timed(kModel, [&] { stage_model(); });
      const std::size_t before = x_.size();
      result_.agent_steps += before;
      timed(kBookkeeping, [&] { stage_bookkeeping(static_cast<double>(step + 1) * dt_); });
      evacuated_ += before - x_.size();
      ++step;
    }
    result_.steps = step;
    result_.end_time_s = static_cast<double>(step) * dt_;
    for (std::size_t i = 0; i < x_.size(); ++i) {
      auto it = trapped_reason_.find(id_[i]);
      ++result_.not_evacuated[it != trapped_reason_.end() ? it->second : kReasonTime];
    }
  }

  const Scenario& sc_;
  const venue::Venue& venue_;
  const SimOptions& opt_;
  Space space_;
  std::unique_ptr<OperationalModel> model_;
  NeighbourGrid grid_;
  double dt_ = 0.05;
  std::vector<int> open_exits_;
  std::vector<FieldSet> epochs_;
  std::vector<int> hazard_epoch_;
  std::vector<int> nav_layer_;
  std::vector<std::vector<std::pair<Vec2, double>>> escapes_;  // per hazard: (point, distance)
  std::vector<geom::Box> zone_box_;
  std::vector<geom::Box> stair_box_;  // footprint and both edges

  // Agents (structure of arrays; index = slot, id_ = agent number).
  std::vector<double> x_, y_, vx_, vy_, nx_, ny_, v0_, radius_, premove_, ox_, oy_;
  std::vector<double> goal_dx_, goal_dy_, goal_speed_, route_m_;
  // The last route evaluation of each agent (see stage_routing).
  std::vector<double> cache_x_, cache_y_, cache_dx_, cache_dy_, cache_d_;
  std::vector<std::int32_t> cache_layer_, cache_epoch_, cache_target_;
  std::vector<std::uint8_t> cache_ok_;
  std::vector<std::int32_t> layer_, id_, target_;
  std::vector<std::uint8_t> state_, up_;
  std::vector<std::uint8_t> assigned_;  // 1: target_ is the exit of the person's population entry
  bool any_assigned_ = false;           // some population entry has an exit
  std::vector<std::uint64_t> ignore_;
  std::vector<int> epoch_;
  std::vector<double> dist_e_;
  std::vector<std::uint8_t> leave_;  // stage_bookkeeping's: 1 for those who left this step
  std::vector<std::uint32_t> stay_;  // stage_bookkeeping's: the slots that stay, in order
  std::map<std::int32_t, const char*> trapped_reason_;
  std::vector<FrameAgent> frame_buf_;
  std::size_t evacuated_ = 0;
  double stage_s_[kStageCount] = {};
  RunResult result_;
};

}  // namespace

RunResult simulate(const Scenario& scenario, std::uint64_t seed, const std::vector<AgentInit>& agents,
                   const SimOptions& options) {
  const auto start = Clock::now();
  const int threads = options.threads > 0 ? options.threads : tbb::info::default_concurrency();
  tbb::task_arena arena(threads);
  RunResult r = arena.execute([&] {
    Engine engine(scenario, seed, agents, options);  // builds walls and navigation fields
    return engine.run(threads);
  });
  r.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

}  // namespace vigil::sim
