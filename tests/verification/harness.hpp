// SPDX-License-Identifier: Apache-2.0
// A small stepper over the engine's own parts (sim::Space for the walls, sim::NeighbourGrid,
// the operational model from the registry) for the verification set-ups that the scenario
// format cannot express: a periodic corridor (RiMEA 4 / NIST 2.5) and groups that each walk to
// their own exit (NIST 2.8 counterflow). The engine (sim::simulate) is not touched by it.
//
// A step is the engine's: desired direction, neighbour grid, model velocity from the frozen
// snapshot, movement kept inside the walls (Space::constrain_move), then bookkeeping.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/model.hpp"
#include "sim/neighbour_grid.hpp"
#include "sim/space.hpp"
#include "venue/nav_field.hpp"
#include "venue/venue.hpp"

namespace vigil::sim::verification {

class DirectedCrowd {
 public:
  // `venue` gives the walls (level 0 only). `model`: a registry name with its defaults.
  DirectedCrowd(std::shared_ptr<const venue::Venue> venue, const std::string& model, double dt_s);
  DirectedCrowd(const DirectedCrowd&) = delete;
  DirectedCrowd& operator=(const DirectedCrowd&) = delete;

  // Periodic in x over [x0, x1): everyone walks in +x; whoever passes x1 re-enters at x0, and
  // people within the interaction range of one end see those at the other end.
  // REQUIRES: the level-0 walkable space spans [x0 - 2.5, x1 + 2.5] across the corridor.
  void set_periodic(double x0, double x1);
  // A group that follows the walking-distance field to exit `exit_id` (all other exits closed
  // for it) and leaves through it. Returns the group index.
  int add_group_to_exit(const std::string& exit_id);

  void add(geom::Vec2 p, double v0_m_s, double radius_m, int group = -1);
  void step();

  double time_s() const { return time_s_; }
  std::size_t inside() const { return x_.size(); }
  const std::vector<double>& x() const { return x_; }
  const std::vector<double>& y() const { return y_; }
  // Velocities of the last step ((new - old position) / dt, before any periodic wrap).
  const std::vector<double>& vx() const { return vx_; }
  const std::vector<double>& vy() const { return vy_; }
  // Net crossings of the line x = line_x since set_count_line (periodic runs): +1 for each
  // crossing in +x, -1 for each in -x (people jostling back and forth on the line in a jam
  // are not a flow).
  void set_count_line(double line_x) { count_x_ = line_x; crossings_ = 0; }
  std::int64_t crossings() const { return crossings_; }
  // Per agent added: the time it left through its group's exit, or NaN.
  const std::vector<double>& arrival_s() const { return arrival_s_; }

 private:
  struct Group {
    venue::NavField field;
    int exit = -1;  // index into Venue::exits
  };

  std::shared_ptr<const venue::Venue> venue_;
  Space space_;
  std::unique_ptr<OperationalModel> model_;
  NeighbourGrid grid_;
  double dt_s_;
  double time_s_ = 0;
  bool periodic_ = false;
  double x0_ = 0;
  double x1_ = 0;
  double count_x_ = 0;
  std::int64_t crossings_ = 0;
  std::vector<Group> groups_;

  // Agents (structure of arrays, as in the engine).
  std::vector<double> x_, y_, vx_, vy_, v0_, r_;
  std::vector<int> group_, id_;
  std::vector<double> arrival_s_;
  // The snapshot of a step: agents, then periodic ghosts.
  std::vector<double> sx_, sy_, svx_, svy_, sr_, sgx_, sgy_, sroute_;
  std::vector<std::int32_t> slayer_;
};

}  // namespace vigil::sim::verification
