// SPDX-License-Identifier: Apache-2.0
// Warnings over HTTP: a CAP document is validated, matched to the gatherings it concerns with
// its specificity, notified on the stream, acknowledged with an action; Update/Cancel follow
// references; a gathering gets a valid CAP advisory and a timeline of who knew what, when.
#include "api_fixture.hpp"
#include "warn/cap.hpp"

namespace vigil::api::testing {
namespace {

using nlohmann::json;

// "+03:00" local times of the gathering's evening, a day from now.
std::string cap_time(ops::TimeMs t_ms) {
  // CAP wants a numeric offset and no fraction: UTC written as -00:00 is allowed.
  std::string s = ops::format_time(t_ms / 1000 * 1000);
  return s.substr(0, 19) + "-00:00";
}

std::string cap_doc(const std::string& identifier, const std::string& msg_type, ops::TimeMs onset,
                    ops::TimeMs expires, const std::string& area, const std::string& headline,
                    const std::string& references = "") {
  const ops::TimeMs now = ops::SystemClock().now_ms();
  std::string doc = R"(<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>)" + identifier + R"(</identifier>
  <sender>tips@authority.example</sender>
  <sent>)" + cap_time(now) + R"(</sent>
  <status>Actual</status>
  <msgType>)" + msg_type + R"(</msgType>
  <scope>Public</scope>
)";
  if (!references.empty()) doc += "  <references>" + references + "</references>\n";
  doc += R"(  <info>
    <category>Security</category>
    <event>Threat to a concert</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <onset>)" + cap_time(onset) + R"(</onset>
    <expires>)" + cap_time(expires) + R"(</expires>
    <headline>)" + headline + R"(</headline>
    <description>Credible information on an attack planned on a concert hall in the area.</description>
    <area>
      <areaDesc>Krasnogorsk district</areaDesc>
      )" + area + R"(
    </area>
  </info>
</alert>
)";
  return doc;
}

class WarningsTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    start_ = ops::SystemClock().now_ms() + 24 * 3'600'000LL;
    const json g = {{"id", "g-evening"}, {"venue", kHall}, {"name", "Evening concert"},
                    {"starts_at", ops::format_time(start_)}, {"ends_at", ops::format_time(start_ + 4 * 3'600'000LL)},
                    {"expected_attendance", 6000}, {"kind", "concert"}};
    ASSERT_EQ(call("admin", "POST", "/api/v1/gatherings", g.dump()).status, 201);
  }
  std::string precise(const std::string& id = "tip-1") {
    // A 1.5 km circle around the hall, for the evening of the concert.
    return cap_doc(id, "Alert", start_ - 3'600'000LL, start_ + 5 * 3'600'000LL,
                   "<circle>55.8233,37.3869 1.5</circle>", "Attack on a concert hall possible tonight");
  }
  HttpResponse post(const std::string& who, const std::string& xml) {
    return call(who, "POST", "/api/v1/warnings", xml, "Content-Type: application/cap+xml\r\n");
  }
  ops::TimeMs start_ = 0;
};

TEST_F(WarningsTest, MatchedAcknowledgedAndRecorded) {
  Connection stream(app_->port());
  ASSERT_TRUE(stream.send("GET /api/v1/stream?venue=riverside-hall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          tokens_.at("operator") + "\r\n\r\n"));
  ASSERT_TRUE(stream.read_response());

  auto r = post("analyst", precise());
  ASSERT_EQ(r.status, 201) << r.body;
  const json w = json::parse(r.body);
  ASSERT_EQ(w["matches"].size(), 1u) << r.body;
  const json m = w["matches"][0];
  EXPECT_EQ(m["gathering"], "g-evening");
  EXPECT_EQ(m["state"], "pending");
  EXPECT_GT(m["specificity"]["score"].get<double>(), 0.6) << m["specificity"].dump();
  EXPECT_GE(m["specificity"]["parts"].size(), 6u);
  ASSERT_TRUE(stream.read_until("event: warning\n"));

  // The same document again is the same warning (a feed repeating itself).
  r = post("admin", precise());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["id"], w["id"]);
  EXPECT_EQ(json::parse(call("analyst", "GET", "/api/v1/warnings").body)["warnings"].size(), 1u);

  const std::string ack = "/api/v1/warnings/" + w["id"].get<std::string>() + "/matches/g-evening/ack";
  EXPECT_EQ(call("viewer", "POST", ack, R"({"action":"added_screening"})").status, 403);
  EXPECT_EQ(call("operator-other", "POST", ack, R"({"action":"added_screening"})").status, 403);
  r = call("operator", "POST", ack, R"({"action":"no_action"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"path\":\"note\""), std::string::npos);
  r = call("operator", "POST", ack, R"({"action":"added_screening","note":"bag checks at all doors"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["state"], "acknowledged");
  EXPECT_EQ(call("operator", "POST", ack, R"({"action":"cancelled"})").status, 409);

  // The operator sees the warning through its match; the other venue's operator does not.
  EXPECT_EQ(json::parse(call("operator", "GET", "/api/v1/warnings").body)["warnings"].size(), 1u);
  EXPECT_EQ(json::parse(call("operator-other", "GET", "/api/v1/warnings").body)["warnings"].size(), 0u);
  EXPECT_EQ(call("operator-other", "GET", "/api/v1/warnings/" + w["id"].get<std::string>()).status, 404);

  // The timeline has who knew what, when.
  r = call("analyst", "GET", "/api/v1/gatherings/g-evening/timeline");
  ASSERT_EQ(r.status, 200) << r.body;
  const json t = json::parse(r.body);
  std::set<std::string> actions;
  for (const auto& e : t["events"]) actions.insert(e["action"]);
  for (const char* a : {"gathering.create", "warning.received", "warning.match", "warning.matched",
                        "warning.acknowledged"}) {
    EXPECT_TRUE(actions.contains(a)) << a;
  }
  EXPECT_EQ(t["time_to_acknowledge"]["warnings"]["count"], 1);
  r = call("analyst", "GET", "/api/v1/gatherings/g-evening/timeline?format=html");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("Evening concert"), std::string::npos);
  EXPECT_NE(r.body.find("bag checks at all doors"), std::string::npos);
}

