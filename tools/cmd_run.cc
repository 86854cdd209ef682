// `ksmsim run FILE.json`: simulate a workload and write the result document.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fmt/format.h"
#include "tools/command.h"
#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::tools {
namespace {

struct RunArgs {
  std::string file;
  std::string out;
  std::string events;
  bool check = false;
  bool quiet = false;
  bool force = false;
  std::optional<uint64_t> seed;
};

void PrintSummary(const nlohmann::ordered_json& doc, const std::string& file) {
  std::cout << fmt::format("{}: {} ({})\n", file, doc["workload"].get<std::string>(),
                           doc["engine"].get<std::string>());
  for (const auto& e : doc["results"]) {
    const auto& k = e["ksm"];
    std::cout << fmt::format(
        "  step {:>4} {:<8} {:<12} full_scans {:>3}  shared {:>6}  sharing {:>7}  unshared "
        "{:>6}  volatile {:>6}  chains {:>3}  dups {:>4}{}\n",
        e["step"].get<uint64_t>(), e["op"].get<std::string>(), e["label"].get<std::string>(),
        k["full_scans"].get<int64_t>(), k["pages_shared"].get<int64_t>(),
        k["pages_sharing"].get<int64_t>(), k["pages_unshared"].get<int64_t>(),
        k["pages_volatile"].get<int64_t>(), k["stable_node_chains"].get<int64_t>(),
        k["stable_node_dups"].get<int64_t>(),
        e["mismatches"].empty() ? "" : fmt::format("  MISMATCH x{}", e["mismatches"].size()));
  }
  for (const auto& err : doc["errors"]) std::cout << "  error: " << err.get<std::string>() << "\n";
  std::cout << (doc["errors"].empty() ? "  ok: every expect and verify held\n"
                                      : "  FAILED\n");
}

int Run(const RunArgs& a) {
  workloads::ParseOutcome parsed = workloads::ParseWorkloadFile(a.file);
  if (!parsed.ok()) {
    for (const auto& e : parsed.errors) std::cerr << e.ToString() << "\n";
    std::cerr << fmt::format("{}: invalid workload, nothing was run\n", a.file);
    return 2;
  }
  workloads::Workload w = *parsed.workload;
  if (a.seed) w.seed = *a.seed;
  for (const std::string& path : {a.out, a.events}) {
    if (!path.empty() && std::filesystem::exists(path) && !a.force) {
      std::cerr << fmt::format("{}: already exists; pass --force to overwrite it\n", path);
      return 2;
    }
  }
  std::ofstream events;
  workloads::DriverOptions opt;
  opt.check = a.check;
  if (!a.events.empty()) {
    events.open(a.events);
    if (!events) {
      std::cerr << fmt::format("{}: cannot open for writing\n", a.events);
      return 2;
    }
    opt.on_event = [&events](const ksm::KsmEvent& e, uint64_t t) {
      nlohmann::ordered_json j;
      j["time_ns"] = t;
      j["event"] = std::string(e.name);
      j["seq"] = e.seq;
      if (e.mm) j["mm"] = e.mm->name;
      if (e.mm) j["addr"] = fmt::format("{:#x}", e.addr);
      if (e.pfn >= 0) j["pfn"] = e.pfn;
      if (e.other_pfn >= 0) j["kpfn"] = e.other_pfn;
      if (e.name == "ksm_merge_one_page") j["err"] = e.err;
      if (e.name == "ksm_start_scan" || e.name == "ksm_stop_scan") j["rmap_num"] = e.rmap_num;
      events << j.dump() << "\n";
    };
  }
  auto t0 = std::chrono::steady_clock::now();
  bool tty = isatty(STDERR_FILENO) && !a.quiet;
  opt.on_progress = [&](uint64_t step, uint64_t total) {
    if (!tty) return;
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (secs > 2) std::cerr << fmt::format("\rstep {}/{}", step + 1, total) << std::flush;
  };
  workloads::Driver driver(w, opt);
  nlohmann::ordered_json doc = driver.Run();
  if (tty) std::cerr << "\r" << std::string(30, ' ') << "\r";
  if (!a.out.empty()) {
    std::ofstream out(a.out);
    out << doc.dump(2) << "\n";
    if (!out) {
      std::cerr << fmt::format("{}: cannot write the result\n", a.out);
      return 2;
    }
  }
  if (!a.quiet) PrintSummary(doc, a.file);
  return driver.exit_status();
}

RegisterCommand reg{{"run",
                     "Simulate a workload and report the KSM counters (exit 0 all expects held, "
                     "1 some failed, 2 invalid input)",
                     [](CLI::App* sub) {
                       auto a = std::make_shared<RunArgs>();
                       sub->add_option("file", a->file, "the workload (JSON, WORKLOAD-FORMAT v1)")
                           ->required();
                       sub->add_option("--out,-o", a->out, "write the result document here");
                       sub->add_option("--events", a->events,
                                       "write the KSM event log (JSON Lines, tracepoint names)");
                       sub->add_flag("--check", a->check,
                                     "run the invariant checker after every step");
                       sub->add_option("--seed", a->seed, "override the workload's seed");
                       sub->add_flag("--quiet,-q", a->quiet, "print no summary");
                       sub->add_flag("--force", a->force, "overwrite existing output files");
                       return [a] { return Run(*a); };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
