// SPDX-License-Identifier: Apache-2.0
// Live egress, agent-based estimate (docs/live-egress.md): the people now in each zone, placed
// uniformly at random in their zone, evacuated by the simulation engine (sim::simulate) through
// the exits open now. It is the slower, finer companion of ops::EgressModel ("flow"): it sees
// the crowd's own dynamics (merging streams, imperfect spreading over exits, slow walkers),
// which the flow model only approximates.
//
// Assumptions: everyone starts walking at once (zero pre-movement: the estimate is the time
// to clear once people move, as the flow model's is); walking speeds from Weidmann (normal
// 1.34 ± 0.26 m/s, truncated to [0.46, 1.61]); the `cfsm` model with its defaults (the time
// gap corrected for the coarser step, see LiveEgressOptions); `quickest`
// routing (people weigh walking time and the queue ahead at each exit); hazards are impassable
// from the start (their from_s is ignored: they are there now). Fractional occupancies are
// rounded to whole persons per zone.
//
// Cost: a full simulation at a 0.1 s step; about 1.3 s wall for 5,000 people on 2 threads
// (docs/live-egress.md): run it in the background, not on every occupancy change. Thread
// safety: each call is independent; the venue is only read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/scenario.hpp"
#include "sim/simulation.hpp"
#include "venue/venue.hpp"

namespace vigil::sim {

struct LiveEgressOptions {
  int threads = 0;  // 0: all cores
  // The simulation's step, twice the scenarios' default for speed. cfsm's speed rule (keep
  // the time gap T to the person ahead), stepped explicitly, acts as if T were longer by about
  // one step: queues discharge more slowly the coarser the step (example hall and school, 0.05
  // -> 0.1 s: +4.5 % and +4.6 %). So the estimate runs cfsm with T lowered by
  // (time_step_s - reference_step_s), which gives the reference step's results (the same
  // comparison: -2.8 % and +1.6 %; docs/live-egress.md, "Time step").
  double time_step_s = 0.1;
  double reference_step_s = 0.05;  // the step of the full simulations the estimate stands for
  double max_time_s = 1800;   // people still inside then are reported in not_evacuated
  Profile profile;            // speed (Weidmann), pre-movement 0, radius 0.2 m
  Routing routing = Routing::quickest;
};

struct AgentExitEgress {
  std::size_t people = 0;  // persons out through the exit
  double clear_s = 0;      // when the last of them was out (0 when nobody used it)
};

struct AgentEgressResult {
  // When the last person who got out was out (0 when nobody did). People who never got out
  // (cut off, or still inside at max_time_s, e.g. two people blocking each other for good)
  // are not in it: see evacuated < agents and not_evacuated.
  double time_s = 0;
  std::size_t agents = 0;
  std::size_t evacuated = 0;
  std::map<std::string, AgentExitEgress> exits;  // every open exit
  std::map<std::string, std::vector<std::string>>
      zones;                                         // zone -> exits its people used, most first
  // The exits that held the crowd up: those whose last person was out within 10 % of time_s
  // (the flow model's critical exits) and that passed people at half their nominal capacity
  // (width x 1.3 persons/(m s)) or more over that time (a queue, not a long walk), latest
  // first. The simulation records no queue per door or stair, so unlike the flow estimate's
  // these are exits only.
  std::vector<std::string> bottlenecks;
  std::map<std::string, std::size_t> not_evacuated;  // reason -> persons
  bool max_time_reached = false;
  double wall_s = 0;  // placement and simulation
  RunResult run;      // the full run (samples per second, per-agent times, stage timings)
};

// The scenario the agent-based estimate simulates: one population entry per zone with people
// (zones in venue order), the given closures and hazards (active from t = 0). Errors: an
// unknown zone (`occupancy["flor"]: unknown zone`), a negative or non-finite count, an unknown
// closed id (`closed["E99"]: ...`), a hazard on a level the venue does not have.
Expected<Scenario, Errors> make_egress_scenario(std::shared_ptr<const venue::Venue> venue,
                                                const std::map<std::string, double>& occupancy,
                                                const std::set<std::string>& closed,
                                                const std::vector<ScenarioHazard>& hazards,
                                                const LiveEgressOptions& options = {});

// Places the people (seeded) and simulates the evacuation. Errors: those of
// make_egress_scenario, and more people than fit in a zone (placement's message).
Expected<AgentEgressResult, Errors> estimate_egress_agents(
    std::shared_ptr<const venue::Venue> venue, const std::map<std::string, double>& occupancy,
    const std::set<std::string>& closed, const std::vector<ScenarioHazard>& hazards,
    std::uint64_t seed, const LiveEgressOptions& options = {});

// The result of a run of a scenario made by make_egress_scenario (e.g. with another seed).
AgentEgressResult summarise_egress_run(const Scenario& scenario,
                                       const std::vector<AgentInit>& agents, RunResult run);

}  // namespace vigil::sim
