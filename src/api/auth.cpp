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

Expected<Principal, AuthFailure> authenticate(store::Store& store, std::string_view token) {
  if (token.empty()) return unexpected(AuthFailure::missing);
  auto found = store.find_token_by_hash(store::sha256_hex(token));
  if (!found || !*found) return unexpected(AuthFailure::unknown);
  const store::TokenRecord& rec = **found;
  if (rec.revoked_at_ms) return unexpected(AuthFailure::revoked);
  auto role = parse_role(rec.role);
  if (!role) return unexpected(AuthFailure::unknown);
  return Principal{rec.id, rec.name, *role, rec.venue};
}

}  // namespace vigil::api