TEST_F(WarningsTest, VagueWarningScoresLowerAndNonMatchingOnesMatchNothing) {
  // A city-wide two-day "avoid large gatherings" notice still reaches the gathering, vaguely.
  const std::string vague = cap_doc("tip-vague", "Alert", start_ - 24 * 3'600'000LL, start_ + 24 * 3'600'000LL,
                                    "<circle>55.75,37.62 30</circle>", "Avoid large gatherings");
  auto r = post("analyst", vague);
  ASSERT_EQ(r.status, 201) << r.body;
  const double vague_score = json::parse(r.body)["matches"][0]["specificity"]["score"];
  r = post("analyst", precise());
  const double precise_score = json::parse(r.body)["matches"][0]["specificity"]["score"];
  EXPECT_LT(vague_score, precise_score - 0.2);
  // Elsewhere (Vladivostok): no match.
  r = post("analyst", cap_doc("tip-far", "Alert", start_, start_ + 3'600'000LL,
                              "<circle>43.11,131.88 5</circle>", "Far away"));
  ASSERT_EQ(r.status, 201);
  EXPECT_TRUE(json::parse(r.body)["matches"].empty());
}

TEST_F(WarningsTest, CancelFollowsReferences) {
  auto r = post("analyst", precise());
  ASSERT_EQ(r.status, 201);
  const json w = json::parse(r.body);
  const std::string refs = "tips@authority.example,tip-1," + w["sent"].get<std::string>();
  r = post("analyst", cap_doc("tip-1-cancel", "Cancel", start_, start_ + 3'600'000LL,
                              "<circle>55.8233,37.3869 1.5</circle>", "Withdrawn", refs));
  ASSERT_EQ(r.status, 201) << r.body;
  r = call("analyst", "GET", "/api/v1/warnings/" + w["id"].get<std::string>());
  const json old = json::parse(r.body);
  EXPECT_EQ(old["state"], "cancelled");
  EXPECT_EQ(old["matches"][0]["state"], "cancelled");
}

TEST_F(WarningsTest, GatheringCreatedAfterTheWarningStillGetsIt) {
  ASSERT_EQ(post("analyst", precise()).status, 201);
  const json late = {{"id", "g-late"}, {"venue", kHall}, {"name", "Late show"},
                     {"starts_at", ops::format_time(start_ + 3'600'000LL)},
                     {"ends_at", ops::format_time(start_ + 3 * 3'600'000LL)}, {"kind", "concert"}};
  ASSERT_EQ(call("operator", "POST", "/api/v1/gatherings", late.dump()).status, 201);
  const json list = json::parse(call("operator", "GET", "/api/v1/warnings").body);
  std::set<std::string> gatherings;
  for (const auto& m : list["warnings"][0]["matches"]) gatherings.insert(m["gathering"]);
  EXPECT_TRUE(gatherings.contains("g-late")) << list.dump();
  // Updating the gathering does not match it twice.
  ASSERT_EQ(call("operator", "POST", "/api/v1/gatherings", late.dump()).status, 201);
  const json again = json::parse(call("operator", "GET", "/api/v1/warnings").body);
  EXPECT_EQ(again["warnings"][0]["matches"].size(), list["warnings"][0]["matches"].size());
}

TEST_F(WarningsTest, InvalidDocumentsAreRefusedWithWhereAndWhy) {
  auto r = post("analyst", "<alert><identifier>x</identifier>");
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("line"), std::string::npos) << r.body;
  std::string doc = precise();
  doc.replace(doc.find("<urgency>Expected</urgency>"), 27, "<urgency>Soonish</urgency>");
  r = post("analyst", doc);
  ASSERT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("urgency"), std::string::npos) << r.body;
  r = post("analyst", R"(<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert>&x;</alert>)");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(r.body.find("root:"), std::string::npos);
  EXPECT_EQ(post("viewer", precise()).status, 403);
  EXPECT_EQ(post("operator", precise()).status, 403);
}

TEST_F(WarningsTest, AdvisoryIsValidCap) {
  ASSERT_EQ(call("operator", "PUT", "/api/v1/venues/riverside-hall/posture",
                 R"({"posture":"elevated","note":"tip received"})").status, 200);
  const auto r = call("viewer", "GET", "/api/v1/gatherings/g-evening/advisory.cap");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.header("content-type").find("application/cap+xml"), std::string::npos);
  auto parsed = warn::parse_cap(r.body);
  ASSERT_TRUE(parsed) << parsed.error().front().to_string();
  EXPECT_EQ(parsed->infos.at(0).severity, warn::Severity::Moderate);
  EXPECT_NE(parsed->infos.at(0).headline.find("Evening concert"), std::string::npos);
  EXPECT_EQ(call("viewer-other", "GET", "/api/v1/gatherings/g-evening/advisory.cap").status, 403);
  EXPECT_EQ(call("admin", "GET", "/api/v1/gatherings/nope/advisory.cap").status, 404);
}

}  // namespace
}  // namespace vigil::api::testing
