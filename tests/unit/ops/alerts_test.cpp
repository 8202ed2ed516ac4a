// SPDX-License-Identifier: Apache-2.0
// The alert engine: lifecycle, grouping and deduplication, severity rising within one alert,
// escalation timing and repeated notifications (ManualClock, no sleeps), acknowledge/resolve
// validation, the JSON form and rebuilding from persisted alerts.
#include "ops/alerts.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ops_test_util.hpp"

namespace vigil::ops {
namespace {

using nlohmann::json;
using test::kT0;
using test::sec;
using Type = AlertEventType;

Condition cond(std::string_view r, const std::string& key, Severity s = Severity::warn,
               double value = 95) {
  Condition c;
  c.rule = std::string(r);
  c.key = key;
  c.zone = key;
  c.severity = s;
  c.value = value;
  c.threshold = 90;
  c.message = "zone \"" + key + "\" over the threshold";
  return c;
}

std::vector<Type> types(const std::vector<AlertEvent>& es) {
  std::vector<Type> t;
  for (const AlertEvent& e : es) t.push_back(e.type);
  return t;
}

// Three levels: operators (reminded every 60 s, escalate after 120 s), a webhook (no
// reminders, escalate after 300 s), then admins.
EscalationPolicy three_levels() {
  EscalationPolicy p;
  p.levels.push_back({{Recipient{"operator", ""}}, 120, 60});
  p.levels.push_back({{Recipient{"", "https://hooks.example/duty"}}, 300, 0});
  p.levels.push_back({{Recipient{"admin", ""}}, 0, 600});
  return p;
}

class Alerts : public ::testing::Test {
 protected:
  ManualClock clock_{kT0};
  AlertEngine engine_{"test-hall", clock_, three_levels(), 60};

  std::vector<AlertEvent> at(double t_s, std::vector<Condition> cs) {
    clock_.set(kT0 + sec(t_s));
    return engine_.evaluate(cs);
  }
};

TEST_F(Alerts, OpensOnceAndDeduplicatesRecurrences) {
  auto ev = at(0, {cond(rule::capacity, "hall")});
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::opened, Type::notify}));
  const Alert& a = ev[0].alert;
  EXPECT_EQ(a.id, "test-hall:capacity:hall:1700000000000");
  EXPECT_EQ(a.state, AlertState::firing);
  EXPECT_EQ(a.since_ms, kT0);
  ASSERT_TRUE(ev[1].notification.has_value());
  EXPECT_EQ(ev[1].notification->level, 0);
  EXPECT_EQ(ev[1].notification->recipients, (std::vector<Recipient>{{"operator", ""}}));
  EXPECT_EQ(ev[1].notification->attempt, 1);
  // The same condition again: no new alert, no event.
  EXPECT_TRUE(at(10, {cond(rule::capacity, "hall")}).empty());
  EXPECT_TRUE(at(20, {cond(rule::capacity, "hall"), cond(rule::capacity, "hall")}).empty());
  ASSERT_EQ(engine_.alerts().size(), 1u);
  // Another key or another rule: another alert.
  auto other = at(30, {cond(rule::capacity, "hall"), cond(rule::capacity, "lobby"),
                       cond(rule::density, "hall")});
  EXPECT_EQ(types(other),
            (std::vector<Type>{Type::opened, Type::notify, Type::opened, Type::notify}));
  EXPECT_EQ(engine_.alerts().size(), 3u);
}

TEST_F(Alerts, SeverityRisesWithinOneAlert) {
  const std::string id = at(0, {cond(rule::capacity, "hall")})[0].alert.id;
  auto ev = at(5, {cond(rule::capacity, "hall", Severity::critical, 101)});
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::updated, Type::notify}));
  EXPECT_EQ(ev[0].alert.id, id);
  EXPECT_EQ(ev[0].alert.severity, Severity::critical);
  EXPECT_EQ(ev[0].detail, "severity warn → critical");
  // Falling back: the alert keeps its peak severity, the current one is updated.
  ev = at(6, {cond(rule::capacity, "hall", Severity::warn)});
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::updated}));
  EXPECT_EQ(ev[0].alert.severity, Severity::critical);
  EXPECT_EQ(ev[0].alert.current_severity, Severity::warn);
  EXPECT_EQ(engine_.alerts().size(), 1u);
  // Both severities in one evaluation: the stronger counts.
  ev = at(7, {cond(rule::capacity, "hall", Severity::warn),
              cond(rule::capacity, "hall", Severity::critical)});
  EXPECT_EQ(types(ev), (std::vector<Type>{Type::updated}));
  EXPECT_EQ(engine_.find(id)->current_severity, Severity::critical);
}

