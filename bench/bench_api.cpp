// SPDX-License-Identifier: Apache-2.0
// The operations server end to end (issue 5): a real ServerApp (src/api/app.hpp) on a loopback
// port with a fresh data directory and the example concert hall, driven by keep-alive HTTP
// clients in this process.
//
//   bench_api                      all phases (about 2 minutes), then a table
//   bench_api --seconds 3          shorter phases
//   bench_api --only ingest|alert|state|parts
//   bench_api --soak [--soak-seconds 600] [--soak-rate 5000] [--max-growth-mib 32]
//
// Phases:
//   parts   what one 100-reading batch costs in each stage, single-threaded, without HTTP:
//           JSON parse + parse_telemetry, validation, estimator apply, state snapshot + JSON,
//           and the store alone (durable append, 64 batches in flight)
//   ingest  durable ingest, POST /telemetry with 100 readings per request, from 1 and from 64
//           keep-alive clients: readings/s, request p50/p99, and where the CPU went
//   alert   ingest-to-SSE alert latency: a stream client on /api/v1/stream?venue=..., 10,000
//           readings/s of background load from 4 other clients, and probe readings that push
//           the standing floor over its capacity and back (a capacity alert opens, then
//           resolves): time from sending the probe POST to receiving the `event: alert` frame
//   state   GET /api/v1/venues/{id}/state requests/s from 1 and 16 keep-alive clients
//   soak    `rate` readings/s for `soak-seconds` with a stream client and a state poller;
//           prints RSS every 30 s and the growth; exit 1 if it grew more than --max-growth-mib
//           over the second half of the run (caches fill during the first minutes: SQLite's
//           writer alone keeps up to 64 MiB of pages), if any request failed or the stream ended
//
// The clients share the machine with the server: on a 2-core VM they take a good part of the
// CPU, which the "where the CPU went" lines show (per-thread CPU from /proc/self/task).
#include <fmt/format.h>
#include <malloc.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../tests/unit/server/test_client.hpp"
#include "api/app.hpp"
#include "api/auth.hpp"
#include "api/service.hpp"
#include "ops/clock.hpp"
#include "ops/monitor.hpp"
#include "ops/reading.hpp"
#include "store/store.hpp"
#include "venue/load.hpp"

namespace {

using vigil::server::testing::Connection;
using vigil::server::testing::HttpResponse;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kVenue = "riverside-hall";

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

long gettid_long() { return static_cast<long>(::syscall(SYS_gettid)); }

// ---- per-thread CPU ---------------------------------------------------------------------------

// CPU seconds (user + system) of every thread of this process, by tid, with its name.
struct ThreadCpu {
  std::string name;
  double cpu_s = 0;
  double runq_s = 0;  // runnable, waiting for a CPU
};
std::map<long, ThreadCpu> thread_cpu() {
  std::map<long, ThreadCpu> out;
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const long tid = std::atol(e.path().filename().c_str());
    std::ifstream in(e.path() / "stat");
    std::string text;
    std::getline(in, text);
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    ThreadCpu t;
    t.name = text.substr(open + 1, close - open - 1);
    // Nanoseconds on a CPU (schedstat): utime/stime below count whole clock ticks, which
    // loses the many short bursts of 64 client threads.
    std::ifstream sched(e.path() / "schedstat");
    double run_ns = -1;
    double wait_ns = 0;
    if (sched >> run_ns >> wait_ns && run_ns >= 0) {
      t.cpu_s = run_ns / 1e9;
      t.runq_s = wait_ns / 1e9;
    } else {
      std::istringstream rest(text.substr(close + 2));
      std::string field;
      std::vector<std::string> f;
      while (rest >> field) f.push_back(field);
      // After the name: state(0) ... utime is field 14 of the line, index 11 here; stime 12.
      if (f.size() > 12) t.cpu_s = (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / hz;
    }
    out[tid] = t;
  }
  return out;
}

// Groups the CPU used between two snapshots: the store's writer thread, the bench's client
// threads (tids registered), and everything else (HTTP I/O threads, the service's ticker,
// webhook and MQTT threads).
struct CpuSplit {
  double writer_s = 0;
  double writer_runq_s = 0;
  double applier_s = 0;  // the service's ingest applier (vigil-ingest)
  double clients_s = 0;
  double server_s = 0;
  double wall_s = 0;
};

std::mutex g_client_tids_mu;
std::set<long> g_client_tids;
void register_client_thread() {
  std::lock_guard lock(g_client_tids_mu);
  g_client_tids.insert(gettid_long());
}

CpuSplit cpu_between(const std::map<long, ThreadCpu>& a, const std::map<long, ThreadCpu>& b,
                     double wall_s) {
  CpuSplit s;
  s.wall_s = wall_s;
  std::lock_guard lock(g_client_tids_mu);
  for (const auto& [tid, t] : b) {
    const auto it = a.find(tid);
    const double d = t.cpu_s - (it == a.end() ? 0.0 : it->second.cpu_s);
    if (t.name == "vigil-store") {
      s.writer_s += d;
      s.writer_runq_s += t.runq_s - (it == a.end() ? 0.0 : it->second.runq_s);
    }
    else if (t.name == "vigil-ingest") s.applier_s += d;
    else if (g_client_tids.contains(tid)) s.clients_s += d;
    else s.server_s += d;
  }
  return s;
}

// ---- the server under test --------------------------------------------------------------------

// The agent-based egress estimate (a background simulation of the current crowd, every
// `egress.agent_interval_s`) is off unless --agent-egress: it competes for the same cores and
// makes the API's figures depend on when it runs.
bool g_agent_egress = false;

struct Server {
  std::filesystem::path dir;
  std::unique_ptr<vigil::api::ServerApp> app;
  std::string admin, sensor, viewer;

