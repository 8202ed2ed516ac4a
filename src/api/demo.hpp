// SPDX-License-Identifier: Apache-2.0
// `vigil demo`: the operations server on the example concert hall with a gathering tonight, a
// simulated crowd (sim::LiveCrowd) arriving, milling and, on an evacuation incident (the
// dashboard's button) or after a set time, evacuating; its virtual sensors post telemetry to
// the server over HTTP like real ones; a sample CAP warning arrives after a minute.
// Deterministic for a seed (the crowd; wall-clock timing of requests aside).
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "base/error.hpp"

namespace vigil::api {

struct DemoOptions {
  std::string listen = "127.0.0.1:8080";
  std::uint64_t seed = 1;
  std::filesystem::path data_dir;  // empty: a fresh temporary directory
  std::filesystem::path venue_file;  // empty: the example concert hall
  double warning_after_s = 60;     // the sample CAP warning (negative: none)
  double evacuate_after_s = -1;    // automatic evacuation (negative: only on the dashboard button)
  double speed = 1;                // simulated seconds per wall second
  bool quiet = false;
};

struct DemoInfo {
  std::string url;
  std::string admin_token;
  std::string operator_token;
  std::filesystem::path data_dir;
};

class Demo {
 public:
  // Starts everything; returns once the server listens and the crowd runs.
  static Result<std::unique_ptr<Demo>> start(const DemoOptions& options);
  ~Demo();  // stop()s
  Demo(const Demo&) = delete;
  Demo& operator=(const Demo&) = delete;

  const DemoInfo& info() const;
  void stop();

 private:
  struct Impl;
  explicit Demo(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The example venue (examples/concert-hall.geojson of the source tree, or the installed copy).
std::filesystem::path default_demo_venue();

}  // namespace vigil::api
