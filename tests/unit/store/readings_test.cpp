// SPDX-License-Identifier: Apache-2.0
// Telemetry readings: idempotent by (venue, sensor, seq, ts), batches applied whole or not at all,
// group commit under concurrency, callbacks called exactly once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store/sqlite_db.hpp"
#include "store_test_util.hpp"

namespace vigil::store {
namespace {

using testing::count_reading;
using ::testing::HasSubstr;
using testing::open_or_die;
using testing::TempDir;

std::vector<ReadingRow> batch(const std::string& sensor, std::int64_t first_seq, int n) {
  std::vector<ReadingRow> rows;
  for (int i = 0; i < n; ++i) rows.push_back(count_reading(sensor, first_seq + i, 10 + i));
  return rows;
}

std::size_t stats_readings(const Store& store) {
  return static_cast<std::size_t>(store.stats().readings_accepted);
}

std::size_t stored(Store& store, const std::string& venue) {
  auto rows = store.readings_for_venue(venue, std::numeric_limits<TimeMs>::min());
  EXPECT_TRUE(rows) << rows.error().to_string();
  return rows ? rows->size() : 0;
}

// Counts callbacks and waits for an expected number of them.
class Latch {
 public:
  void arrive() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  bool wait_for(int n, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

// Holds the database's write lock from another connection, so that the store's writer blocks
// in BEGIN IMMEDIATE and work piles up in its queue: the next group is then known exactly.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::filesystem::path& db_file) {
    auto db = sqlite::Db::open(db_file, 1000, false);
    if (!db) throw std::runtime_error(db.error().to_string());
    db_ = std::move(*db);
    if (!db_->exec("BEGIN IMMEDIATE")) throw std::runtime_error("cannot lock");
  }
  void release() { (void)db_->exec("ROLLBACK"); }

 private:
  std::unique_ptr<sqlite::Db> db_;
};

void wait_until_taken(Store& store) {
  for (int i = 0; i < 5000 && store.stats().queued_readings > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(Readings, ARepeatedReadingIsCountedOnce) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  auto first = store->append_readings_sync("hall", batch("L1", 1, 5));
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->accepted, 5U);
  EXPECT_EQ(first->duplicates, 0U);
  ASSERT_EQ(first->new_rows.size(), 5U);
  EXPECT_EQ(first->new_rows[0].venue, "hall");
  EXPECT_GT(first->new_rows[0].received_ms, 0);

  // Overlapping batch: seq 4, 5 again, 6, 7 new; and seq 6 twice within the batch.
  auto rows = batch("L1", 4, 4);
  rows.push_back(count_reading("L1", 6, 99));
  auto second = store->append_readings_sync("hall", rows);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(second->accepted, 2U);
  EXPECT_EQ(second->duplicates, 3U);
  ASSERT_EQ(second->new_rows.size(), 2U);
  EXPECT_EQ(second->new_rows[0].seq, 6);
  EXPECT_EQ(second->new_rows[0].count, 12);  // the first of the two seq 6 wins
  EXPECT_EQ(second->new_rows[1].seq, 7);

  // The same (sensor, seq) at another venue is another reading.
  auto other = store->append_readings_sync("arena", batch("L1", 1, 2));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->accepted, 2U);

  EXPECT_EQ(stored(*store, "hall"), 7U);
  EXPECT_EQ(stored(*store, "arena"), 2U);
}

// A sensor that reboots starts its seq again: the restarted seqs carry new timestamps and are
// new readings; resending them (same seq, same ts) is still a duplicate.
TEST(Readings, ARebootedSensorsRestartedSeqsAreNewReadings) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  ASSERT_TRUE(store->append_readings_sync("hall", batch("Z1", 1, 5)));
  std::vector<ReadingRow> after_reboot;
  for (int i = 0; i < 3; ++i) {
    after_reboot.push_back(count_reading("Z1", 1 + i, 40 + i, 1'700'000'600'000));
  }
  auto r = store->append_readings_sync("hall", after_reboot);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->accepted, 3U);
  EXPECT_EQ(r->duplicates, 0U);
  auto again = store->append_readings_sync("hall", after_reboot);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->accepted, 0U);
  EXPECT_EQ(again->duplicates, 3U);
  EXPECT_EQ(stored(*store, "hall"), 8U);
}

TEST(Readings, EachGroupTransactionIsReportedWithItsDuration) {
  TempDir tmp;
  std::mutex mu;
  std::vector<CommitInfo> seen;
  StoreOptions options;
  options.on_commit = [&](const CommitInfo& c) {
    std::lock_guard lock(mu);
    seen.push_back(c);
  };
  auto store = open_sqlite_store(tmp.data(), options);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE((*store)->append_readings_sync("hall", batch("Z1", 1, 7)));
  std::lock_guard lock(mu);
  ASSERT_FALSE(seen.empty());
  const CommitInfo& last = seen.back();
  EXPECT_TRUE(last.committed);
  EXPECT_EQ(last.jobs, 1U);
  EXPECT_EQ(last.readings, 7U);
  EXPECT_GT(last.seconds, 0.0);
  EXPECT_LT(last.seconds, 60.0);
}