TEST_F(Alerts, RisingSeverityNeedsAFreshAcknowledgement) {
  const std::string id = at(0, {cond(rule::capacity, "hall")})[0].alert.id;
  ASSERT_TRUE(engine_.acknowledge(id, "ana", "stewards sent").has_value());
  EXPECT_TRUE(at(200, {cond(rule::capacity, "hall")}).empty());  // acknowledged: quiet
  auto ev = at(210, {cond(rule::capacity, "hall", Severity::critical)});
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::updated, Type::notify}));
  EXPECT_EQ(ev[0].alert.state, AlertState::firing);
  EXPECT_FALSE(ev[0].alert.acknowledged_by.has_value());
  EXPECT_THAT(ev[0].detail, ::testing::HasSubstr("acknowledgement by ana withdrawn"));
  EXPECT_EQ(ev[1].notification->level, 0);
}

TEST_F(Alerts, EscalationTimingAndRepeats) {
  const std::vector<Condition> c = {cond(rule::capacity, "hall")};
  auto ev = at(0, c);
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::opened, Type::notify}));
  EXPECT_TRUE(at(59, c).empty());
  ev = at(60, c);  // reminder at level 0
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::notify}));
  EXPECT_EQ(ev[0].notification->level, 0);
  EXPECT_EQ(ev[0].notification->attempt, 2);
  EXPECT_TRUE(at(119, c).empty());
  ev = at(120, c);  // unacknowledged for 120 s: level 1
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::escalated, Type::notify}));
  EXPECT_EQ(ev[0].alert.level, 1);
  EXPECT_EQ(ev[1].notification->level, 1);
  EXPECT_EQ(ev[1].notification->recipients,
            (std::vector<Recipient>{{"", "https://hooks.example/duty"}}));
  EXPECT_EQ(ev[1].notification->attempt, 3);
  EXPECT_TRUE(at(300, c).empty());  // level 1 does not repeat
  EXPECT_TRUE(at(419, c).empty());
  ev = at(420, c);  // 300 s at level 1: level 2
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::escalated, Type::notify}));
  EXPECT_EQ(ev[1].notification->level, 2);
  EXPECT_TRUE(at(1019, c).empty());
  EXPECT_EQ(types(at(1020, c)), (std::vector<Type>{Type::notify}));  // level 2 repeats every 600 s
  // Acknowledged: no more notifications.
  ASSERT_TRUE(engine_.acknowledge(engine_.alerts()[0].id, "ana", "on it").has_value());
  EXPECT_TRUE(at(5000, c).empty());
}

TEST_F(Alerts, LateEvaluationEscalatesThroughEveryDueLevel) {
  const std::vector<Condition> c = {cond(rule::capacity, "hall")};
  at(0, c);
  auto ev = at(1000, c);
  EXPECT_EQ(types(ev),
            (std::vector<Type>{Type::escalated, Type::notify, Type::escalated, Type::notify}));
  EXPECT_EQ(ev.back().alert.level, 2);
}

TEST_F(Alerts, ResolvesAfterTheConditionStaysClearForTheHoldTime) {
  const std::string id = at(0, {cond(rule::capacity, "hall")})[0].alert.id;
  ASSERT_TRUE(engine_.acknowledge(id, "ana", "watching").has_value());
  EXPECT_TRUE(at(10, {}).empty());
  EXPECT_TRUE(at(40, {cond(rule::capacity, "hall")}).empty());  // back: the hold restarts
  EXPECT_TRUE(at(50, {}).empty());
  EXPECT_TRUE(at(109, {}).empty());
  auto ev = at(110, {});
  ASSERT_EQ(types(ev), (std::vector<Type>{Type::resolved}));
  EXPECT_EQ(ev[0].alert.state, AlertState::resolved);
  EXPECT_EQ(ev[0].alert.resolved_by, "system");
  EXPECT_EQ(ev[0].alert.resolved_at_ms, kT0 + sec(110));
  EXPECT_TRUE(engine_.alerts().empty());
  ASSERT_EQ(engine_.alerts(true).size(), 1u);
  // A recurrence after resolution is a new alert.
  auto again = at(200, {cond(rule::capacity, "hall")});
  ASSERT_EQ(types(again), (std::vector<Type>{Type::opened, Type::notify}));
  EXPECT_NE(again[0].alert.id, id);
}

