// SPDX-License-Identifier: Apache-2.0
// Tokens, venues, gatherings, alerts and key-value blobs: stored, read back, replaced.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "store/crypto.hpp"
#include "store_test_util.hpp"

namespace vigil::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::open_or_die;
using testing::TempDir;

class Records : public ::testing::Test {
 protected:
  TempDir tmp_;
  std::unique_ptr<Store> store_ = open_or_die(tmp_.data());

  void put_venue(const std::string& id) {
    ASSERT_TRUE(store_->put_venue({id, R"({"vigil":{"id":")" + id + R"("}})", 1000}));
  }
};

TEST_F(Records, TokensAreFoundByHashListedAndRevoked) {
  const std::string secret = "s3cret-" + random_hex(16);
  TokenRecord t{random_hex(6), sha256_hex(secret), "operator", "hall", "night shift", 1000, {}};
  ASSERT_TRUE(store_->put_token(t));
  ASSERT_TRUE(store_->put_token({"admin1", sha256_hex("other"), "admin", {}, "", 2000, {}}));

  auto found = store_->find_token_by_hash(sha256_hex(secret));
  ASSERT_TRUE(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, t.id);
  EXPECT_EQ((*found)->role, "operator");
  EXPECT_EQ((*found)->venue, std::optional<std::string>("hall"));
  EXPECT_EQ((*found)->name, "night shift");
  EXPECT_FALSE((*found)->revoked_at_ms);

  auto missing = store_->find_token_by_hash(sha256_hex("nope"));
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());

  auto revoked = store_->revoke_token(t.id, 5000);
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(*revoked);
  ASSERT_TRUE(store_->revoke_token(t.id, 9000));  // the first time is kept
  auto unknown = store_->revoke_token("no-such-id", 5000);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(*unknown);

  auto all = store_->list_tokens();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].id, t.id);
  EXPECT_EQ((*all)[0].revoked_at_ms, std::optional<TimeMs>(5000));
  EXPECT_EQ((*all)[1].venue, std::nullopt);
}

// What the server's token cache relies on (api::AuthCache): every change of a token moves the
// generation, whoever makes it, and nothing else does.
TEST_F(Records, TokensGenerationMovesWithEveryTokenChangeFromAnyConnection) {
  auto generation = [&](Store& s) {
    auto g = s.tokens_generation();
    EXPECT_TRUE(g) << g.error().to_string();
    return g ? *g : std::int64_t{-1};
  };
  const std::int64_t g0 = generation(*store_);
  TokenRecord t{"tok1", sha256_hex("a"), "viewer", {}, "v", 1000, {}};
  ASSERT_TRUE(store_->put_token(t));
  const std::int64_t g1 = generation(*store_);
  EXPECT_NE(g1, g0);

  // Other writes leave it alone (telemetry must not empty the server's cache).
  put_venue("hall");
  ASSERT_TRUE(store_->kv_put("k", "v"));
  ASSERT_TRUE(store_->append_readings_sync("hall", {testing::count_reading("s1", 1)}));
  EXPECT_EQ(generation(*store_), g1);

  // A second store on the same directory, as `vigil token create|revoke` opens beside a running
  // server: its changes move the generation this store reads.
  {
    auto other = open_or_die(tmp_.data());
    ASSERT_TRUE(other->revoke_token("tok1", 2000));
    EXPECT_NE(generation(*other), g1);
  }
  const std::int64_t g2 = generation(*store_);
  EXPECT_NE(g2, g1);
  {
    auto other = open_or_die(tmp_.data());
    t.role = "admin";  // replaced in place, same id
    ASSERT_TRUE(other->put_token(t));
  }
  const std::int64_t g3 = generation(*store_);
  EXPECT_NE(g3, g2);
  // Revoking an unknown id changes no token.
  ASSERT_TRUE(store_->revoke_token("no-such-id", 3000));
  EXPECT_EQ(generation(*store_), g3);
}