  bool start() {
    dir = std::filesystem::temp_directory_path() /
          fmt::format("vigil-bench-api-{}-{}", ::getpid(), vigil::store::now_ms());
    std::filesystem::remove_all(dir);
    vigil::api::ServeConfig config;
    config.data_dir = dir;
    config.listen = "127.0.0.1:0";
    config.log_level = "error";
    config.web_root = dir;  // no dashboard
    config.agent_egress = g_agent_egress;
    auto a = vigil::api::ServerApp::start(config);
    if (!a) {
      fmt::print(stderr, "cannot start the server: {}\n", a.error().to_string());
      return false;
    }
    app = std::move(*a);
    auto make = [&](vigil::api::Role role, std::optional<std::string> venue, std::string& out) {
      auto t = vigil::api::make_token(role, std::move(venue), "bench", vigil::store::now_ms());
      if (!t || !app->store().put_token(t->record)) return false;
      out = t->secret;
      return true;
    };
    if (!make(vigil::api::Role::admin, std::nullopt, admin) ||
        !make(vigil::api::Role::sensor, kVenue, sensor) ||
        !make(vigil::api::Role::viewer, kVenue, viewer)) {
      fmt::print(stderr, "cannot make tokens\n");
      return false;
    }
    const std::string hall =
        read_text(std::filesystem::path(VIGIL_SOURCE_DIR) / "examples" / "concert-hall.geojson");
    auto r = request(admin, "PUT", std::string("/api/v1/venues/") + kVenue, hall);
    if (r.status != 201) {
      fmt::print(stderr, "PUT venue: {} {}\n", r.status, r.body);
      return false;
    }
    return true;
  }
  ~Server() {
    app.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::uint16_t port() const { return app->port(); }

  HttpResponse request(const std::string& token, const std::string& method,
                       const std::string& target, const std::string& body = {}) {
    Connection c(port());
    auto r = c.request(method, target, body, "Authorization: Bearer " + token + "\r\n");
    return r.value_or(HttpResponse{});
  }
};

// ---- telemetry generation ---------------------------------------------------------------------

// The venue's line counters except the probe's (lc-E4, into the floor from outside).
const std::vector<std::string> kBackgroundSensors = {
    "lc-D1", "lc-D2", "lc-D3", "lc-D4", "lc-BD1", "lc-BD2", "lc-BD3", "lc-E1", "lc-E2",
    "lc-E3", "lc-E5", "lc-E6", "lc-E7", "lc-E8", "lc-E9", "lc-E10", "lc-E11", "lc-S1", "lc-S2"};

// Hands out (sensor, seq, ts) so that, across every client, a sensor's seqs rise with its
// timestamps (as a real sensor's do) and never repeat.
class SeqSource {
 public:
  explicit SeqSource(std::vector<std::string> sensors)
      : sensors_(std::move(sensors)), next_(sensors_.size(), 1) {}

  // A body of `n` line-counter readings (in = out = 1: the zones stay level).
  std::string body(std::size_t n) {
    std::string s;
    s.reserve(n * 72 + 16);
    s += R"({"readings":[)";
    std::lock_guard lock(mu_);
    const std::string ts = vigil::ops::format_time(vigil::ops::SystemClock().now_ms());
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = cursor_++ % sensors_.size();
      if (i) s += ',';
      s += R"({"sensor":")";
      s += sensors_[k];
      s += R"(","seq":)";
      s += std::to_string(next_[k]++);
      s += R"(,"ts":")";
      s += ts;
      s += R"(","in":1,"out":1})";
    }
    s += "]}";
    return s;
  }

 private:
  std::vector<std::string> sensors_;
  std::mutex mu_;
  std::vector<std::int64_t> next_;
  std::size_t cursor_ = 0;
};

// One source for every phase: seqs never repeat within a run (a repeat would be a duplicate).
SeqSource& background_seqs() {
  static SeqSource s(kBackgroundSensors);
  return s;
}

std::string post_telemetry_request(const std::string& token, const std::string& body) {
  return fmt::format(
      "POST /api/v1/venues/{}/telemetry HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
      "{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
      kVenue, token, body.size(), body);
}

// ---- phase: parts ------------------------------------------------------------------------------

struct Row {
  std::string phase;
  std::string figure;
  std::string note;
};
std::vector<Row> g_table;

template <class F>
double us_per_call(F&& f, double min_seconds) {
  std::size_t n = 0;
  const auto start = Clock::now();
  do {
    f();
    ++n;
  } while (seconds_since(start) < min_seconds);
  return seconds_since(start) * 1e6 / static_cast<double>(n);
}

