// SPDX-License-Identifier: Apache-2.0
// `vigil serve`: the operations server, until SIGTERM or SIGINT (docs/operations.md).
#include <csignal>
#include <iostream>

#include "api/app.hpp"
#include "cli/commands.hpp"

namespace vigil::cli {

void register_serve_command(CLI::App& app, int& status) {
  auto* cmd = app.add_subcommand("serve", "Run the operations server (API, live stream, dashboard)");
  struct Args {
    std::string data;
    std::string listen;
    std::string config;
    std::string web;
  };
  auto args = std::make_shared<Args>();
  cmd->add_option("--data", args->data, "Data directory (created on first use)")->required();
  cmd->add_option("--listen", args->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  cmd->add_option("--config", args->config, "TOML configuration file (docs/operations.md)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--web", args->web, "Dashboard folder to serve at / (default: the built-in one)");
  cmd->callback([args, &status] {
    api::ServeConfig config;
    if (!args->config.empty()) {
      if (auto ok = api::load_config_file(args->config, config); !ok) {
        std::cerr << ok.error().to_string() << "\n";
        status = 1;
        return;
      }
    }
    config.data_dir = args->data;
    if (!args->listen.empty()) config.listen = args->listen;
    if (!args->web.empty()) config.web_root = args->web;

    // Block the stop signals in every thread; this one waits for them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    auto server = api::ServerApp::start(config);
    if (!server) {
      std::cerr << "vigil serve: " << server.error().to_string() << "\n";
      status = 1;
      return;
    }
    std::cerr << "vigil serve: data in " << config.data_dir.string() << "; stop with Ctrl-C or SIGTERM\n";
    std::cout << "url: " << (*server)->url() << std::endl;
    if ((*server)->metrics_port()) {
      std::cout << "metrics: port " << (*server)->metrics_port() << std::endl;
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::cerr << "vigil serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
              << ": finishing requests, committing, closing\n";
    (*server)->stop();
    std::cerr << "vigil serve: stopped\n";
  });
}

}  // namespace vigil::cli
