// SPDX-License-Identifier: Apache-2.0
// The service without HTTP, driven by a ManualClock: escalation timing and webhook
// notifications; the webhook notifier's retries against a real receiving server; the config.
#include "api/service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/config.hpp"
#include "api/webhook.hpp"
#include "api_fixture.hpp"
#include "server/event_stream_access.hpp"
#include "server/http.hpp"
#include "server/metrics.hpp"

namespace vigil::api::testing {
namespace {

using nlohmann::json;

struct Sent {
  std::string url;
  json body;
};

class ServiceClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("svc");
    auto st = store::open_sqlite_store(dir_);
    ASSERT_TRUE(st) << st.error().to_string();
    store_ = std::move(*st);
    auto svc = Service::open(*store_, clock_, metrics_);
    ASSERT_TRUE(svc);
    service_ = std::move(*svc);
    // Only the capacity alert of the full floor is followed (density fires too).
    service_->set_webhook_sender([this](const std::string& url, const json& body) {
      if (body["alert"]["rule"] == "capacity") sent_.push_back({url, body});
    });
    auto t = make_token(Role::admin, std::nullopt, "root", 0);
    ASSERT_TRUE(t);
    admin_ = Principal{t->record.id, "root", Role::admin, std::nullopt};
    ASSERT_TRUE(service_->put_venue(admin_, kHall, read_text(example("concert-hall.geojson"))));
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void ingest(json readings) {
    std::optional<Answer> answer;
    std::mutex mu;
    std::condition_variable cv;
    service_->ingest(kHall, json{{"readings", readings}}.dump(), [&](Answer a) {
      std::lock_guard lock(mu);
      answer = std::move(a);
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return answer.has_value(); });
    ASSERT_TRUE(*answer) << answer->error().to_json().dump();
  }

  std::filesystem::path dir_;
  ops::ManualClock clock_{ops::SystemClock().now_ms()};
  server::MetricsRegistry metrics_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Service> service_;
  Principal admin_;
  std::vector<Sent> sent_;
};

// Telemetry from many threads at once: every batch is answered exactly once, after it is
// durable and applied to the live state (applied on the service's applier thread, never by
// the store's writer), so the state counts every accepted reading once when the last answer
// arrives; a batch sent again is answered as duplicates and changes nothing.
TEST_F(ServiceClockTest, ConcurrentIngestIsAnsweredOnceAppliedAndCountedOnce) {
  constexpr int kThreads = 8;
  constexpr int kBatches = 25;
  constexpr int kRows = 20;
  const std::string ts = ops::format_time(clock_.now_ms());
  auto body = [&](int thread, int batch) {
    json readings = json::array();
    for (int i = 0; i < kRows; ++i) {
      readings.push_back({{"sensor", "lc-E" + std::to_string(thread + 1)},
                          {"seq", batch * kRows + i},
                          {"ts", ts},
                          {"in", 1},
                          {"out", 0}});
    }
    return json{{"readings", readings}}.dump();
  };
  std::atomic<int> answers{0};
  std::atomic<int> accepted{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::promise<Answer> answer;
        service_->ingest(kHall, body(t, b), [&](Answer a) {
          ++answers;
          answer.set_value(std::move(a));
        });
        const Answer a = answer.get_future().get();
        if (!a) {
          ++failures;
          continue;
        }
        accepted += (*a)["accepted"].get<int>();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(answers.load(), kThreads * kBatches);
  EXPECT_EQ(accepted.load(), kThreads * kBatches * kRows);
  auto state = service_->venue_state(kHall);
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)["net_entered"].get<int>(), kThreads * kBatches * kRows);

  std::promise<Answer> again;
  service_->ingest(kHall, body(3, 7), [&](Answer a) { again.set_value(std::move(a)); });
  const Answer a = again.get_future().get();
  ASSERT_TRUE(a) << a.error().to_json().dump();
  EXPECT_EQ((*a)["accepted"], 0);
  EXPECT_EQ((*a)["duplicates"], kRows);
  state = service_->venue_state(kHall);
  ASSERT_TRUE(state);
  EXPECT_EQ((*state)["net_entered"].get<int>(), kThreads * kBatches * kRows);
}

