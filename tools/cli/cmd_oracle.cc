// `ksmsim oracle W.json`: runs a workload on a real Linux 6.1 kernel under QEMU (TCG) and
// writes the same result document as `ksmsim run` (docs/ORACLE.md; tools/oracle/host/).
#include <memory>

#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/oracle/host/run.h"

namespace ksmsim::tools {
namespace {

std::function<int()> Setup(CLI::App* sub) {
  auto o = std::make_shared<OracleOptions>();
  auto force = std::make_shared<bool>(false);
  sub->add_option("workload", o->workload, "workload JSON file")->required();
  AddOutputOption(sub, "--out", &o->out, "write the result document here (default: stdout)");
  AddOutputOption(sub, "--keep-console", &o->keep_console,
                  "save the guest kernel's console log here");
  AddForceFlag(sub, force.get());
  sub->add_option("--timeout-s", o->timeout_s, "give up on the VM after this many seconds")
      ->capture_default_str()
      ->check(UnsignedIn(1, 4294967295));
  sub->add_option("--kernel", o->kernel, "vmlinuz to boot (default: newest /boot/vmlinuz-6.1.*)");
  sub->add_option("--qemu", o->qemu, "qemu-system-x86_64 to run (default: from $PATH)");
  sub->add_option("--guest", o->guest,
                  "the static guest program (default: the ksmsim-guest built with ksmsim; "
                  "or $KSMSIM_GUEST)");
  return [o, force] {
    if (!CheckOutputs({o->out.empty() ? std::string(kStdio) : o->out, o->keep_console}, *force))
      return 2;
    return RunOracle(*o);
  };
}

RegisterCommand reg{{"oracle",
                     "run a workload on a real Linux 6.1 kernel under QEMU (TCG) and write "
                     "its result document",
                     Setup}};

}  // namespace
}  // namespace ksmsim::tools