void phase_parts(double seconds) {
  fmt::print("\n== parts: one 100-reading batch, single thread, no HTTP\n");
  const std::string hall =
      read_text(std::filesystem::path(VIGIL_SOURCE_DIR) / "examples" / "concert-hall.geojson");
  auto loaded = vigil::venue::load_venue(hall);
  if (!loaded.venue) {
    fmt::print("cannot load the venue\n");
    return;
  }
  vigil::ops::SystemClock clock;
  vigil::ops::Monitor monitor(*loaded.venue, clock);
  SeqSource seqs(kBackgroundSensors);
  const double per = std::max(0.5, seconds / 4);

  std::string body = seqs.body(100);
  std::vector<vigil::ops::Reading> readings;
  const double parse_us = us_per_call(
      [&] {
        auto j = json::parse(body);
        auto r = vigil::ops::parse_telemetry(j);
        readings = std::move(*r);
      },
      per);
  // What the server's ingest takes first (simdjson); the path above is its fallback for bodies
  // with problems.
  const double fast_parse_us = us_per_call(
      [&] {
        auto r = vigil::ops::parse_telemetry_fast(body);
        if (r) readings = std::move(*r);
      },
      per);
  const double validate_us = us_per_call([&] { (void)monitor.validate(readings); }, per);
  // A quiet venue: 10 batches in the reorder buffer.
  for (int i = 0; i < 10; ++i) {
    auto j = json::parse(seqs.body(100));
    monitor.apply(*vigil::ops::parse_telemetry(j));
  }
  const double state_quiet_us =
      us_per_call([&] { (void)vigil::ops::to_json(monitor.state()).dump(); }, per);
  const double eval_quiet_us = us_per_call([&] { (void)monitor.evaluate(); }, per);
  // Apply fresh batches (new seqs) as the server does after each commit.
  std::vector<std::vector<vigil::ops::Reading>> fresh;
  for (int i = 0; i < 2000; ++i) {
    auto j = json::parse(seqs.body(100));
    fresh.push_back(std::move(*vigil::ops::parse_telemetry(j)));
  }
  // One pass (a second would only repeat seqs).
  const auto apply_start = Clock::now();
  for (const auto& batch : fresh) monitor.apply(batch);
  const double apply_us = seconds_since(apply_start) * 1e6 / static_cast<double>(fresh.size());
  const std::size_t buffered = fresh.size() * 100;
  const double state_us =
      us_per_call([&] { (void)vigil::ops::to_json(monitor.state()).dump(); }, per);
  const double eval_us = us_per_call([&] { (void)monitor.evaluate(); }, per);
  fmt::print("  JSON parse + parse_telemetry  {:8.1f} µs/batch  {:6.2f} µs/reading\n", parse_us,
             parse_us / 100);
  fmt::print("  parse_telemetry_fast          {:8.1f} µs/batch  {:6.2f} µs/reading\n",
             fast_parse_us, fast_parse_us / 100);
  fmt::print("  validate                      {:8.1f} µs/batch  {:6.2f} µs/reading\n",
             validate_us, validate_us / 100);
  fmt::print("  estimator apply               {:8.1f} µs/batch  {:6.2f} µs/reading\n", apply_us,
             apply_us / 100);
  fmt::print("  state snapshot + JSON         {:8.1f} µs, evaluate {:8.1f} µs (1,000 readings in "
             "the 10 s reorder buffer)\n",
             state_quiet_us, eval_quiet_us);
  fmt::print("  state snapshot + JSON         {:8.1f} µs, evaluate {:8.1f} µs (~{} readings in the "
             "10 s reorder buffer)\n",
             state_us, eval_us, buffered);
  g_table.push_back({"parts: parse", fmt::format("{:.2f} µs/reading", parse_us / 100),
                     "nlohmann::json + parse_telemetry (bodies with problems)"});
  g_table.push_back({"parts: fast parse", fmt::format("{:.2f} µs/reading", fast_parse_us / 100),
                     "simdjson: what ingest takes"});
  g_table.push_back({"parts: validate", fmt::format("{:.2f} µs/reading", validate_us / 100), ""});
  g_table.push_back({"parts: apply", fmt::format("{:.2f} µs/reading", apply_us / 100),
                     "estimator, on the store's writer thread"});
  g_table.push_back({"parts: state (quiet)", fmt::format("{:.0f} µs", state_quiet_us),
                     fmt::format("snapshot + dump; evaluate {:.0f} µs", eval_quiet_us)});
  g_table.push_back({"parts: state (busy)", fmt::format("{:.0f} µs", state_us),
                     fmt::format("snapshot + dump, {} readings buffered; evaluate {:.0f} µs",
                                 buffered, eval_us)});

  // The store alone: durable appends, 64 batches of 100 in flight.
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("vigil-bench-api-store-{}", ::getpid());
  std::filesystem::remove_all(dir);
  {
    auto st = vigil::store::open_sqlite_store(dir);
    if (!st) {
      fmt::print("cannot open a store: {}\n", st.error().to_string());
      return;
    }
    auto& store = **st;
    vigil::store::VenueRecord rec{kVenue, hall, vigil::store::now_ms()};
    (void)store.put_venue(rec);

    // What every request pays to know its principal: a known token through the server's cache
    // (SHA-256, the tokens' generation, a map lookup), and the generation read alone.
    auto token = vigil::api::make_token(vigil::api::Role::viewer, std::string(kVenue), "bench",
                                        vigil::store::now_ms());
    if (token && store.put_token(token->record)) {
      vigil::api::AuthCache auth;
      const double auth_us =
          us_per_call([&] { (void)auth.authenticate(store, token->secret); }, per);
      const double generation_us = us_per_call([&] { (void)store.tokens_generation(); }, per);
      fmt::print(
          "  token check (cached)          {:8.2f} µs/request, of which the tokens' "
          "generation {:.2f} µs\n",
          auth_us, generation_us);
      g_table.push_back(
          {"parts: token check", fmt::format("{:.2f} µs/request", auth_us),
           fmt::format("AuthCache, known token; tokens_generation {:.2f} µs", generation_us)});
    }
    std::mutex mu;
    std::condition_variable cv;
    int in_flight = 0;
    std::size_t done_rows = 0;
    std::int64_t seq = 1;
    const auto cpu0 = thread_cpu();
    const auto start = Clock::now();
    while (seconds_since(start) < std::max(1.0, seconds / 2)) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return in_flight < 64; });
        ++in_flight;
      }
      std::vector<vigil::store::ReadingRow> rows(100);
      const auto now = vigil::store::now_ms();
      for (std::size_t i = 0; i < rows.size(); ++i) {
        auto& r = rows[i];
        r.venue = kVenue;
        r.sensor = kBackgroundSensors[i % kBackgroundSensors.size()];
        r.seq = seq + static_cast<std::int64_t>(i / kBackgroundSensors.size());
        r.ts_ms = now;
        r.kind = vigil::store::ReadingKind::in_out;
        r.in = 1;
        r.out = 1;
      }
      seq += 100 / static_cast<std::int64_t>(kBackgroundSensors.size()) + 1;
      store.append_readings(kVenue, std::move(rows),
                            [&](vigil::Result<vigil::store::AppendResult> r) {
                              std::lock_guard lock(mu);
                              --in_flight;
                              if (r) done_rows += r->accepted;
                              cv.notify_all();
                            });
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight == 0; });
    }
    const double wall = seconds_since(start);
    const auto split = cpu_between(cpu0, thread_cpu(), wall);
    const double rate = static_cast<double>(done_rows) / wall;
    fmt::print("  store alone (64 batches in flight): {:.0f} readings/s, writer {:.1f} µs CPU "
               "per reading ({:.0f} % busy)\n",
               rate, split.writer_s * 1e6 / std::max<double>(1, static_cast<double>(done_rows)),
               100 * split.writer_s / wall);
    g_table.push_back({"parts: store alone", fmt::format("{:.0f} readings/s", rate),
                       fmt::format("writer {:.1f} µs CPU/reading",
                                   split.writer_s * 1e6 /
                                       std::max<double>(1, static_cast<double>(done_rows)))});
  }
  std::filesystem::remove_all(dir);
}

