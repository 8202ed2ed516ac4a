// SPDX-License-Identifier: Apache-2.0
#include "api/demo.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "api/app.hpp"
#include "api/http_client.hpp"
#include "api/service.hpp"
#include "ops/clock.hpp"
#include "sim/live_crowd.hpp"
#include "store/store.hpp"
#include "venue/load.hpp"

#ifndef VIGIL_EXAMPLES_DIR
#define VIGIL_EXAMPLES_DIR ""
#endif

namespace vigil::api {

using nlohmann::json;

std::filesystem::path default_demo_venue() {
  std::filesystem::path built = std::filesystem::path(VIGIL_EXAMPLES_DIR) / "concert-hall.geojson";
  if (std::filesystem::exists(built)) return built;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed = exe.parent_path() / ".." / "share" / "vigil" / "examples" / "concert-hall.geojson";
    if (std::filesystem::exists(installed)) return installed;
  }
  return built;
}

namespace {

std::string cap_time(ops::TimeMs t) { return ops::format_time(t / 1000 * 1000).substr(0, 19) + "-00:00"; }

// A sample tip about tonight's concert, as an authority would send it.
std::string sample_warning(const venue::Venue& v, ops::TimeMs now, ops::TimeMs ends) {
  const double lat = v.origin ? v.origin->lat : 0;
  const double lon = v.origin ? v.origin->lon : 0;
  return fmt::format(R"(<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>demo-tip-{0}</identifier>
  <sender>duty-officer@authority.example</sender>
  <sent>{1}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Security</category>
    <event>Threat to a mass gathering</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Possible</certainty>
    <onset>{1}</onset>
    <expires>{2}</expires>
    <senderName>Regional duty officer (demonstration)</senderName>
    <headline>Possible attack on a concert hall tonight</headline>
    <description>Unconfirmed information that a concert venue in the district may be targeted this evening. (Demonstration data.)</description>
    <instruction>Raise the security posture, add screening at the entrances, brief stewards.</instruction>
    <area>
      <areaDesc>The district around {3}</areaDesc>
      <circle>{4:.4f},{5:.4f} 3</circle>
    </area>
  </info>
</alert>
)",
                     now, cap_time(now), cap_time(ends), v.name, lat, lon);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

struct Demo::Impl {
  DemoOptions options;
  DemoInfo info;
  std::unique_ptr<ServerApp> app;
  std::shared_ptr<const venue::Venue> venue;
  std::unique_ptr<sim::LiveCrowd> crowd;
  std::string sensor_token;
  Principal admin;
  std::atomic<bool> stopping{false};
  std::thread loop;

  void log(const std::string& line) const {
    if (!options.quiet) std::cerr << "demo: " << line << std::endl;
  }

  // Posts the crowd's sensor readings to the server like the sensors would.
  void post_readings() {
    auto readings = crowd->take_readings();
    if (readings.empty()) return;
    json batch = json::array();
    for (const auto& r : readings) {
      json j = {{"sensor", r.sensor}, {"seq", r.seq}, {"ts", ops::format_time(r.ts_ms)}};
      switch (r.kind) {
        case sim::VirtualReading::Kind::in_out:
          j["in"] = r.in;
          j["out"] = r.out;
          break;
        case sim::VirtualReading::Kind::count: j["count"] = r.count; break;
        case sim::VirtualReading::Kind::density: j["density"] = std::round(r.density * 100) / 100; break;
      }
      batch.push_back(std::move(j));
    }
    HttpRequestOptions o;
    o.headers.emplace_back("Authorization", "Bearer " + sensor_token);
    auto res = http_request("POST", info.url + "api/v1/venues/" + venue->id + "/telemetry",
                            json{{"readings", batch}}.dump(), "application/json", o);
    if (!res) log("telemetry: " + res.error().to_string());
    else if (res->status != 200) log(fmt::format("telemetry: HTTP {}: {}", res->status, res->body.substr(0, 300)));
  }

  // Follows the incidents operators raise on the dashboard.
  void follow_incidents(std::set<std::string>& applied) {
    auto list = app->service().list_incidents(venue->id);
    if (!list) return;
    for (const json& i : (*list)["incidents"]) {
      const std::string id = i["id"];
      if (applied.contains(id) || !i["closed_at"].is_null()) continue;
      applied.insert(id);
      if (i["kind"] == "evacuation") {
        log("evacuation ordered: the crowd heads for the exits");
        crowd->evacuate();
      } else if (i["kind"] == "exit_blocked") {
        if (auto ok = crowd->close_exit(i["exit"]); !ok) log(ok.error().to_string());
        else log("exit " + i["exit"].get<std::string>() + " blocked: the crowd re-routes");
      } else if (i["kind"] == "hazard") {
        geom::Polygon p;
        for (const auto& pt : i["polygon"]) p.outer.push_back({pt[0].get<double>(), pt[1].get<double>()});
        if (auto ok = crowd->add_hazard(i.value("level", 0), p); !ok) log(ok.error().to_string());
      }
    }
  }

