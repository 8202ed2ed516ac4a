// SPDX-License-Identifier: Apache-2.0
// The operations API over real HTTP: venues, gatherings, telemetry (whole or nothing,
// idempotent, bad input located), alerts, posture, audit, the event stream and restarts.
#include "api_fixture.hpp"

namespace vigil::api::testing {
namespace {

using nlohmann::json;

json reading_in_out(const char* sensor, int seq, int in, int out, const std::string& ts = now_text()) {
  return {{"sensor", sensor}, {"seq", seq}, {"ts", ts}, {"in", in}, {"out", out}};
}

class EndpointsTest : public ApiTest {};

TEST_F(EndpointsTest, VenueWithErrorsIsRefusedWithEveryProblemLocated) {
  json venue = json::parse(read_text(example("concert-hall.geojson")));
  venue["features"][3]["geometry"]["coordinates"] = "nonsense";
  venue["vigil"]["use"] = "spaceport";
  const auto r = put_venue(kHall, venue.dump());
  ASSERT_EQ(r.status, 400) << r.body;
  const auto body = json::parse(r.body);
  ASSERT_GE(body["errors"].size(), 2u) << r.body;
  bool feature = false;
  bool header = false;
  for (const auto& e : body["errors"]) {
    feature = feature || e["path"].get<std::string>().find("features[3]") != std::string::npos;
    header = header || e["path"].get<std::string>().find("vigil.use") != std::string::npos;
  }
  EXPECT_TRUE(feature) << r.body;
  EXPECT_TRUE(header) << r.body;
  // The stored venue is untouched.
  EXPECT_EQ(call("admin", "GET", "/api/v1/venues/riverside-hall").status, 200);
}

TEST_F(EndpointsTest, VenueIdMustMatchTheUrl) {
  const auto r = put_venue("another-hall", read_text(example("concert-hall.geojson")));
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("vigil.id"), std::string::npos) << r.body;
  EXPECT_EQ(call("admin", "GET", "/api/v1/venues/another-hall").status, 404);
}

TEST_F(EndpointsTest, VenueAnswersTheFilePlusDerivedFigures) {
  const auto r = call("viewer", "GET", "/api/v1/venues/riverside-hall");
  ASSERT_EQ(r.status, 200);
  const auto j = json::parse(r.body);
  EXPECT_EQ(j["type"], "FeatureCollection");
  EXPECT_EQ(j["vigil"]["id"], kHall);
  EXPECT_GT(j["derived"]["zones"]["floor"]["capacity"].get<double>(), 100);
  EXPECT_TRUE(j["derived"]["exits"].size() >= 4);
}

TEST_F(EndpointsTest, TelemetryIsIdempotentAndCountsPeople) {
  const json batch = {reading_in_out("lc-E1", 1, 40, 0), reading_in_out("lc-E1", 2, 10, 0)};
  auto r = telemetry(kHall, batch);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), (json{{"accepted", 2}, {"duplicates", 0}}));
  // A retry of the same batch (the client missed the answer) changes nothing.
  r = telemetry(kHall, batch);
  EXPECT_EQ(json::parse(r.body), (json{{"accepted", 0}, {"duplicates", 2}}));
  EXPECT_NEAR(state()["net_entered"].get<double>(), 50, 1e-9);

  // A sensor that rebooted starts its seq at 1 again, with new timestamps: new readings.
  r = telemetry(kHall, json::array({reading_in_out("lc-E1", 1, 5, 0, now_text(60'000))}));
  EXPECT_EQ(json::parse(r.body), (json{{"accepted", 1}, {"duplicates", 0}}));
  EXPECT_NEAR(state()["net_entered"].get<double>(), 55, 1e-9);

  // Each group commit is measured.
  auto metrics = call("", "GET", "/metrics");
  EXPECT_NE(metrics.body.find("vigil_store_commit_seconds_count{result=\"committed\"}"),
            std::string::npos)
      << metrics.body;
}

TEST_F(EndpointsTest, BadBatchIsRefusedWholeWithEveryProblemLocated) {
  const auto r = telemetry(kHall, {reading_in_out("lc-E1", 1, 40, 0),
                                   {{"sensor", "no-such-sensor"}, {"seq", 2}, {"ts", now_text()}, {"count", 3}},
                                   {{"sensor", "lc-E1"}, {"seq", "three"}, {"ts", now_text()}, {"in", 1}},
                                   {{"sensor", "zc-floor"}, {"seq", 4}, {"ts", "yesterday"}, {"count", 3}}});
  ASSERT_EQ(r.status, 400) << r.body;
  const auto errors = json::parse(r.body)["errors"];
  std::set<std::string> paths;
  for (const auto& e : errors) paths.insert(e["path"]);
  EXPECT_TRUE(paths.contains("readings[2].seq")) << r.body;
  EXPECT_TRUE(paths.contains("readings[3].ts")) << r.body;
  // Nothing of the batch was applied: the good first reading is not counted.
  EXPECT_NEAR(state()["net_entered"].get<double>(), 0, 1e-9);
  // Semantic problems are found once the structure is right.
  const auto r2 = telemetry(kHall, {reading_in_out("lc-E1", 1, 40, 0),
                                    {{"sensor", "no-such-sensor"}, {"seq", 2}, {"ts", now_text()}, {"count", 3}},
                                    {{"sensor", "zc-floor"}, {"seq", 3}, {"ts", now_text()}, {"count", -3}}});
  ASSERT_EQ(r2.status, 400) << r2.body;
  EXPECT_NE(r2.body.find("readings[1].sensor"), std::string::npos) << r2.body;
  EXPECT_NE(r2.body.find("readings[2].count"), std::string::npos) << r2.body;
  EXPECT_NEAR(state()["net_entered"].get<double>(), 0, 1e-9);
}

TEST_F(EndpointsTest, MalformedAndOversizedBodies) {
  auto r = call("sensor", "POST", "/api/v1/venues/riverside-hall/telemetry", "{\"readings\": [");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("malformed JSON"), std::string::npos);
  r = call("sensor", "POST", "/api/v1/venues/riverside-hall/telemetry", R"({"readings": 5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("readings"), std::string::npos);
  r = call("sensor", "POST", "/api/v1/venues/riverside-hall/telemetry",
           std::string(2u << 20, ' '));
  EXPECT_EQ(r.status, 413);
  r = call("admin", "POST", "/api/v1/gatherings", "[1,2]");
  EXPECT_EQ(r.status, 400);
  r = call("admin", "PUT", "/api/v1/venues/riverside-hall/posture", R"({"posture":"panic"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"path\":\"posture\""), std::string::npos) << r.body;
  r = call("admin", "PUT", "/api/v1/venues/riverside-hall/rules",
           R"({"thresholds":{"capacity":{"warn_pct":"ninety"}}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("thresholds.capacity.warn_pct"), std::string::npos) << r.body;
  // The server is still there and nothing was lost.
  EXPECT_EQ(call("admin", "GET", "/api/v1/venues").status, 200);
}

TEST_F(EndpointsTest, GatheringsAreValidatedAndQueried) {
  const json g = {{"id", "g1"}, {"venue", kHall}, {"name", "Evening concert"},
                  {"starts_at", "2026-12-01T18:00:00+03:00"}, {"ends_at", "2026-12-01T23:30:00+03:00"},
                  {"expected_attendance", 5600}, {"kind", "concert"}};
  auto r = call("operator", "POST", "/api/v1/gatherings", g.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(json::parse(r.body)["starts_at"], "2026-12-01T15:00:00.000Z");
  json bad = g;
  bad["kind"] = "rave";
  bad["ends_at"] = "2026-12-01T10:00:00Z";
  bad["venue"] = "nowhere";
  r = call("admin", "POST", "/api/v1/gatherings", bad.dump());
  ASSERT_EQ(r.status, 400);
  for (const char* path : {"\"kind\"", "\"ends_at\"", "\"venue\""}) {
    EXPECT_NE(r.body.find(std::string("\"path\":") + path), std::string::npos) << path << r.body;
  }
  r = call("viewer", "GET", "/api/v1/gatherings?venue=riverside-hall&from=2026-12-01T20:00:00Z&to=2026-12-02T00:00:00Z");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["gatherings"].size(), 1u);
  r = call("viewer", "GET", "/api/v1/gatherings?from=2026-12-02T00:00:00Z");
  EXPECT_EQ(json::parse(r.body)["gatherings"].size(), 0u);
  r = call("viewer", "GET", "/api/v1/gatherings?from=soon");
  EXPECT_EQ(r.status, 400);
}

TEST_F(EndpointsTest, AlertLifecycleOverHttp) {
  ASSERT_EQ(telemetry(kHall, {{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", now_text()}, {"count", 9000}}}).status, 200);
  const auto alert = wait_alert("capacity");
  EXPECT_EQ(alert["state"], "firing");
  EXPECT_EQ(alert["zone"], "floor");
  EXPECT_EQ(alert["severity"], "critical");
  const std::string id = alert["id"];
  auto r = call("operator", "POST", "/api/v1/alerts/" + id + "/ack", R"({"note":"  "})");
  EXPECT_EQ(r.status, 400);
  r = call("operator", "POST", "/api/v1/alerts/" + id + "/ack", R"({"note":"stewards at doors 1-4"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["acknowledged_by"], "operator (token " +
                                                        json::parse(call("operator", "GET", "/api/v1/whoami").body)["token_id"].get<std::string>() + ")");
  r = call("operator", "POST", "/api/v1/alerts/" + id + "/ack", R"({"note":"again"})");
  EXPECT_EQ(r.status, 409);
  r = call("operator", "POST", "/api/v1/alerts/" + id + "/resolve", R"({"note":"floor emptied"})");
  EXPECT_EQ(r.status, 200) << r.body;
  const auto resolved = alerts("?state=resolved");
  ASSERT_FALSE(resolved.empty());
  EXPECT_EQ(resolved[0]["resolution_note"], "floor emptied");
  EXPECT_EQ(call("operator", "POST", "/api/v1/alerts/nope/ack", R"({"note":"x"})").status, 404);

  // Paging: the newest `limit`, `truncated` when older ones exist.
  const auto all = alerts();
  ASSERT_GE(all.size(), 1u);
  r = call("viewer", "GET", "/api/v1/alerts?limit=" + std::to_string(all.size()));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["truncated"], false);
  r = call("viewer", "GET", "/api/v1/alerts?before=2000-01-01T00:00:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(json::parse(r.body)["alerts"].empty());
  r = call("viewer", "GET", "/api/v1/alerts?limit=0");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"path\":\"limit\""), std::string::npos) << r.body;
  EXPECT_EQ(call("viewer", "GET", "/api/v1/alerts?before=yesterday").status, 400);
}

TEST_F(EndpointsTest, EveryChangeIsInTheVerifiableAuditLog) {
  ASSERT_EQ(call("operator", "PUT", "/api/v1/venues/riverside-hall/posture",
                 R"({"posture":"elevated","note":"warning received"})").status, 200);
  EXPECT_EQ(state()["posture"], "elevated");
  auto r = call("analyst", "GET", "/api/v1/audit");
  ASSERT_EQ(r.status, 200);
  const auto entries = json::parse(r.body)["entries"];
  std::set<std::string> actions;
  for (const auto& e : entries) actions.insert(e["action"]);
  EXPECT_TRUE(actions.contains("venue.create"));
  EXPECT_TRUE(actions.contains("venue.posture"));
  EXPECT_EQ(entries.back()["detail"]["to"], "elevated");
  EXPECT_EQ(entries.back()["actor"].get<std::string>().rfind("operator (token ", 0), 0u);
  auto v = app_->store().verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(call("analyst", "GET", "/api/v1/audit?from=tomorrow").status, 400);

  // `truncated` only when more entries follow.
  const std::string n = std::to_string(entries.size());
  r = call("analyst", "GET", "/api/v1/audit?limit=" + n);
  EXPECT_EQ(json::parse(r.body)["truncated"], false) << r.body;
  r = call("analyst", "GET", "/api/v1/audit?limit=1");
  EXPECT_EQ(json::parse(r.body)["truncated"], true);
  EXPECT_EQ(json::parse(r.body)["entries"].size(), 1u);
}

TEST_F(EndpointsTest, StreamCarriesStateAndAlertsWithinMilliseconds) {
  Connection c(app_->port());
  ASSERT_TRUE(c.send("GET /api/v1/stream?venue=riverside-hall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     tokens_.at("viewer") + "\r\n\r\n"));
  auto head = c.read_response();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->status, 200);
  ASSERT_TRUE(c.read_until("event: state\n"));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(telemetry(kHall, {{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", now_text()}, {"count", 9000}}}).status, 200);
  ASSERT_TRUE(c.read_until("event: alert\n"));
  const auto latency = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(latency, std::chrono::milliseconds(900)) << "the alert waited for the periodic tick";
  EXPECT_NE(c.buffer().find("\"rule\":\"capacity\""), std::string::npos);
  // A stream for a venue out of scope is refused; the query token works for EventSource.
  EXPECT_EQ(call("viewer", "GET", "/api/v1/stream?venue=school-43").status, 403);
  Connection q(app_->port());
  auto r = q.request("GET", "/api/v1/stream?venue=riverside-hall&access_token=" + tokens_.at("viewer"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(EndpointsTest, StateAlertsAndPostureSurviveARestart) {
  ASSERT_EQ(telemetry(kHall, {reading_in_out("lc-E1", 1, 120, 0), reading_in_out("lc-E2", 1, 80, 5)}).status, 200);
  ASSERT_EQ(telemetry(kHall, {{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", now_text()}, {"count", 9000}}}).status, 200);
  const auto alert = wait_alert("capacity");
  ASSERT_EQ(call("operator", "POST", "/api/v1/alerts/" + alert["id"].get<std::string>() + "/ack",
                 R"({"note":"seen"})").status, 200);
  ASSERT_EQ(call("operator", "PUT", "/api/v1/venues/riverside-hall/posture", R"({"posture":"high"})").status, 200);
  const auto before = state();
  restart();
  const auto after = state();
  EXPECT_EQ(after["posture"], "high");
  EXPECT_NEAR(after["net_entered"].get<double>(), before["net_entered"].get<double>(), 1e-9);
  EXPECT_NEAR(after["zones"]["floor"]["occupancy"].get<double>(),
              before["zones"]["floor"]["occupancy"].get<double>(), 1.0);
  const auto open = alerts("?state=acknowledged");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0]["id"], alert["id"]);
  // The restored alert is live: it can be resolved.
  EXPECT_EQ(call("operator", "POST", "/api/v1/alerts/" + alert["id"].get<std::string>() + "/resolve",
                 R"({"note":"ok"})").status, 200);
}

}  // namespace
}  // namespace vigil::api::testing
