// `ksmsim oracle W.json`'s work, for the thin subcommand in tools/cli/cmd_oracle.cc: run a
// workload on a real Linux 6.1 kernel under QEMU (TCG) and write the same result document
// as `ksmsim run` (docs/ORACLE.md).
#pragma once

#include <filesystem>
#include <string>

namespace ksmsim::tools {

struct OracleOptions {
  std::string workload;
  std::string out;
  std::string keep_console;
  unsigned timeout_s = 900;
  std::string kernel;
  std::string qemu;
  std::string guest;
};

// The guest program `ksmsim oracle` packs as /init: `flag` (--guest) when given, else `env`
// ($KSMSIM_GUEST) when set, else the first that exists of oracle/ksmsim-guest beside `self`
// (the build tree: build/<preset>/tools/ksmsim), InstalledGuestPath(self) (an installed
// ksmsim), and the path the build wrote it to.
std::string FindGuestBinary(const std::string& flag, const char* env,
                            const std::filesystem::path& self);
// Where `cmake --install` puts the guest relative to the installed ksmsim `self`:
// BINDIR/../LIBEXECDIR/ksmsim/ksmsim-guest (/usr/bin/ksmsim -> /usr/libexec/ksmsim/).
std::filesystem::path InstalledGuestPath(const std::filesystem::path& self);

// Runs the oracle; diagnostics go to stderr, the result document to `out` (or stdout).
// Returns the exit status: 0 every expect held, 1 one failed, 2 invalid input or the VM
// could not run.
int RunOracle(const OracleOptions& o);

}  // namespace ksmsim::tools
