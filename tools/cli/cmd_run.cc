// `ksmsim run FILE.json`: simulate a workload and write the result document.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "tools/cli/command.h"
#include "tools/cli/load_workload.h"
#include "tools/teach/timeline.h"
#include "tools/teach/trees.h"
#include "tools/cli/run_limits.h"
#include "traces/replay.h"
#include "workloads/driver.h"

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
  std::string profile;  // --profile: replaces the workload's `kernel`
  std::string timeline;
  uint64_t timeline_ms = 100;
  std::string dump_trees;
  std::string record;
  RunLimits limits;
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
  std::optional<workloads::KernelProfile> profile;
  if (!a.profile.empty()) {
    profile = workloads::KernelProfileFromName(a.profile);
    if (!profile) {
      std::cerr << fmt::format("--profile: unknown kernel profile \"{}\" (known: {})\n", a.profile,
                               fmt::join(workloads::KernelProfileNames(), ", "));
      return kExitInvalidInput;
    }
  }
  std::optional<workloads::Workload> loaded = LoadWorkloadOrReport(a.file, std::cerr, profile);
  if (!loaded) return kExitInvalidInput;
  workloads::Workload w = *loaded;
  if (a.seed) w.seed = *a.seed;
  if (!a.limits.CheckBudget(w, a.file)) return kExitCannotRun;
  for (const std::string& path : {a.out, a.events, a.timeline, a.record}) {
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
  workloads::Driver* dp = nullptr;
  RunLimits limits = a.limits;
  limits.quiet = a.quiet;
  teach::TimelineSampler sampler(a.timeline_ms * 1000000);
  if (!a.timeline.empty()) {
    opt.before_time = [&](uint64_t t) { sampler.Before(*dp, t); };
  }
  if (!a.dump_trees.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(a.dump_trees, ec);
    if (ec) {
      std::cerr << fmt::format("{}: cannot create the directory: {}\n", a.dump_trees,
                               ec.message());
      return 2;
    }
    opt.after_step = [&](const workloads::FlatStep& fs) {
      if (fs.step->op != workloads::Op::kSnapshot && fs.step->op != workloads::Op::kExpect)
        return;
      for (bool stable : {true, false}) {
        std::string base = fmt::format("{}/step-{:04}-{}", a.dump_trees, fs.index,
                                       stable ? "stable" : "unstable");
        std::ofstream f(base + ".dot");
        f << (stable ? teach::StableTreesDot(*dp) : teach::UnstableTreesDot(*dp));
        f.close();
        teach::DotToSvg(base + ".dot", base + ".svg");
      }
    };
  }
  std::optional<traces::Recorder> recorder;
  if (!a.record.empty()) {
    recorder.emplace(w);
    recorder->Install(opt);
  }
  limits.Install(opt, &dp);
  workloads::Driver driver(w, opt);
  dp = &driver;
  if (recorder) recorder->Bind(&driver);
  nlohmann::ordered_json doc = driver.Run();
  if (recorder) {
    try {
      bool binary = a.record.size() >= 5 && a.record.substr(a.record.size() - 5) == ".ksmt";
      traces::WriteTraceFile(a.record, recorder->trace(),
                             binary ? traces::Encoding::kBinary : traces::Encoding::kJsonl);
    } catch (const traces::TraceError& e) {
      std::cerr << e.message << "\n";
      return 2;
    }
  }
  if (!a.timeline.empty()) {
    sampler.Finish(driver);
    std::ofstream f(a.timeline);
    f << sampler.Csv();
    if (!f) {
      std::cerr << fmt::format("{}: cannot write the timeline\n", a.timeline);
      return 2;
    }
  }
  limits.Finish();
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
                     "Simulate a workload and report the KSM counters (exit 0 every expect and "
                     "verify held, 1 one failed, 2 invalid input, 3 valid but cannot be carried "
                     "out: simulated machine out of memory, a wait that can never finish, the "
                     "host budget or a work limit)",
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
                       sub->add_option("--profile", a->profile,
                                       "kernel profile, overriding the workload's \"kernel\": "
                                       "6.1, 6.1-zero-unshare or 6.12");
                       sub->add_flag("--quiet,-q", a->quiet, "print no summary");
                       sub->add_option("--timeline", a->timeline,
                                       "write every counter (sysfs and KSM vmstat) as CSV, "
                                       "sampled every --timeline-ms of simulated time");
                       sub->add_option("--timeline-ms", a->timeline_ms,
                                       "timeline sampling period in simulated ms (default "
                                       "100); a sample shows the counters at that instant, "
                                       "a last row is written at the end of the run")
                           ->check(CLI::PositiveNumber);
                       sub->add_option("--dump-trees", a->dump_trees,
                                       "at each snapshot and expect step, write the stable and "
                                       "unstable trees as DIR/step-NNNN-{stable,unstable}.dot "
                                       "(and .svg when Graphviz's dot is installed)");
                       sub->add_option("--record", a->record,
                                       "record the run as a trace (docs/TRACE-FORMAT.md): "
                                       "binary when the name ends in .ksmt, else JSON Lines");
                       sub->add_flag("--force", a->force, "overwrite existing output files");
                       a->limits.AddOptions(sub, /*work_limits=*/true);
                       return [a] { return Run(*a); };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
