// SPDX-License-Identifier: Apache-2.0
// Telemetry over MQTT against a real broker: a mosquitto process on a free loopback port, the
// server subscribed to it (ServeConfig::mqtt_enabled), readings published with libmosquitto.
// Checks that readings reach the venue state, that a repeated (sensor, seq) counts once, that
// bad payloads are rejected and counted without changing anything, and that the server
// reconnects after the broker restarts. Skipped when /usr/sbin/mosquitto is not installed.
#include <fcntl.h>
#include <mosquitto.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <mutex>
#include <thread>

#include "api_fixture.hpp"

extern char** environ;

namespace vigil::api::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kBroker = "/usr/sbin/mosquitto";

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  // NOLINTNEXTLINE: the sockets API takes a sockaddr*
  ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  // NOLINTNEXTLINE
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_open(std::uint16_t port) {
  Connection c(port);
  return c.ok();
}

// A mosquitto process listening on 127.0.0.1:port, anonymous clients allowed.
class Broker {
 public:
  Broker(std::filesystem::path dir, std::uint16_t port) : dir_(std::move(dir)), port_(port) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "mosquitto.conf") << "listener " << port_ << " 127.0.0.1\n"
                                           << "allow_anonymous true\n"
                                           << "persistence false\n";
  }
  ~Broker() { stop(); }

  bool start() {
    const std::string conf = (dir_ / "mosquitto.conf").string();
    const std::string log = (dir_ / "mosquitto.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> args = {kBroker, "-c", conf};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, kBroker, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    for (int i = 0; i < 100; ++i) {
      if (port_open(port_)) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string log() const { return read_text(dir_ / "mosquitto.log"); }

 private:
  std::filesystem::path dir_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// A publishing client (QoS 1), connected synchronously; its network loop runs on a thread.
class Publisher {
 public:
  explicit Publisher(std::uint16_t port) {
    client_ = mosquitto_new(nullptr, true, nullptr);
    if (!client_) return;
    if (mosquitto_connect(client_, "127.0.0.1", port, 10) != MOSQ_ERR_SUCCESS) return;
    connected_ = mosquitto_loop_start(client_) == MOSQ_ERR_SUCCESS;
  }
  ~Publisher() {
    if (!client_) return;
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, true);
    mosquitto_destroy(client_);
  }
  bool ok() const { return connected_; }

  bool publish(const std::string& topic, const std::string& payload) {
    return mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), 1, false) == MOSQ_ERR_SUCCESS;
  }

 private:
  mosquitto* client_ = nullptr;
  bool connected_ = false;
};

// The same (seq, in, out) is the same reading, timestamp included (a resent reading), so a
// repeat is a duplicate; the time is the test's start plus seq seconds.
std::string reading(int seq, int in, int out = 0) {
  static const ops::TimeMs start_ms = ops::SystemClock().now_ms();
  return json{{"seq", seq}, {"ts", ops::format_time(start_ms + 1000 * seq)}, {"in", in}, {"out", out}}
      .dump();
}

class MqttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kBroker)) {
      GTEST_SKIP() << kBroker << " is not installed (Debian package mosquitto): MQTT test skipped";
    }
    static std::once_flag init;
    std::call_once(init, [] { mosquitto_lib_init(); });
    dir_ = fresh_dir("mqtt");
    port_ = free_port();
    broker_ = std::make_unique<Broker>(dir_ / "broker", port_);
    ASSERT_TRUE(broker_->start()) << "mosquitto did not start: " << broker_->log();

    ServeConfig config;
    config.data_dir = dir_ / "data";
    config.listen = "127.0.0.1:0";
    config.log_level = "error";
    config.web_root = dir_;
    config.mqtt_enabled = true;
    config.mqtt.port = port_;
    config.mqtt.client_id = "vigil-test-" + std::to_string(::getpid());
    config.mqtt.keepalive_s = 5;
    auto app = ServerApp::start(config);
    ASSERT_TRUE(app) << app.error().to_string();
    app_ = std::move(*app);
    auto t = make_token(Role::admin, std::nullopt, "admin", store::now_ms());
    ASSERT_TRUE(t);
    ASSERT_TRUE(app_->store().put_token(t->record));
    admin_ = t->secret;
    ASSERT_EQ(call("PUT", "/api/v1/venues/riverside-hall",
                   read_text(example("concert-hall.geojson")))
                  .status,
              201);
  }
  void TearDown() override {
    app_.reset();
    broker_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  HttpResponse call(const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    Connection c(app_->port());
    auto r = c.request(method, target, body, "Authorization: Bearer " + admin_ + "\r\n");
    EXPECT_TRUE(r.has_value()) << method << " " << target;
    return r.value_or(HttpResponse{});
  }

  json state() {
    auto r = call("GET", "/api/v1/venues/riverside-hall/state");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }
  long long foyer() {
    const json s = state();
    return s.is_object() ? s["zones"]["foyer"]["occupancy"].get<long long>() : -1;
  }

  // The value of one metrics series (0 when absent).
  double metric(const std::string& series) {
    Connection c(app_->port());
    auto r = c.request("GET", "/metrics");
    if (!r) return -1;
    const auto at = r->body.find("\n" + series + " ");
    if (at == std::string::npos) return 0;
    return std::stod(r->body.substr(at + series.size() + 2));
  }

  // Publishes `payload` every 200 ms (the server may not be subscribed yet; a repeated
  // (sensor, seq) is harmless) until `done()` holds or `timeout` passes.
  template <class Done>
  bool publish_until(Publisher& p, const std::string& topic, const std::string& payload,
                     Done done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      p.publish(topic, payload);
      for (int i = 0; i < 10; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
      }
    }
    return done();
  }

  template <class Done>
  bool wait_until(Done done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return done();
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<ServerApp> app_;
  std::string admin_;
};

