// SPDX-License-Identifier: Apache-2.0
#include "api/auth.hpp"

#include "store/crypto.hpp"

namespace vigil::api {

const char* to_string(Role r) {
  switch (r) {
    case Role::admin: return "admin";
    case Role::analyst: return "analyst";
    case Role::operator_: return "operator";
    case Role::viewer: return "viewer";
    case Role::sensor: return "sensor";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view text) {
  for (Role r : {Role::admin, Role::analyst, Role::operator_, Role::viewer, Role::sensor}) {
    if (text == to_string(r)) return r;
  }
  return std::nullopt;
}

std::string Principal::actor() const {
  return (name.empty() ? std::string(to_string(role)) : name) + " (token " + token_id + ")";
}

bool Principal::sees(std::string_view venue_id) const {
  if (role == Role::admin || role == Role::analyst) return true;
  return !venue || *venue == venue_id;
}

bool Principal::may(Action action, std::string_view venue_id) const {
  if (role == Role::admin || action == Action::identify) return true;
  const bool scoped = venue_id.empty() || sees(venue_id);
  switch (role) {
    case Role::analyst:
      return action == Action::read || action == Action::audit ||
             action == Action::post_warning || action == Action::simulate;
    case Role::operator_:
      return scoped && (action == Action::read || action == Action::acknowledge ||
                        action == Action::incident || action == Action::posture ||
                        action == Action::gatherings || action == Action::simulate);
    case Role::viewer: return scoped && action == Action::read;
    case Role::sensor: return scoped && !venue_id.empty() && action == Action::telemetry;
    case Role::admin: return true;
  }
  return false;
}

Result<NewToken> make_token(Role role, std::optional<std::string> venue, std::string name,
                            store::TimeMs now_ms) {
  if (role == Role::sensor && !venue) {
    return unexpected(Error{"--venue", "a sensor token needs the venue it reports for"});
  }
  if ((role == Role::admin || role == Role::analyst) && venue) {
    return unexpected(Error{"--venue", std::string("an ") + to_string(role) +
                                           " token covers every venue; drop --venue"});
  }
  if (venue && venue->empty()) return unexpected(Error{"--venue", "must not be empty"});
  NewToken t;
  t.secret = "vgl_" + store::random_hex(24);
  t.record.id = store::random_hex(4);
  t.record.hash = store::sha256_hex(t.secret);
  t.record.role = to_string(role);
  t.record.venue = std::move(venue);
  t.record.name = std::move(name);
  t.record.created_at_ms = now_ms;
  return t;
}

const char* to_string(AuthFailure f) {
  switch (f) {
    case AuthFailure::missing: return "missing bearer token";
    case AuthFailure::unknown: return "unknown token";
    case AuthFailure::revoked: return "revoked token";
  }
  return "?";
}

namespace {

Expected<Principal, AuthFailure> find_by_hash(store::Store& store, const std::string& hash) {
  auto found = store.find_token_by_hash(hash);
  if (!found || !*found) return unexpected(AuthFailure::unknown);
  const store::TokenRecord& rec = **found;
  if (rec.revoked_at_ms) return unexpected(AuthFailure::revoked);
  auto role = parse_role(rec.role);
  if (!role) return unexpected(AuthFailure::unknown);
  return Principal{rec.id, rec.name, *role, rec.venue};
}

}  // namespace

Expected<Principal, AuthFailure> authenticate(store::Store& store, std::string_view token) {
  if (token.empty()) return unexpected(AuthFailure::missing);
  return find_by_hash(store, store::sha256_hex(token));
}

Expected<Principal, AuthFailure> AuthCache::authenticate(store::Store& store,
                                                         std::string_view token) {
  if (token.empty()) return unexpected(AuthFailure::missing);
  std::string hash = store::sha256_hex(token);
  // Read before the lookup below, which therefore sees this generation or a later one.
  const auto generation = store.tokens_generation();
  if (!generation) return find_by_hash(store, hash);  // the store is failing: no cache
  {
    std::lock_guard lock(mu_);
    if (generation_ != *generation) {
      // Tokens changed since the entries were looked up. (Or a concurrent call read the
      // generation just before it moved and comes after ours: it drops newer entries and tags
      // the cache with its older value, which costs lookups, never a stale answer.)
      entries_.clear();
      generation_ = *generation;
    } else if (auto it = entries_.find(hash); it != entries_.end()) {
      return it->second;
    }
  }
  auto found = find_by_hash(store, hash);
  if (found) {
    std::lock_guard lock(mu_);
    // Only under the generation read before the lookup: when the cache's moved meanwhile, the
    // entry may predate it (the token revoked just after our lookup).
    if (generation_ == *generation) {
      if (entries_.size() >= max_entries_) entries_.clear();
      entries_.emplace(std::move(hash), *found);
    }
  }
  return found;
}

std::size_t AuthCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace vigil::api
