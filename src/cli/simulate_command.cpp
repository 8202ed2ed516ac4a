// SPDX-License-Identifier: Apache-2.0
// `vigil simulate`: wired to src/sim once the engine is in the build.
#include <iostream>

#include "cli/commands.hpp"

namespace vigil::cli {

void register_simulate_command(CLI::App& app, int& status) {
#ifdef VIGIL_HAVE_SIM
  (void)app;
  (void)status;
#else
  auto* sim = app.add_subcommand("simulate", "Run an evacuation scenario (not in this build)");
  sim->allow_extras();
  sim->callback([&status] {
    std::cerr << "vigil simulate: this build has no simulation engine\n";
    status = 2;
  });
#endif
}

}  // namespace vigil::cli
