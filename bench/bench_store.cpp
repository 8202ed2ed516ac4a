// SPDX-License-Identifier: Apache-2.0
// Durable telemetry ingest into the SQLite store: batches of 100 readings, every batch
// acknowledged only after its group commit is on disk (WAL, synchronous=FULL).
//   bench_store [--seconds S] [--dir DIR] [--batch N] [--phase 1|2|3]
// Phases (fresh data directory each; every client thread has its own 8 sensors):
//   1 thread sync     one batch in flight (the latency floor: one fsync per batch); 8 sensors
//   1 thread async    one thread keeping 64 batches in flight; 8 sensors
//   64 threads sync   64 clients, each waiting for its batch (the server's shape); 512 sensors
// Prints readings/s, batches/s, commits/s, batches per commit, the commit latency (submit to
// callback) p50/p99, how the writer thread spent the phase (% running / % runnable but waiting
// for a CPU / % blocked: I/O or no work), and the CPU microseconds per reading of the writer (w)
// and of the whole process (p): on a shared machine these tell what a quiet one would do.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using vigil::Result;
using vigil::store::AppendResult;
using vigil::store::ReadingKind;
using vigil::store::ReadingRow;

struct Config {
  double seconds = 3.0;
  std::filesystem::path dir;
  int batch = 100;
  int phase = 0;  // 0: all
};

std::vector<ReadingRow> make_batch(int thread, std::int64_t first_seq, int n) {
  std::vector<ReadingRow> rows(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ReadingRow& r = rows[static_cast<std::size_t>(i)];
    r.sensor = "S" + std::to_string(thread) + "-" + std::to_string(i % 8);
    r.seq = first_seq + i;
    r.ts_ms = 1'700'000'000'000 + r.seq;
    r.kind = (i % 3 == 0) ? ReadingKind::in_out : ReadingKind::count;
    r.in = i % 5;
    r.out = i % 3;
    r.count = 100 + i;
  }
  return rows;
}

// The store's writer thread (named "vigil-store"): seconds on a CPU and seconds runnable but
// waiting for one (/proc/self/task/TID/schedstat). The rest of its time it is blocked: on I/O
// (write, fsync) or waiting for work.
struct WriterTimes {
  double run_s = 0;
  double runq_s = 0;
};
WriterTimes writer_times() {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name != "vigil-store") continue;
    std::ifstream schedstat(task.path() / "schedstat");
    double run_ns = 0;
    double wait_ns = 0;
    schedstat >> run_ns >> wait_ns;
    return {run_ns / 1e9, wait_ns / 1e9};
  }
  return {};
}

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

struct PhaseResult {
  double seconds = 0;
  std::uint64_t readings = 0;
  std::uint64_t batches = 0;
  std::uint64_t commits = 0;
  double writer_cpu_s = 0;
  double writer_runq_s = 0;
  double process_cpu_s = 0;
  std::vector<double> latency_ms;
};

void report(const char* name, PhaseResult& r) {
  const double rps = static_cast<double>(r.readings) / r.seconds;
  const double bps = static_cast<double>(r.batches) / r.seconds;
  const double cps = static_cast<double>(r.commits) / r.seconds;
  const double p50 = percentile(r.latency_ms, 0.50);
  const double p99 = percentile(r.latency_ms, 0.99);
  const double run_pct = 100.0 * r.writer_cpu_s / r.seconds;
  const double runq_pct = 100.0 * r.writer_runq_s / r.seconds;
  std::printf("%-17s %11.0f %9.0f %9.0f %9.1f %8.2f %8.2f %5.0f/%3.0f/%3.0f %8.2f %8.2f\n", name,
              rps, bps, cps,
              r.commits ? static_cast<double>(r.batches) / static_cast<double>(r.commits) : 0.0,
              p50, p99, run_pct, runq_pct, std::max(0.0, 100.0 - run_pct - runq_pct),
              r.readings ? 1e6 * r.writer_cpu_s / static_cast<double>(r.readings) : 0.0,
              r.readings ? 1e6 * r.process_cpu_s / static_cast<double>(r.readings) : 0.0);
  std::fflush(stdout);
}

