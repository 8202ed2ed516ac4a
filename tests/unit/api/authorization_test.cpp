// SPDX-License-Identifier: Apache-2.0
// The authorization matrix of the operations API: every role × every endpoint × own and other
// venue, over real HTTP. The expected answers are written out here from the spec's role table
// (operations-api.md, "Access"), independently of the code that enforces them.
#include <set>

#include "api_fixture.hpp"

namespace vigil::api::testing {
namespace {

struct Endpoint {
  std::string name;
  std::string method;
  std::string target;  // {v} is replaced by the venue
  std::string body;
  std::set<std::string> allowed;  // token keys that may call it for the hall ({v} = the hall)
};

const std::set<std::string> kReaders = {"admin", "analyst", "operator", "viewer"};

std::vector<Endpoint> endpoints(const std::string& venue_file, const std::string& alert_id,
                                const std::string& simulation_id) {
  const std::string gathering = R"({"id":"g-matrix","venue":"riverside-hall","name":"Concert",
    "starts_at":"2026-12-01T18:00:00Z","ends_at":"2026-12-01T23:00:00Z",
    "expected_attendance":5000,"kind":"concert"})";
  // A tiny simulation: each allowed caller queues one (at most 4 wait, so 3 callers fit).
  const std::string scenario = R"({"population":[{"zone":"pit","count":3}],"max_time_s":60})";
  const std::string reading =
      R"({"readings":[{"sensor":"zc-floor","seq":99,"ts":")" + now_text() + R"(","count":10}]})";
  return {
      {"whoami", "GET", "/api/v1/whoami", "",
       {"admin", "analyst", "operator", "viewer", "sensor", "operator-other", "viewer-other",
        "sensor-other"}},
      {"list venues", "GET", "/api/v1/venues", "",
       {"admin", "analyst", "operator", "viewer", "operator-other", "viewer-other"}},
      {"get venue", "GET", "/api/v1/venues/{v}", "", kReaders},
      {"put venue", "PUT", "/api/v1/venues/{v}", venue_file, {"admin"}},
      {"state", "GET", "/api/v1/venues/{v}/state", "", kReaders},
      {"get rules", "GET", "/api/v1/venues/{v}/rules", "", kReaders},
      {"put rules", "PUT", "/api/v1/venues/{v}/rules", R"({"thresholds":{}})", {"admin"}},
      {"posture", "PUT", "/api/v1/venues/{v}/posture", R"({"posture":"normal","note":"m"})",
       {"admin", "operator"}},
      {"telemetry", "POST", "/api/v1/venues/{v}/telemetry", reading, {"admin", "sensor"}},
      {"list gatherings", "GET", "/api/v1/gatherings?venue={v}", "", kReaders},
      {"create gathering", "POST", "/api/v1/gatherings", gathering, {"admin", "operator"}},
      {"list alerts", "GET", "/api/v1/alerts?venue={v}", "", kReaders},
      {"ack alert", "POST", "/api/v1/alerts/" + alert_id + "/ack", R"({"note":"seen"})",
       {"admin", "operator"}},
      {"resolve alert", "POST", "/api/v1/alerts/" + alert_id + "/resolve", R"({"note":"done"})",
       {"admin", "operator"}},
      {"audit", "GET", "/api/v1/audit", "", {"admin", "analyst"}},
      {"list warnings", "GET", "/api/v1/warnings", "", {"admin", "analyst", "operator", "viewer", "operator-other", "viewer-other"}},
      {"post warning", "POST", "/api/v1/warnings", "<alert/>", {"admin", "analyst"}},
      {"list incidents", "GET", "/api/v1/venues/{v}/incidents", "", kReaders},
      {"incident", "POST", "/api/v1/venues/{v}/incidents", R"({"kind":"evacuation","note":"drill"})",
       {"admin", "operator"}},
      {"simulate", "POST", "/api/v1/venues/{v}/simulations", scenario,
       {"admin", "analyst", "operator"}},
      {"list simulations", "GET", "/api/v1/simulations?venue={v}", "", kReaders},
      {"get simulation", "GET", "/api/v1/simulations/" + simulation_id, "", kReaders},
      {"simulation frames", "GET", "/api/v1/simulations/" + simulation_id + "/frames?fps=1", "",
       kReaders},
  };
}

class AuthorizationTest : public ApiTest {};

