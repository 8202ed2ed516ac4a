// SPDX-License-Identifier: Apache-2.0
// A real `vigil serve` (ServerApp on a free loopback port, fresh data directory) with the
// example concert hall and school uploaded and a token for every role and scope.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "../server/test_client.hpp"
#include "api/app.hpp"
#include "api/auth.hpp"
#include "api/service.hpp"
#include "ops/clock.hpp"
#include "store/store.hpp"

namespace vigil::api::testing {

using server::testing::Connection;
using server::testing::HttpResponse;

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::filesystem::path example(const char* name) {
  return std::filesystem::path(VIGIL_SOURCE_DIR) / "examples" / name;
}

inline std::filesystem::path fresh_dir(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() /
             ("vigil-api-" + tag + "-" + std::to_string(::getpid()) + "-" +
              std::to_string(store::now_ms()));
  std::filesystem::remove_all(dir);
  return dir;
}

inline std::string now_text(ops::TimeMs offset_ms = 0) {
  return ops::format_time(ops::SystemClock().now_ms() + offset_ms);
}

constexpr const char* kHall = "riverside-hall";
constexpr const char* kSchool = "school-43";

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start_server(fresh_dir("t")); }
  void TearDown() override {
    app_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start_server(const std::filesystem::path& dir) {
    dir_ = dir;
    ServeConfig config;
    config.data_dir = dir_;
    config.listen = "127.0.0.1:0";
    config.log_level = log_level_;
    config.web_root = dir_;       // no dashboard needed here
    config.agent_egress = agent_egress_;  // no background simulations unless a test asks
    config.agent_egress_interval_s = agent_egress_interval_s_;
    auto app = ServerApp::start(config);
    ASSERT_TRUE(app) << app.error().to_string();
    app_ = std::move(*app);
    if (tokens_.empty()) {
      make("admin", Role::admin, std::nullopt);
      make("analyst", Role::analyst, std::nullopt);
      make("operator", Role::operator_, kHall);
      make("operator-other", Role::operator_, kSchool);
      make("viewer", Role::viewer, kHall);
      make("viewer-other", Role::viewer, kSchool);
      make("sensor", Role::sensor, kHall);
      make("sensor-other", Role::sensor, kSchool);
      ASSERT_EQ(put_venue(kHall, read_text(example("concert-hall.geojson"))).status, 201);
      ASSERT_EQ(put_venue(kSchool, read_text(example("school.geojson"))).status, 201);
    }
  }

  void restart() {
    app_.reset();
    start_server(dir_);
  }

  void make(const std::string& key, Role role, std::optional<std::string> venue) {
    auto t = make_token(role, std::move(venue), key, store::now_ms());
    ASSERT_TRUE(t);
    ASSERT_TRUE(app_->store().put_token(t->record));
    tokens_[key] = t->secret;
  }

  HttpResponse call(const std::string& who, const std::string& method, const std::string& target,
                    const std::string& body = {}, const std::string& extra = {}) {
    std::string headers = extra;
    if (!who.empty()) headers += "Authorization: Bearer " + tokens_.at(who) + "\r\n";
    Connection c(app_->port());
    auto r = c.request(method, target, body, headers);
    EXPECT_TRUE(r.has_value()) << method << " " << target << ": no answer";
    return r.value_or(HttpResponse{});
  }

  HttpResponse put_venue(const std::string& id, const std::string& body) {
    return call("admin", "PUT", "/api/v1/venues/" + id, body);
  }

  HttpResponse telemetry(const std::string& venue, const nlohmann::json& readings,
                         const std::string& who = "sensor") {
    return call(who, "POST", "/api/v1/venues/" + venue + "/telemetry",
                nlohmann::json{{"readings", readings}}.dump());
  }

  nlohmann::json state(const std::string& venue = kHall) {
    auto r = call("admin", "GET", "/api/v1/venues/" + venue + "/state");
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body);
  }

  nlohmann::json alerts(const std::string& query = "") {
    auto r = call("admin", "GET", "/api/v1/alerts" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body)["alerts"];
  }

  // Waits (up to 5 s) until an alert of `rule` is in the list.
  nlohmann::json wait_alert(const std::string& rule, const std::string& query = "") {
    for (int i = 0; i < 250; ++i) {
      for (const auto& a : alerts(query)) {
        if (a["rule"] == rule) return a;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "no " << rule << " alert";
    return {};
  }

  std::filesystem::path dir_;
  std::string log_level_ = "error";  // of the next start_server() / restart()
  bool agent_egress_ = false;        // background agent-based egress estimates, and their
  double agent_egress_interval_s_ = 120;  // interval (the next start_server() / restart())
  std::unique_ptr<ServerApp> app_;
  std::map<std::string, std::string> tokens_;
};

}  // namespace vigil::api::testing
