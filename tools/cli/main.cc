// ksmsim: the command line. Subcommands register themselves (tools/cli/command.h).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <new>

#include "tools/cli/command.h"

namespace ksmsim::tools {
std::vector<CommandSpec>& CommandRegistry() {
  static std::vector<CommandSpec> registry;
  return registry;
}
}  // namespace ksmsim::tools

int main(int argc, char** argv) {
  using ksmsim::tools::CommandRegistry;
  CLI::App app{
      "ksmsim: a simulator of a virtual MMU running Linux 6.1's KSM (kernel samepage "
      "merging).\nRun a JSON workload and read the KSM counters the kernel would report.\n"
      "Workload format: docs/WORKLOAD-FORMAT.md; docs: docs/."};
  app.set_version_flag("--version", std::string("ksmsim ") + KSMSIM_VERSION);
  app.footer(
      "Exit status: 0 every expect and verify held; 1 an expect or verify failed; 2 invalid "
      "input (workload, trace or usage; sizes no real machine has); 3 a valid workload that "
      "cannot be carried out (the simulated machine out of memory with no swap, a wait that "
      "can never finish, more host memory than MemAvailable or --max-memory, --max-steps or "
      "--max-batches reached).");
  app.require_subcommand(1);
  auto& registry = CommandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::function<int()> action;
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions;
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    actions.emplace_back(sub, spec.setup(sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // Usage errors exit 2, like an invalid workload: the user must change the input.
    return rc == 0 ? 0 : 2;
  }
  for (auto& [sub, act] : actions) {
    if (!sub->parsed()) continue;
    try {
      return act();
    } catch (const std::bad_alloc&) {
      // Past the host-memory estimate (workloads/budget.h): the host, or the object arena's
      // fixed address range for rmap_items, stable nodes and anon_vmas (sim/arena.h), ran out.
      std::cerr << "ksmsim " << sub->get_name()
                << ": out of host memory (an allocation failed; KSM's rmap_items and stable "
                   "nodes have at most 32 GiB): run a smaller workload (docs/PERFORMANCE.md "
                   "gives the host bytes a simulated page costs)\n";
      return 3;
    }
  }
  return 2;
}