  void run() {
    const auto tick = std::chrono::milliseconds(250);
    auto next = std::chrono::steady_clock::now();
    const auto started = next;
    bool warned = options.warning_after_s < 0;
    bool evacuated = options.evacuate_after_s < 0;
    std::set<std::string> applied;
    auto last_report = started;
    while (!stopping.load()) {
      next += tick;
      std::this_thread::sleep_until(next);
      crowd->step(0.25 * options.speed);
      post_readings();
      follow_incidents(applied);
      const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (!warned && wall_s >= options.warning_after_s) {
        warned = true;
        const auto now = ops::SystemClock().now_ms();
        auto posted = app->service().post_warning(admin, sample_warning(*venue, now, now + 6 * 3'600'000LL));
        if (posted) {
          log(fmt::format("a CAP warning arrived: {} match(es); acknowledge it on the Warnings page",
                          posted->body["matches"].size()));
        } else {
          log("sample warning refused: " + posted.error().message);
        }
      }
      if (!evacuated && wall_s >= options.evacuate_after_s) {
        evacuated = true;
        app->service().create_incident(admin, venue->id, R"({"kind":"evacuation","note":"demo: timed evacuation"})",
                                       [](Answer) {});
      }
      if (std::chrono::steady_clock::now() - last_report >= std::chrono::seconds(30)) {
        last_report = std::chrono::steady_clock::now();
        log(fmt::format("t={:.0f} s: {} inside, {} arrived, {} left", crowd->time_s(), crowd->inside(),
                        crowd->arrived(), crowd->left()));
      }
    }
  }
};

Demo::Demo(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Demo::~Demo() { stop(); }

void Demo::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->loop.joinable()) impl_->loop.join();
  if (impl_->app) impl_->app->stop();
}

const DemoInfo& Demo::info() const { return impl_->info; }

Result<std::unique_ptr<Demo>> Demo::start(const DemoOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.speed <= 0 || options.speed > 20) return unexpected(Error{"--speed", "must be in (0, 20]"});
  auto data = options.data_dir;
  if (data.empty()) {
    data = std::filesystem::temp_directory_path() /
           fmt::format("vigil-demo-{}-{}", options.seed, ops::SystemClock().now_ms());
  }
  impl->info.data_dir = data;

  const auto venue_file = options.venue_file.empty() ? default_demo_venue() : options.venue_file;
  const std::string venue_text = read_file(venue_file);
  auto loaded = venue::load_venue(venue_text);
  if (!loaded.ok()) {
    return unexpected(Error{venue_file.string(), loaded.issues.empty() ? "cannot read the venue"
                                                                       : loaded.issues.front().to_string()});
  }
  impl->venue = std::make_shared<const venue::Venue>(std::move(*loaded.venue));

  ServeConfig config;
  config.data_dir = data;
  config.listen = options.listen;
  config.log_level = "warn";
  auto app = ServerApp::start(config);
  if (!app) return unexpected(app.error());
  impl->app = std::move(*app);
  impl->info.url = impl->app->url();

  auto& st = impl->app->store();
  auto token = [&](Role role, std::optional<std::string> venue, const char* name) -> Result<std::string> {
    auto t = make_token(role, std::move(venue), name, store::now_ms());
    if (!t) return unexpected(t.error());
    if (auto ok = st.put_token(t->record); !ok) return unexpected(ok.error());
    return t->secret;
  };
  auto admin = token(Role::admin, std::nullopt, "demo admin");
  auto op = token(Role::operator_, impl->venue->id, "demo operator");
  auto sensor = token(Role::sensor, impl->venue->id, "demo sensors");
  if (!admin || !op || !sensor) return unexpected(Error{data.string(), "cannot create the demo tokens"});
  impl->info.admin_token = *admin;
  impl->info.operator_token = *op;
  impl->sensor_token = *sensor;
  impl->admin = Principal{"demo", "demo admin", Role::admin, std::nullopt};

  Service& svc = impl->app->service();
  if (auto ok = svc.put_venue(impl->admin, impl->venue->id, venue_text); !ok) {
    return unexpected(Error{venue_file.string(), ok.error().message});
  }
  const auto now = ops::SystemClock().now_ms();
  const json gathering = {{"id", "tonight"},
                          {"venue", impl->venue->id},
                          {"name", "Tonight's concert (demo)"},
                          {"starts_at", ops::format_time(now - 15 * 60'000)},
                          {"ends_at", ops::format_time(now + 3 * 3'600'000LL)},
                          {"expected_attendance", 5000},
                          {"kind", "concert"}};
  if (auto ok = svc.put_gathering(impl->admin, gathering.dump()); !ok) {
    return unexpected(Error{"gathering", ok.error().message});
  }

  sim::LiveCrowdOptions co;
  co.seed = options.seed;
  co.sensors.start_ms = now;
  co.sensors.period_s = 1.0;
  co.sensors.miss_rate = 0.01;
  co.arrival_rate_p_s = 20;  // the hall fills in about four minutes
  auto crowd = sim::LiveCrowd::create(impl->venue, co);
  if (!crowd) {
    return unexpected(Error{"demo crowd", crowd.error().empty() ? "cannot start" : crowd.error().front().to_string()});
  }
  impl->crowd = std::move(*crowd);
  impl->log(fmt::format("{} people will arrive at {} through its entrances", impl->crowd->target_people(),
                        impl->venue->name));
  Impl* p = impl.get();
  impl->loop = std::thread([p] { p->run(); });
  return std::unique_ptr<Demo>(new Demo(std::move(impl)));
}

}  // namespace vigil::api
