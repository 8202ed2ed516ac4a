// SPDX-License-Identifier: Apache-2.0
// `vigil serve` as an object: the store, the service, webhooks, MQTT and the HTTP server wired
// together from a ServeConfig. The CLI runs one until SIGTERM; tests and the demo embed one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/config.hpp"
#include "base/error.hpp"

namespace vigil::ops {
class Clock;
}
namespace vigil::store {
class Store;
}
namespace vigil::server {
enum class LogLevel;
}

namespace vigil::api {

class Service;

// Log lines to stderr, as text (`2026-11-26T01:30:00.123Z warn message`) or one JSON object
// per line ({"at","level","msg"}), at or above `level`.
std::function<void(server::LogLevel, std::string_view)> make_logger(const std::string& level,
                                                                    const std::string& format);

class ServerApp {
 public:
  // Opens the data directory (creating it), loads the state and starts listening. `clock`
  // defaults to the system clock.
  static Result<std::unique_ptr<ServerApp>> start(const ServeConfig& config,
                                                  const ops::Clock* clock = nullptr);
  ~ServerApp();  // stop()s
  ServerApp(const ServerApp&) = delete;
  ServerApp& operator=(const ServerApp&) = delete;

  // Graceful: stops accepting, lets requests in flight finish, commits pending telemetry,
  // evaluates a last time, signs an audit checkpoint and closes the store. Idempotent.
  void stop();

  // `http://127.0.0.1:PORT/` (https when TLS is configured), with the bound port.
  std::string url() const;
  std::uint16_t port() const;
  std::uint16_t metrics_port() const;
  Service& service();
  store::Store& store();

 private:
  struct Impl;
  explicit ServerApp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The dashboard folder used when the config names none: the `web/` folder of the source tree
// Vigil was built from, or `../share/vigil/web` next to the binary when installed.
std::filesystem::path default_web_root();

}  // namespace vigil::api
