// SPDX-License-Identifier: Apache-2.0
#include "sim/live_egress.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "sim/model.hpp"
#include "sim/routing.hpp"

namespace vigil::sim {

Expected<Scenario, Errors> make_egress_scenario(std::shared_ptr<const venue::Venue> venue,
                                                const std::map<std::string, double>& occupancy,
                                                const std::set<std::string>& closed,
                                                const std::vector<ScenarioHazard>& hazards,
                                                const LiveEgressOptions& options) {
  Errors errs;
  if (!venue) return unexpected(Errors{{"venue", "no venue given"}});
  for (const auto& [zone, persons] : occupancy) {
    const std::string where = "occupancy[\"" + zone + "\"]";
    if (!venue->find_zone(zone))
      errs.push_back({where, "unknown zone"});
    else if (!std::isfinite(persons) || persons < 0)
      errs.push_back(
          {where, "persons must be a finite number >= 0, not " + std::to_string(persons)});
  }
  for (const std::string& id : closed)
    if (!venue->find_exit(id) && !venue->find_door(id))
      errs.push_back({"closed[\"" + id + "\"]", "no exit or door with this id"});
  for (std::size_t h = 0; h < hazards.size(); ++h)
    if (!venue->find_level(hazards[h].level))
      errs.push_back({"hazards[" + std::to_string(h) + "].level",
                      "the venue has no level " + std::to_string(hazards[h].level)});
  if (hazards.size() > 64)
    errs.push_back({"hazards", "at most 64 hazards, not " + std::to_string(hazards.size())});
  if (!(options.time_step_s > 0 && options.time_step_s <= 1))
    errs.push_back(
        {"options.time_step_s", "must be in (0, 1], not " + std::to_string(options.time_step_s)});
  if (!(options.reference_step_s > 0 && options.reference_step_s <= 1))
    errs.push_back({"options.reference_step_s",
                    "must be in (0, 1], not " + std::to_string(options.reference_step_s)});
  if (!(options.max_time_s > 0)) errs.push_back({"options.max_time_s", "must be > 0"});
  // cfsm's time gap, corrected for the step (LiveEgressOptions).
  const ParamSpec* gap = nullptr;
  for (const ParamSpec& ps : find_model("cfsm")->params)
    if (ps.key == "time_gap_s") gap = &ps;
  const double time_gap_s = gap->default_value - (options.time_step_s - options.reference_step_s);
  if (errs.empty() && !(time_gap_s >= gap->min && time_gap_s <= gap->max))
    errs.push_back({"options.time_step_s", "too coarse for the reference step " +
                                               std::to_string(options.reference_step_s) +
                                               " s: cfsm's time gap would be " +
                                               std::to_string(time_gap_s) + " s"});
  if (!errs.empty()) return unexpected(std::move(errs));

  Scenario sc;
  sc.venue = venue;
  sc.venue_source = "live";
  sc.time_step_s = options.time_step_s;
  sc.model.name = "cfsm";
  sc.model.params["time_gap_s"] = time_gap_s;
  sc.max_time_s = options.max_time_s;
  sc.profile = options.profile;
  sc.closed = closed;
  sc.hazards = hazards;
  for (ScenarioHazard& h : sc.hazards) h.from_s = 0;  // present now
  sc.routing = options.routing;
  for (const venue::Zone& z : venue->zones) {
    auto it = occupancy.find(z.id);
    if (it == occupancy.end()) continue;
    const auto count = static_cast<int>(std::llround(it->second));
    if (count <= 0) continue;
    PopulationEntry e;
    e.kind = PopulationEntry::Kind::zone;
    e.path = "occupancy[\"" + z.id + "\"]";
    e.zone = z.id;
    e.level = z.level;
    e.polygon = z.polygon;
    e.count = count;
    sc.population.push_back(std::move(e));
  }
  return sc;
}

AgentEgressResult summarise_egress_run(const Scenario& sc, const std::vector<AgentInit>& agents,
                                       RunResult run) {
  const venue::Venue& v = *sc.venue;
  AgentEgressResult r;
  r.agents = run.agents;
  for (const venue::Opening& e : v.exits)
    if (!sc.closed.count(e.id)) r.exits[e.id] = {};
  std::map<std::string, std::map<std::string, std::size_t>> zone_exits;
  double last = 0;
  for (std::size_t i = 0; i < run.agents; ++i) {
    const double t = run.evacuation_time_s[i];
    const int ex = run.exit_used[i];
    if (std::isnan(t) || ex < 0) continue;
    ++r.evacuated;
    last = std::max(last, t);
    const std::string& id = v.exits[static_cast<std::size_t>(ex)].id;
    AgentExitEgress& ae = r.exits[id];
    ++ae.people;
    ae.clear_s = std::max(ae.clear_s, t);
    const auto entry = static_cast<std::size_t>(agents[i].entry);
    if (entry < sc.population.size() && !sc.population[entry].zone.empty())
      ++zone_exits[sc.population[entry].zone][id];
  }
  r.time_s = r.evacuated > 0 ? last : 0;
  std::vector<std::pair<double, std::string>> critical;
  for (const auto& [id, x] : r.exits) {
    if (x.people == 0 || x.clear_s < 0.9 * r.time_s) continue;
    const double capacity_p_s = v.find_exit(id)->width_m * kExitFlow;
    if (static_cast<double>(x.people) / x.clear_s >= 0.5 * capacity_p_s)
      critical.emplace_back(x.clear_s, id);
  }
  std::stable_sort(critical.begin(), critical.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [t, id] : critical) r.bottlenecks.push_back(id);
  for (auto& [zone, counts] : zone_exits) {
    std::vector<std::pair<std::string, std::size_t>> ranked(counts.begin(), counts.end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (auto& [id, n] : ranked) r.zones[zone].push_back(id);
  }
  r.not_evacuated = run.not_evacuated;
  r.max_time_reached = run.max_time_reached;
  r.wall_s = run.wall_s;
  r.run = std::move(run);
  return r;
}

Expected<AgentEgressResult, Errors> estimate_egress_agents(
    std::shared_ptr<const venue::Venue> venue, const std::map<std::string, double>& occupancy,
    const std::set<std::string>& closed, const std::vector<ScenarioHazard>& hazards,
    std::uint64_t seed, const LiveEgressOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto sc = make_egress_scenario(std::move(venue), occupancy, closed, hazards, options);
  if (!sc) return unexpected(std::move(sc).error());
  sc->seed = seed;
  auto agents = place_population(*sc, seed);
  if (!agents) return unexpected(std::move(agents).error());
  SimOptions so;
  so.threads = options.threads;
  RunResult run = simulate(*sc, seed, *agents, so);
  AgentEgressResult r = summarise_egress_run(*sc, *agents, std::move(run));
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace vigil::sim
