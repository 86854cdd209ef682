// QEMU command line and process control for the kernel oracle.
#include "tools/oracle/host/vm.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <thread>

namespace ksmsim::tools {
namespace {

// Compares "6.1.0-56-amd64"-like strings by their numeric runs.
bool VersionLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (isdigit(a[i]) && isdigit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && isdigit(a[ie])) ++ie;
      while (je < b.size() && isdigit(b[je])) ++je;
      unsigned long long x = std::stoull(a.substr(i, ie - i));
      unsigned long long y = std::stoull(b.substr(j, je - j));
      if (x != y) return x < y;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

std::string Mib(uint64_t mib) { return std::to_string(mib) + "M"; }

}  // namespace

bool ReleaseIsSeries(const std::string& release, const std::string& series) {
  // "6.1.0-57-amd64" is 6.1, "6.12.118+deb12-amd64" is 6.12: the series and then a dot.
  return release.size() > series.size() + 1 && release.compare(0, series.size(), series) == 0 &&
         release[series.size()] == '.' && isdigit(release[series.size() + 1]);
}

std::string FindKernel(const std::string& series, const std::string& boot_dir) {
  glob_t g;
  std::vector<std::string> found;
  if (glob((boot_dir + "/vmlinuz-*").c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string path = g.gl_pathv[i];
      std::string release = KernelRelease(path);
      // Debian's generic image only: not -rt-, not -cloud-.
      if (!ReleaseIsSeries(release, series) || release.find("-rt-") != std::string::npos ||
          release.find("-cloud-") != std::string::npos) {
        continue;
      }
      found.push_back(path);
    }
  }
  globfree(&g);
  if (found.empty()) return "";
  std::sort(found.begin(), found.end(), VersionLess);
  return found.back();
}

std::string KernelRelease(const std::string& vmlinuz) {
  size_t pos = vmlinuz.rfind("vmlinuz-");
  return pos == std::string::npos ? "" : vmlinuz.substr(pos + 8);
}

std::string FindOnPath(const std::string& name) {
  const char* path = getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::vector<std::string> QemuArgs(const VmConfig& c) {
  size_t nodes = c.node_mib.size();
  // Boot memory per node: the workload's memory (unless it is a DIMM), plus the headroom
  // (and the zram swap's worst case) on node 0.
  std::vector<uint64_t> boot(nodes), dimm(nodes, 0);
  for (size_t i = 0; i < nodes; ++i) {
    if (c.hotplug) {
      dimm[i] = c.node_mib[i];
      boot[i] = i == 0 ? 0 : kOracleDimmNodeBootMib;
    } else {
      boot[i] = c.node_mib[i];
    }
  }
  boot[0] += kOracleHeadroomMib + c.swap_mib;
  uint64_t boot_total = std::accumulate(boot.begin(), boot.end(), uint64_t{0});
  uint64_t dimm_total = std::accumulate(dimm.begin(), dimm.end(), uint64_t{0});
  unsigned cpus = static_cast<unsigned>(std::max<size_t>(2, nodes));

  std::string append =
      "console=ttyS0 quiet panic=-1 transparent_hugepage=never "
      "numa_balancing=disable mitigations=off no_timer_check ksmsim_wait_s=" +
      std::to_string(c.timeout_s);
  if (c.hotplug) append += " memhp_default_state=online_movable";

  std::vector<std::string> a = {c.qemu,       "-accel",  "tcg",    "-display",          "none",
                                "-no-reboot", "-kernel", c.kernel, "-initrd",           c.initrd,
                                "-append",    append,    "-smp",   std::to_string(cpus)};
  std::string mem = Mib(boot_total);
  if (c.hotplug) {
    mem += ",slots=" + std::to_string(nodes) + ",maxmem=" + Mib(boot_total + dimm_total);
  }
  a.insert(a.end(), {"-m", mem});
  if (nodes > 1) {
    for (size_t i = 0; i < nodes; ++i) {
      std::string id = std::to_string(i);
      a.insert(a.end(), {"-object", "memory-backend-ram,id=ram" + id + ",size=" + Mib(boot[i])});
      std::string numa = "node,nodeid=" + id + ",memdev=ram" + id + ",cpus=" + id;
      if (i == 0 && cpus > nodes) {
        numa += '-';
        numa += std::to_string(cpus - 1);
      }
      a.insert(a.end(), {"-numa", numa});
    }
  }
  if (c.hotplug) {
    for (size_t i = 0; i < nodes; ++i) {
      std::string id = std::to_string(i);
      a.insert(a.end(),
               {"-object", "memory-backend-ram,id=dimmram" + id + ",size=" + Mib(dimm[i]),
                "-device", "pc-dimm,id=dimm" + id + ",memdev=dimmram" + id + ",node=" + id});
    }
  }
  // ttyS0 (the kernel console) and ttyS1 (the guest's report lines) go to files.
  a.insert(a.end(), {"-serial", "file:" + c.console_path, "-serial", "file:" + c.results_path,
                     "-monitor", "none"});
  return a;
}

VmOutcome RunVm(const VmConfig& c) {
  VmOutcome out;
  std::vector<std::string> args = QemuArgs(c);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    out.error = std::string("fork: ") + strerror(errno);
    return out;
  }
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int log = open(c.qemu_log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in >= 0) dup2(in, 0);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    setpgid(0, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::seconds(c.timeout_s);
  auto boot_deadline = start + std::chrono::seconds(kBootWatchdogS);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      if (out.exit_code == 127) out.error = "could not execute " + c.qemu;
      return out;
    }
    auto now = std::chrono::steady_clock::now();
    if (now > boot_deadline && now < deadline) {
      std::error_code ec;
      if (std::filesystem::file_size(c.results_path, ec) == 0 || ec) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        out.boot_hung = true;
        out.error = "the guest reported nothing within " + std::to_string(kBootWatchdogS) +
                    " s of starting (a hung boot)";
        return out;
      }
      boot_deadline = deadline;  // booted: the watchdog is done
    }
    if (now > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      out.timed_out = true;
      out.error =
          "the VM did not finish within " + std::to_string(c.timeout_s) + " s (--timeout-s)";
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string TailOfFile(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += "  | " + l + "\n";
  return out;
}

}  // namespace ksmsim::tools
