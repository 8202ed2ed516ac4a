// SPDX-License-Identifier: Apache-2.0
// The hash-chained audit log: format, verification, tampering with the database file (through
// the sqlite3 command-line tool, as an intruder would), truncation, signed checkpoints.
#include "store/audit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "store/crypto.hpp"
#include "store/sqlite_db.hpp"
#include "store_test_util.hpp"

namespace vigil::store {
namespace {

using ::testing::HasSubstr;
using testing::open_or_die;
using testing::sqlite3_cli;
using testing::TempDir;

AuditEntry entry(int i) {
  AuditEntry e;
  e.at = format_rfc3339_ms(1714588200000 + i * 1000);
  e.actor = "admin:ab12";
  e.action = "alert.ack";
  e.subject = "alert/" + std::to_string(i);
  e.venue = "hall";
  e.detail = R"({"note":"entry )" + std::to_string(i) + R"(","level":1})";
  return e;
}

class Audit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_sqlite3_cli()) GTEST_SKIP() << "the sqlite3 command-line tool is missing";
  }

  // A store with `n` entries, closed (so the file can be edited), reopened by verify().
  void write_entries(int n, StoreOptions options = no_auto_checkpoints()) {
    options_ = options;
    auto store = open_or_die(tmp_.data(), options_);
    for (int i = 1; i <= n; ++i) {
      auto e = store->append_audit(entry(i));
      ASSERT_TRUE(e) << e.error().to_string();
      ASSERT_EQ(e->seq, i);
    }
  }
  static StoreOptions no_auto_checkpoints() {
    StoreOptions o;
    o.checkpoint_every = 0;
    o.checkpoint_on_close = false;
    return o;
  }
  AuditVerification verify() {
    auto store = open_or_die(tmp_.data(), options_);
    auto v = store->verify_audit();
    if (!v) throw std::runtime_error(v.error().to_string());
    return *v;
  }
  void tamper(const std::string& sql) { ASSERT_TRUE(sqlite3_cli(tmp_.db(), sql)) << sql; }

  TempDir tmp_;
  StoreOptions options_;
};

TEST(AuditFormat, CanonicalEntryAndHashArePinned) {
  AuditEntry e;
  e.seq = 1;
  e.at = "2024-05-01T18:30:00.250Z";
  e.actor = "admin:ab12";
  e.action = "venue.put";
  e.subject = "venue/hall";
  e.venue = "hall";
  e.detail = R"({ "b": 1, "a": [true, null, "x", 1.5] })";
  auto c = canonical_entry(e);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, R"({"action":"venue.put","actor":"admin:ab12","at":"2024-05-01T18:30:00.250Z",)"
                R"("detail":{"a":[true,null,"x",1.5],"b":1},"seq":1,"subject":"venue/hall",)"
                R"("venue":"hall"})");
  // Independently: printf '%s%s' "$(printf '0%.0s' {1..64})" "$canonical" | sha256sum
  EXPECT_EQ(chain_hash(kGenesisHash, *c),
            "c060e0ac0d69033418bbcbe1c03ef251358bb61ce78009de67d4cd416c2937dd");
}

TEST_F(Audit, AppendsChainAndVerify) {
  auto store = open_or_die(tmp_.data());
  auto first = store->append_audit(entry(1));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->prev_hash, std::string(kGenesisHash));
  EXPECT_EQ(first->detail, R"({"level":1,"note":"entry 1"})");  // stored canonical
  auto second = store->append_audit(entry(2));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->seq, 2);
  EXPECT_EQ(second->prev_hash, first->hash);

  AuditEntry now;
  now.actor = "system";
  now.action = "startup";
  auto third = store->append_audit(now);
  ASSERT_TRUE(third);
  EXPECT_TRUE(parse_rfc3339_ms(third->at)) << third->at;
  EXPECT_EQ(third->detail, "{}");

  auto v = store->verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(v->entries, 3);
  EXPECT_FALSE(v->first_bad_seq);
}

TEST_F(Audit, RejectsBadInputWithoutBreakingTheChain) {
  auto store = open_or_die(tmp_.data());
  ASSERT_TRUE(store->append_audit(entry(1)));
  AuditEntry bad_detail = entry(2);
  bad_detail.detail = "{not json";
  auto r1 = store->append_audit(bad_detail);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().where, "detail");
  AuditEntry bad_time = entry(2);
  bad_time.at = "yesterday";
  auto r2 = store->append_audit(bad_time);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().where, "at");
  auto ok = store->append_audit(entry(2));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->seq, 2);
  auto v = store->verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
}