TEST_F(Alerts, AcknowledgeAndResolveValidate) {
  const std::string id = at(0, {cond(rule::capacity, "hall")})[0].alert.id;
  using Code = ActionError::Code;
  auto unknown = engine_.acknowledge("nope", "ana", "x");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, Code::not_found);
  auto no_note = engine_.acknowledge(id, "ana", "  ");
  ASSERT_FALSE(no_note.has_value());
  EXPECT_EQ(no_note.error().code, Code::invalid);
  EXPECT_EQ(no_note.error().error.where, "note");
  auto nobody = engine_.acknowledge(id, "", "note");
  ASSERT_FALSE(nobody.has_value());
  EXPECT_EQ(nobody.error().error.where, "by");

  clock_.set(kT0 + sec(30));
  auto ack = engine_.acknowledge(id, "ana", " stewards at door 2 ");
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type, Type::acknowledged);
  EXPECT_EQ(ack->alert.state, AlertState::acknowledged);
  EXPECT_EQ(ack->alert.acknowledged_by, "ana");
  EXPECT_EQ(ack->alert.acknowledged_at_ms, kT0 + sec(30));
  EXPECT_EQ(ack->alert.note, "stewards at door 2");
  auto twice = engine_.acknowledge(id, "bob", "me too");
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, Code::conflict);
  EXPECT_THAT(twice.error().error.message, ::testing::HasSubstr("already acknowledged (by ana"));

  auto no_resolve_note = engine_.resolve(id, "ana", "");
  ASSERT_FALSE(no_resolve_note.has_value());
  EXPECT_EQ(no_resolve_note.error().code, Code::invalid);
  auto res = engine_.resolve(id, "ana", "crowd moved to the balcony");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->type, Type::resolved);
  EXPECT_EQ(res->alert.resolved_by, "ana");
  EXPECT_EQ(res->alert.resolution_note, "crowd moved to the balcony");
  EXPECT_EQ(res->alert.note, "stewards at door 2");  // the acknowledgement note stays
  auto again = engine_.resolve(id, "ana", "again");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Code::conflict);
  EXPECT_THAT(again.error().error.message, ::testing::HasSubstr("already resolved"));
  auto ack_resolved = engine_.acknowledge(id, "bob", "late");
  ASSERT_FALSE(ack_resolved.has_value());
  EXPECT_EQ(ack_resolved.error().code, Code::conflict);
  // A firing alert can be resolved by hand directly.
  const std::string id2 = at(40, {cond(rule::density, "hall")})[0].alert.id;
  EXPECT_TRUE(engine_.resolve(id2, "ana", "false alarm: camera glare").has_value());
}