TEST(Readings, IdempotentAcrossReopen) {
  TempDir tmp;
  {
    auto store = open_or_die(tmp.data());
    ASSERT_TRUE(store->append_readings_sync("hall", batch("Z1", 100, 50)));
  }
  auto store = open_or_die(tmp.data());
  auto again = store->append_readings_sync("hall", batch("Z1", 120, 50));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->accepted, 20U);
  EXPECT_EQ(again->duplicates, 30U);
  EXPECT_EQ(stored(*store, "hall"), 70U);
}

TEST(Readings, AllKindsRoundTripInTimeOrder) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  ReadingRow line;
  line.sensor = "L1";
  line.seq = 1041;
  line.ts_ms = 3000;
  line.kind = ReadingKind::in_out;
  line.in = 3;
  line.out = 1;
  line.received_ms = 3100;
  ReadingRow zone = count_reading("Z1", 77, 512, 0);
  zone.ts_ms = 1000;
  zone.received_ms = 1200;
  ReadingRow cam;
  cam.sensor = "C2";
  cam.seq = 12;
  cam.ts_ms = 2000;
  cam.kind = ReadingKind::density;
  cam.density_p_m2 = 2.1;
  cam.received_ms = 2500;
  ASSERT_TRUE(store->append_readings_sync("hall", {line, zone, cam}));

  auto all = store->readings_for_venue("hall", 0);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3U);
  zone.venue = cam.venue = line.venue = "hall";
  EXPECT_EQ((*all)[0], zone);
  EXPECT_EQ((*all)[1], cam);
  EXPECT_EQ((*all)[2], line);
  auto recent = store->readings_for_venue("hall", 2000);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 2U);
  EXPECT_EQ((*recent)[0].sensor, "C2");
}

// A batch is written with multi-row statements (chunks of 64, 32, ..., 1 rows); every size,
// across the chunk boundaries, stores every row once and reports them in input order.
TEST(Readings, EveryBatchSizeAcrossTheChunkBoundariesStoresEveryRow) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  std::size_t total = 0;
  for (int n : {1, 2, 3, 7, 63, 64, 65, 100, 127, 128, 129, 250}) {
    const std::string sensor = "N" + std::to_string(n);
    auto r = store->append_readings_sync("hall", batch(sensor, 0, n));
    ASSERT_TRUE(r) << n << ": " << r.error().to_string();
    EXPECT_EQ(r->accepted, static_cast<std::size_t>(n));
    EXPECT_EQ(r->duplicates, 0U);
    ASSERT_EQ(r->new_rows.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const ReadingRow& row = r->new_rows[static_cast<std::size_t>(i)];
      EXPECT_EQ(row.sensor, sensor);
      EXPECT_EQ(row.seq, i);
      EXPECT_EQ(row.count, 10 + i);
      EXPECT_EQ(row.venue, "hall");
      EXPECT_GT(row.received_ms, 0);
    }
    total += static_cast<std::size_t>(n);
    EXPECT_EQ(stats_readings(*store), total);
  }
  EXPECT_EQ(stored(*store, "hall"), total);
  EXPECT_EQ(store->stats().failed_jobs, 0U);
}

// One duplicate deep in a large batch: the multi-row pass stores fewer rows than sent, the
// batch is rolled back to its savepoint and written row by row, and only the duplicate is
// left out (input order kept). The group's other batches are not disturbed.
TEST(Readings, ADuplicateInALargeBatchLeavesOutOnlyThatRow) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  ASSERT_TRUE(store->append_readings_sync("hall", batch("L1", 1000, 1)));  // seq 1000
  auto rows = batch("L1", 900, 150);  // seq 900..1049: 1000 is index 100
  auto r = store->append_readings_sync("hall", rows);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->accepted, 149U);
  EXPECT_EQ(r->duplicates, 1U);
  ASSERT_EQ(r->new_rows.size(), 149U);
  for (std::size_t i = 0; i < r->new_rows.size(); ++i) {
    const std::int64_t want = 900 + static_cast<std::int64_t>(i < 100 ? i : i + 1);
    EXPECT_EQ(r->new_rows[i].seq, want) << i;
  }
  EXPECT_EQ(stored(*store, "hall"), 150U);
  // The same batch again: all duplicates, nothing stored, no error.
  auto again = store->append_readings_sync("hall", rows);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->accepted, 0U);
  EXPECT_EQ(again->duplicates, 150U);
  EXPECT_TRUE(again->new_rows.empty());
  EXPECT_EQ(stored(*store, "hall"), 150U);
  EXPECT_EQ(store->stats().readings_duplicate, 151U);
}

