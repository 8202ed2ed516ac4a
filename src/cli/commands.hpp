// SPDX-License-Identifier: Apache-2.0
// Registration of the `vigil` subcommands. Each registers its options on `app` and, when run,
// stores its exit status in `status`.
#pragma once

#include <CLI/CLI.hpp>

namespace vigil::cli {

void register_venue_commands(CLI::App& app, int& status);
void register_simulate_command(CLI::App& app, int& status);
void register_serve_command(CLI::App& app, int& status);
void register_token_commands(CLI::App& app, int& status);
void register_audit_commands(CLI::App& app, int& status);
void register_replay_command(CLI::App& app, int& status);
void register_demo_command(CLI::App& app, int& status);

}  // namespace vigil::cli
