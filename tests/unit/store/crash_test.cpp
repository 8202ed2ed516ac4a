// SPDX-License-Identifier: Apache-2.0
// Crash durability at the store's layer: a child process appends readings (and audit entries)
// as fast as it can and reports every reading whose callback fired; it is killed with SIGKILL
// mid-stream. After reopening, every acknowledged reading is there exactly once and the audit
// chain still verifies. (SIGKILL loses the process, not the OS page cache: power loss is the
// fsync's job, which synchronous=FULL asks for; see docs/store.md.)
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "store_test_util.hpp"

namespace vigil::store {
namespace {

using testing::TempDir;

constexpr int kRowsPerBatch = 20;

[[noreturn]] void child(const std::filesystem::path& dir, int out_fd) {
  auto opened = open_sqlite_store(dir);
  if (!opened) _exit(3);
  Store& store = **opened;
  std::atomic<int> in_flight{0};
  for (std::int64_t b = 0;; ++b) {
    while (in_flight.load() >= 16) std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::vector<ReadingRow> rows;
    for (int i = 0; i < kRowsPerBatch; ++i) {
      rows.push_back(testing::count_reading("S" + std::to_string(b % 4), b * kRowsPerBatch + i));
    }
    ++in_flight;
    store.append_readings("hall", std::move(rows), [&in_flight, out_fd](Result<AppendResult> r) {
      if (r) {
        std::string lines;
        for (const auto& row : r->new_rows) {
          lines += row.sensor + " " + std::to_string(row.seq) + "\n";
        }
        // One write of < PIPE_BUF bytes: atomic, never torn by the kill.
        if (::write(out_fd, lines.data(), lines.size()) < 0) _exit(4);
      }
      --in_flight;
    });
    if (b % 25 == 0) {
      AuditEntry e;
      e.actor = "child";
      e.action = "batch";
      e.subject = std::to_string(b);
      if (!store.append_audit(e)) _exit(5);
    }
  }
}

TEST(CrashDurability, EveryAcknowledgedReadingSurvivesSigkill) {
  TempDir tmp;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    child(tmp.data(), fds[1]);
  }
  ::close(fds[1]);

  std::string received;
  std::size_t lines = 0;
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;  // EOF: the child is gone
    received.append(buf, static_cast<std::size_t>(n));
    for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n' ? 1 : 0;
    if (!killed && (lines >= 4000 || std::chrono::steady_clock::now() > deadline)) {
      ::kill(pid, SIGKILL);  // mid-stream: batches are queued and being committed
      killed = true;
    }
  }
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
  ASSERT_GE(lines, 4000U);

  std::set<std::pair<std::string, std::int64_t>> acknowledged;
  std::istringstream in(received);
  std::string sensor;
  std::int64_t seq = 0;
  while (in >> sensor >> seq) {
    EXPECT_TRUE(acknowledged.emplace(sensor, seq).second) << "acknowledged twice: " << seq;
  }
  ASSERT_EQ(acknowledged.size(), lines);

  auto store = testing::open_or_die(tmp.data());
  auto rows = store->readings_for_venue("hall", std::numeric_limits<TimeMs>::min());
  ASSERT_TRUE(rows) << rows.error().to_string();
  std::set<std::pair<std::string, std::int64_t>> present;
  for (const auto& r : *rows) {
    EXPECT_TRUE(present.emplace(r.sensor, r.seq).second) << "stored twice: " << r.seq;
  }
  std::size_t missing = 0;
  for (const auto& id : acknowledged) missing += present.count(id) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0U) << "of " << acknowledged.size() << " acknowledged readings";
  EXPECT_GE(present.size(), acknowledged.size());
  // Whole batches only: what is stored is a union of complete batches.
  std::map<std::int64_t, int> per_batch;
  for (const auto& [s, q] : present) ++per_batch[q / kRowsPerBatch];
  for (const auto& [b, n] : per_batch) EXPECT_EQ(n, kRowsPerBatch) << "batch " << b;

  auto v = store->verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_GT(v->entries, 0);
}

}  // namespace
}  // namespace vigil::store
