// SPDX-License-Identifier: Apache-2.0
// Internal to the service (service.cpp, service_egress.cpp): what it keeps per venue.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/service.hpp"
#include "ops/egress.hpp"
#include "ops/monitor.hpp"
#include "venue/venue.hpp"

namespace vigil::api {

// Live egress of one venue (service_egress.cpp). GUARDED_BY the runtime's mu.
struct LiveEgress {
  ops::EgressConditions conditions;  // closed exits/doors and hazards of the open incidents
  std::uint64_t conditions_version = 0;
  // The flow model for `model_version` (built in the background; null until the first build).
  std::shared_ptr<const ops::EgressModel> model;
  std::uint64_t model_version = 0;
  bool building = false;

  std::optional<ops::EgressEstimate> estimate;  // the latest fast estimate
  std::uint64_t estimate_version = 0;           // the model version it used
  double estimate_occupancy = -1;               // the occupancy it was made for

  nlohmann::json agent = nullptr;  // the latest agent-based estimate (agent_json), null before one
  double agent_occupancy = -1;
  std::uint64_t agent_version = 0;
  bool agent_running = false;
  std::chrono::steady_clock::time_point agent_started{};
  std::uint64_t agent_started_version = 0;  // the model version the last started one used

  bool evacuation = false;                 // an evacuation incident is open
  std::vector<nlohmann::json> incidents;   // open incidents, oldest first
  nlohmann::json json = nullptr;           // the state's `egress` member
};

struct Service::Runtime {
  std::mutex mu;
  std::string id;
  std::string file;  // the venue file as uploaded
  std::shared_ptr<const venue::Venue> model;
  std::unique_ptr<ops::Monitor> monitor;
  LiveEgress egress;
  std::string posture = "normal";
  std::size_t open_alerts = 0;     // firing or acknowledged, as of the last evaluation
  double occupancy = 0;            // as of the last evaluation
  std::atomic<bool> dirty{false};  // new telemetry since the last evaluation
  ops::TimeMs last_eval_ms = 0;
  std::chrono::steady_clock::time_point last_state_sent{};

  // The `GET /state` answer is kept as text and served again while nothing it is made of has
  // changed (`state_gen`, bumped by changed_state()) and for at most Service::kStateCacheMs
  // (times in it age). Building it is most of a request's CPU.
  std::uint64_t state_gen = 0;
  std::uint64_t state_text_gen = ~std::uint64_t{0};
  ops::TimeMs state_text_ms = 0;
  std::string state_text;
  // REQUIRES: mu held. Call on every change to the monitor, the posture or the egress.
  void changed_state() { ++state_gen; }
};

}  // namespace vigil::api