std::unique_ptr<vigil::store::Store> open_store(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  auto s = vigil::store::open_sqlite_store(dir);
  if (!s) {
    std::fprintf(stderr, "bench_store: %s\n", s.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(*s);
}

// `threads` clients, each with up to `window` batches in flight, for cfg.seconds.
PhaseResult run_phase(const Config& cfg, const std::filesystem::path& dir, int threads,
                      int window) {
  auto store = open_store(dir);
  const auto stats0 = store->stats();
  const WriterTimes writer0 = writer_times();
  const double process0 = process_cpu_s();
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::vector<std::uint64_t> readings(static_cast<std::size_t>(threads), 0);
  std::vector<std::uint64_t> batches(static_cast<std::size_t>(threads), 0);
  std::atomic<int> failures{0};

  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const auto ti = static_cast<std::size_t>(t);
      std::mutex mu;
      std::condition_variable cv;
      int in_flight = 0;
      std::int64_t seq = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return in_flight < window; });
          ++in_flight;
        }
        const auto start = Clock::now();
        store->append_readings(
            "bench", make_batch(t, seq, cfg.batch), [&, start](Result<AppendResult> r) {
              const double ms =
                  std::chrono::duration<double, std::milli>(Clock::now() - start).count();
              std::lock_guard lock(mu);
              if (r) {
                latencies[ti].push_back(ms);
                readings[ti] += r->accepted;
                ++batches[ti];
              } else {
                ++failures;
              }
              --in_flight;
              cv.notify_all();
            });
        seq += cfg.batch;
      }
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight == 0; });
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  stop = true;
  for (auto& th : pool) th.join();
  PhaseResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (std::size_t t = 0; t < latencies.size(); ++t) {
    r.readings += readings[t];
    r.batches += batches[t];
    r.latency_ms.insert(r.latency_ms.end(), latencies[t].begin(), latencies[t].end());
  }
  r.commits = store->stats().commits - stats0.commits;
  const WriterTimes writer1 = writer_times();
  r.writer_cpu_s = writer1.run_s - writer0.run_s;
  r.writer_runq_s = writer1.runq_s - writer0.runq_s;
  r.process_cpu_s = process_cpu_s() - process0;
  if (failures.load() > 0)
    std::fprintf(stderr, "bench_store: %d batches failed\n", failures.load());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      cfg.seconds = std::atof(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      cfg.dir = argv[++i];
    } else if (a == "--batch" && i + 1 < argc) {
      cfg.batch = std::atoi(argv[++i]);
    } else if (a == "--phase" && i + 1 < argc) {
      cfg.phase = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: bench_store [--seconds S] [--dir DIR] [--batch N] [--phase 1|2|3]\n");
      return 2;
    }
  }
  const bool own_dir = cfg.dir.empty();
  if (own_dir) {
    std::string pattern = (std::filesystem::temp_directory_path() / "bench-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return 1;
    cfg.dir = pattern;
  }
  std::printf("durable ingest, batches of %d readings, %.1f s per phase, data in %s\n", cfg.batch,
              cfg.seconds, cfg.dir.c_str());
  std::printf("%-17s %11s %9s %9s %9s %8s %8s %15s %8s %8s\n", "phase", "readings/s", "batches/s",
              "commits/s", "batch/cmt", "p50 ms", "p99 ms", "writer %run/rq/blk", "w us/rdg",
              "p us/rdg");
  struct Phase {
    const char* name;
    int threads;
    int window;
  };
  int index = 0;
  for (const Phase& p : {Phase{"1 thread sync", 1, 1}, Phase{"1 thread async", 1, 64},
                         Phase{"64 threads sync", 64, 1}}) {
    if (cfg.phase != 0 && ++index != cfg.phase) continue;
    auto r = run_phase(cfg, cfg.dir / "data", p.threads, p.window);
    report(p.name, r);
  }
  if (own_dir) std::filesystem::remove_all(cfg.dir);
  return 0;
}
