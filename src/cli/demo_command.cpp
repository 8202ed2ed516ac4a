// SPDX-License-Identifier: Apache-2.0
// `vigil demo`: the built-in demonstration (api/demo.hpp), until Ctrl-C or SIGTERM.
#include <csignal>
#include <iostream>

#include "api/demo.hpp"
#include "cli/commands.hpp"

namespace vigil::cli {

void register_demo_command(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand(
      "demo", "Serve the dashboard on a demo venue with a simulated crowd feeding live telemetry");
  auto opts = std::make_shared<api::DemoOptions>();
  auto data = std::make_shared<std::string>();
  auto venue = std::make_shared<std::string>();
  cmd->add_option("--listen", opts->listen, "HOST:PORT (default 127.0.0.1:8080)");
  cmd->add_option("--seed", opts->seed, "Seed of the simulated crowd (default 1)");
  cmd->add_option("--data", *data, "Data directory (default: a fresh temporary one)");
  cmd->add_option("--venue", *venue, "Venue file (default: the example concert hall)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--warning-after", opts->warning_after_s,
                  "Seconds until the sample CAP warning arrives (negative: never; default 60)");
  cmd->add_option("--evacuate-after", opts->evacuate_after_s,
                  "Seconds until an automatic evacuation (default: only on the dashboard's button)");
  cmd->add_option("--speed", opts->speed, "Simulated seconds per second (default 1)")
      ->check(CLI::Range(0.1, 20.0));
  cmd->callback([opts, data, venue, &status] {
    opts->data_dir = *data;
    opts->venue_file = *venue;
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    auto demo = api::Demo::start(*opts);
    if (!demo) {
      std::cerr << "vigil demo: " << demo.error().to_string() << "\n";
      status = 1;
      return;
    }
    const auto& info = (*demo)->info();
    std::cerr << "vigil demo: data in " << info.data_dir.string()
              << "; open the URL and sign in with a token; stop with Ctrl-C\n";
    std::cout << "url: " << info.url << "\n"
              << "admin token: " << info.admin_token << "\n"
              << "operator token: " << info.operator_token << std::endl;
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "vigil demo: stopping\n";
    (*demo)->stop();
  });
}

}  // namespace vigil::cli
