// SPDX-License-Identifier: Apache-2.0
// The `vigil` command: a thin layer that parses arguments and calls the libraries.
// Exit status: 0 success, 1 input problems (printed as `FILE: PATH: message`), 2 usage errors.
#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "base/version.hpp"
#include "cli/commands.hpp"

int main(int argc, char** argv) {
  using namespace vigil::cli;
  CLI::App app{"Vigil: plan, watch, warn, respond and review for places where crowds gather.",
               "vigil"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", std::string("vigil ") + vigil::kVersion,
                       "Print the version and exit");
  app.failure_message(CLI::FailureMessage::help);

  int status = 0;
  register_venue_commands(app, status);
  register_simulate_command(app, status);
  register_serve_command(app, status);
  register_token_commands(app, status);
  register_audit_commands(app, status);
  register_replay_command(app, status);
  register_demo_command(app, status);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vigil: " << e.what() << "\n";
    return 1;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    return 2;
  }
  return status;
}
