// SPDX-License-Identifier: Apache-2.0
// The HTTP endpoints of the operations API (`/api/v1/...`, docs/api.md) over the Service:
// authentication, the authorization of each endpoint (role × venue scope), request parsing and
// the mapping of answers to status codes. Denied requests (401/403) are logged and counted.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "api/service.hpp"
#include "server/http.hpp"

namespace vigil::api {

class SimulationJobs;

struct RouteOptions {
  // The dashboard (web/) served at `/`; empty: no dashboard.
  std::filesystem::path web_root;
  // Where denied requests are counted; also served at GET /metrics (without a token, as
  // Prometheus scrapes it) when `serve_metrics`.
  std::shared_ptr<server::MetricsRegistry> metrics;
  bool serve_metrics = true;
  // Operational log lines (denied requests, errors).
  std::function<void(server::LogLevel, std::string_view)> log;
  // Evacuation simulations of stored venues (`/venues/{id}/simulations`, `/simulations/...`);
  // null: those endpoints are not offered (404).
  std::shared_ptr<SimulationJobs> simulations;
};

// Adds every endpoint (and `/healthz`, and the dashboard when configured) to `router`.
// `service` must outlive the server using the router.
void add_routes(server::Router& router, Service& service, const RouteOptions& options);

}  // namespace vigil::api