TEST_F(Audit, ListsByTimeAndSeq) {
  write_entries(10);
  auto store = open_or_die(tmp_.data(), options_);
  auto all = store->list_audit({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 10U);
  auto window = store->list_audit({entry(3).at, entry(6).at, 0, 0});
  ASSERT_TRUE(window);
  ASSERT_EQ(window->size(), 3U);
  EXPECT_EQ((*window)[0].seq, 3);
  EXPECT_EQ((*window)[2].seq, 5);
  auto page = store->list_audit({"", "", 7, 2});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2U);
  EXPECT_EQ((*page)[0].seq, 8);
}

TEST_F(Audit, TheStoreRefusesUpdatesAndDeletes) {
  write_entries(3);
  auto db = sqlite::Db::open(tmp_.db(), 1000, false);
  ASSERT_TRUE(db);
  auto upd = (*db)->exec("UPDATE audit SET actor = 'x' WHERE seq = 2");
  ASSERT_FALSE(upd);
  EXPECT_THAT(upd.error().message, HasSubstr("append-only"));
  EXPECT_FALSE((*db)->exec("DELETE FROM audit WHERE seq = 3"));
}

TEST_F(Audit, DetectsAnEditedEntry) {
  write_entries(10);
  ASSERT_TRUE(verify().ok);
  tamper(
      R"(DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{"level":9,"note":"entry 4"}' WHERE seq = 4;)");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(4));
  EXPECT_THAT(v.reason, HasSubstr("entry 4"));
  EXPECT_THAT(v.reason, HasSubstr("does not match its hash"));
}

