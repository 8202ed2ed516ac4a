// SPDX-License-Identifier: Apache-2.0
// `vigil token create|revoke|list`: tokens are made offline, against the data directory.
#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/auth.hpp"
#include "cli/commands.hpp"
#include "store/store.hpp"

namespace vigil::cli {
namespace {

std::string cli_actor() {
  const char* user = std::getenv("USER");
  std::string name = user ? user : "";
  if (name.empty()) {
    if (const passwd* pw = ::getpwuid(::geteuid())) name = pw->pw_name;
  }
  return "cli (user " + (name.empty() ? std::to_string(::geteuid()) : name) + ")";
}

std::unique_ptr<store::Store> open_store(const std::string& dir, int& status) {
  auto st = store::open_sqlite_store(dir);
  if (!st) {
    std::cerr << dir << ": " << st.error().to_string() << "\n";
    status = 1;
    return nullptr;
  }
  return std::move(*st);
}

void audit(store::Store& st, const std::string& action, const std::string& subject,
           const std::string& venue, const nlohmann::json& detail) {
  store::AuditEntry e;
  e.actor = cli_actor();
  e.action = action;
  e.subject = subject;
  e.venue = venue;
  e.detail = detail.dump();
  if (auto ok = st.append_audit(std::move(e)); !ok) {
    std::cerr << "warning: audit log: " << ok.error().to_string() << "\n";
  }
}

}  // namespace

void register_token_commands(CLI::App& app, int& status) {
  auto* token = app.add_subcommand("token", "Create, revoke and list access tokens (offline)");
  token->require_subcommand(1);

  struct CreateArgs {
    std::string data, role, venue, name;
  };
  auto c = std::make_shared<CreateArgs>();
  auto* create = token->add_subcommand("create", "Create a token; prints it once, on the last line");
  create->add_option("--data", c->data, "Data directory")->required();
  create->add_option("--role", c->role, "admin, analyst, operator, viewer or sensor")
      ->required()
      ->check(CLI::IsMember({"admin", "analyst", "operator", "viewer", "sensor"}));
  create->add_option("--venue", c->venue, "Venue the token is limited to");
  create->add_option("--name", c->name, "Who or what holds it (shown in the audit log)");
  create->callback([c, &status] {
    auto st = open_store(c->data, status);
    if (!st) return;
    auto made = api::make_token(*api::parse_role(c->role),
                                c->venue.empty() ? std::nullopt : std::optional(c->venue), c->name,
                                store::now_ms());
    if (!made) {
      std::cerr << made.error().to_string() << "\n";
      status = 2;
      return;
    }
    if (auto ok = st->put_token(made->record); !ok) {
      std::cerr << c->data << ": " << ok.error().to_string() << "\n";
      status = 1;
      return;
    }
    audit(*st, "token.create", made->record.id, c->venue,
          {{"role", c->role}, {"name", c->name}});
    std::cerr << fmt::format("created token {} (role {}{}{}); it is shown only now:\n",
                             made->record.id, c->role,
                             c->venue.empty() ? "" : ", venue " + c->venue,
                             c->name.empty() ? "" : ", name " + c->name);
    std::cout << made->secret << std::endl;
  });

  struct RevokeArgs {
    std::string data, id;
  };
  auto r = std::make_shared<RevokeArgs>();
  auto* revoke = token->add_subcommand("revoke", "Revoke a token by its id");
  revoke->add_option("--data", r->data, "Data directory")->required();
  revoke->add_option("id", r->id, "Token id (see `vigil token list`)")->required();
  revoke->callback([r, &status] {
    auto st = open_store(r->data, status);
    if (!st) return;
    auto done = st->revoke_token(r->id, store::now_ms());
    if (!done) {
      std::cerr << r->data << ": " << done.error().to_string() << "\n";
      status = 1;
      return;
    }
    if (!*done) {
      std::cerr << "no token with id " << r->id << "\n";
      status = 1;
      return;
    }
    audit(*st, "token.revoke", r->id, "", nlohmann::json::object());
    std::cout << "revoked " << r->id << "\n";
  });

  auto data = std::make_shared<std::string>();
  auto* list = token->add_subcommand("list", "List tokens (never their secrets)");
  list->add_option("--data", *data, "Data directory")->required();
  list->callback([data, &status] {
    auto st = open_store(*data, status);
    if (!st) return;
    auto tokens = st->list_tokens();
    if (!tokens) {
      std::cerr << *data << ": " << tokens.error().to_string() << "\n";
      status = 1;
      return;
    }
    std::cout << fmt::format("{:<10} {:<9} {:<20} {:<24} {:<24} {}\n", "ID", "ROLE", "VENUE",
                             "CREATED", "REVOKED", "NAME");
    for (const auto& t : *tokens) {
      std::cout << fmt::format("{:<10} {:<9} {:<20} {:<24} {:<24} {}\n", t.id, t.role,
                               t.venue.value_or("*"), store::format_rfc3339_ms(t.created_at_ms),
                               t.revoked_at_ms ? store::format_rfc3339_ms(*t.revoked_at_ms) : "-",
                               t.name);
    }
  });
}

void register_audit_commands(CLI::App& app, int& status) {
  auto* audit_cmd = app.add_subcommand("audit", "Check the tamper-evident audit log");
  audit_cmd->require_subcommand(1);
  auto data = std::make_shared<std::string>();
  auto* verify = audit_cmd->add_subcommand(
      "verify", "Recompute the hash chain and check the signed checkpoints");
  verify->add_option("--data", *data, "Data directory")->required()->check(CLI::ExistingDirectory);
  verify->callback([data, &status] {
    auto st = open_store(*data, status);
    if (!st) return;
    auto v = st->verify_audit();
    if (!v) {
      std::cerr << *data << ": " << v.error().to_string() << "\n";
      status = 1;
      return;
    }
    if (v->ok) {
      std::cout << "OK " << v->entries << " entries (" << v->checkpoints
                << " signed checkpoints checked)\n";
      return;
    }
    std::cout << "FAILED at entry " << v->first_bad_seq.value_or(0) << ": " << v->reason << "\n";
    status = 1;
  });
}

}  // namespace vigil::cli
