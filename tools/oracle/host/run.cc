// `ksmsim oracle`'s work: validate the workload (admit.h), plan it, pack the
// initramfs, boot the VM (again when a boot hangs), and turn the guest's report lines into
// a result document (docs/ORACLE.md).
#include "tools/oracle/host/run.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/oracle/guest/plan.h"
#include "tools/oracle/host/admit.h"
#include "tools/oracle/host/initramfs.h"
#include "tools/oracle/host/vm.h"

namespace ksmsim::tools {
namespace {

using oracle::Json;

// Exit status 3, as `run` uses it: a valid workload that could not be carried out (an
// oracle limitation, no QEMU or kernel, a VM that failed or timed out).
constexpr int kOracleCannotRun = 3;

// Collects the guest's report lines into a result document; returns the exit status.
int Collect(const std::string& results_path, const std::string& console_path,
            const oracle::Plan& plan, Json& doc, std::string& problem) {
  std::vector<Json> records;
  for (const std::string& path : {results_path, console_path}) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      size_t at = line.find("@@KSMSIM ");
      if (at == std::string::npos) continue;
      try {
        records.push_back(Json::parse(line.substr(at + 9)));
      } catch (const std::exception&) {
        problem = "a garbled report line from the guest: " + line;
        return kOracleCannotRun;
      }
    }
    if (!records.empty()) break;  // the console is only a fallback
  }
  doc = Json::object();
  doc["ksmsim"] = 1;
  doc["workload"] = plan.name;
  doc["engine"] = "linux (qemu tcg)";
  doc["seed"] = plan.seed;
  doc["results"] = Json::array();
  doc["outcomes"] = Json::array();
  doc["errors"] = Json::array();
  doc["notes"] = Json::array();
  bool ended = false, failed = false;
  for (Json& r : records) {
    std::string type = r.value("type", "");
    if (type == "start") {
      doc["engine"] = "linux " + r.value("uname", "?") + " (qemu tcg)";
    } else if (type == "result") {
      r.erase("type");
      doc["results"].push_back(r);
    } else if (type == "outcome") {
      r.erase("type");
      doc["outcomes"].push_back(r);
    } else if (type == "error") {
      doc["errors"].push_back(r.value("message", ""));
    } else if (type == "note") {
      doc["notes"].push_back(r.value("message", ""));
    } else if (type == "invalid") {
      problem = "invalid workload (found by the guest): " + r.value("message", "");
      return 2;
    } else if (type == "fatal") {
      problem = "the guest could not run the workload: " + r.value("message", "");
      doc["errors"].push_back(problem);
      return kOracleCannotRun;
    } else if (type == "end") {
      ended = true;
      failed = r.value("failed", false);
    }
  }
  if (!ended) {
    problem = "the guest stopped before the end of the workload (kernel console tail below)";
    return kOracleCannotRun;
  }
  return failed ? 1 : 0;
}

}  // namespace

std::filesystem::path InstalledGuestPath(const std::filesystem::path& self) {
  return (self.parent_path() / KSMSIM_GUEST_FROM_BINDIR).lexically_normal();
}

std::string FindGuestBinary(const std::string& flag, const char* env,
                            const std::filesystem::path& self) {
  if (!flag.empty()) return flag;
  if (env != nullptr) return env;
  if (!self.empty()) {
    std::error_code ec;
    for (const auto& candidate :
         {self.parent_path() / "oracle" / "ksmsim-guest", InstalledGuestPath(self)}) {
      if (std::filesystem::exists(candidate, ec)) return candidate.string();
    }
  }
  return KSMSIM_GUEST_BINARY;
}