TEST_F(Audit, DetectsAnEditedLastEntry) {
  write_entries(10);
  tamper("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'someone-else' WHERE seq = 10;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(10));
}

TEST_F(Audit, DetectsADeletedEntry) {
  write_entries(10);
  tamper("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 4;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(4));
  EXPECT_THAT(v.reason, HasSubstr("entry 4 is missing"));
}

TEST_F(Audit, DetectsADeletedFirstEntry) {
  write_entries(5);
  tamper("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 1;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(1));
}

TEST_F(Audit, DetectsADeletionRenumberedToHideTheGap) {
  write_entries(10);
  tamper(
      "DROP TRIGGER audit_no_delete; DROP TRIGGER audit_no_update;"
      "DELETE FROM audit WHERE seq = 4; UPDATE audit SET seq = seq - 1 WHERE seq > 4;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(4));
}

TEST_F(Audit, DetectsSwappedEntries) {
  write_entries(10);
  tamper(
      "DROP TRIGGER audit_no_update;"
      "UPDATE audit SET seq = -3 WHERE seq = 3;"
      "UPDATE audit SET seq = 3 WHERE seq = 6;"
      "UPDATE audit SET seq = 6 WHERE seq = -3;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(3));
}

TEST_F(Audit, CheckpointsAreSignedAndWitnessed) {
  StoreOptions options = no_auto_checkpoints();
  options.witness_file = tmp_.path() / "witness.jsonl";
  options_ = options;
  auto store = open_or_die(tmp_.data(), options_);
  auto empty = store->checkpoint_audit();
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message, HasSubstr("empty"));
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(store->append_audit(entry(i)));
  auto c = store->checkpoint_audit();
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_EQ(c->seq, 4);
  EXPECT_EQ(c->public_key, store->audit_public_key());
  EXPECT_TRUE(ed25519_verify(store->audit_public_key(), checkpoint_message(*c), c->signature));
  AuditCheckpoint forged = *c;
  forged.seq = 3;
  EXPECT_FALSE(ed25519_verify(store->audit_public_key(), checkpoint_message(forged), c->signature));
  auto again = store->checkpoint_audit();  // same head: the same checkpoint
  ASSERT_TRUE(again);
  EXPECT_EQ(again->signature, c->signature);

  std::ifstream in(options.witness_file);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  auto witnessed = parse_witness_line(line);
  ASSERT_TRUE(witnessed);
  EXPECT_EQ(witnessed->hash, c->hash);
  EXPECT_EQ(witnessed->signature, c->signature);
  EXPECT_FALSE(std::getline(in, line));  // one line per checkpoint

  auto listed = store->list_checkpoints();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1U);
  auto v = store->verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(v->checkpoints, 2);  // table + witness file
}

TEST_F(Audit, CheckpointsEveryNEntries) {
  StoreOptions options = no_auto_checkpoints();
  options.checkpoint_every = 5;
  write_entries(12, options);
  auto store = open_or_die(tmp_.data(), options_);
  auto listed = store->list_checkpoints();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2U);
  EXPECT_EQ((*listed)[0].seq, 5);
  EXPECT_EQ((*listed)[1].seq, 10);
}

TEST_F(Audit, DetectsTruncationOfTheTailAfterACheckpoint) {
  StoreOptions options = no_auto_checkpoints();
  options.checkpoint_every = 5;
  write_entries(12, options);
  ASSERT_TRUE(verify().ok);
  // Entries 8..12 removed: the chain that is left is consistent, but checkpoint 10 is gone.
  tamper("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 8;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(8));
  EXPECT_THAT(v.reason, HasSubstr("tail of the log was removed"));
}

TEST_F(Audit, ACheckpointOnCloseProtectsTheNewestEntries) {
  StoreOptions options = no_auto_checkpoints();
  options.checkpoint_on_close = true;
  write_entries(7, options);
  tamper("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 7;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(7));
}

TEST_F(Audit, TheWitnessFileCatchesTruncationWhenTheTableIsWipedToo) {
  StoreOptions options = no_auto_checkpoints();
  options.checkpoint_every = 5;
  options.witness_file = tmp_.path() / "witness.jsonl";
  write_entries(12, options);
  tamper(
      "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq >= 6;"
      "DELETE FROM audit_checkpoints WHERE seq > 5;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(6));
  EXPECT_THAT(v.reason, HasSubstr("witness file"));
}

TEST_F(Audit, DetectsATamperedCheckpointSignature) {
  StoreOptions options = no_auto_checkpoints();
  options.checkpoint_every = 5;
  write_entries(6, options);
  ASSERT_TRUE(verify().ok);
  // Flip the first hex digit of the signature.
  tamper(
      "UPDATE audit_checkpoints SET signature = CASE substr(signature, 1, 1) WHEN 'a' THEN 'b'"
      " ELSE 'a' END || substr(signature, 2) WHERE seq = 5;");
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(5));
  EXPECT_THAT(v.reason, HasSubstr("signature does not verify"));
}

TEST_F(Audit, DetectsAChainRewrittenWithFreshHashes) {
  // An intruder who knows the format edits entry 3 and recomputes every hash after it: the
  // chain is consistent again, but no longer reaches the signed checkpoint.
  StoreOptions options = no_auto_checkpoints();
  options.checkpoint_every = 5;
  write_entries(8, options);
  {
    auto db = sqlite::Db::open(tmp_.db(), 1000, false);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->exec("DROP TRIGGER audit_no_update"));
    std::string prev;
    for (std::int64_t seq = 1; seq <= 8; ++seq) {
      auto q = (*db)->query(
          "SELECT seq, at, actor, action, subject, venue, detail, prev_hash, hash FROM audit"
          " WHERE seq = ?");
      ASSERT_TRUE(q);
      q->bind(1, seq);
      ASSERT_TRUE(*q->step());
      AuditEntry e{q->int64(0), q->text(1), q->text(2), q->text(3), q->text(4),
                   q->text(5),  q->text(6), q->text(7), q->text(8)};
      q->reset();
      if (seq == 3) e.detail = R"({"level":1,"note":"nothing happened"})";
      if (seq >= 3) {
        e.prev_hash = prev;
        e.hash = chain_hash(e.prev_hash, *canonical_entry(e));
        auto u = (*db)->query("UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?");
        ASSERT_TRUE(u);
        u->bind(1, std::string_view(e.detail))
            .bind(2, std::string_view(e.prev_hash))
            .bind(3, std::string_view(e.hash))
            .bind(4, seq);
        ASSERT_TRUE(u->run());
      }
      prev = e.hash;
    }
  }
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, std::optional<std::int64_t>(5));
  EXPECT_THAT(v.reason, HasSubstr("were rewritten"));
}

TEST_F(Audit, DetectsAReplacedSigningKey) {
  StoreOptions options = no_auto_checkpoints();
  options.checkpoint_every = 2;
  write_entries(3, options);
  std::filesystem::remove(tmp_.data() / "audit-ed25519.pem");  // a new key is made at open
  const auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_THAT(v.reason, HasSubstr("another key"));
}

TEST_F(Audit, ConcurrentAppendsStayOneChain) {
  StoreOptions options;
  options.checkpoint_every = 50;
  auto store = open_or_die(tmp_.data(), options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto e = store->append_audit(entry(t * 100 + i));
        EXPECT_TRUE(e) << e.error().to_string();
        // Telemetry in the same group commits.
        std::vector<ReadingRow> rows{testing::count_reading("S" + std::to_string(t), i)};
        EXPECT_TRUE(store->append_readings_sync("hall", rows));
      }
    });
  }
  for (auto& th : threads) th.join();
  auto v = store->verify_audit();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(v->entries, 200);
  EXPECT_EQ(v->checkpoints, 4);
}

}  // namespace
}  // namespace vigil::store
