// SPDX-License-Identifier: Apache-2.0
// Live egress in the venue state and incidents over HTTP: the estimate appears once the crowd
// is known, a blocked exit or a hazard changes routes and clearance at once, closing the
// incident restores them, and everything is in the audit log.
#include "api_fixture.hpp"

namespace vigil::api::testing {
namespace {

using nlohmann::json;

class EgressTest : public ApiTest {
 protected:
  // Fills the floor and the balcony through their zone counters; waits for the estimate.
  json fill_and_wait() {
    EXPECT_EQ(telemetry(kHall, {{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", now_text()}, {"count", 2000}},
                                {{"sensor", "zc-balcony"}, {"seq", 1}, {"ts", now_text()}, {"count", 600}}})
                  .status,
              200);
    for (int i = 0; i < 600; ++i) {
      const json s = state();
      if (s["egress"].is_object() && s["occupancy"].get<double>() > 2000) return s["egress"];
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no egress estimate within 60 s";
    return {};
  }
};

TEST_F(EgressTest, EstimateFollowsTheCrowdAndTheExits) {
  const json before = fill_and_wait();
  ASSERT_TRUE(before.is_object());
  EXPECT_EQ(before["method"], "flow");
  EXPECT_EQ(before["limit_s"], 480);
  EXPECT_GT(before["time_s"].get<double>(), 30);
  ASSERT_TRUE(before["zones"].contains("floor"));
  // The exit most of the floor is sent to.
  const std::string busiest = before["zones"]["floor"][0];
  ASSERT_TRUE(before["exits"].contains(busiest));

  auto r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents",
                json{{"kind", "exit_blocked"}, {"exit", busiest}, {"note", "fire door jammed"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const json answer = json::parse(r.body);
  const json after = answer["egress"];
  EXPECT_FALSE(after["exits"].contains(busiest)) << after.dump();
  for (const auto& [zone, exits] : after["zones"].items()) {
    for (const auto& x : exits) EXPECT_NE(x, busiest) << zone;
  }
  // The flow model follows how a crowd spreads, not the best split: blocking an exit the crowd
  // over-used may lower the estimate a little (docs/live-egress.md, Limits), never by much.
  EXPECT_GE(after["time_s"].get<double>(), 0.95 * before["time_s"].get<double>());
  EXPECT_EQ(state()["egress"]["time_s"], after["time_s"]);

  const std::string id = answer["incident"]["id"];
  r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents/" + id + "/close",
           R"({"note":"door repaired"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["egress"]["exits"].contains(busiest));
  r = call("viewer", "GET", "/api/v1/venues/riverside-hall/incidents");
  ASSERT_EQ(r.status, 200);
  const auto incidents = json::parse(r.body)["incidents"];
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0]["close_note"], "door repaired");

  std::set<std::string> actions;
  const json audit = json::parse(call("admin", "GET", "/api/v1/audit").body);
  for (const auto& e : audit["entries"]) {
    actions.insert(e["action"]);
  }
  EXPECT_TRUE(actions.contains("incident.create"));
  EXPECT_TRUE(actions.contains("incident.close"));
}

TEST_F(EgressTest, HazardAndEvacuationIncidents) {
  fill_and_wait();
  auto r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents",
                json{{"kind", "evacuation"}, {"note", "smoke reported"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(state()["evacuation"].get<bool>());
  r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents",
           json{{"kind", "hazard"}, {"polygon", {{0, 0}, {"x", 1}, {5, 5}}}, {"level", 7}}.dump());
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("polygon[1]"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"path\":\"level\""), std::string::npos) << r.body;
  r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents", R"({"kind":"exit_blocked","exit":"E99"})");
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("E99"), std::string::npos);
  r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents", R"({"kind":"flood"})");
  EXPECT_EQ(r.status, 400);
  r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents",
           json{{"kind", "hazard"}, {"polygon", {{0, 0}, {200, 0}, {200, 200}, {0, 200}}}, {"level", 0}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  // A hazard over the whole ground floor cuts its people off from every exit.
  EXPECT_GT(json::parse(r.body)["egress"].value("cut_off", 0.0), 100.0) << r.body;
}

// With the background agent-based estimate on and an interval of an hour: the first estimate
// comes once the crowd is known, and an incident starts the next one at once instead of at the
// interval.
class AgentEgressTest : public EgressTest {
 protected:
  void SetUp() override {
    agent_egress_ = true;
    agent_egress_interval_s_ = 3600;
    EgressTest::SetUp();
  }
  // The state's egress once its agent_time_s is a number other than `other` (null: any).
  json wait_for_agent_estimate(const json& other, int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      const json e = state()["egress"];
      if (e.is_object() && e["agent_time_s"].is_number() && e["agent_time_s"] != other) return e;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return {};
  }
};

TEST_F(AgentEgressTest, IncidentStartsTheNextAgentEstimateAtOnce) {
  ASSERT_EQ(
      telemetry(kHall, {{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", now_text()}, {"count", 400}},
                        {{"sensor", "zc-balcony"}, {"seq", 1}, {"ts", now_text()}, {"count", 100}}})
          .status,
      200);
  const json first = wait_for_agent_estimate(nullptr, 120);
  ASSERT_TRUE(first.is_object()) << "no agent-based estimate within 120 s";
  EXPECT_GT(first["agent_time_s"].get<double>(), 10);
  // The whole agent-based estimate, in the flow estimate's shape.
  const json agent = first["agent"];
  ASSERT_TRUE(agent.is_object()) << first.dump();
  EXPECT_EQ(agent["time_s"], first["agent_time_s"]);
  EXPECT_TRUE(agent["current"].get<bool>());
  EXPECT_EQ(agent["at_occupancy"], 500);
  ASSERT_TRUE(agent["zones"].contains("floor")) << agent.dump();
  for (const auto& id : agent["bottlenecks"])
    EXPECT_TRUE(agent["exits"].contains(id)) << agent.dump();
  const std::string busiest = first["zones"]["floor"][0];
  auto r = call("operator", "POST", "/api/v1/venues/riverside-hall/incidents",
                json{{"kind", "exit_blocked"}, {"exit", busiest}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const json after = wait_for_agent_estimate(first["agent_time_s"], 120);
  ASSERT_TRUE(after.is_object())
      << "no new agent-based estimate within 120 s of the incident (interval 3600 s)";
  EXPECT_FALSE(after["exits"].contains(busiest));
  EXPECT_TRUE(after["agent"]["current"].get<bool>());
  EXPECT_FALSE(after["agent"]["exits"].contains(busiest)) << after["agent"].dump();
}

}  // namespace
}  // namespace vigil::api::testing