// A bad row deep in a large batch is located (readings[i]) by the row-by-row pass, and nothing
// of the batch is stored, while the batches sharing its group commit.
TEST(Readings, ABadRowInALargeBatchIsLocatedAndTheBatchRejectedWhole) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  WriteLockHolder lock(tmp.db());
  Latch latch;
  std::mutex mu;
  std::map<int, Result<AppendResult>> results;
  auto submit = [&](int id, std::vector<ReadingRow> rows) {
    store->append_readings("hall", std::move(rows), [&, id](Result<AppendResult> r) {
      {
        std::lock_guard g(mu);
        results.emplace(id, std::move(r));
      }
      latch.arrive();
    });
  };
  submit(0, batch("A", 0, 10));
  wait_until_taken(*store);
  submit(1, batch("B", 0, 130));
  auto bad = batch("BAD", 0, 130);
  bad[97].seq = -1;
  submit(2, bad);
  submit(3, batch("C", 0, 130));
  lock.release();
  ASSERT_TRUE(latch.wait_for(4));
  std::lock_guard g(mu);
  ASSERT_FALSE(results.at(2));
  EXPECT_EQ(results.at(2).error().where, "readings[97]");
  EXPECT_THAT(results.at(2).error().message, HasSubstr("seq_non_negative"));
  for (int id : {0, 1, 3}) {
    ASSERT_TRUE(results.at(id)) << id << ": " << results.at(id).error().to_string();
  }
  EXPECT_EQ(stored(*store, "hall"), 10U + 130U + 130U);
}

TEST(Readings, ARowForAnotherVenueFailsTheBatch) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  auto rows = batch("L1", 1, 3);
  rows[1].venue = "arena";
  auto r = store->append_readings_sync("hall", rows);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().where, "readings[1].venue");
  EXPECT_EQ(stored(*store, "hall"), 0U);
}

TEST(Readings, ABadBatchIsRejectedWholeWhileItsGroupCommits) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  const auto commits_before = store->stats().commits;

  WriteLockHolder lock(tmp.db());
  Latch latch;
  std::mutex mu;
  std::vector<Result<AppendResult>> results;  // index: submission order
  std::vector<int> order;
  auto submit = [&](int id, std::vector<ReadingRow> rows) {
    store->append_readings("hall", std::move(rows), [&, id](Result<AppendResult> r) {
      {
        std::lock_guard g(mu);
        order.push_back(id);
        results.push_back(std::move(r));
      }
      latch.arrive();
    });
  };
  submit(0, batch("A", 0, 10));  // taken by the writer, which then waits for the lock
  wait_until_taken(*store);
  for (int i = 1; i <= 10; ++i) submit(i, batch("G" + std::to_string(i), 0, 10));
  auto nan_batch = batch("BAD", 0, 10);  // rows 0..4 would be new and valid
  nan_batch[5].kind = ReadingKind::density;
  nan_batch[5].density_p_m2 = std::nan("");
  submit(11, nan_batch);
  auto negative = batch("NEG", 0, 10);
  negative[7].count = -3;
  submit(12, negative);
  auto inf = batch("INF", 0, 10);
  inf[2].density_p_m2 = std::numeric_limits<double>::infinity();
  submit(13, inf);
  for (int i = 14; i <= 20; ++i) submit(i, batch("G" + std::to_string(i), 0, 10));
  lock.release();
  ASSERT_TRUE(latch.wait_for(21));

  EXPECT_EQ(store->stats().commits - commits_before, 2U);  // {A}, then everything else at once
  std::lock_guard g(mu);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const int id = order[k];
    const auto& r = results[k];
    if (id == 11) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().where, "readings[5]");
      EXPECT_THAT(r.error().message, HasSubstr("density"));
    } else if (id == 12) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().where, "readings[7]");
      EXPECT_THAT(r.error().message, HasSubstr("count_non_negative"));
    } else if (id == 13) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().where, "readings[2]");
      EXPECT_THAT(r.error().message, HasSubstr("density_finite"));
    } else {
      ASSERT_TRUE(r) << id << ": " << r.error().to_string();
      EXPECT_EQ(r->accepted, 10U) << id;
    }
  }
  auto rows = store->readings_for_venue("hall", std::numeric_limits<TimeMs>::min());
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 18U * 10U);
  for (const auto& row : *rows) {
    EXPECT_TRUE(row.sensor != "BAD" && row.sensor != "NEG" && row.sensor != "INF") << row.sensor;
  }
  EXPECT_EQ(store->stats().failed_jobs, 3U);
}

