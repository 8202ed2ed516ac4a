// SPDX-License-Identifier: Apache-2.0
// Opening a data directory: creation on first use, migrations, refusal of newer or foreign files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <fstream>

#include "store/sqlite_db.hpp"
#include "store/sqlite_schema.hpp"
#include "store_test_util.hpp"

namespace vigil::store {
namespace {

using ::testing::HasSubstr;
using testing::open_or_die;
using testing::TempDir;

std::int64_t latest_version() { return sqlite::migrations().back().version; }

std::unique_ptr<sqlite::Db> raw_db(const std::filesystem::path& file) {
  auto db = sqlite::Db::open(file, 1000, /*read_only=*/false);
  if (!db) throw std::runtime_error(db.error().to_string());
  return std::move(*db);
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777U;
}

TEST(StoreOpen, CreatesTheDataDirectoryOnFirstUse) {
  TempDir tmp;
  const auto dir = tmp.path() / "nested" / "data";
  auto store = open_or_die(dir);
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ(mode_of(dir), 0700U);
  EXPECT_TRUE(std::filesystem::exists(dir / "vigil.db"));
  EXPECT_TRUE(std::filesystem::exists(dir / "audit-ed25519.pem"));
  EXPECT_EQ(mode_of(dir / "audit-ed25519.pem"), 0600U);
  EXPECT_EQ(store->audit_public_key().size(), 64U);
}

TEST(StoreOpen, FreshStoreIsAtTheLatestSchemaInWalMode) {
  TempDir tmp;
  { auto store = open_or_die(tmp.data()); }
  auto db = raw_db(tmp.db());
  auto version = sqlite::schema_version(*db);
  ASSERT_TRUE(version) << version.error().to_string();
  EXPECT_EQ(*version, latest_version());
  auto q = db->query("PRAGMA journal_mode");
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->step());
  EXPECT_EQ(q->text(0), "wal");
  auto tables = db->scalar(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('tokens', 'venues',"
      " 'gatherings', 'readings', 'alerts', 'kv', 'audit', 'audit_checkpoints')");
  ASSERT_TRUE(tables);
  EXPECT_EQ(*tables, 8);
}

TEST(StoreOpen, ReopeningKeepsDataKeyAndVersion) {
  TempDir tmp;
  std::string key;
  {
    auto store = open_or_die(tmp.data());
    key = store->audit_public_key();
    ASSERT_TRUE(store->kv_put("posture/hall", "normal"));
  }
  auto store = open_or_die(tmp.data());
  EXPECT_EQ(store->audit_public_key(), key);
  auto v = store->kv_get("posture/hall");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value_or(""), "normal");
  auto db = raw_db(tmp.db());
  auto rows = db->scalar("SELECT count(*) FROM schema_version");
  ASSERT_TRUE(rows);
  EXPECT_EQ(*rows, latest_version());  // each migration recorded once
}

TEST(StoreOpen, RefusesAStoreWrittenByANewerVersion) {
  TempDir tmp;
  { auto store = open_or_die(tmp.data()); }
  {
    auto db = raw_db(tmp.db());
    ASSERT_TRUE(db->exec("INSERT INTO schema_version VALUES (999, 'from the future', 'x')"));
  }
  auto store = open_sqlite_store(tmp.data());
  ASSERT_FALSE(store);
  EXPECT_THAT(store.error().message, HasSubstr("newer version of Vigil"));
  EXPECT_THAT(store.error().message, HasSubstr("999"));
}

TEST(StoreOpen, RefusesAForeignDatabase) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.data());
  {
    auto db = raw_db(tmp.db());
    ASSERT_TRUE(db->exec("CREATE TABLE photos (id INTEGER PRIMARY KEY)"));
  }
  auto store = open_sqlite_store(tmp.data());
  ASSERT_FALSE(store);
  EXPECT_THAT(store.error().message, HasSubstr("not a Vigil store"));
}

TEST(StoreOpen, RefusesAFileWhereTheDirectoryShouldBe) {
  TempDir tmp;
  const auto file = tmp.path() / "file";
  { std::ofstream(file) << "x"; }
  auto store = open_sqlite_store(file);
  ASSERT_FALSE(store);
  EXPECT_THAT(store.error().message, HasSubstr("not a directory"));
}

// A data directory written by a build with schema version 1 (readings keyed without their
// timestamp) opens with its readings kept, and then takes a rebooted sensor's restarted seqs.
TEST(StoreOpen, MigratesAVersion1StoreKeepingItsReadings) {
  TempDir tmp;
  {
    auto store = open_or_die(tmp.data());  // creates the directory, key and database
  }
  const auto file = tmp.data() / "vigil.db";
  ASSERT_TRUE(std::filesystem::exists(file));
  {
    // Rebuild the file as version 1 left it.
    std::filesystem::remove(file);
    std::filesystem::remove(tmp.data() / "vigil.db-wal");
    std::filesystem::remove(tmp.data() / "vigil.db-shm");
    auto db = raw_db(file);
    ASSERT_TRUE(sqlite::migrate(*db, sqlite::migrations().first(1)));
    ASSERT_TRUE(db->exec(
        "INSERT INTO readings VALUES ('hall', 'Z1', 1, 1700000000000, 'count', 0, 0, 12, 0, 1)"));
  }
  auto store = open_or_die(tmp.data());
  auto version = [&] {
    auto db = raw_db(file);
    return sqlite::schema_version(*db);
  }();
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, latest_version());
  auto rows = store->readings_for_venue("hall", 0);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_EQ((*rows)[0].count, 12);
  ReadingRow reboot = testing::count_reading("Z1", 1, 30, 1'700'000'900'000);
  auto r = store->append_readings_sync("hall", {reboot});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->accepted, 1U);
}