// ---- phase: ingest ------------------------------------------------------------------------------

struct IngestResult {
  double readings_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::size_t errors = 0;
  std::size_t busy = 0;
  CpuSplit cpu;
  std::size_t readings = 0;
};

// `clients` keep-alive connections posting 100-reading batches as fast as answered, for
// `seconds` (after `warmup_s`); or, with `rate` > 0, paced to `rate` readings/s overall.
IngestResult run_ingest(Server& server, SeqSource& seqs, int clients, double seconds,
                        double warmup_s, double rate, std::atomic<bool>* stop_flag = nullptr) {
  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{warmup_s <= 0};
  std::mutex mu;
  std::vector<double> latencies;
  std::size_t readings = 0, errors = 0, busy = 0;
  std::vector<std::thread> threads;
  const double per_client_rate = rate > 0 ? rate / clients : 0;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      register_client_thread();
      std::vector<double> lat;
      std::size_t mine = 0, err = 0, bsy = 0;
      auto conn = std::make_unique<Connection>(server.port(), false, std::chrono::seconds(30));
      auto next_send = Clock::now() + std::chrono::milliseconds(c * 3);
      while (!stop.load() && !(stop_flag && stop_flag->load())) {
        if (per_client_rate > 0) {
          std::this_thread::sleep_until(next_send);
          next_send += std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(100.0 / per_client_rate));
        }
        const std::string req = post_telemetry_request(server.sensor, seqs.body(100));
        const auto t0 = Clock::now();
        std::optional<HttpResponse> r;
        if (conn->send(req)) r = conn->read_response();
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!r) {
          ++err;
          conn = std::make_unique<Connection>(server.port(), false, std::chrono::seconds(30));
          continue;
        }
        if (r->status == 503) ++bsy;
        if (r->status != 200) {
          ++err;
          if (err < 3) fmt::print(stderr, "  POST telemetry: {} {}\n", r->status, r->body);
          continue;
        }
        if (measuring.load()) {
          lat.push_back(ms);
          mine += 100;
        }
        if (r->header("connection") == "close") {
          conn = std::make_unique<Connection>(server.port(), false, std::chrono::seconds(30));
        }
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), lat.begin(), lat.end());
      readings += mine;
      errors += err;
      busy += bsy;
    });
  }
  if (warmup_s > 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(warmup_s));
    measuring = true;
  }
  const auto cpu0 = thread_cpu();
  const auto start = Clock::now();
  if (stop_flag) {
    while (!stop_flag->load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } else {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  }
  stop = true;
  const double wall = seconds_since(start);
  const auto cpu1 = thread_cpu();
  for (auto& t : threads) t.join();
  IngestResult res;
  res.readings = readings;
  res.readings_per_s = static_cast<double>(readings) / wall;
  res.p50_ms = percentile(latencies, 50);
  res.p99_ms = percentile(latencies, 99);
  res.errors = errors;
  res.busy = busy;
  res.cpu = cpu_between(cpu0, cpu1, wall);
  return res;
}