TEST_F(Alerts, JsonHasTheSpecFields) {
  const std::string id = at(0, {cond(rule::capacity, "hall")})[0].alert.id;
  clock_.set(kT0 + sec(5));
  const Alert a = engine_.acknowledge(id, "ana", "ok")->alert;
  const json j = to_json(a);
  for (const char* k : {"id", "venue", "rule", "zone", "severity", "state", "since",
                        "acknowledged_by", "acknowledged_at", "note"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["venue"], "test-hall");
  EXPECT_EQ(j["rule"], "capacity");
  EXPECT_EQ(j["zone"], "hall");
  EXPECT_EQ(j["severity"], "warn");
  EXPECT_EQ(j["state"], "acknowledged");
  EXPECT_EQ(j["since"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["acknowledged_by"], "ana");
  EXPECT_EQ(j["acknowledged_at"], "2023-11-14T22:13:25.000Z");
  EXPECT_EQ(j["note"], "ok");
  auto back = alert_from_json(j);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(to_json(*back), j);

  json bad = j;
  bad["severity"] = "loud";
  bad["since"] = "later";
  bad.erase("rule");
  bad["colour"] = "red";
  auto e = alert_from_json(bad, "alerts[2]");
  ASSERT_FALSE(e.has_value());
  std::string all;
  for (const Error& x : e.error()) all += x.to_string() + "\n";
  EXPECT_THAT(all, ::testing::HasSubstr("alerts[2].severity: \"loud\" is not warn or critical"));
  EXPECT_THAT(all, ::testing::HasSubstr("alerts[2].since: "));
  EXPECT_THAT(all, ::testing::HasSubstr("alerts[2].rule: missing"));
  EXPECT_THAT(all, ::testing::HasSubstr("alerts[2].colour: unknown field"));

  // A firing venue-wide alert: nulls where nothing applies.
  Condition eg = cond(rule::egress, "venue");
  eg.zone = "";
  const json je = to_json(at(10, {eg})[0].alert);
  EXPECT_TRUE(je["zone"].is_null());
  EXPECT_TRUE(je["acknowledged_by"].is_null());
  EXPECT_TRUE(je["acknowledged_at"].is_null());
  EXPECT_TRUE(je["note"].is_null());

  const AlertEvent ev = at(20, {cond(rule::rising, "hall")})[1];
  const json jev = to_json(ev);
  EXPECT_EQ(jev["type"], "notify");
  EXPECT_EQ(jev["notification"]["recipients"][0]["role"], "operator");
}

TEST_F(Alerts, RebuiltEngineCarriesOn) {
  const std::vector<Condition> c = {cond(rule::capacity, "hall"), cond(rule::density, "lobby")};
  at(0, c);
  at(60, c);   // reminders
  at(120, c);  // both escalated to level 1
  ASSERT_TRUE(engine_.acknowledge(engine_.alerts()[1].id, "ana", "seen").has_value());
  at(150, {c[0]});
  // Persist as JSON, as the store would, and rebuild after a "restart".
  std::vector<Alert> persisted;
  for (const Alert& a : engine_.alerts(true)) persisted.push_back(*alert_from_json(to_json(a)));
  AlertEngine rebuilt("test-hall", clock_, three_levels(), 60);
  ASSERT_TRUE(rebuilt.restore(persisted).has_value());
  ASSERT_EQ(rebuilt.alerts().size(), 2u);
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(to_json(rebuilt.alerts()[i]), to_json(engine_.alerts()[i]));
  // Both engines now behave the same.
  for (double t : {160.0, 181.0, 300.0, 420.0, 500.0}) {
    clock_.set(kT0 + sec(t));
    const auto a = engine_.evaluate(std::vector<Condition>{c[0]});
    const auto b = rebuilt.evaluate(std::vector<Condition>{c[0]});
    ASSERT_EQ(a.size(), b.size()) << t;
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(to_json(a[i]), to_json(b[i])) << t;
  }
  // The recurring condition updated the restored alert rather than opening another.
  EXPECT_EQ(rebuilt.alerts().size(), 1u);
  EXPECT_EQ(rebuilt.alerts()[0].level, 2);
}

TEST_F(Alerts, RestoreRejectsInconsistentInput) {
  const Alert a = at(0, {cond(rule::capacity, "hall")})[0].alert;
  AlertEngine other("elsewhere", clock_);
  auto wrong_venue = other.restore(std::vector<Alert>{a});
  ASSERT_FALSE(wrong_venue.has_value());
  EXPECT_EQ(wrong_venue.error()[0].where, "alerts[0].venue");
  Alert b = a;
  b.id += "-x";
  AlertEngine same("test-hall", clock_);
  auto two_open = same.restore(std::vector<Alert>{a, b});
  ASSERT_FALSE(two_open.has_value());
  EXPECT_THAT(two_open.error()[0].message, ::testing::HasSubstr("second open alert"));
  auto dup = same.restore(std::vector<Alert>{a, a});
  ASSERT_FALSE(dup.has_value());
  EXPECT_THAT(dup.error()[0].message, ::testing::HasSubstr("duplicate id"));
}

TEST_F(Alerts, ManualResolveThenSameMillisecondRecurrenceGetsADistinctId) {
  const std::string id = at(0, {cond(rule::capacity, "hall")})[0].alert.id;
  ASSERT_TRUE(engine_.resolve(id, "ana", "test").has_value());
  const auto ev = at(0, {cond(rule::capacity, "hall")});
  ASSERT_FALSE(ev.empty());
  EXPECT_NE(ev[0].alert.id, id);
  EXPECT_EQ(ev[0].alert.id, id + "-2");
}

TEST(OpsEscalationPolicy, JsonRoundTripAndErrors) {
  auto p = escalation_policy_from_json(json::parse(R"({ "levels": [
      { "recipients": [ { "role": "operator" }, { "webhook": "https://hooks.example/a" } ],
        "escalate_after_s": 120, "repeat_s": 60 },
      { "recipients": [ { "role": "admin" } ] } ] })"));
  ASSERT_TRUE(p.has_value());
  ASSERT_EQ(p->levels.size(), 2u);
  EXPECT_EQ(p->levels[0].recipients[1].webhook, "https://hooks.example/a");
  EXPECT_DOUBLE_EQ(p->levels[0].escalate_after_s, 120);
  EXPECT_DOUBLE_EQ(p->levels[1].repeat_s, 300);  // default
  auto again = escalation_policy_from_json(to_json(*p));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(to_json(*again), to_json(*p));

  auto bad = escalation_policy_from_json(json::parse(R"({ "levels": [
      { "recipients": [ { "role": "operator", "webhook": "https://x" }, { "webhook": "ftp://x" },
                        { "pager": 1 } ], "repeat_s": 2 },
      { "recipients": [] , "escalate_after_s": -5 } ] })"));
  ASSERT_FALSE(bad.has_value());
  std::string all;
  for (const Error& x : bad.error()) all += x.to_string() + "\n";
  for (const char* expected :
       {"levels[0].recipients[0]: needs exactly one of",
        "levels[0].recipients[1].webhook: \"ftp://x\" is not an http(s) URL",
        "levels[0].recipients[2].pager: unknown field", "levels[0].repeat_s: 2 is too frequent",
        "levels[1].recipients: must be a non-empty array",
        "levels[1].escalate_after_s: -5 is out of range"})
    EXPECT_THAT(all, ::testing::HasSubstr(expected)) << all;
  EXPECT_FALSE(escalation_policy_from_json(json::object()).has_value());
}

}  // namespace
}  // namespace vigil::ops
