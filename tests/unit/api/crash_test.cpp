// SPDX-License-Identifier: Apache-2.0
// Crash durability: `vigil serve` is killed with SIGKILL in the middle of concurrent ingest and
// restarted. Every reading that was answered 200 must be stored, none twice, and the restarted
// server must show the occupancy those stored readings give.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <set>
#include <thread>

#include "api_fixture.hpp"

extern char** environ;

namespace vigil::api::testing {
namespace {

using nlohmann::json;

class ServerProcess {
 public:
  explicit ServerProcess(const std::filesystem::path& data) {
    int out[2];
    if (::pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string binary = std::string(VIGIL_BINARY_DIR) + "/bin/vigil";
    const std::string data_arg = data.string();
    std::vector<std::string> args = {binary, "serve", "--data", data_arg, "--listen", "127.0.0.1:0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    // The first stdout line is `url: http://127.0.0.1:PORT/`.
    std::string line;
    char c;
    pollfd p{out[0], POLLIN, 0};
    while (::poll(&p, 1, 20'000) == 1 && ::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    if (const auto colon = line.rfind(':'); line.starts_with("url: ") && colon != std::string::npos) {
      port_ = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
    }
  }
  ~ServerProcess() { stop(SIGTERM); }
  std::uint16_t port() const { return port_; }
  void stop(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

TEST(CrashTest, EveryAcknowledgedReadingSurvivesSigkill) {
  const auto dir = fresh_dir("crash");
  std::string token;
  {
    auto st = store::open_sqlite_store(dir);
    ASSERT_TRUE(st);
    auto t = make_token(Role::sensor, std::string(kHall), "crash", store::now_ms());
    ASSERT_TRUE(t);
    ASSERT_TRUE((*st)->put_token(t->record));
    token = t->secret;
    ASSERT_TRUE((*st)->put_venue({kHall, read_text(example("concert-hall.geojson")), store::now_ms()}));
  }

  auto server = std::make_unique<ServerProcess>(dir);
  ASSERT_NE(server->port(), 0) << "the server did not print its URL";
  const std::uint16_t port = server->port();

  // Eight clients, one entrance counter each, batches of 50 readings of one person entering.
  const std::vector<std::string> sensors = {"lc-E1", "lc-E2", "lc-E3", "lc-E4",
                                            "lc-E5", "lc-E6", "lc-E7", "lc-E8"};
  std::vector<std::set<std::int64_t>> acked(sensors.size());
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    clients.emplace_back([&, i] {
      std::int64_t seq = 1;
      while (!stop.load()) {
        json readings = json::array();
        std::vector<std::int64_t> seqs;
        for (int k = 0; k < 50; ++k, ++seq) {
          readings.push_back({{"sensor", sensors[i]}, {"seq", seq}, {"ts", now_text()}, {"in", 1}, {"out", 0}});
          seqs.push_back(seq);
        }
        Connection c(port, false, std::chrono::milliseconds(2000));
        if (!c.ok()) return;
        auto r = c.request("POST", "/api/v1/venues/riverside-hall/telemetry",
                           json{{"readings", readings}}.dump(), "Authorization: Bearer " + token + "\r\n");
        if (!r) return;  // the server died under us: this batch was never acknowledged
        if (r->status == 200) {
          acked[i].insert(seqs.begin(), seqs.end());
          ++answered;
        }
      }
    });
  }
  while (answered.load() < 40) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server->stop(SIGKILL);
  stop = true;
  for (auto& t : clients) t.join();

  std::size_t acknowledged = 0;
  for (const auto& s : acked) acknowledged += s.size();
  ASSERT_GE(acknowledged, 40u * 50u);

  // Restart and compare.
  server = std::make_unique<ServerProcess>(dir);
  ASSERT_NE(server->port(), 0);
  std::vector<store::ReadingRow> rows;
  {
    auto st = store::open_sqlite_store(dir);
    ASSERT_TRUE(st);
    auto r = (*st)->readings_for_venue(kHall, 0);
    ASSERT_TRUE(r);
    rows = std::move(*r);
  }
  std::map<std::string, std::multiset<std::int64_t>> stored;
  for (const auto& row : rows) stored[row.sensor].insert(row.seq);
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const auto& have = stored[sensors[i]];
    for (std::int64_t seq : acked[i]) {
      ASSERT_EQ(have.count(seq), 1u) << sensors[i] << " seq " << seq << " was answered 200 but is missing";
    }
    for (std::int64_t seq : have) ASSERT_EQ(have.count(seq), 1u) << "stored twice";
  }
  EXPECT_GE(rows.size(), acknowledged);

  // The occupancy is what the stored readings give (each one person entering from outside).
  // (Any difference to a server that never crashed would show here: it replays the same rows.)
  auto token_for_read = make_token(Role::admin, std::nullopt, "check", store::now_ms());
  {
    auto st = store::open_sqlite_store(dir);
    ASSERT_TRUE(st);
    ASSERT_TRUE((*st)->put_token(token_for_read->record));
  }
  Connection c(server->port());
  auto r = c.request("GET", "/api/v1/venues/riverside-hall/state", "",
                     "Authorization: Bearer " + token_for_read->secret + "\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto state = json::parse(r->body);
  EXPECT_NEAR(state["net_entered"].get<double>(), static_cast<double>(rows.size()), 1e-6);
  EXPECT_NEAR(state["occupancy"].get<double>(), static_cast<double>(rows.size()), 1.0);
  server.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::api::testing
