// SPDX-License-Identifier: Apache-2.0
// Live egress, fast estimate (operations API, "Live egress and incidents"; docs/live-egress.md):
// from the current occupancy of each zone, how long the venue would take to clear through the
// exits open now, which exits each zone should use, and which openings hold the crowd up.
//
// Method ("flow"): a hydraulic model over the navigation fields. EgressModel::build computes one
// navigation field per open exit (all other exits closed; closed doors and hazards as walls),
// cuts each zone into tiles of about `tile_m`, and records per tile and exit the walking
// distances (min, mean, max over the tile's cells) and the doors and stairs on the way (traced
// down the field). estimate() spreads each zone's people uniformly over its tiles and assigns
// groups of people to exits twice, greedily (nearest groups first) and then with a few passes
// of re-assignment: once as a crowd chooses on its own (walking time plus the queue it can
// see at the exit: `time_s`, `exits`, `bottlenecks`), once balanced (each group takes the exit
// where it would be out soonest given all queues: the recommendation `zones` and
// `guided_time_s`). An exit's clearance time is the latest of: the walk of its farthest
// person, and for each opening on the way (first arrival + people through it / its capacity
// + the walk from it to the exit). Capacities follow the SFPE hydraulic model: maximum specific
// flow x effective width (clear width less boundary layers); a stair's specific flow is the
// level's at the stair's horizontal walking speed. The crowd sees the queue at the exit, fed no
// faster than the openings on each stream's way let it through (metered arrivals), and the
// queue in front of the first opening on its way.
//
// Cost: build() is dominated by the fields (one per open exit, tens of ms each for a concert
// hall); estimate() is well under a millisecond for the example hall. Rebuild the model when an
// exit or door closes or a hazard appears; call estimate() whenever the occupancy changes.
//
// Thread safety: a built model is immutable; estimate() may be called from several threads.
#pragma once

#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "venue/nav_field.hpp"
#include "venue/venue.hpp"