TEST_F(ServiceClockTest, UnacknowledgedAlertEscalatesToTheNextLevelOnTime) {
  const json rules = {{"escalation",
                       {{"levels",
                         {{{"recipients", {{{"role", "operator"}}, {{"webhook", "http://duty.example/a"}}}},
                           {"escalate_after_s", 120},
                           {"repeat_s", 60}},
                          {{"recipients", {{{"webhook", "http://manager.example/b"}}}},
                           {"escalate_after_s", 0},
                           {"repeat_s", 0}}}}}}};
  ASSERT_TRUE(service_->put_rules(admin_, kHall, rules.dump()));
  ingest({{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", ops::format_time(clock_.now_ms())}, {"count", 9000}}});
  service_->tick();
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].url, "http://duty.example/a");
  EXPECT_EQ(sent_[0].body["alert"]["rule"], "capacity");
  EXPECT_EQ(sent_[0].body["level"], 0);

  // Keep the zone full (a fresh count every 30 s) and let the clock run.
  int seq = 2;
  auto advance = [&](int seconds) {
    for (int s = 0; s < seconds; s += 30) {
      clock_.advance_s(30);
      ingest({{{"sensor", "zc-floor"}, {"seq", seq++}, {"ts", ops::format_time(clock_.now_ms())}, {"count", 9000}}});
      service_->tick();
    }
  };
  advance(60);  // a repeat at level 0 after 60 s
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].url, "http://duty.example/a");
  EXPECT_EQ(sent_[1].body["attempt"], 2);
  advance(60);  // 120 s unacknowledged: level 1
  ASSERT_GE(sent_.size(), 3u);
  EXPECT_EQ(sent_.back().url, "http://manager.example/b");
  EXPECT_EQ(sent_.back().body["level"], 1);

  // Acknowledged: no more notifications.
  const auto listed = service_->list_alerts(admin_, std::nullopt, std::string_view("firing"));
  ASSERT_TRUE(listed);
  std::string id;
  for (const auto& a : (*listed)["alerts"]) {
    if (a["rule"] == "capacity") id = a["id"];
  }
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(service_->alert_action(admin_, id, Service::AlertAction::acknowledge, R"({"note":"on it"})"));
  const auto count = sent_.size();
  advance(600);
  EXPECT_EQ(sent_.size(), count);
}

TEST_F(ServiceClockTest, UnacknowledgedWarningMatchEscalates) {
  const json rules = {{"escalation",
                       {{"levels",
                         {{{"recipients", {{{"webhook", "http://duty.example/a"}}}}, {"escalate_after_s", 300}, {"repeat_s", 0}},
                          {{"recipients", {{{"webhook", "http://director.example/b"}}}}, {"escalate_after_s", 0}, {"repeat_s", 0}}}}}}};
  ASSERT_TRUE(service_->put_rules(admin_, kHall, rules.dump()));
  std::vector<Sent> warnings;
  service_->set_webhook_sender([&](const std::string& url, const json& body) {
    if (body["kind"] == "warning") warnings.push_back({url, body});
  });
  const auto start = clock_.now_ms() + 3'600'000;
  const json g = {{"id", "g1"}, {"venue", kHall}, {"name", "Concert"}, {"starts_at", ops::format_time(start)},
                  {"ends_at", ops::format_time(start + 3 * 3'600'000)}, {"kind", "concert"}};
  ASSERT_TRUE(service_->put_gathering(admin_, g.dump()));
  const std::string sent = ops::format_time(clock_.now_ms() / 1000 * 1000).substr(0, 19) + "-00:00";
  const std::string doc = R"(<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>t1</identifier>
<sender>s@x.example</sender><sent>)" + sent + R"(</sent><status>Actual</status><msgType>Alert</msgType>
<scope>Public</scope><info><category>Security</category><event>Threat</event><urgency>Expected</urgency>
<severity>Severe</severity><certainty>Possible</certainty><headline>Concert threat</headline>
<area><areaDesc>near</areaDesc><circle>55.8233,37.3869 2</circle></area></info></alert>)";
  auto posted = service_->post_warning(admin_, doc);
  ASSERT_TRUE(posted) << posted.error().to_json().dump();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].url, "http://duty.example/a");
  clock_.advance_s(299);
  service_->tick();
  EXPECT_EQ(warnings.size(), 1u);
  clock_.advance_s(2);
  service_->tick();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[1].url, "http://director.example/b");
  EXPECT_EQ(warnings[1].body["level"], 1);
  // Acknowledged: silence.
  const std::string id = posted->body["id"];
  ASSERT_TRUE(service_->acknowledge_match(admin_, id, "g1", R"({"action":"raised_posture"})"));
  clock_.advance_s(3600);
  service_->tick();
  EXPECT_EQ(warnings.size(), 2u);
}

