// Booting the kernel oracle's virtual machine: finding the kernel and QEMU, laying out guest
// memory (NUMA nodes, hot-pluggable DIMMs, headroom), and running QEMU with a time limit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ksmsim::tools {

// Memory the guest kernel, /init and the page cache need besides the workload's nodes;
// added to node 0.
inline constexpr uint64_t kOracleHeadroomMib = 256;
// Boot memory of nodes other than node 0 when their workload memory is a hot-pluggable DIMM.
inline constexpr uint64_t kOracleDimmNodeBootMib = 128;

struct VmConfig {
  std::string qemu;    // path of qemu-system-x86_64
  std::string kernel;  // path of vmlinuz
  std::string initrd;
  std::vector<uint64_t> node_mib;  // the workload's machine.nodes
  uint64_t swap_mib = 0;
  bool hotplug = false;  // workload memory as DIMMs onlined movable
  unsigned timeout_s = 900;
  std::string console_path;   // ttyS0: the kernel console
  std::string results_path;   // ttyS1: the guest's @@KSMSIM lines
  std::string qemu_log_path;  // QEMU's own stdout/stderr
};

// The newest Debian kernel image of a series ("6.1", "6.12") in boot_dir: vmlinuz-R where
// the release R starts with the series and a dot (6.1 never matches 6.12), not an -rt- or
// -cloud- flavour; empty when there is none.
std::string FindKernel(const std::string& series, const std::string& boot_dir = "/boot");
// Whether a kernel release ("6.12.118+deb12-amd64") belongs to a series ("6.12").
bool ReleaseIsSeries(const std::string& release, const std::string& series);
// "6.1.0-56-amd64" from ".../vmlinuz-6.1.0-56-amd64".
std::string KernelRelease(const std::string& vmlinuz);
// An executable on $PATH; empty when there is none.
std::string FindOnPath(const std::string& name);

std::vector<std::string> QemuArgs(const VmConfig& c);

struct VmOutcome {
  bool timed_out = false;
  // The guest wrote nothing on its report port within kBootWatchdogS: a boot that hung
  // (seen about once in 150 boots under TCG, console empty); worth another try.
  bool boot_hung = false;
  int exit_code = -1;  // QEMU's exit status
  std::string error;   // why it could not run, for people
};
inline constexpr unsigned kBootWatchdogS = 90;  // a boot takes 5-10 s here
VmOutcome RunVm(const VmConfig& c);

// The last `lines` lines of a text file (empty when unreadable).
std::string TailOfFile(const std::string& path, size_t lines);

}  // namespace ksmsim::tools