TEST(Readings, ConcurrentWritersEveryCallbackOnceCountsExact) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  constexpr int kThreads = 16;
  constexpr int kBatches = 200;
  constexpr int kRows = 10;
  std::vector<std::atomic<int>> calls(kThreads * kBatches);
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<int> errors{0};
  Latch latch;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string sensor = "T" + std::to_string(t);
      for (int b = 0; b < kBatches; ++b) {
        // Every tenth batch repeats the previous one (a client retry).
        const int source = (b % 10 == 9) ? b - 1 : b;
        auto rows = batch(sensor, std::int64_t{source} * kRows, kRows);
        auto record = [&, slot = t * kBatches + b](const Result<AppendResult>& r) {
          calls[slot].fetch_add(1);
          if (r) {
            accepted += r->accepted;
            duplicates += r->duplicates;
          } else {
            ++errors;
          }
          latch.arrive();
        };
        if (t % 2 == 0) {
          store->append_readings("hall", std::move(rows),
                                 [record](Result<AppendResult> r) { record(r); });
        } else {
          record(store->append_readings_sync("hall", std::move(rows)));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(latch.wait_for(kThreads * kBatches));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no late second calls

  for (int i = 0; i < kThreads * kBatches; ++i) ASSERT_EQ(calls[i].load(), 1) << i;
  EXPECT_EQ(errors.load(), 0);
  const std::uint64_t distinct = kThreads * (kBatches - kBatches / 10) * kRows;
  EXPECT_EQ(accepted.load(), distinct);
  EXPECT_EQ(duplicates.load(), std::uint64_t{kThreads} * (kBatches / 10) * kRows);
  EXPECT_EQ(stored(*store, "hall"), distinct);
  const StoreStats s = store->stats();
  EXPECT_EQ(s.reading_batches, std::uint64_t{kThreads} * kBatches);
  EXPECT_EQ(s.readings_accepted, distinct);
  EXPECT_LT(s.commits, s.reading_batches);  // batches shared commits
}

TEST(Readings, CallbacksMayNotWriteSynchronously) {
  TempDir tmp;
  auto store = open_or_die(tmp.data());
  std::promise<std::pair<bool, std::string>> seen;
  auto fut = seen.get_future();
  store->append_readings("hall", batch("L1", 1, 1), [&](Result<AppendResult> r) {
    EXPECT_TRUE(r);
    auto nested = store->kv_put("k", "v");
    auto nested_readings = store->append_readings_sync("hall", batch("L1", 2, 1));
    seen.set_value({!nested && !nested_readings, nested ? "" : nested.error().message});
  });
  auto [refused, message] = fut.get();
  EXPECT_TRUE(refused);
  EXPECT_THAT(message, HasSubstr("writer thread"));
  // Asynchronous appends from a callback are fine.
  std::promise<std::size_t> chained;
  store->append_readings("hall", batch("L1", 10, 1), [&](Result<AppendResult>) {
    store->append_readings("hall", batch("L1", 11, 2),
                           [&](Result<AppendResult> r) { chained.set_value(r ? r->accepted : 0); });
  });
  EXPECT_EQ(chained.get_future().get(), 2U);
}

TEST(Readings, BackPressureRefusesAtOnceWhenTheQueueIsFull) {
  TempDir tmp;
  StoreOptions options;
  options.max_queued_readings = 15;
  auto store = open_or_die(tmp.data(), options);
  WriteLockHolder lock(tmp.db());
  Latch latch;
  std::atomic<int> ok{0};
  auto cb = [&](Result<AppendResult> r) {
    if (r) ++ok;
    latch.arrive();
  };
  store->append_readings("hall", batch("A", 0, 10), cb);
  wait_until_taken(*store);
  store->append_readings("hall", batch("B", 0, 10), cb);  // waits in the queue
  std::optional<Error> refused;
  store->append_readings("hall", batch("C", 0, 10), [&](Result<AppendResult> r) {
    if (!r) refused = r.error();
    latch.arrive();
  });
  ASSERT_TRUE(refused);  // called at once, on this thread
  EXPECT_THAT(refused->message, HasSubstr("busy"));
  lock.release();
  ASSERT_TRUE(latch.wait_for(3));
  EXPECT_EQ(ok.load(), 2);
}

TEST(Readings, PendingWritesCompleteWhenTheStoreCloses) {
  TempDir tmp;
  std::atomic<int> done{0};
  {
    auto store = open_or_die(tmp.data());
    for (int i = 0; i < 50; ++i) {
      store->append_readings("hall", batch("L" + std::to_string(i), 0, 10),
                             [&](Result<AppendResult> r) {
                               if (r) ++done;
                             });
    }
  }
  EXPECT_EQ(done.load(), 50);
  auto store = open_or_die(tmp.data());
  EXPECT_EQ(stored(*store, "hall"), 500U);
}

}  // namespace
}  // namespace vigil::store