// A data directory written with schema version 2 (readings keyed by sensor first, with a
// second index on time) opens with its readings kept, keyed in time order: the replay after a
// restart reads a range of the primary key, without the old index and without sorting.
TEST(StoreOpen, MigratesAVersion2StoreToTimeOrderedReadings) {
  TempDir tmp;
  {
    auto store = open_or_die(tmp.data());
  }
  const auto file = tmp.data() / "vigil.db";
  {
    std::filesystem::remove(file);
    std::filesystem::remove(tmp.data() / "vigil.db-wal");
    std::filesystem::remove(tmp.data() / "vigil.db-shm");
    auto db = raw_db(file);
    ASSERT_TRUE(sqlite::migrate(*db, sqlite::migrations().first(2)));
    ASSERT_TRUE(db->exec(
        "INSERT INTO readings VALUES ('hall', 'Z2', 7, 1700000000300, 'count', 0, 0, 5, 0, 1);"
        "INSERT INTO readings VALUES ('hall', 'Z1', 9, 1700000000100, 'count', 0, 0, 3, 0, 1);"
        "INSERT INTO readings VALUES ('hall', 'Z1', 8, 1700000000200, 'count', 0, 0, 4, 0, 1);"
        "INSERT INTO readings VALUES ('arena', 'Z1', 1, 1700000000000, 'count', 0, 0, 1, 0, 1);"));
  }
  auto store = open_or_die(tmp.data());
  {
    auto db = raw_db(file);
    auto version = sqlite::schema_version(*db);
    ASSERT_TRUE(version);
    EXPECT_EQ(*version, latest_version());
    auto old_index = db->scalar(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'readings_by_time'");
    ASSERT_TRUE(old_index);
    EXPECT_EQ(*old_index, 0);
    // The replay's query: a search of the primary key, no temporary b-tree for ORDER BY.
    auto plan = db->query(
        "EXPLAIN QUERY PLAN SELECT venue, sensor, seq, ts_ms FROM readings"
        " WHERE venue = 'hall' AND ts_ms >= 0 ORDER BY ts_ms, sensor, seq");
    ASSERT_TRUE(plan);
    std::string detail;
    for (;;) {
      auto row = plan->step();
      ASSERT_TRUE(row);
      if (!*row) break;
      detail += plan->text(3) + "\n";
    }
    EXPECT_THAT(detail, HasSubstr("USING PRIMARY KEY (venue=? AND ts_ms>?)"));
    EXPECT_THAT(detail, ::testing::Not(HasSubstr("TEMP B-TREE")));
  }
  auto rows = store->readings_for_venue("hall", 0);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 3U);
  EXPECT_EQ((*rows)[0].seq, 9);
  EXPECT_EQ((*rows)[1].seq, 8);
  EXPECT_EQ((*rows)[2].seq, 7);
  // Still one reading per (venue, sensor, seq, ts).
  auto again = store->append_readings_sync(
      "hall", {testing::count_reading("Z1", 8, 4, 1'700'000'000'200 - 8)});
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->duplicates, 1U);
}

// The migration mechanism itself, with a made-up schema history.
constexpr std::array kV1 = {
    sqlite::Migration{1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"},
};
constexpr std::array kV2 = {
    sqlite::Migration{1, "notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"},
    sqlite::Migration{2, "note authors",
                      "ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT '';"
                      "CREATE INDEX notes_by_author ON notes (author);"},
};
constexpr std::array kV3Broken = {
    kV2[0],
    kV2[1],
    sqlite::Migration{3, "broken", "CREATE TABLE t3 (x); THIS IS NOT SQL;"},
};

TEST(Migrations, AppliesOnlyTheMissingStepsInOrder) {
  TempDir tmp;
  const auto file = tmp.path() / "m.db";
  {
    auto db = raw_db(file);
    auto v = sqlite::migrate(*db, kV1);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_EQ(*v, 1);
    ASSERT_TRUE(db->exec("INSERT INTO notes (text) VALUES ('kept')"));
  }
  {
    auto db = raw_db(file);
    auto v = sqlite::migrate(*db, kV2);
    ASSERT_TRUE(v) << v.error().to_string();
    EXPECT_EQ(*v, 2);
    auto n = db->scalar("SELECT count(*) FROM notes WHERE text = 'kept' AND author = ''");
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    // Idempotent.
    v = sqlite::migrate(*db, kV2);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, 2);
  }
  {
    auto db = raw_db(file);
    auto v = sqlite::migrate(*db, kV1);  // an older build
    ASSERT_FALSE(v);
    EXPECT_THAT(v.error().message, HasSubstr("schema version 2"));
  }
}

TEST(Migrations, AFailingStepLeavesTheStoreAsItWas) {
  TempDir tmp;
  const auto file = tmp.path() / "m.db";
  auto db = raw_db(file);
  ASSERT_TRUE(sqlite::migrate(*db, kV1));
  auto v = sqlite::migrate(*db, kV3Broken);
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error().message, HasSubstr("migration 3 (broken) failed"));
  auto version = sqlite::schema_version(*db);
  ASSERT_TRUE(version);
  EXPECT_EQ(*version, 1);  // step 2 was rolled back with step 3
  auto t3 =
      db->scalar("SELECT count(*) FROM sqlite_schema WHERE name IN ('t3', 'notes_by_author')");
  ASSERT_TRUE(t3);
  EXPECT_EQ(*t3, 0);
}

}  // namespace
}  // namespace vigil::store
