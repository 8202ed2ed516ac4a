// SPDX-License-Identifier: Apache-2.0
// The configuration of `vigil serve`: a TOML file (docs/operations.md lists every option with
// its default), overridden by command-line options. Unknown keys are errors, so a typo never
// silently falls back to a default.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/feed_watch.hpp"
#include "api/mqtt.hpp"
#include "api/webhook.hpp"
#include "base/error.hpp"

namespace vigil::warn {
class GeocodeTable;
}

namespace vigil::api {

struct ServeConfig {
  std::filesystem::path data_dir;  // required (--data)

  // [server]
  std::string listen = "127.0.0.1:8080";
  unsigned io_threads = 2;
  std::size_t max_body_bytes = 1u << 20;
  std::string tls_cert;  // PEM files; TLS when both are set
  std::string tls_key;
  std::string metrics_listen;  // a second, plain listener for /metrics only ("" = none)
  std::filesystem::path web_root;  // the dashboard; "" = the web/ folder Vigil was built from
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{5'000};

  // [state]
  double replay_hours = 24;

  // [audit]
  std::int64_t checkpoint_every = 1000;
  std::filesystem::path witness_file;
  std::string witness_url;  // each checkpoint is also POSTed here (api/webhook.hpp)

  // [egress]
  bool agent_egress = true;  // background agent-based estimates
  double agent_egress_interval_s = 120;
  int agent_threads = 1;

  // [warnings]
  std::filesystem::path geocode_table;  // JSON regions of CAP <geocode>s; "" = none

  // [feeds] and [feeds.NAME]: the CAP feed watch
  FeedWatchOptions feeds;

  // [mqtt]
  bool mqtt_enabled = false;
  MqttOptions mqtt;

  // [webhooks]
  WebhookOptions webhooks;

  // [log]
  std::string log_level = "info";  // debug, info, warn, error
  std::string log_format = "text";  // text or json
};

// Reads a TOML config into `config` (keeping what the file does not set). Errors name the key
// (`server.listen`) and, for syntax errors, the line and column.
Result<void> load_config_file(const std::filesystem::path& file, ServeConfig& config);

// The geocode table of `[warnings] geocode_table`. Errors give the file and line
// (`geocodes.json:12: geocodes[3].polygons[0]: the ring is not closed ...`), all of them.
Result<std::shared_ptr<const warn::GeocodeTable>> load_geocode_table(const std::filesystem::path& file);

// "host:port", "[v6]:port" or ":port" (all interfaces). Port 0: any free port.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
Result<ListenAddress> parse_listen(std::string_view text);

}  // namespace vigil::api