// The generation is not read from the database on every call: a store keeps the value while
// the shared hint (tokens.changes in the data directory, bumped by every store after it changed
// a token) stays put, for at most tokens_recheck_ms. A change behind the stores' back, here
// with the SQLite C API as the sqlite3 shell would make it, is therefore seen only after that.
TEST_F(Records, TokensGenerationIsKeptUntilAStoreSignalsAChangeOrTheRecheckIsDue) {
  store_.reset();
  StoreOptions patient;
  patient.tokens_recheck_ms = 600'000;
  StoreOptions eager;
  eager.tokens_recheck_ms = 50;
  auto kept = open_or_die(tmp_.data(), patient);
  auto rechecking = open_or_die(tmp_.data(), eager);
  auto generation = [](Store& s) {
    auto g = s.tokens_generation();
    EXPECT_TRUE(g) << g.error().to_string();
    return g ? *g : std::int64_t{-1};
  };
  ASSERT_TRUE(kept->put_token({"tok1", sha256_hex("a"), "viewer", {}, "v", 1000, {}}));
  EXPECT_TRUE(std::filesystem::exists(tmp_.data() / "tokens.changes"));
  const std::int64_t g0 = generation(*kept);
  ASSERT_EQ(generation(*rechecking), g0);

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(tmp_.db().c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_busy_timeout(raw, 5000), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE tokens SET revoked_at_ms = 5 WHERE id = 'tok1'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);

  EXPECT_EQ(generation(*kept), g0);  // no store signalled it, no recheck due
  std::int64_t seen = g0;
  for (int i = 0; i < 500 && seen == g0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = generation(*rechecking);
  }
  EXPECT_NE(seen, g0);  // read again once the recheck was due
  EXPECT_EQ(generation(*kept), g0);

  // A change through any store is signalled: the next call reads the database. A call that
  // changes no token signals nothing.
  ASSERT_TRUE(rechecking->revoke_token("no-such-id", 9000));
  EXPECT_EQ(generation(*kept), g0);
  ASSERT_TRUE(rechecking->put_token({"tok2", sha256_hex("b"), "viewer", {}, "w", 1000, {}}));
  const std::int64_t g2 = generation(*kept);
  EXPECT_NE(g2, seen);
  EXPECT_NE(g2, g0);
  EXPECT_EQ(generation(*rechecking), g2);
}

TEST_F(Records, TwoTokensCannotShareAHash) {
  ASSERT_TRUE(store_->put_token({"a", sha256_hex("x"), "viewer", {}, "", 1, {}}));
  auto r = store_->put_token({"b", sha256_hex("x"), "viewer", {}, "", 1, {}});
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("UNIQUE"));
  auto bad = store_->put_token({"c", "short", "viewer", {}, "", 1, {}});
  EXPECT_FALSE(bad);
}

TEST_F(Records, VenuesAreReplacedById) {
  put_venue("b-hall");
  put_venue("a-arena");
  ASSERT_TRUE(store_->put_venue({"b-hall", "{\"v\":2}", 2000}));
  auto v = store_->get_venue("b-hall");
  ASSERT_TRUE(v);
  ASSERT_TRUE(v->has_value());
  EXPECT_EQ((*v)->json, "{\"v\":2}");
  EXPECT_EQ((*v)->updated_at_ms, 2000);
  auto all = store_->list_venues();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].id, "a-arena");
  auto none = store_->get_venue("nowhere");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(Records, GatheringsNeedTheirVenueAndAreListedByWindow) {
  put_venue("hall");
  put_venue("arena");
  auto orphan = store_->put_gathering({"g0", "nowhere", "{}", 0, 10});
  ASSERT_FALSE(orphan);
  EXPECT_THAT(orphan.error().message, HasSubstr("FOREIGN KEY"));
  auto backwards = store_->put_gathering({"g0", "hall", "{}", 10, 0});
  ASSERT_FALSE(backwards);
  EXPECT_THAT(backwards.error().message, HasSubstr("window_order"));

  ASSERT_TRUE(store_->put_gathering({"g1", "hall", "{\"n\":1}", 100, 200}));
  ASSERT_TRUE(store_->put_gathering({"g2", "hall", "{}", 300, 400}));
  ASSERT_TRUE(store_->put_gathering({"g3", "arena", "{}", 150, 350}));

  auto ids = [&](const GatheringQuery& q) {
    std::vector<std::string> out;
    auto r = store_->list_gatherings(q);
    EXPECT_TRUE(r) << r.error().to_string();
    if (r) {
      for (auto& g : *r) out.push_back(g.id);
    }
    return out;
  };
  EXPECT_THAT(ids({}), ElementsAre("g1", "g3", "g2"));
  EXPECT_THAT(ids({"hall", {}, {}}), ElementsAre("g1", "g2"));
  EXPECT_THAT(ids({{}, 201, 299}), ElementsAre("g3"));
  EXPECT_THAT(ids({"hall", 200, 300}), ElementsAre("g1", "g2"));  // touching windows overlap
  EXPECT_THAT(ids({{}, {}, 120}), ElementsAre("g1"));

  auto g = store_->get_gathering("g1");
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->has_value());
  EXPECT_EQ((*g)->json, "{\"n\":1}");
  EXPECT_EQ((*g)->venue, "hall");
}