TEST_F(AuthorizationTest, EveryRoleOnEveryEndpointForOwnAndOtherVenue) {
  // An alert of the hall to acknowledge: a zone over its capacity.
  ASSERT_EQ(telemetry(kHall, {{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", now_text()}, {"count", 9000}}})
                .status,
            200);
  const auto alert = wait_alert("capacity", "?venue=riverside-hall");
  ASSERT_TRUE(alert.is_object());
  const std::string alert_id = alert["id"];
  // A simulation of the hall to read.
  const auto sim = call("admin", "POST", "/api/v1/venues/riverside-hall/simulations",
                        R"({"population":[{"zone":"pit","count":3}],"max_time_s":60})");
  ASSERT_EQ(sim.status, 202) << sim.body;
  const std::string simulation_id = nlohmann::json::parse(sim.body)["id"];

  const std::string venue_file = read_text(example("concert-hall.geojson"));
  const std::vector<std::string> roles = {"admin",        "analyst",      "operator",
                                          "viewer",       "sensor",       "operator-other",
                                          "viewer-other", "sensor-other"};
  int checked = 0;
  for (const Endpoint& e : endpoints(venue_file, alert_id, simulation_id)) {
    std::string target = e.target;
    if (auto at = target.find("{v}"); at != std::string::npos) target.replace(at, 3, kHall);
    for (const std::string& role : roles) {
      // Acknowledge and resolve change the alert: give every caller a firing one.
      const auto r = call(role, e.method, target, e.body);
      const bool allowed = e.allowed.contains(role);
      if (allowed) {
        EXPECT_NE(r.status, 401) << e.name << " as " << role << ": " << r.body;
        EXPECT_NE(r.status, 403) << e.name << " as " << role << ": " << r.body;
        EXPECT_LT(r.status, 500) << e.name << " as " << role << ": " << r.body;
      } else {
        EXPECT_EQ(r.status, 403) << e.name << " as " << role << ": " << r.body;
      }
      // Without a token, with a wrong one: 401 everywhere.
      Connection c(app_->port());
      auto none = c.request(e.method, target, e.body);
      ASSERT_TRUE(none);
      EXPECT_EQ(none->status, 401) << e.name;
      auto wrong = c.request(e.method, target, e.body, "Authorization: Bearer vgl_nonsense\r\n");
      ASSERT_TRUE(wrong);
      EXPECT_EQ(wrong->status, 401) << e.name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 23 * 8);
}

TEST_F(AuthorizationTest, ListsShowOnlyVenuesInScope) {
  auto venues = nlohmann::json::parse(call("viewer", "GET", "/api/v1/venues").body)["venues"];
  ASSERT_EQ(venues.size(), 1u);
  EXPECT_EQ(venues[0]["id"], kHall);
  venues = nlohmann::json::parse(call("analyst", "GET", "/api/v1/venues").body)["venues"];
  EXPECT_EQ(venues.size(), 2u);
  // The operator of the school cannot see the hall's alerts by leaving out the venue.
  ASSERT_EQ(telemetry(kHall, {{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", now_text()}, {"count", 9000}}})
                .status,
            200);
  wait_alert("capacity");
  auto list = nlohmann::json::parse(call("operator-other", "GET", "/api/v1/alerts").body)["alerts"];
  EXPECT_TRUE(list.empty()) << list.dump();
  list = nlohmann::json::parse(call("operator", "GET", "/api/v1/alerts").body)["alerts"];
  EXPECT_FALSE(list.empty());
}

TEST_F(AuthorizationTest, SimulationsOfAVenueOutOfScopeAreHidden) {
  const auto sim = call("operator-other", "POST", "/api/v1/venues/school-43/simulations",
                        R"({"population":[{"zone":"room-101","count":3}],"max_time_s":30})");
  ASSERT_EQ(sim.status, 202) << sim.body;
  // The hall's operator and viewer neither list nor read the school's simulations.
  EXPECT_EQ(call("operator", "POST", "/api/v1/venues/school-43/simulations", "{}").status, 403);
  EXPECT_EQ(call("viewer", "GET", "/api/v1/simulations?venue=school-43").status, 403);
  const std::string id = nlohmann::json::parse(sim.body)["id"];
  EXPECT_EQ(call("viewer", "GET", "/api/v1/simulations/" + id).status, 403);
  EXPECT_EQ(call("operator", "GET", "/api/v1/simulations/" + id + "/frames").status, 403);
  EXPECT_EQ(call("viewer-other", "GET", "/api/v1/simulations/" + id).status, 200);
  const auto list = nlohmann::json::parse(call("viewer", "GET", "/api/v1/simulations").body);
  EXPECT_TRUE(list["simulations"].empty()) << list.dump();
}

TEST_F(AuthorizationTest, RevokedTokenIsRefused) {
  ASSERT_EQ(call("viewer", "GET", "/api/v1/venues").status, 200);
  auto tokens = app_->store().list_tokens();
  ASSERT_TRUE(tokens);
  for (const auto& t : *tokens) {
    if (t.name == "viewer") {
      ASSERT_TRUE(app_->store().revoke_token(t.id, store::now_ms()));
    }
  }
  const auto r = call("viewer", "GET", "/api/v1/venues");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("revoked"), std::string::npos);
}

// `vigil token revoke --data DIR ID` beside the running server: another Store on the same
// directory (another connection, as the command opens) revokes a token the server has just used,
// so its principal is in the server's cache. The very next request with it is refused, and the
// refusal is logged and counted like any other.
TEST_F(AuthorizationTest, TokenRevokedByAnotherProcessIsRefusedOnItsNextRequest) {
  log_level_ = "warn";  // the denial lines
  restart();
  const std::string state = "/api/v1/venues/riverside-hall/state";
  ASSERT_EQ(call("viewer", "GET", state).status, 200);
  ASSERT_EQ(call("viewer", "GET", state).status, 200);
  {
    auto other = store::open_sqlite_store(dir_);
    ASSERT_TRUE(other) << other.error().to_string();
    auto tokens = (*other)->list_tokens();
    ASSERT_TRUE(tokens);
    for (const auto& t : *tokens) {
      if (t.name == "viewer") {
        ASSERT_TRUE((*other)->revoke_token(t.id, store::now_ms()));
      }
    }
  }
  ::testing::internal::CaptureStderr();
  const auto r = call("viewer", "GET", state);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("revoked"), std::string::npos) << r.body;
  EXPECT_NE(log.find("denied 401 GET " + state), std::string::npos) << log;
  EXPECT_NE(log.find("revoked token"), std::string::npos) << log;
  // Every later request too; the other tokens still work.
  EXPECT_EQ(call("viewer", "GET", state).status, 401);
  EXPECT_EQ(call("operator", "GET", state).status, 200);
  Connection c(app_->port());
  auto metrics = c.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("vigil_http_denied_total{status=\"401\"} 2"), std::string::npos)
      << metrics->body;
}

// `vigil token create` beside the running server: the token works on its first request. A token
// replaced by another process (same id, now scoped to the school) answers with its new scope.
TEST_F(AuthorizationTest, TokensCreatedOrChangedByAnotherProcessTakeEffectAtOnce) {
  const std::string hall_state = "/api/v1/venues/riverside-hall/state";
  auto other = store::open_sqlite_store(dir_);
  ASSERT_TRUE(other) << other.error().to_string();
  auto made = make_token(Role::viewer, std::string(kHall), "late viewer", store::now_ms());
  ASSERT_TRUE(made);
  ASSERT_TRUE((*other)->put_token(made->record));
  tokens_["late"] = made->secret;
  EXPECT_EQ(call("late", "GET", hall_state).status, 200);
  EXPECT_EQ(call("late", "GET", hall_state).status, 200);

  store::TokenRecord moved = made->record;
  moved.venue = kSchool;
  ASSERT_TRUE((*other)->put_token(moved));
  EXPECT_EQ(call("late", "GET", hall_state).status, 403);
  EXPECT_EQ(call("late", "GET", "/api/v1/venues/school-43/state").status, 200);
}

TEST_F(AuthorizationTest, DeniedRequestsAreCounted) {
  call("viewer", "PUT", "/api/v1/venues/riverside-hall/posture", R"({"posture":"high"})");
  Connection c(app_->port());
  auto none = c.request("GET", "/api/v1/venues");
  ASSERT_TRUE(none);
  auto metrics = c.request("GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("vigil_http_denied_total{status=\"403\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("vigil_http_denied_total{status=\"401\"} 1"), std::string::npos);
}

TEST(TokenTest, ScopesAreChecked) {
  EXPECT_FALSE(make_token(Role::sensor, std::nullopt, "", 0));
  EXPECT_FALSE(make_token(Role::admin, std::string("x"), "", 0));
  auto t = make_token(Role::operator_, std::string("x"), "olga", 0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->record.hash.size(), 64u);
  EXPECT_EQ(t->record.hash.find(t->secret), std::string::npos);
  EXPECT_TRUE(t->secret.starts_with("vgl_"));
}

}  // namespace
}  // namespace vigil::api::testing
