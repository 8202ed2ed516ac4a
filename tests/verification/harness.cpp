// SPDX-License-Identifier: Apache-2.0
#include "harness.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace vigil::sim::verification {

namespace {

using geom::Vec2;

// Does the move p->q cross segment s (as the engine counts exits)?
bool crosses(const geom::Segment& s, Vec2 p, Vec2 q) {
  auto side = [&](Vec2 x) { return geom::cross(s.b - s.a, x - s.a) > 0; };
  if (side(p) == side(q)) return false;
  return (geom::cross(q - p, s.a - p) > 0) != (geom::cross(q - p, s.b - p) > 0);
}

}  // namespace

DirectedCrowd::DirectedCrowd(std::shared_ptr<const venue::Venue> venue, const std::string& model, double dt_s)
    : venue_(std::move(venue)), space_(Space::build(*venue_, {})), model_(make_model(model, {})), dt_s_(dt_s) {
  if (!model_) throw std::invalid_argument("unknown model " + model);
  grid_.configure(space_, model_->interaction_range_m());
}

void DirectedCrowd::set_periodic(double x0, double x1) {
  periodic_ = true;
  x0_ = x0;
  x1_ = x1;
}

int DirectedCrowd::add_group_to_exit(const std::string& exit_id) {
  venue::NavOptions o;
  int exit = -1;
  for (std::size_t e = 0; e < venue_->exits.size(); ++e) {
    if (venue_->exits[e].id == exit_id) exit = static_cast<int>(e);
    else o.closed.insert(venue_->exits[e].id);
  }
  if (exit < 0) throw std::invalid_argument("no exit " + exit_id);
  groups_.push_back({venue::NavField::compute(*venue_, o), exit});
  return static_cast<int>(groups_.size()) - 1;
}

void DirectedCrowd::add(Vec2 p, double v0_m_s, double radius_m, int group) {
  x_.push_back(p.x);
  y_.push_back(p.y);
  vx_.push_back(0);
  vy_.push_back(0);
  v0_.push_back(v0_m_s);
  r_.push_back(radius_m);
  group_.push_back(group);
  id_.push_back(static_cast<int>(arrival_s_.size()));
  arrival_s_.push_back(std::numeric_limits<double>::quiet_NaN());
}

void DirectedCrowd::step() {
  const std::size_t n = x_.size();
  const int layer = space_.level_layer(0);
  const double range = model_->interaction_range_m();
  const double length = x1_ - x0_;
  sx_.assign(x_.begin(), x_.end());
  sy_.assign(y_.begin(), y_.end());
  svx_.assign(vx_.begin(), vx_.end());
  svy_.assign(vy_.begin(), vy_.end());
  sr_.assign(r_.begin(), r_.end());
  sgx_.assign(n, 0);
  sgy_.assign(n, 0);
  sroute_.assign(n, 0);
  std::vector<Vec2> goal(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 p{x_[i], y_[i]};
    if (group_[i] < 0) {
      goal[i] = {1, 0};
      sroute_[i] = x1_ - p.x;
    } else {
      const Group& g = groups_[static_cast<std::size_t>(group_[i])];
      const geom::Segment& exit = venue_->exits[static_cast<std::size_t>(g.exit)].line;
      const int nl = g.field.level_layer(0);
      sroute_[i] = g.field.distance(nl, p);
      if (geom::distance(p, exit) < 1.0) {
        // Near its exit: head through it (as the engine does at a useful portal).
        const Vec2 c = geom::closest_point(exit, p);
        Vec2 out = geom::normalized(Vec2{-(exit.b - exit.a).y, (exit.b - exit.a).x});
        if (geom::dot(out, c - p) < 0) out = out * -1.0;
        goal[i] = geom::normalized(c + out * 0.5 - p);
      } else {
        goal[i] = g.field.direction(nl, p);
      }
    }
    sgx_[i] = goal[i].x;
    sgy_[i] = goal[i].y;
  }
  if (periodic_) {
    // Ghosts: everyone within the interaction range of one end, copied beyond the other.
    for (std::size_t i = 0; i < n; ++i) {
      double shift = 0;
      if (x_[i] < x0_ + range) shift = length;
      else if (x_[i] >= x1_ - range) shift = -length;
      if (shift == 0) continue;
      sx_.push_back(x_[i] + shift);
      sy_.push_back(y_[i]);
      svx_.push_back(vx_[i]);
      svy_.push_back(vy_[i]);
      sr_.push_back(r_[i]);
      sgx_.push_back(1);
      sgy_.push_back(0);
      sroute_.push_back(x1_ - x_[i] - shift);
    }
  }
  slayer_.assign(sx_.size(), layer);
  const AgentSnapshot snap = AgentSnapshot::of(sx_, sy_, svx_, svy_, sr_, slayer_, sgx_, sgy_, sroute_);
  grid_.rebuild(snap);
  const ModelContext ctx{snap, grid_, space_, dt_s_};
  std::vector<Vec2> next(n);
  for (std::size_t i = 0; i < n; ++i) {
    AgentGoal g;
    g.index = i;
    g.direction = goal[i];
    g.speed_m_s = goal[i] == Vec2{} ? 0 : v0_[i];
    const Vec2 v = model_->velocity(ctx, g);
    const Vec2 p{x_[i], y_[i]};
    const Vec2 want = p + v * dt_s_;
    next[i] = want == p ? p : space_.constrain_move(layer, p, want, r_[i]);
  }
  time_s_ += dt_s_;
  std::size_t w = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Vec2 p{x_[i], y_[i]};
    Vec2 q = next[i];
    bool left = false;
    if (!periodic_) {
      for (std::size_t e = 0; e < venue_->exits.size() && !left; ++e) {
        if (!crosses(venue_->exits[e].line, p, q)) continue;
        left = true;
        const int g = group_[i];
        if (g >= 0 && groups_[static_cast<std::size_t>(g)].exit == static_cast<int>(e))
          arrival_s_[static_cast<std::size_t>(id_[i])] = time_s_;
      }
    }
    if (left) continue;
    vx_[w] = (q.x - p.x) / dt_s_;
    vy_[w] = (q.y - p.y) / dt_s_;
    if (periodic_) {
      if (p.x < count_x_ && q.x >= count_x_) ++crossings_;
      else if (p.x >= count_x_ && q.x < count_x_) --crossings_;  // net flow: back-steps count -1
      if (q.x >= x1_) q.x -= length;
      else if (q.x < x0_) q.x += length;
    }
    x_[w] = q.x;
    y_[w] = q.y;
    v0_[w] = v0_[i];
    r_[w] = r_[i];
    group_[w] = group_[i];
    id_[w] = id_[i];
    ++w;
  }
  for (auto* v : {&x_, &y_, &vx_, &vy_, &v0_, &r_}) v->resize(w);
  group_.resize(w);
  id_.resize(w);
}

}  // namespace vigil::sim::verification