namespace vigil::ops {

// Figures of the flow model. Defaults: Weidmann (1993) free speed; IMO MSC.1/Circ.1533 maximum
// specific flows (shared/ref/verification.md).
struct EgressOptions {
  double cell_m = 0.25;          // navigation field cell size
  double tile_m = 6.0;           // zones are cut into tiles about this size
  double free_speed_m_s = 1.34;  // unimpeded walking speed
  double door_flow_p_m_s = 1.3;  // specific flow through exits and doors
  // Effective width = clear width - a boundary layer on each side that the crowd does not use
  // (SFPE Handbook, hydraulic model, after Pauls: door jambs and stair walls 0.15 m).
  double door_boundary_m = 0.15;   // exits and doors
  double stair_boundary_m = 0.15;  // stairs
  // Stairs: true: the maximum of Weidmann's specific flow (1.225) x the stair's horizontal
  // speed ratio (its speed factor down or up x plan length / walking length; venue data, as
  // the simulation walks stairs); false: the fixed figures below (IMO MSC.1/Circ.1533).
  bool stair_flow_from_speed = true;
  double stair_down_flow_p_m_s = 1.1;  // specific flow on stairs walked down
  double stair_up_flow_p_m_s = 0.88;   // specific flow on stairs walked up
  double group_people = 20;            // people are assigned to exits in groups of at most this
  int refine_passes = 4;               // re-assignment passes after the greedy one
  // How the crowd chooses its exits on its own (time_s, exits, bottlenecks): groups, nearest
  // first, take the exit with the least walking time plus the queue they find there on
  // arrival (people assigned before them less those served since), as far as they can see it:
  // at most the people that fit within visible_queue_m of the exit at queue_density_p_m2
  // (default: the whole queue; the simulation's `quickest` routing looks 10 m ahead, which
  // made the estimate less stable without making it more accurate, docs/live-egress.md).
  // false: the crowd follows the recommendation (time_s = guided_time_s).
  bool crowd_choice = true;
  // The crowd's choices depend on the order of arrival: the median of this many orderings
  // (nearest first; the others with distances jittered by ±crowd_order_jitter) is reported.
  int crowd_orderings = 9;
  double crowd_order_jitter = 0.2;
  double visible_queue_m = std::numeric_limits<double>::infinity();
  // The queue a group finds at an exit leaves out the people still held in front of a door or
  // stair upstream when it gets there (each stream reaches the exit no faster than the
  // openings on its way let it through); false: everyone assigned to the exit before it.
  bool metered_arrivals = true;
  // ... and the queue in front of the first opening on its way (the door out of the room or
  // hall it is in), which is in sight; false: only the exit's queue.
  bool first_queue_in_sight = true;
  double queue_density_p_m2 = 2.5;
  // The recommendation (zones, guided_time_s): each group takes the exit with the least
  // (time out given all queues + walk_weight × walking time): of two exits that clear at about
  // the same time, the nearer one.
  double walk_weight = 0.1;
  // An opening is a bottleneck when its queue (people / capacity) is at least this share of
  // the clearance time of an exit it feeds whose clearance is within `critical_share` of the
  // venue's time.
  double bottleneck_queue_share = 0.5;
  double critical_share = 0.9;
};

// The situation the model is built for: closed exits and doors (ids) and impassable regions.
struct EgressConditions {
  std::set<std::string> closed;
  std::vector<venue::Hazard> hazards;
};

struct ExitEgress {
  double people = 0;   // persons assigned to the exit
  double clear_s = 0;  // when its last person is out (0 when nobody uses it)
};

// Mirrors the `egress` member of the venue state (to_json()).
struct EgressEstimate {
  // Time to clear everyone who can get out (s) when the crowd chooses its exits itself; 0 for
  // an empty venue.
  double time_s = 0;
  // The same when people are directed to the exits in `zones` (the balanced assignment).
  double guided_time_s = 0;
  double limit_s = 0;  // the venue's egress_limit_s
  std::string method = "flow";
  std::map<std::string, ExitEgress> exits;  // every open exit (crowd's own choice)
  std::map<std::string, std::vector<std::string>>
      zones;                             // recommended: zone -> exit ids, most people first
  std::vector<std::string> bottlenecks;  // exit/door/stair ids, worst queue first
  // People who cannot reach any open exit (cut off by closures or hazards); not in time_s.
  double people_cut_off = 0;
  std::map<std::string, double> cut_off_by_zone;
  // Queue time (people / capacity, s) at every exit, door and stair that anyone passes.
  std::map<std::string, double> queue_s;
};

// Per zone id: persons in it now.
using ZoneOccupancy = std::map<std::string, double>;

class EgressModel {
 public:
  // Precomputes everything that depends only on the venue and the conditions. Unknown ids in
  // `conditions.closed` are ignored (the caller validates incidents). Never fails on a valid
  // venue; with no open exit every person is cut off.
  // REQUIRES: `venue` outlives the model.
  static EgressModel build(const venue::Venue& venue, const EgressConditions& conditions = {},
                           const EgressOptions& options = {});

  // The estimate for this occupancy. Errors (the first one found): an unknown zone id
  // (`occupancy["flor"]: unknown zone`), a negative or non-finite count. Zones not listed are
  // empty.
  Result<EgressEstimate> estimate(const ZoneOccupancy& occupancy) const;

  const EgressConditions& conditions() const;
  const EgressOptions& options() const;
  // Ids of the exits open in this model, in venue order.
  std::vector<std::string> open_exits() const;

  EgressModel(EgressModel&&) noexcept;
  EgressModel& operator=(EgressModel&&) noexcept;
  ~EgressModel();

  struct Data;  // implementation detail (egress.cpp)

 private:
  explicit EgressModel(std::shared_ptr<const Data> data);
  std::shared_ptr<const Data> data_;
};

// Weidmann (1993) walking speed at a density (persons/m²): 1.34 (1 − exp(−1.913 (1/ρ − 1/5.4)))
// m/s, scaled to `free_speed_m_s`; free speed below 0.1 /m², at least 0.05 m/s.
double weidmann_speed_m_s(double density_p_m2, double free_speed_m_s = 1.34);

// The maximum of the Weidmann specific flow density x speed (persons/(m s)): 1.225 at about
// 1.75 /m² for the free speed 1.34 m/s.
double weidmann_max_flow_p_m_s(double free_speed_m_s = 1.34);

// The spec's `egress` object: {time_s, limit_s, method, exits: {id: {people, clear_s}},
// zones: {zone: [exit ids]}, bottlenecks: [ids]}, plus the extensions `guided_time_s` and
// `cut_off` (persons; only when anyone is cut off). `agent_time_s` is the caller's to add. Times
// are rounded to 0.1 s, people to whole persons.
nlohmann::json to_json(const EgressEstimate& estimate);

}  // namespace vigil::ops
