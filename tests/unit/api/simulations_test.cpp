// SPDX-License-Identifier: Apache-2.0
// Evacuation simulations over HTTP (docs/api.md, "Simulations"): a small scenario runs to done
// with its summary, curve, flow per exit and playback frames; bad and too-big scenarios are
// refused with the path of the problem; unknown ids are 404; the queue has a limit; a running
// simulation is cancelled when the server stops.
#include <chrono>
#include <cmath>
#include <thread>

#include "api_fixture.hpp"

namespace vigil::api::testing {
namespace {

using nlohmann::json;

class SimulationsTest : public ApiTest {
 protected:
  HttpResponse submit(const json& scenario, const std::string& who = "operator",
                      const std::string& venue = kHall) {
    return call(who, "POST", "/api/v1/venues/" + venue + "/simulations", scenario.dump());
  }

  json get(const std::string& id, const std::string& who = "operator") {
    auto r = call(who, "GET", "/api/v1/simulations/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // Polls until the simulation leaves queued/running (up to `limit`).
  json wait_finished(const std::string& id, std::chrono::seconds limit = std::chrono::seconds(90)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    json j;
    while (std::chrono::steady_clock::now() < until) {
      j = get(id);
      if (j.is_discarded()) break;
      if (j["state"] != "queued" && j["state"] != "running") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "simulation " << id << " did not finish: " << j.dump().substr(0, 300);
    return j;
  }

  static bool has_path(const json& body, const std::string& path) {
    for (const auto& e : body.value("errors", json::array())) {
      if (e.value("path", "") == path) return true;
    }
    return false;
  }
};

json small_scenario() {
  return {{"vigil", {{"format", "scenario"}, {"version", 1}}},
          {"seed", 3},
          {"population", {{{"zone", "pit"}, {"count", 20}}}},
          {"closed", {"E1"}},
          {"routing", "nearest"}};
}

TEST_F(SimulationsTest, SmallScenarioRunsToDoneWithSummaryCurveExitsAndFrames) {
  auto r = submit(small_scenario());
  ASSERT_EQ(r.status, 202) << r.body;
  const json queued = json::parse(r.body);
  const std::string id = queued["id"];
  EXPECT_TRUE(id.starts_with("s-")) << id;
  EXPECT_EQ(queued["state"], "queued");
  EXPECT_EQ(queued["venue"], kHall);
  EXPECT_EQ(queued["scenario"]["agents"], 20);

  const json done = wait_finished(id);
  ASSERT_EQ(done["state"], "done") << done.dump().substr(0, 400);
  EXPECT_TRUE(done["error"].is_null());
  const json& summary = done["summary"];
  EXPECT_EQ(summary["agents"], 20);
  EXPECT_EQ(summary["evacuated"], 20);
  EXPECT_TRUE(summary["evacuation_time_s"].is_number());
  EXPECT_TRUE(summary["exits"].is_object());
  EXPECT_EQ(done["progress"]["evacuated"], 20);
  EXPECT_EQ(done["progress"]["total"], 20);

  // The curve: once per simulated second, never falling, ending with everyone out.
  const json& curve = done["curve"];
  ASSERT_GE(curve.size(), 2u);
  EXPECT_EQ(curve[0][0].get<double>(), 0.0);
  for (std::size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GE(curve[i][0].get<double>(), curve[i - 1][0].get<double>());
    EXPECT_GE(curve[i][1].get<int>(), curve[i - 1][1].get<int>());
  }
  EXPECT_EQ(curve.back()[1], 20);

  // Flow per exit: the closed exit has none; the people through the others add up.
  EXPECT_FALSE(done["exits"].contains("E1"));
  double people = 0;
  for (const auto& [exit, series] : done["exits"].items()) {
    for (const auto& bin : series) people += bin[1].get<double>() * 5;  // 5 s bins
  }
  EXPECT_NEAR(people, 20, 0.5);
  EXPECT_EQ(done["frames"]["dt_s"], 0.5);

  // Playback frames: 1 per simulated second, positions to 0.01 m, with the level.
  r = call("viewer", "GET", "/api/v1/simulations/" + id + "/frames?fps=1");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  json frames = json::parse(r.body);
  EXPECT_EQ(frames["dt_s"], 1.0);
  EXPECT_EQ(frames["stride"], 1);
  ASSERT_GE(frames["frames"].size(), 2u);
  EXPECT_EQ(frames["frames"][1]["t"], 1.0);
  const json& first = frames["frames"][0]["agents"];
  ASSERT_EQ(first.size(), 20u);
  for (const auto& a : first) {
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[2], 0);
    const double x100 = a[0].get<double>() * 100;
    EXPECT_NEAR(x100, std::round(x100), 1e-6) << a.dump();
  }
  EXPECT_TRUE(frames["frames"].back()["agents"].size() < 20u);
  // One level: agents are [x, y] and each frame names the level.
  r = call("operator", "GET", "/api/v1/simulations/" + id + "/frames?level=0");
  ASSERT_EQ(r.status, 200);
  frames = json::parse(r.body);
  EXPECT_EQ(frames["dt_s"], 0.5);
  EXPECT_EQ(frames["frames"][0]["level"], 0);
  EXPECT_EQ(frames["frames"][0]["agents"][0].size(), 2u);
  EXPECT_EQ(call("operator", "GET", "/api/v1/simulations/" + id + "/frames?fps=0").status, 400);
  EXPECT_EQ(call("operator", "GET", "/api/v1/simulations/" + id + "/frames?level=x").status, 400);

  // Listed for readers of the venue, not for the school's operator.
  auto list = json::parse(call("viewer", "GET", "/api/v1/simulations").body)["simulations"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);
  list = json::parse(call("operator-other", "GET", "/api/v1/simulations").body)["simulations"];
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(call("operator-other", "GET", "/api/v1/simulations/" + id).status, 403);

  // Audited with who started it.
  const json audit = json::parse(call("admin", "GET", "/api/v1/audit").body)["entries"];
  bool found = false;
  for (const auto& e : audit) {
    if (e["action"] == "simulation.start" && e["subject"] == id) {
      found = true;
      EXPECT_EQ(e["venue"], kHall);
      EXPECT_NE(e["actor"].get<std::string>().find("operator"), std::string::npos);
      EXPECT_EQ(e["detail"]["agents"], 20);
    }
  }
  EXPECT_TRUE(found) << "no simulation.start entry for " << id;
}

TEST_F(SimulationsTest, BadScenarioIs400WithEveryPath) {
  json bad = small_scenario();
  bad["population"] = {{{"zone", "nowhere"}, {"count", 5}}, {{"zone", "pit"}, {"count", -1}}};
  bad["routing"] = "fastest";
  auto r = submit(bad);
  ASSERT_EQ(r.status, 400) << r.body;
  json body = json::parse(r.body);
  EXPECT_TRUE(has_path(body, "population[0].zone")) << body.dump();
  EXPECT_TRUE(has_path(body, "population[1].count")) << body.dump();
  EXPECT_TRUE(has_path(body, "routing")) << body.dump();

  json with_venue = small_scenario();
  with_venue["venue"] = "hall.geojson";
  r = submit(with_venue);
  ASSERT_EQ(r.status, 400);
  EXPECT_TRUE(has_path(json::parse(r.body), "venue")) << r.body;

  json runs = small_scenario();
  runs["runs"] = 3;
  r = submit(runs);
  ASSERT_EQ(r.status, 400);
  EXPECT_TRUE(has_path(json::parse(r.body), "runs")) << r.body;

  r = call("operator", "POST", "/api/v1/venues/riverside-hall/simulations", "{not json");
  EXPECT_EQ(r.status, 400);
  r = call("operator", "POST", "/api/v1/venues/riverside-hall/simulations", "[1]");
  EXPECT_EQ(r.status, 400);
  // More people than fit in the zone: the parser's placement error, located.
  json crowded = small_scenario();
  crowded["population"] = {{{"zone", "pit"}, {"count", 5000}}};
  r = submit(crowded);
  ASSERT_EQ(r.status, 400);
  EXPECT_TRUE(has_path(json::parse(r.body), "population[0]")) << r.body;
}

TEST_F(SimulationsTest, TooBigScenarioIsRefusedBeforeItIsPlaced) {
  json big = small_scenario();
  big["population"] = {{{"zone", "floor"}, {"count", 15000}}, {{"zone", "balcony"}, {"count", 9000}}};
  const auto t0 = std::chrono::steady_clock::now();
  auto r = submit(big);
  ASSERT_EQ(r.status, 400) << r.body;
  json body = json::parse(r.body);
  EXPECT_TRUE(has_path(body, "population")) << body.dump();
  EXPECT_NE(r.body.find("20,000"), std::string::npos) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));

