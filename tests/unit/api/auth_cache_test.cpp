// SPDX-License-Identifier: Apache-2.0
// The token cache of the server (api::AuthCache) over a real SQLite store: the same answers as
// an uncached lookup, whoever changes the tokens and when, and a bounded size.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "api/auth.hpp"
#include "api_fixture.hpp"
#include "store/store.hpp"

namespace vigil::api::testing {
namespace {

class AuthCacheTest : public ::testing::Test {
 protected:
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<store::Store> open() {
    auto s = store::open_sqlite_store(dir_);
    EXPECT_TRUE(s) << s.error().to_string();
    return s ? std::move(*s) : nullptr;
  }

  // A token stored through `through`; returns its secret.
  std::string make(store::Store& through, Role role, const std::string& name,
                   std::optional<std::string> venue = std::nullopt) {
    auto t = make_token(role, std::move(venue), name, store::now_ms());
    EXPECT_TRUE(t);
    if (!t) return {};
    EXPECT_TRUE(through.put_token(t->record));
    ids_[t->secret] = t->record.id;
    return t->secret;
  }

  std::filesystem::path dir_ = fresh_dir("auth-cache");
  std::unique_ptr<store::Store> store_ = open();
  std::map<std::string, std::string> ids_;  // secret -> token id
};

TEST_F(AuthCacheTest, KnownTokensAreCachedAndAnsweredAsByTheStore) {
  AuthCache cache;
  const std::string secret = make(*store_, Role::operator_, "olga", kHall);
  for (int i = 0; i < 3; ++i) {
    auto who = cache.authenticate(*store_, secret);
    ASSERT_TRUE(who);
    EXPECT_EQ(who->token_id, ids_[secret]);
    EXPECT_EQ(who->name, "olga");
    EXPECT_EQ(who->role, Role::operator_);
    EXPECT_EQ(who->venue, std::optional<std::string>(kHall));
    EXPECT_EQ(cache.size(), 1u);
  }
}

TEST_F(AuthCacheTest, MissingUnknownAndRevokedTokensAreRefusedAndNotCached) {
  AuthCache cache;
  const std::string secret = make(*store_, Role::viewer, "v");
  ASSERT_TRUE(store_->revoke_token(ids_[secret], store::now_ms()));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(cache.authenticate(*store_, "").error(), AuthFailure::missing);
    EXPECT_EQ(cache.authenticate(*store_, "vgl_nonsense").error(), AuthFailure::unknown);
    EXPECT_EQ(cache.authenticate(*store_, secret).error(), AuthFailure::revoked);
  }
  EXPECT_EQ(cache.size(), 0u);
}

// What `vigil token revoke --data DIR ID` does beside a running server: another Store on the
// same directory (its own connections) revokes a token the cache holds.
TEST_F(AuthCacheTest, TokenRevokedThroughAnotherStoreIsRefusedOnTheVeryNextCall) {
  AuthCache cache;
  const std::string secret = make(*store_, Role::viewer, "v", kHall);
  const std::string kept = make(*store_, Role::admin, "a");
  ASSERT_TRUE(cache.authenticate(*store_, secret));
  ASSERT_TRUE(cache.authenticate(*store_, kept));
  ASSERT_EQ(cache.size(), 2u);
  {
    auto other = open();
    ASSERT_TRUE(other);
    auto done = other->revoke_token(ids_[secret], store::now_ms());
    ASSERT_TRUE(done);
    ASSERT_TRUE(*done);
  }
  auto who = cache.authenticate(*store_, secret);
  ASSERT_FALSE(who);
  EXPECT_EQ(who.error(), AuthFailure::revoked);
  EXPECT_TRUE(cache.authenticate(*store_, kept));
  EXPECT_EQ(cache.size(), 1u);
}

// A token changed in place by another Store (same id, another role) is answered as changed.
TEST_F(AuthCacheTest, TokenReplacedThroughAnotherStoreIsAnsweredWithItsNewRecord) {
  AuthCache cache;
  auto t = make_token(Role::viewer, std::string(kHall), "v", store::now_ms());
  ASSERT_TRUE(t);
  ASSERT_TRUE(store_->put_token(t->record));
  ASSERT_EQ(cache.authenticate(*store_, t->secret)->role, Role::viewer);
  {
    auto other = open();
    ASSERT_TRUE(other);
    store::TokenRecord changed = t->record;
    changed.role = "operator";
    ASSERT_TRUE(other->put_token(changed));
  }
  auto who = cache.authenticate(*store_, t->secret);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->role, Role::operator_);
}

// Several threads authenticate while tokens are created (each moves the generation and empties
// the cache) and one is revoked through another store: every call that starts after the revoke
// returned refuses it, in every thread, and the others are never refused.
TEST_F(AuthCacheTest, RevocationIsSeenByEveryCallStartedAfterItUnderConcurrentChanges) {
  AuthCache cache;
  const std::string doomed = make(*store_, Role::viewer, "doomed", kHall);
  const std::string kept = make(*store_, Role::viewer, "kept", kHall);
  const std::string doomed_id = ids_[doomed];  // ids_ grows in the churn thread below
  auto other = open();
  ASSERT_TRUE(other);
  std::atomic<bool> revoked{false};
  std::atomic<bool> stop{false};
  std::atomic<int> late_accepts{0};
  std::atomic<int> wrong_refusals{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const bool after = revoked.load();
        if (cache.authenticate(*store_, doomed) && after) ++late_accepts;
        if (!cache.authenticate(*store_, kept)) ++wrong_refusals;
      }
    });
  }
  std::thread churn([&] {
    for (int i = 0; i < 20 && !stop.load(); ++i) make(*other, Role::viewer, "churn");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(other->revoke_token(doomed_id, store::now_ms()));  // not ASSERT: threads run
  revoked = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  churn.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(late_accepts.load(), 0);
  EXPECT_EQ(wrong_refusals.load(), 0);
  EXPECT_EQ(cache.authenticate(*store_, doomed).error(), AuthFailure::revoked);
}

TEST_F(AuthCacheTest, SizeStaysWithinItsBound) {
  AuthCache cache(3);
  std::vector<std::string> secrets;
  for (int i = 0; i < 10; ++i) {
    secrets.push_back(make(*store_, Role::viewer, "v" + std::to_string(i)));
  }
  for (int round = 0; round < 2; ++round) {
    for (const std::string& s : secrets) {
      auto who = cache.authenticate(*store_, s);
      ASSERT_TRUE(who);
      EXPECT_EQ(who->token_id, ids_[s]);
      EXPECT_LE(cache.size(), 3u);
    }
  }
  EXPECT_GE(cache.size(), 1u);
}

}  // namespace
}  // namespace vigil::api::testing