TEST_F(ServiceClockTest, EscalationStateSurvivesReopening) {
  ingest({{{"sensor", "zc-floor"}, {"seq", 1}, {"ts", ops::format_time(clock_.now_ms())}, {"count", 9000}}});
  service_->tick();
  service_.reset();
  auto svc = Service::open(*store_, clock_, metrics_);
  ASSERT_TRUE(svc);
  auto listed = (*svc)->list_alerts(admin_, std::nullopt, std::string_view("firing"));
  ASSERT_TRUE(listed);
  bool found = false;
  for (const auto& a : (*listed)["alerts"]) found = found || a["rule"] == "capacity";
  EXPECT_TRUE(found);
  // The restored engine keeps the alert rather than opening a second one.
  (*svc)->tick();
  listed = (*svc)->list_alerts(admin_, std::nullopt, std::string_view("firing"));
  int capacity = 0;
  for (const auto& a : (*listed)["alerts"]) capacity += a["rule"] == "capacity" ? 1 : 0;
  EXPECT_EQ(capacity, 1);
}

TEST(WebhookTest, RetriesWithBackoffUntilTheReceiverAnswers) {
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<std::string> bodies;
  server::Router router;
  router.add_sync("POST", "/hook", [&](const server::Request& r, const server::PathParams&) {
    const int n = ++calls;
    {
      std::lock_guard lock(mu);
      bodies.push_back(r.body);
    }
    return n < 3 ? server::Response::error(503, "busy") : server::Response::json(200, "{}");
  });
  server::ServerOptions so;
  so.port = 0;
  so.log = [](server::LogLevel, std::string_view) {};
  server::HttpServer receiver(so, std::move(router));
  ASSERT_TRUE(receiver.start());

  server::MetricsRegistry metrics;
  WebhookOptions wo;
  wo.first_backoff = std::chrono::milliseconds(20);
  std::vector<std::string> log;
  WebhookNotifier notifier(metrics, [&](server::LogLevel, std::string_view m) {
    std::lock_guard lock(mu);
    log.emplace_back(m);
  }, wo);
  notifier.send("http://127.0.0.1:" + std::to_string(receiver.port()) + "/hook", json{{"n", 1}});
  ASSERT_TRUE(notifier.drain(std::chrono::seconds(10)));
  EXPECT_EQ(calls.load(), 3);
  std::lock_guard lock(mu);
  EXPECT_EQ(bodies.back(), R"({"n":1})");
  EXPECT_EQ(log.size(), 2u);
  EXPECT_NE(metrics.render().find("vigil_webhook_total{outcome=\"delivered\"} 1"), std::string::npos);
}

TEST(WebhookTest, GivesUpOnPermanentErrorsAndUnreachableReceivers) {
  server::MetricsRegistry metrics;
  WebhookOptions wo;
  wo.first_backoff = std::chrono::milliseconds(5);
  wo.max_attempts = 3;
  int calls = 0;
  WebhookNotifier notifier(
      metrics, {}, wo, [&](const std::string& url, const std::string&) -> Result<HttpResult> {
        ++calls;
        if (url.ends_with("gone")) return HttpResult{410, ""};
        return unexpected(Error{url, "cannot connect: refused"});
      });
  notifier.send("http://x/gone", json::object());
  notifier.send("http://x/down", json::object());
  ASSERT_TRUE(notifier.drain(std::chrono::seconds(5)));
  EXPECT_EQ(calls, 1 + 3);
  EXPECT_NE(metrics.render().find("vigil_webhook_total{outcome=\"failed\"} 2"), std::string::npos);
}

TEST(HttpClientTest, UrlsAreParsedOrRefusedWithAReason) {
  auto u = parse_url("https://hooks.example.org:8443/a/b?x=1");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "hooks.example.org");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b?x=1");
  u = parse_url("http://[::1]/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 80);
  EXPECT_FALSE(parse_url("ftp://x/"));
  EXPECT_FALSE(parse_url("http://x:99999/"));
  EXPECT_FALSE(parse_url("http://user:pw@x/"));
  auto refused = http_request("POST", "http://127.0.0.1:1/", "{}", "application/json");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("cannot connect"), std::string::npos);
}

