// SPDX-License-Identifier: Apache-2.0
// Access control of the operations API (docs/operations.md, "Tokens and roles"): bearer tokens
// made offline, stored only as SHA-256 hashes, each with a role and optionally a venue scope.
//
//   admin     everything
//   analyst   read every venue, audit, reports, post warnings, run simulations
//   operator  read, acknowledge, incidents, posture, gatherings, simulations — only its venue(s)
//   viewer    read — only its venue(s)
//   sensor    post telemetry — only its venue (a venue is required)
//
// An operator or viewer token without a venue covers every venue.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/error.hpp"
#include "store/store.hpp"

namespace vigil::api {

enum class Role { admin, analyst, operator_, viewer, sensor };
const char* to_string(Role r);
std::optional<Role> parse_role(std::string_view text);

// What a request wants to do; each endpoint names one.
enum class Action {
  identify,        // whoami: every valid token
  read,            // venues, state, alerts, gatherings, stream, warnings
  manage_venue,    // PUT venues, rules
  gatherings,      // POST gatherings
  telemetry,       // POST telemetry
  acknowledge,     // acknowledge / resolve alerts and warning matches
  incident,        // POST incidents
  posture,         // PUT posture
  audit,           // GET audit, timelines of every venue
  post_warning,    // POST warnings
  simulate,        // POST venues/{id}/simulations (an evacuation simulation of a stored venue)
};

// The holder of a valid token.
struct Principal {
  std::string token_id;
  std::string name;
  Role role = Role::viewer;
  std::optional<std::string> venue;  // scope; none: every venue

  // How the audit log and acknowledgements name this principal: `name (token id)`.
  std::string actor() const;
  // May this principal see `venue` at all?
  bool sees(std::string_view venue_id) const;
  // May it do `action` on `venue_id` ("" for actions that concern no single venue)?
  bool may(Action action, std::string_view venue_id) const;
};

// A token as created: the record to store and the secret to show once.
struct NewToken {
  store::TokenRecord record;
  std::string secret;  // "vgl_" + 48 hex characters
};
// Errors: a sensor token without a venue; a venue scope on an admin or analyst token.
Result<NewToken> make_token(Role role, std::optional<std::string> venue, std::string name,
                            store::TimeMs now_ms);

// Why a request has no principal (401).
enum class AuthFailure { missing, unknown, revoked };
const char* to_string(AuthFailure f);

// The principal of a bearer token, looked up by hash (never by the secret itself).
Expected<Principal, AuthFailure> authenticate(store::Store& store, std::string_view token);

// authenticate() with the principals of recently used tokens remembered, so that a request with
// a known token costs a SHA-256 and one read of store.tokens_generation() instead of a token
// lookup. Revocation stays immediate: every call reads the generation first and, when it moved
// (a token created, changed or revoked, by this process or by `vigil token revoke` in another),
// drops every entry before answering. Only valid tokens are kept, by hash (never the secret),
// at most `max_entries` (a full cache is emptied); unknown and revoked tokens are looked up on
// every request. Thread-safe.
class AuthCache {
 public:
  explicit AuthCache(std::size_t max_entries = 4096) : max_entries_(max_entries) {}
  AuthCache(const AuthCache&) = delete;
  AuthCache& operator=(const AuthCache&) = delete;

  // The same answers as authenticate(store, token), for a token changed by anyone.
  Expected<Principal, AuthFailure> authenticate(store::Store& store, std::string_view token);
  std::size_t size() const;

 private:
  const std::size_t max_entries_;
  mutable std::mutex mu_;
  // An entry is stored under the generation read before it was looked up, so it is never older
  // than `generation_`; a request uses the entries only when it read the same generation.
  std::optional<std::int64_t> generation_;              // GUARDED_BY(mu_)
  std::unordered_map<std::string, Principal> entries_;  // GUARDED_BY(mu_): by sha256_hex(token)
};

}  // namespace vigil::api