void print_cpu(const CpuSplit& c, std::size_t readings) {
  const double n = std::max<double>(1, static_cast<double>(readings));
  fmt::print("  CPU over {:.1f} s (2 cores = {:.1f} CPU-s): store writer {:.2f} s ({:.1f} µs/reading), "
             "applier {:.2f} s ({:.2f} µs/reading), server I/O + ticker {:.2f} s ({:.1f} µs/reading), "
             "bench clients {:.2f} s ({:.1f} µs/reading)\n",
             c.wall_s, 2 * c.wall_s, c.writer_s, c.writer_s * 1e6 / n, c.applier_s,
             c.applier_s * 1e6 / n, c.server_s, c.server_s * 1e6 / n, c.clients_s,
             c.clients_s * 1e6 / n);
  if (c.wall_s > 0) {
    const double run = 100 * c.writer_s / c.wall_s;
    const double runq = 100 * c.writer_runq_s / c.wall_s;
    fmt::print("  store writer: {:.0f} % on a CPU, {:.0f} % runnable waiting for one, {:.0f} % "
               "blocked (I/O, fsync, or no work)\n",
               run, runq, std::max(0.0, 100 - run - runq));
  }
}

void phase_ingest(Server& server, double seconds) {
  fmt::print("\n== ingest: POST /telemetry, 100 readings per request, durable (200 after fsync)\n");
  SeqSource& seqs = background_seqs();
  for (int clients : {1, 64}) {
    const auto stats0 = server.app->store().stats();
    auto r = run_ingest(server, seqs, clients, seconds, 1.0, 0);
    const auto stats1 = server.app->store().stats();
    fmt::print("  {:2} client(s): {:8.0f} readings/s  request p50 {:.1f} ms  p99 {:.1f} ms  "
               "errors {} (503: {})\n",
               clients, r.readings_per_s, r.p50_ms, r.p99_ms, r.errors, r.busy);
    print_cpu(r.cpu, r.readings);
    // Group commits over the phase (warm-up included): BEGIN to durable COMMIT (the fsync).
    const double commits = static_cast<double>(stats1.commits - stats0.commits);
    if (commits > 0) {
      fmt::print("  group commits: {:.0f}, {:.1f} batches per commit, mean commit {:.2f} ms\n",
                 commits,
                 static_cast<double>(stats1.reading_batches - stats0.reading_batches) / commits,
                 static_cast<double>(stats1.commit_time_us - stats0.commit_time_us) / 1e3 /
                     commits);
    }
    g_table.push_back({fmt::format("ingest, {} client(s)", clients),
                       fmt::format("{:.0f} readings/s", r.readings_per_s),
                       fmt::format("p50 {:.1f} ms, p99 {:.1f} ms; writer {:.1f} µs/reading, "
                                   "server threads {:.1f} µs/reading",
                                   r.p50_ms, r.p99_ms,
                                   r.cpu.writer_s * 1e6 / std::max<double>(1, static_cast<double>(r.readings)),
                                   r.cpu.server_s * 1e6 / std::max<double>(1, static_cast<double>(r.readings)))});
    // Let the reorder buffer drain before the next phase.
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

// ---- SSE reader ---------------------------------------------------------------------------------

struct Frame {
  Clock::time_point at;
  std::string event;
  std::string data;
};

// Reads an event stream on its own thread; frames are queued with their arrival time.
class StreamReader {
 public:
  // `keep`: queue the frames for wait_for(); otherwise only count them (the soak).
  StreamReader(std::uint16_t port, const std::string& token, const std::string& venue,
               bool keep = true)
      : conn_(port, false, std::chrono::seconds(60)), keep_(keep) {
    ok_ = conn_.send(fmt::format("GET /api/v1/stream?venue={} HTTP/1.1\r\nHost: localhost\r\n"
                                 "Authorization: Bearer {}\r\nAccept: text/event-stream\r\n\r\n",
                                 venue, token));
    if (ok_) {
      auto head = conn_.read_response();
      ok_ = head && head->status == 200;
    }
    if (ok_) thread_ = std::thread([this] { run(); });
  }
  ~StreamReader() {
    stop_ = true;
    ::shutdown(conn_.fd(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return ok_; }

  // The first frame after `after` whose event is `event` and whose data contains every needle.
  std::optional<Frame> wait_for(const std::string& event, const std::vector<std::string>& needles,
                                Clock::time_point after, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    const auto deadline = Clock::now() + timeout;
    while (true) {
      while (!frames_.empty()) {
        Frame f = std::move(frames_.front());
        frames_.pop_front();
        if (f.at < after || f.event != event) continue;
        if (std::all_of(needles.begin(), needles.end(),
                        [&](const std::string& n) { return f.data.find(n) != std::string::npos; })) {
          return f;
        }
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && frames_.empty()) {
        return std::nullopt;
      }
    }
  }
  std::size_t frames_seen() const { return seen_.load(); }
  std::size_t bytes_seen() const { return bytes_.load(); }
  bool ended() const { return ended_.load(); }

 private:
  void run() {
    register_client_thread();
    std::string& buf = conn_.buffer();
    while (!stop_) {
      std::size_t end;
      while ((end = buf.find("\n\n")) != std::string::npos) {
        const std::string frame = buf.substr(0, end);
        buf.erase(0, end + 2);
        bytes_ += frame.size() + 2;
        Frame f;
        f.at = Clock::now();
        std::istringstream lines(frame);
        std::string line;
        while (std::getline(lines, line)) {
          if (line.rfind("event: ", 0) == 0) f.event = line.substr(7);
          else if (line.rfind("data: ", 0) == 0) f.data += line.substr(6);
        }
        if (f.event.empty()) continue;  // keepalive comment
        ++seen_;
        if (!keep_) continue;
        std::lock_guard lock(mu_);
        frames_.push_back(std::move(f));
        if (frames_.size() > 1000) frames_.pop_front();
        cv_.notify_all();
      }
      if (!conn_.fill()) break;
    }
    ended_ = true;
  }

  Connection conn_;
  bool keep_ = true;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> ended_{false};
  std::atomic<std::size_t> seen_{0};
  std::atomic<std::size_t> bytes_{0};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Frame> frames_;
};

// ---- phase: alert -------------------------------------------------------------------------------

void phase_alert(Server& server, int probes) {
  fmt::print("\n== alert: ingest-to-SSE latency, probe readings push the floor over capacity "
             "and back, 10,000 readings/s background\n");
  // Only the capacity rule matters here: no rising/density/implausible alerts from the probes'
  // jumps, and an alert resolves as soon as its condition clears.
  auto rules = server.request(
      server.admin, "PUT", std::string("/api/v1/venues/") + kVenue + "/rules",
      R"({"thresholds":{"rising":{"enabled":false},"density":{"enabled":false},)"
      R"("sensors":{"implausible":false},"counters_disagree":{"enabled":false},"clear_hold_s":0}})");
  if (rules.status != 200) {
    fmt::print("  PUT rules: {} {}\n", rules.status, rules.body);
    return;
  }
  StreamReader stream(server.port(), server.viewer, kVenue);
  if (!stream.ok()) {
    fmt::print("  cannot open the event stream\n");
    return;
  }
  SeqSource& seqs = background_seqs();
  std::atomic<bool> stop_bg{false};
  IngestResult bg;
  std::thread background([&] { bg = run_ingest(server, seqs, 4, 0, 0, 10'000, &stop_bg); });
  std::this_thread::sleep_for(std::chrono::seconds(2));

  Connection probe(server.port(), false, std::chrono::seconds(30));
  std::int64_t seq = 1;
  std::vector<double> open_ms, resolve_ms, post_ms;
  int missed = 0;
  for (int i = 0; i < probes && missed < 5; ++i) {
    for (const bool up : {true, false}) {
      const std::string body = fmt::format(
          R"({{"readings":[{{"sensor":"lc-E4","seq":{},"ts":"{}","in":{},"out":{}}}]}})", seq++,
          vigil::ops::format_time(vigil::ops::SystemClock().now_ms()), up ? 5000 : 0,
          up ? 0 : 5000);
      const auto t0 = Clock::now();
      auto r = probe.request("POST", std::string("/api/v1/venues/") + kVenue + "/telemetry", body,
                             "Authorization: Bearer " + server.sensor + "\r\n");
      const auto t_post = Clock::now();
      if (!r || r->status != 200) {
        fmt::print("  probe POST failed: {}\n", r ? r->body : "no answer");
        ++missed;
        continue;
      }
      post_ms.push_back(std::chrono::duration<double, std::milli>(t_post - t0).count());
      auto f = stream.wait_for(
          "alert",
          {R"("rule":"capacity")", R"("zone":"floor")",
           up ? R"("event":"opened")" : R"("event":"resolved")"},
          t0, std::chrono::seconds(5));
      if (!f) {
        fmt::print("  probe {} ({}): no alert frame within 5 s\n", i, up ? "over" : "back");
        ++missed;
        continue;
      }
      const double ms = std::chrono::duration<double, std::milli>(f->at - t0).count();
      (up ? open_ms : resolve_ms).push_back(ms);
      // Not aligned with the ticker or the 20 ms evaluation spacing.
      std::this_thread::sleep_for(std::chrono::milliseconds(60 + (i * 37) % 90));
    }
  }
  stop_bg = true;
  background.join();
  std::vector<double> all = open_ms;
  all.insert(all.end(), resolve_ms.begin(), resolve_ms.end());
  fmt::print("  background: {:.0f} readings/s (p50 {:.1f} ms, p99 {:.1f} ms, errors {})\n",
             bg.readings_per_s, bg.p50_ms, bg.p99_ms, bg.errors);
  fmt::print("  probe POST answered (durable):   p50 {:.1f} ms  p99 {:.1f} ms\n",
             percentile(post_ms, 50), percentile(post_ms, 99));
  fmt::print("  alert opened on the stream:      p50 {:.1f} ms  p99 {:.1f} ms  (n={})\n",
             percentile(open_ms, 50), percentile(open_ms, 99), open_ms.size());
  fmt::print("  alert resolved on the stream:    p50 {:.1f} ms  p99 {:.1f} ms  (n={})\n",
             percentile(resolve_ms, 50), percentile(resolve_ms, 99), resolve_ms.size());
  fmt::print("  all alert frames:                p50 {:.1f} ms  p99 {:.1f} ms  max {:.1f} ms; "
             "missed {}\n",
             percentile(all, 50), percentile(all, 99), percentile(all, 100), missed);
  fmt::print("  stream: {} frames, {:.1f} MB received\n", stream.frames_seen(),
             static_cast<double>(stream.bytes_seen()) / 1e6);
  g_table.push_back({"alert latency (ingest → SSE)",
                     fmt::format("p50 {:.1f} ms, p99 {:.1f} ms", percentile(all, 50),
                                 percentile(all, 99)),
                     fmt::format("n={}, missed {}, background {:.0f} readings/s; probe POST p50 "
                                 "{:.1f} ms",
                                 all.size(), missed, bg.readings_per_s, percentile(post_ms, 50))});
  // Back to the default rules for later phases.
  (void)server.request(server.admin, "PUT", std::string("/api/v1/venues/") + kVenue + "/rules",
                       R"({"thresholds":{}})");
}

// ---- phase: state -------------------------------------------------------------------------------

void phase_state(Server& server, double seconds) {
  fmt::print("\n== state: GET /api/v1/venues/{{id}}/state, keep-alive clients\n");
  const std::string req = fmt::format(
      "GET /api/v1/venues/{}/state HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
      "{}\r\n\r\n",
      kVenue, server.viewer);
  auto probe = server.request(server.viewer, "GET", std::string("/api/v1/venues/") + kVenue + "/state");
  fmt::print("  answer: {} bytes\n", probe.body.size());
  for (int clients : {1, 16}) {
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<double> latencies;
    std::size_t errors = 0;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&] {
        register_client_thread();
        std::vector<double> lat;
        std::size_t err = 0;
        Connection conn(server.port(), false, std::chrono::seconds(30));
        while (!stop.load()) {
          const auto t0 = Clock::now();
          std::optional<HttpResponse> r;
          if (conn.send(req)) r = conn.read_response();
          if (!r || r->status != 200) {
            ++err;
            break;
          }
          lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
        std::lock_guard lock(mu);
        latencies.insert(latencies.end(), lat.begin(), lat.end());
        errors += err;
      });
    }
    const auto cpu0 = thread_cpu();
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    const double wall = seconds_since(start);
    const auto cpu = cpu_between(cpu0, thread_cpu(), wall);
    for (auto& t : threads) t.join();
    const double rps = static_cast<double>(latencies.size()) / wall;
    fmt::print("  {:2} client(s): {:8.0f} requests/s  p50 {:.2f} ms  p99 {:.2f} ms  errors {}\n",
               clients, rps, percentile(latencies, 50), percentile(latencies, 99), errors);
    fmt::print("  CPU: server threads {:.1f} µs/request, store writer {:.2f} s, clients {:.2f} s "
               "of {:.1f} s\n",
               cpu.server_s * 1e6 / std::max<double>(1, static_cast<double>(latencies.size())),
               cpu.writer_s, cpu.clients_s, wall);
    g_table.push_back({fmt::format("GET state, {} client(s)", clients),
                       fmt::format("{:.0f} requests/s", rps),
                       fmt::format("p50 {:.2f} ms, p99 {:.2f} ms; server {:.0f} µs CPU/request",
                                   percentile(latencies, 50), percentile(latencies, 99),
                                   cpu.server_s * 1e6 /
                                       std::max<double>(1, static_cast<double>(latencies.size())))});
  }
}

// ---- soak ---------------------------------------------------------------------------------------

int run_soak(Server& server, double seconds, double rate, double max_growth_mib) {
  fmt::print("soak: {:.0f} readings/s for {:.0f} s, a stream client and a state poller; RSS "
             "every 30 s (server and clients: one process)\n",
             rate, seconds);
  StreamReader stream(server.port(), server.viewer, kVenue, /*keep=*/false);
  SeqSource& seqs = background_seqs();
  std::atomic<bool> stop{false};
  IngestResult ingest;
  const int clients = std::max(1, static_cast<int>(rate / 2500));
  std::thread load([&] { ingest = run_ingest(server, seqs, clients, 0, 0, rate, &stop); });
  std::atomic<std::size_t> polls{0}, poll_errors{0};
  std::thread poller([&] {
    register_client_thread();
    while (!stop.load()) {
      auto r = server.request(server.viewer, "GET", std::string("/api/v1/venues/") + kVenue + "/state");
      (r.status == 200 ? polls : poll_errors)++;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });
  const auto start = Clock::now();
  long rss_warm = 0;
  long rss_first = rss_kib();
  long rss_max = rss_first;
  // "heap in use": bytes malloc has handed out and not got back (glibc mallinfo2): grows with a
  // leak, not with fragmentation or returned-but-kept memory.
  fmt::print("  {:>6}  {:>10}  {:>14}  {:>12}  {:>10}\n", "t (s)", "RSS (MiB)",
             "heap used (MiB)", "DB+WAL (MiB)", "frames");
  auto db_mib = [&] {
    double total = 0;
    for (const char* f : {"vigil.db", "vigil.db-wal"}) {
      std::error_code ec;
      const auto n = std::filesystem::file_size(server.dir / f, ec);
      if (!ec) total += static_cast<double>(n);
    }
    return total / 1048576.0;
  };
  auto print_line = [&](double t) {
    const long rss = rss_kib();
    rss_max = std::max(rss_max, rss);
    const double heap_mib = static_cast<double>(mallinfo2().uordblks) / 1048576.0;
    fmt::print("  {:6.0f}  {:10.1f}  {:14.1f}  {:12.1f}  {:10}\n", t,
               static_cast<double>(rss) / 1024.0, heap_mib, db_mib(), stream.frames_seen());
    std::fflush(stdout);
    return rss;
  };
  print_line(0);
  double next_print = 30;
  long rss_half = 0;  // at the first print in the second half of the run
  while (seconds_since(start) < seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const double t = seconds_since(start);
    if (t >= next_print) {
      const long rss = print_line(t);
      if (rss_warm == 0) rss_warm = rss;
      if (rss_half == 0 && t >= seconds / 2) rss_half = rss;
      next_print += 30;
    }
  }
  stop = true;
  load.join();
  poller.join();
  const long rss_end = print_line(seconds_since(start));
  if (rss_warm == 0) rss_warm = rss_first;
  if (rss_half == 0) rss_half = rss_warm;
  const double growth = static_cast<double>(rss_end - rss_warm) / 1024.0;
  // The judged figure: a leak grows all the time, while caches (SQLite's writer keeps up to
  // 64 MiB of pages) fill during the first minutes and then stay.
  const double growth_half = static_cast<double>(rss_end - rss_half) / 1024.0;
  fmt::print("  ingest: {:.0f} readings/s (p50 {:.1f} ms, p99 {:.1f} ms), errors {}; state polls "
             "{} (errors {}); stream {} (frames {})\n",
             ingest.readings_per_s, ingest.p50_ms, ingest.p99_ms, ingest.errors, polls.load(),
             poll_errors.load(), stream.ended() ? "ENDED" : "open", stream.frames_seen());
  fmt::print("  RSS: start {:.1f} MiB, after 30 s {:.1f} MiB, half-way {:.1f} MiB, end {:.1f} "
             "MiB, max {:.1f} MiB\n",
             static_cast<double>(rss_first) / 1024.0, static_cast<double>(rss_warm) / 1024.0,
             static_cast<double>(rss_half) / 1024.0, static_cast<double>(rss_end) / 1024.0,
             static_cast<double>(rss_max) / 1024.0);
  fmt::print("  growth: {:+.1f} MiB after the first 30 s, {:+.1f} MiB over the second half "
             "(limit {:.0f} MiB)\n",
             growth, growth_half, max_growth_mib);
  const bool ok = growth_half <= max_growth_mib && ingest.errors == 0 && poll_errors == 0 &&
                  !stream.ended();
  fmt::print("soak: {}\n", ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  int probes = 50;
  bool soak = false;
  double soak_seconds = 600;
  double soak_rate = 5000;
  double max_growth_mib = 32;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") seconds = std::atof(next());
    else if (a == "--probes") probes = std::atoi(next());
    else if (a == "--only") only = next();
    else if (a == "--soak") soak = true;
    else if (a == "--agent-egress") g_agent_egress = true;
    else if (a == "--soak-seconds") soak_seconds = std::atof(next());
    else if (a == "--soak-rate") soak_rate = std::atof(next());
    else if (a == "--max-growth-mib") max_growth_mib = std::atof(next());
    else {
      fmt::print(stderr,
                 "usage: bench_api [--seconds S] [--probes N] [--only parts|ingest|alert|state] "
                 "[--agent-egress]\n"
                 "       bench_api --soak [--soak-seconds S] [--soak-rate R] [--max-growth-mib M]\n");
      return 2;
    }
  }
  fmt::print("bench_api: {} cores, load average {}\n", std::thread::hardware_concurrency(),
             load_average());
  if (!soak && (only.empty() || only == "parts")) phase_parts(seconds);
  if (!soak && only == "parts") return 0;
  Server server;
  if (!server.start()) return 1;
  fmt::print("server: {} (io_threads 2, agent-based egress {}), data {}\n", server.app->url(),
             g_agent_egress ? "on" : "off", server.dir.string());
  if (soak) return run_soak(server, soak_seconds, soak_rate, max_growth_mib);

  // Something in the state before the state phase: a zone count and a few flows.
  {
    const std::string ts = vigil::ops::format_time(vigil::ops::SystemClock().now_ms());
    json readings = json::array();
    readings.push_back({{"sensor", "zc-floor"}, {"seq", 1}, {"ts", ts}, {"count", 1800}});
    readings.push_back({{"sensor", "zc-balcony"}, {"seq", 1}, {"ts", ts}, {"count", 400}});
    readings.push_back({{"sensor", "dn-pit"}, {"seq", 1}, {"ts", ts}, {"density", 1.2}});
    (void)server.request(server.sensor, "POST",
                         std::string("/api/v1/venues/") + kVenue + "/telemetry",
                         json{{"readings", readings}}.dump());
  }
  if (only.empty() || only == "state") phase_state(server, seconds);
  if (only.empty() || only == "ingest") phase_ingest(server, seconds);
  if (only.empty() || only == "alert") phase_alert(server, probes);

  fmt::print("\n{:<32} {:<28} {}\n", "phase", "figure", "notes");
  for (const Row& r : g_table) fmt::print("{:<32} {:<28} {}\n", r.phase, r.figure, r.note);
  fmt::print("(load average at the end: {})\n", load_average());
  return 0;
}