  json dense = small_scenario();
  dense["population"] = {{{"polygon", {{0, 0}, {100, 0}, {100, 100}, {0, 100}, {0, 0}}},
                          {"level", 0},
                          {"density", 5}}};
  r = submit(dense);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has_path(json::parse(r.body), "population")) << r.body;

  json long_run = small_scenario();
  long_run["max_time_s"] = 86400;
  r = submit(long_run);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_TRUE(has_path(json::parse(r.body), "max_time_s")) << r.body;
}

TEST_F(SimulationsTest, UnknownIdsAndVenuesAre404) {
  EXPECT_EQ(call("admin", "GET", "/api/v1/simulations/s-000000000000").status, 404);
  EXPECT_EQ(call("viewer", "GET", "/api/v1/simulations/s-000000000000/frames").status, 404);
  EXPECT_EQ(call("admin", "POST", "/api/v1/venues/no-such-venue/simulations",
                 small_scenario().dump())
                .status,
            404);
}

TEST_F(SimulationsTest, WhoamiSaysWhoMaySimulate) {
  for (const auto& [who, may] : std::map<std::string, bool>{
           {"admin", true}, {"analyst", true}, {"operator", true}, {"viewer", false}}) {
    const json w = json::parse(call(who, "GET", "/api/v1/whoami").body);
    EXPECT_EQ(w["can"]["simulate"], may) << who;
  }
}

TEST_F(SimulationsTest, QueueIsLimitedAndTheServerStopCancelsTheRunningOne) {
  // A long one: 1,500 people who wait up to ten minutes before they move.
  json slow = small_scenario();
  slow["population"] = {{{"zone", "floor"}, {"count", 1500}}};
  slow["profile"] = {{"premovement_s", {{"distribution", "uniform"}, {"min", 0}, {"max", 600}}}};
  auto r = submit(slow, "admin");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string running = json::parse(r.body)["id"];
  for (int i = 0; i < 300 && get(running, "admin")["state"] == "queued"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(get(running, "admin")["state"], "running");

  std::string last;
  for (int i = 0; i < 4; ++i) {
    r = submit(small_scenario(), "analyst");
    ASSERT_EQ(r.status, 202) << "waiting " << i << ": " << r.body;
    last = json::parse(r.body)["id"];
  }
  EXPECT_EQ(get(last, "analyst")["position"], 4);
  r = submit(small_scenario(), "operator");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("waiting"), std::string::npos) << r.body;

  // Progress while it runs.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const json now = get(running, "admin");
  EXPECT_EQ(now["progress"]["total"], 1500);
  EXPECT_FALSE(now["curve"].empty());

  // Stopping the server cancels the running simulation within a simulated second.
  const auto t0 = std::chrono::steady_clock::now();
  app_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

}  // namespace
}  // namespace vigil::api::testing