TEST_F(Records, AlertsAreUpsertedAndListedByVenueAndState) {
  put_venue("hall");
  put_venue("arena");
  AlertRecord a;
  a.id = "a1";
  a.venue = "hall";
  a.rule = "density";
  a.zone = "floor";
  a.severity = "warning";
  a.state = "firing";
  a.since_ms = 100;
  a.detail = R"({"density_p_m2":4.2})";
  ASSERT_TRUE(store_->upsert_alert(a));
  AlertRecord b = a;
  b.id = "a2";
  b.venue = "arena";
  b.since_ms = 50;
  ASSERT_TRUE(store_->upsert_alert(b));

  a.state = "acknowledged";
  a.acknowledged_by = "op-7";
  a.acknowledged_at_ms = 160;
  a.note = "stewards sent";
  a.escalation_level = 1;
  ASSERT_TRUE(store_->upsert_alert(a));

  auto got = store_->get_alert("a1");
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->state, "acknowledged");
  EXPECT_EQ((*got)->acknowledged_by, std::optional<std::string>("op-7"));
  EXPECT_EQ((*got)->acknowledged_at_ms, std::optional<TimeMs>(160));
  EXPECT_EQ((*got)->note, "stewards sent");
  EXPECT_EQ((*got)->escalation_level, 1);
  EXPECT_EQ((*got)->detail, a.detail);
  EXPECT_FALSE((*got)->resolved_at_ms);

  auto all = store_->list_alerts({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].id, "a2");  // by since
  AlertQuery firing_query;
  firing_query.state = "firing";
  auto firing = store_->list_alerts(firing_query);
  ASSERT_TRUE(firing);
  ASSERT_EQ(firing->size(), 1U);
  EXPECT_EQ((*firing)[0].id, "a2");
  auto hall = store_->list_alerts(AlertQuery::of_venue("hall"));
  ASSERT_TRUE(hall);
  ASSERT_EQ(hall->size(), 1U);

  // Paging back: the newest `limit` before a time, oldest first.
  for (int i = 0; i < 5; ++i) {
    AlertRecord c = b;
    c.id = "c" + std::to_string(i);
    c.since_ms = 1000 + i;
    ASSERT_TRUE(store_->upsert_alert(c));
  }
  auto paged = [&](std::optional<TimeMs> before, std::size_t limit) {
    AlertQuery q = AlertQuery::of_venue("arena");
    q.before_ms = before;
    q.limit = limit;
    return store_->list_alerts(q);
  };
  auto page = paged(std::nullopt, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2U);
  EXPECT_EQ((*page)[0].id, "c3");
  EXPECT_EQ((*page)[1].id, "c4");
  page = paged(1003, 2);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2U);
  EXPECT_EQ((*page)[0].id, "c1");
  EXPECT_EQ((*page)[1].id, "c2");
  page = paged(1001, 5);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->size(), 2U);  // a2 (since 50) and c0
  EXPECT_EQ((*page)[0].id, "a2");

  AlertRecord orphan = a;
  orphan.id = "a3";
  orphan.venue = "nowhere";
  EXPECT_FALSE(store_->upsert_alert(orphan));
}

TEST_F(Records, KeyValueBlobs) {
  ASSERT_TRUE(store_->kv_put("escalation/hall", R"({"levels":[]})"));
  ASSERT_TRUE(store_->kv_put("escalation/arena", "{}"));
  ASSERT_TRUE(store_->kv_put("thresholds/hall", "{}"));
  ASSERT_TRUE(store_->kv_put("escalation/hall", R"({"levels":[1]})"));
  auto v = store_->kv_get("escalation/hall");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value_or(""), R"({"levels":[1]})");
  auto none = store_->kv_get("escalation/nowhere");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto listed = store_->kv_list("escalation/");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2U);
  EXPECT_EQ((*listed)[0].first, "escalation/arena");
  EXPECT_EQ((*listed)[1].second, R"({"levels":[1]})");
}

TEST(StoreHelpers, Rfc3339RoundTrip) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1714588200250), "2024-05-01T18:30:00.250Z");
  EXPECT_EQ(parse_rfc3339_ms("2024-05-01T18:30:00.250Z"), std::optional<TimeMs>(1714588200250));
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_FALSE(parse_rfc3339_ms("2024-05-01T18:30:00Z"));
  EXPECT_FALSE(parse_rfc3339_ms("2024-02-30T18:30:00.000Z"));
  EXPECT_FALSE(parse_rfc3339_ms("2024-05-01 18:30:00.250Z"));
}

TEST(StoreHelpers, Sha256AndRandomIds) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string a = random_hex(6);
  EXPECT_EQ(a.size(), 12U);
  EXPECT_NE(a, random_hex(6));
}

}  // namespace
}  // namespace vigil::store
