// SPDX-License-Identifier: Apache-2.0
// Scenarios (docs: scenario-and-results.md): what to simulate, parsed and validated. Parsing
// reports every problem, each with its JSON path and the offending value, e.g.
// `population[2].zone: unknown zone "flor"`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/error.hpp"
#include "geom/geom.hpp"
#include "sim/random.hpp"
#include "venue/venue.hpp"

namespace vigil::sim {

using Errors = std::vector<Error>;

// A number given as a constant or as a distribution.
struct Distribution {
  enum class Kind { constant, normal, uniform, lognormal };
  Kind kind = Kind::constant;
  double value = 0;                        // constant
  double mean = 0;                         // normal
  double sd = 0;                           // normal
  double mu = 0;                           // lognormal: mean of the logarithm
  double sigma = 0;                        // lognormal: sd of the logarithm
  double min = -std::numeric_limits<double>::infinity();  // normal, lognormal: truncation;
  double max = std::numeric_limits<double>::infinity();   // uniform: the range

  static Distribution constant(double v);
  static Distribution normal(double mean, double sd, double min, double max);
  static Distribution uniform(double min, double max);

  double sample(Rng& rng) const;
  // The smallest and largest value sample() can return.
  double lowest() const;
  double highest() const;
};

struct Profile {
  // Weidmann (1993): free walking speed 1.34 ± 0.26 m/s, truncated to the RiMEA range.
  Distribution speed_m_s = Distribution::normal(1.34, 0.26, 0.46, 1.61);
  Distribution premovement_s = Distribution::constant(0);
  Distribution radius_m = Distribution::constant(0.2);
};

struct Group {
  std::string name;
  double share = 0;  // of all agents, (0, 1]
  Profile profile;   // the scenario profile with this group's overrides
};

struct PopulationEntry {
  enum class Kind { zone, polygon, agents };
  Kind kind = Kind::zone;
  std::string path;          // "population[2]", for messages
  std::string zone;          // Kind::zone
  int level = 0;
  geom::Polygon polygon;     // Kind::zone: the zone's polygon; Kind::polygon: as given
  int count = 0;             // people asked for (given, or density × walkable area)
  std::vector<geom::Vec2> agents;  // Kind::agents
  std::string exit;  // the exit these people head for (open; empty: routing chooses)
};

struct ScenarioHazard {
  geom::Polygon polygon;
  int level = 0;
  double from_s = 0;
};

struct MeasureLine {
  std::string id;
  int level = 0;
  geom::Segment line;
};

enum class Routing { nearest, quickest };

struct ModelSpec {
  std::string name = "cfsm";
  std::map<std::string, double> params;  // every parameter of the model, defaults filled in
};

struct Scenario {
  std::filesystem::path file;  // the scenario file, empty when parsed from text
  std::shared_ptr<const venue::Venue> venue;
  std::string venue_source;    // the venue path as given, or "inline"
  std::uint64_t seed = 1;
  int runs = 1;
  ModelSpec model;
  double time_step_s = 0.05;
  double max_time_s = 3600;
  std::vector<PopulationEntry> population;
  Profile profile;
  std::vector<Group> groups;
  std::set<std::string> closed;
  std::vector<ScenarioHazard> hazards;
  Routing routing = Routing::nearest;
  std::vector<MeasureLine> lines;
  std::vector<std::string> warnings;  // e.g. venue warnings
};

// `base_dir` resolves a venue given as a path. The placement is checked for the first seed (so
// that "more people than fit" is a parse error).
Expected<Scenario, Errors> parse_scenario(const nlohmann::json& doc,
                                          const std::filesystem::path& base_dir);
Expected<Scenario, Errors> parse_scenario_text(std::string_view json_text,
                                               const std::filesystem::path& base_dir);
Expected<Scenario, Errors> load_scenario_file(const std::filesystem::path& path);

// One person as placed at the start of a run.
struct AgentInit {
  geom::Vec2 position;
  int level = 0;
  double speed_m_s = 1.34;
  double premovement_s = 0;
  double radius_m = 0.2;
  int group = -1;  // index into Scenario::groups, or -1
  int entry = 0;   // index into Scenario::population
};

// The people of one run: profiles sampled and positions placed, deterministically from `seed`.
// Random placement keeps centres at least max(r_i + r_j, 0.4 m) apart and r from walls; asking
// for more people than fit is an error that says how many fit.
Expected<std::vector<AgentInit>, Errors> place_population(const Scenario& scenario,
                                                          std::uint64_t seed);

}  // namespace vigil::sim