TEST_F(MqttTest, ReadingsAreAppliedOnceBadOnesRejectedAndTheServerReconnects) {
  const std::string e1 = "vigil/riverside-hall/lc-E1";
  const std::string e2 = "vigil/riverside-hall/lc-E2";
  {
    Publisher pub(port_);
    ASSERT_TRUE(pub.ok());

    // Readings reach the venue state (the first may be published before the server has
    // subscribed, hence publish_until; the repeats are the same reading).
    ASSERT_TRUE(publish_until(pub, e1, reading(1, 5), [&] { return foyer() == 5; }, 10s))
        << "foyer " << foyer() << "; broker log:\n"
        << broker_->log();
    const json s = state();
    EXPECT_EQ(s["sensors"]["lc-E1"]["readings"], 1) << s["sensors"]["lc-E1"].dump();

    // A repeated (sensor, seq) counts once; another sensor's reading counts.
    const double duplicates_before = metric(R"(vigil_readings_total{result="duplicate"})");
    ASSERT_TRUE(pub.publish(e1, reading(1, 5)));
    ASSERT_TRUE(pub.publish(e1, reading(1, 5)));
    ASSERT_TRUE(pub.publish(e2, reading(1, 3)));
    ASSERT_TRUE(wait_until([&] { return foyer() == 8; }, 5s)) << "foyer " << foyer();
    ASSERT_TRUE(wait_until(
        [&] {
          return metric(R"(vigil_readings_total{result="duplicate"})") >= duplicates_before + 2;
        },
        5s));
    EXPECT_EQ(foyer(), 8);
    EXPECT_EQ(state()["sensors"]["lc-E1"]["readings"], 1);

    // Bad payloads: rejected, counted, nothing applied.
    std::this_thread::sleep_for(100ms);  // the last accepted message's counter
    const double accepted_before = metric(R"(vigil_mqtt_messages_total{result="accepted"})");
    const double rejected_before = metric(R"(vigil_mqtt_messages_total{result="rejected"})");
    ASSERT_TRUE(pub.publish(e1, "this is not JSON"));
    ASSERT_TRUE(pub.publish(e1, "[1, 2, 3]"));
    ASSERT_TRUE(pub.publish(e1, reading(2, -3)));                 // negative count
    ASSERT_TRUE(pub.publish(e1, R"({"seq": 3, "in": 1, "out": 0})"));  // no timestamp
    ASSERT_TRUE(pub.publish("vigil/riverside-hall/no-such-sensor", reading(1, 2)));
    ASSERT_TRUE(pub.publish("vigil/no-such-venue/lc-E1", reading(1, 2)));
    ASSERT_TRUE(pub.publish(e1, json{{"sensor", "lc-E2"}, {"seq", 9}, {"ts", now_text()},
                                     {"in", 1}, {"out", 0}}
                                    .dump()));  // the payload names another sensor
    ASSERT_TRUE(wait_until(
        [&] {
          return metric(R"(vigil_mqtt_messages_total{result="rejected"})") >= rejected_before + 7;
        },
        5s))
        << "rejected: " << metric(R"(vigil_mqtt_messages_total{result="rejected"})") - rejected_before;
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(metric(R"(vigil_mqtt_messages_total{result="rejected"})"), rejected_before + 7);
    EXPECT_EQ(metric(R"(vigil_mqtt_messages_total{result="accepted"})"), accepted_before);
    EXPECT_EQ(foyer(), 8);
    const json after = state();
    EXPECT_EQ(after["sensors"]["lc-E1"]["readings"], 1);
    EXPECT_EQ(after["sensors"]["lc-E2"]["readings"], 1);
  }

  // The broker goes away and comes back: the server reconnects and resubscribes.
  broker_->stop();
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(broker_->start()) << broker_->log();
  Publisher pub(port_);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(publish_until(pub, e2, reading(2, 4), [&] { return foyer() == 12; }, 12s))
      << "foyer " << foyer() << " after the broker restarted; broker log:\n"
      << broker_->log();
  EXPECT_EQ(state()["sensors"]["lc-E2"]["readings"], 2);
}

}  // namespace
}  // namespace vigil::api::testing
