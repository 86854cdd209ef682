// The ksmsim subcommand registry: each tools/cmd_*.cc registers one subcommand, so the
// command line grows without a central list to edit.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ksmsim::tools {

// Adds the subcommand's options to `sub` and returns the action that runs it; the action's
// return value is the process exit status.
using CommandSetup = std::function<std::function<int()>(CLI::App* sub)>;

struct CommandSpec {
  std::string name;
  std::string help;  // one line, shown by `ksmsim --help`
  CommandSetup setup;
};

std::vector<CommandSpec>& CommandRegistry();

struct RegisterCommand {
  explicit RegisterCommand(CommandSpec spec) { CommandRegistry().push_back(std::move(spec)); }
};

}  // namespace ksmsim::tools