int RunOracle(const OracleOptions& o) {
  auto started = std::chrono::steady_clock::now();
  std::string text;
  try {
    text = ReadWholeFile(o.workload);
  } catch (const std::exception& e) {
    std::cerr << "ksmsim oracle: " << e.what() << "\n";
    return 2;
  }
  oracle::Admission admitted = oracle::AdmitWorkload(text, o.workload);
  if (!admitted.plan) {
    // As every subcommand that loads a workload (tools/cli/load_workload.h) reports one.
    for (const std::string& e : admitted.errors) std::cerr << e << "\n";
    if (admitted.errors.empty()) {
      // A valid workload the kernel oracle cannot carry out: exit 3, as `run` uses it.
      std::cerr << "ksmsim oracle: " << o.workload << ": " << admitted.limitation << "\n";
      return kOracleCannotRun;
    }
    std::cerr << o.workload << ": invalid workload, nothing was run\n";
    return 2;
  }
  oracle::Plan plan = std::move(*admitted.plan);

  VmConfig vm;
  vm.qemu = o.qemu.empty() ? FindOnPath("qemu-system-x86_64") : o.qemu;
  if (vm.qemu.empty()) {
    std::cerr << "ksmsim oracle: qemu-system-x86_64 is not installed (run tools/setup-oracle.sh)\n";
    return kOracleCannotRun;
  }
  // The workload's kernel profile names the kernel series to boot ("6.1", "6.12").
  vm.kernel = o.kernel.empty() ? FindKernel(plan.kernel) : o.kernel;
  if (vm.kernel.empty() || access(vm.kernel.c_str(), R_OK) != 0) {
    std::cerr << "ksmsim oracle: no readable Linux " << plan.kernel << " kernel (/boot/vmlinuz-"
              << plan.kernel << ".*; run tools/setup-oracle.sh, or give --kernel)\n";
    return kOracleCannotRun;
  }
  std::error_code self_ec;
  std::string guest = FindGuestBinary(o.guest, getenv("KSMSIM_GUEST"),
                                      std::filesystem::read_symlink("/proc/self/exe", self_ec));
  if (access(guest.c_str(), R_OK) != 0) {
    std::cerr << "ksmsim oracle: the guest program " << guest
              << " is missing (build the ksmsim-guest target, or give --guest)\n";
    return kOracleCannotRun;
  }

  char tmpl[] = "/tmp/ksmsim-oracle-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::cerr << "ksmsim oracle: cannot create a temporary directory\n";
    return kOracleCannotRun;
  }
  std::string dir = tmpl;
  vm.initrd = dir + "/initramfs.cpio";
  vm.console_path = dir + "/console.log";
  vm.results_path = dir + "/results.log";
  vm.qemu_log_path = dir + "/qemu.log";
  vm.node_mib = plan.node_mib;
  vm.swap_mib = plan.swap_mib;
  vm.hotplug = plan.uses_hotplug;
  vm.timeout_s = o.timeout_s;
  try {
    CpioArchive cpio;
    for (const char* d : {"dev", "proc", "sys", "run", "modules"}) cpio.AddDirectory(d);
    cpio.AddCharDevice("dev/console", 5, 1);
    cpio.AddFile("init", ReadWholeFile(guest), 0755);
    cpio.AddFile("workload.json", text);
    if (plan.swap_mib > 0) {
      std::string modules = "/lib/modules/" + KernelRelease(vm.kernel);
      int i = 0;
      for (const std::string& m : ModuleLoadOrder(modules, {"zram"})) {
        char name[64];
        snprintf(name, sizeof name, "modules/%02d-%s.ko", i++,
                 std::filesystem::path(m).stem().stem().c_str());
        cpio.AddFile(name, ReadModule(m));
      }
    }
    std::ofstream(vm.initrd, std::ios::binary) << cpio.Finish();
  } catch (const std::exception& e) {
    std::cerr << "ksmsim oracle: building the initramfs: " << e.what() << "\n";
    std::filesystem::remove_all(dir);
    return kOracleCannotRun;
  }

  VmOutcome run = RunVm(vm);
  for (int retry = 1; run.boot_hung && retry <= 2; ++retry) {
    std::cerr << "ksmsim oracle: " << run.error << "; booting again (" << retry << " of 2)\n";
    std::filesystem::remove(vm.results_path);
    std::filesystem::remove(vm.console_path);
    run = RunVm(vm);
  }
  Json doc;
  std::string problem;
  int rc = Collect(vm.results_path, vm.console_path, plan, doc, problem);
  if (!run.error.empty()) {
    problem = run.error;
    rc = kOracleCannotRun;
  }
  if (o.keep_console == "-") {
    std::ifstream console(vm.console_path, std::ios::binary);
    std::cout << console.rdbuf() << std::flush;
  } else if (!o.keep_console.empty()) {
    std::error_code ec;
    std::filesystem::copy_file(vm.console_path, o.keep_console,
                               std::filesystem::copy_options::overwrite_existing, ec);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (rc == 2) {
    std::cerr << "ksmsim oracle: " << problem << "\n";
    std::string qemu_log = TailOfFile(vm.qemu_log_path, 10);
    if (!qemu_log.empty()) std::cerr << "QEMU said:\n" << qemu_log;
    std::string console = TailOfFile(vm.console_path, 30);
    std::cerr << "kernel console (last 30 lines):\n"
              << (console.empty() ? "  (empty: the kernel printed nothing yet)\n" : console);
  }
  if (rc != 2 || !doc["results"].empty()) {
    std::string out = doc.dump(2) + "\n";
    if (o.out.empty() || o.out == "-") {
      std::cout << out;
    } else {
      std::ofstream(o.out) << out;
    }
  }
  std::filesystem::remove_all(dir);
  if (rc != 2) {
    std::cerr << "ksmsim oracle: " << doc["engine"].get<std::string>() << ": "
              << doc["results"].size() << " result(s), " << doc["errors"].size() << " error(s), "
              << static_cast<int>(secs) << " s\n";
    for (const auto& e : doc["errors"]) std::cerr << "  error: " << e.get<std::string>() << "\n";
  }
  return rc;
}

}  // namespace ksmsim::tools