TEST(ConfigTest, EveryOptionIsReadAndMistakesAreNamed) {
  const auto dir = fresh_dir("cfg");
  std::filesystem::create_directories(dir);
  const auto file = dir / "vigil.toml";
  std::ofstream(file) << R"([server]
listen = "0.0.0.0:9000"
io_threads = 4
max_body_bytes = 2097152
metrics_listen = "127.0.0.1:9100"
[state]
replay_hours = 6
[mqtt]
enabled = true
host = "broker"
port = 1884
[webhooks]
max_attempts = 3
first_backoff_s = 0.5
[log]
format = "json"
)";
  ServeConfig c;
  ASSERT_TRUE(load_config_file(file, c));
  EXPECT_EQ(c.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.io_threads, 4u);
  EXPECT_EQ(c.max_body_bytes, 2u << 20);
  EXPECT_EQ(c.replay_hours, 6);
  EXPECT_TRUE(c.mqtt_enabled);
  EXPECT_EQ(c.mqtt.port, 1884);
  EXPECT_EQ(c.webhooks.first_backoff, std::chrono::milliseconds(500));
  EXPECT_EQ(c.log_format, "json");

  std::ofstream(file) << "[server]\nlisten = 8080\nlisen = \"x\"\n[mqtt]\nport = 70000\n[extra]\n";
  auto bad = load_config_file(file, c);
  ASSERT_FALSE(bad);
  for (const char* key : {"server.listen", "server.lisen", "mqtt.port", "extra"}) {
    EXPECT_NE(bad.error().message.find(key), std::string::npos) << key << ": " << bad.error().message;
  }
  std::ofstream(file) << "[server\nlisten=";
  bad = load_config_file(file, c);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().where.find("vigil.toml:1:"), std::string::npos) << bad.error().where;
  EXPECT_FALSE(parse_listen("localhost"));
  EXPECT_FALSE(parse_listen("127.0.0.1:http"));
  EXPECT_EQ(parse_listen(":8080")->host, "0.0.0.0");
  std::filesystem::remove_all(dir);
}

// New telemetry shows on the stream at once, but a venue's state goes out at most every 200 ms;
// a state held back by that limit is sent when the 200 ms have passed, not at the next periodic
// evaluation (a minute away here). Two batches back to back: the second one's count arrives.
TEST(ServiceStream, StateHeldBackByTheRateLimitIsSentWhenDue) {
  const auto dir = fresh_dir("svc-held");
  auto st = store::open_sqlite_store(dir);
  ASSERT_TRUE(st) << st.error().to_string();
  ops::SystemClock clock;
  server::MetricsRegistry metrics;
  ServiceOptions options;
  options.tick = std::chrono::seconds(60);
  options.agent_egress = false;
  auto svc = Service::open(**st, clock, metrics, options);
  ASSERT_TRUE(svc);
  Service& service = **svc;
  auto t = make_token(Role::admin, std::nullopt, "root", 0);
  ASSERT_TRUE(t);
  const Principal admin{t->record.id, "root", Role::admin, std::nullopt};
  ASSERT_TRUE(service.put_venue(admin, kHall, read_text(example("concert-hall.geojson"))));
  service.start();
  auto stream = server::EventStream::create();
  service.subscribe(admin, kHall, stream);

  // People in the stage-left wing in the newest `state` frame on the stream (-1: none yet), and
  // whether it carried the egress estimate (built in the background after put_venue, then sent).
  long long wing = -1;
  bool egress = false;
  auto read_stream = [&] {
    const std::string frames = server::EventStreamAccess::take(*stream).frames;
    for (std::size_t at = frames.find("event: state\ndata: "); at != std::string::npos;
         at = frames.find("event: state\ndata: ", at + 1)) {
      const std::size_t from = at + 19;
      const json state = json::parse(frames.substr(from, frames.find('\n', from) - from));
      wing = state["zones"]["wing-w"]["occupancy"].get<long long>();
      egress = state.contains("egress") && state["egress"].is_object();
    }
  };
  auto wait_for_wing = [&](long long people, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (read_stream(); wing != people && std::chrono::steady_clock::now() < until; read_stream())
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return wing == people;
  };
  auto ingest = [&](int seq) {
    std::promise<Answer> answer;
    const json body = {{"readings",
                        {{{"sensor", "lc-E8"},
                          {"seq", seq},
                          {"ts", ops::format_time(clock.now_ms())},
                          {"in", 1},
                          {"out", 0}}}}};
    service.ingest(kHall, body.dump(), [&](Answer a) { answer.set_value(std::move(a)); });
    const Answer a = answer.get_future().get();
    ASSERT_TRUE(a) << a.error().to_json().dump();
  };

  // The egress model's state first (it would send the next state whatever the rate limit).
  ingest(1);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (read_stream(); !egress && std::chrono::steady_clock::now() < until; read_stream())
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(egress) << "no egress estimate on the stream";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ingest(2);
  ASSERT_TRUE(wait_for_wing(2, std::chrono::seconds(5))) << "the first batch never showed";
  const auto t0 = std::chrono::steady_clock::now();
  ingest(3);  // well within 200 ms of the state that showed the first
  EXPECT_TRUE(wait_for_wing(3, std::chrono::seconds(3)))
      << "the second batch's state was held back until the periodic evaluation";
  std::printf(
      "[ held state ] sent %.0f ms after the second batch\n",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  service.stop();
  svc->reset();
  st->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::api::testing
