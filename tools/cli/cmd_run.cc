// `ksmsim run FILE.json`: simulate a workload, print the counters at each expect/snapshot
// step and at the end (run_summary.h), report failures on stderr (run_failures.h) and write
// the result document, event log, timeline, trees and trace that were asked for (io.h).
// With two --profile, the two kernels side by side (run_versions.h).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/cli/knob_overrides.h"
#include "tools/cli/load_workload.h"
#include "tools/cli/run_failures.h"
#include "tools/cli/run_limits.h"
#include "tools/cli/run_summary.h"
#include "tools/cli/run_versions.h"
#include "tools/teach/event_filter.h"
#include "tools/teach/event_log.h"
#include "tools/teach/perfetto.h"
#include "tools/teach/timeline.h"
#include "tools/teach/trees.h"
#include "traces/replay.h"
#include "workloads/driver.h"

namespace ksmsim::tools {
namespace {

struct RunArgs {
  std::string file;
  std::string out;
  std::string events;
  std::vector<std::string> events_filter;
  std::string perfetto;
  bool check = false;
  bool quiet = false;
  bool force = false;
  bool json = false;
  bool strict = false;
  std::optional<uint64_t> seed;
  std::vector<std::string> set;
  // --profile: replaces the workload's `kernel`; two of them: the side-by-side comparison
  std::vector<std::string> profiles;
  std::string timeline;
  uint64_t timeline_ms = 0;
  std::string dump_trees;
  std::string record;
  RunLimits limits;
};

// Two --profile: the side-by-side comparison (run_versions.h), which takes the options
// that make sense for two runs and refuses those that write one run's files.
int RunSideBySide(const RunArgs& a) {
  const std::pair<const char*, bool> one_run[] = {
      {"--events", !a.events.empty()},       {"--events-filter", !a.events_filter.empty()},
      {"--perfetto", !a.perfetto.empty()},   {"--timeline", !a.timeline.empty()},
      {"--timeline-ms", a.timeline_ms != 0}, {"--dump-trees", !a.dump_trees.empty()},
      {"--record", !a.record.empty()}};
  for (const auto& [option, given] : one_run) {
    if (!given) continue;
    std::cerr << fmt::format(
        "{}: writes one run's file; with two --profile, run each profile on its own for it "
        "(ksmsim run W.json --profile 6.12 {} ...)\n",
        option, option);
    return kExitInvalidInput;
  }
  VersionsArgs v;
  v.file = a.file;
  v.profiles = a.profiles;
  v.out = a.out;
  v.json = a.json;
  v.check = a.check;
  v.quiet = a.quiet;
  v.force = a.force;
  v.strict = a.strict;
  v.seed = a.seed;
  v.set = a.set;
  v.limits = a.limits;
  return RunVersions(v);
}

int Run(const RunArgs& a) {
  if (a.profiles.size() > 1) return RunSideBySide(a);
  std::optional<workloads::KernelProfile> profile;
  if (!a.profiles.empty()) {
    profile = workloads::KernelProfileFromName(a.profiles[0]);
    if (!profile) {
      std::cerr << fmt::format("--profile: unknown kernel profile \"{}\" (known: {})\n",
                               a.profiles[0], fmt::join(workloads::KernelProfileNames(), ", "));
      return kExitInvalidInput;
    }
  }
  workloads::KnobList set;
  if (!ParseKnobOverrides(a.set, &set)) return kExitInvalidInput;
  const std::string doc_out = a.json ? std::string(kStdio) : a.out;
  std::vector<std::string> outputs = {doc_out, a.events, a.timeline, a.record, a.perfetto};
  if (a.json && !a.out.empty() && a.out != kStdio) outputs.push_back(a.out);
  if (!CheckOutputs(outputs, a.force, {a.dump_trees})) return kExitInvalidInput;
  std::optional<workloads::Workload> loaded =
      LoadWorkloadOrReport(a.file, std::cerr, nullptr, profile);
  if (!loaded) return kExitInvalidInput;
  const std::string name = InputName(a.file);
  workloads::Workload w = *loaded;
  if (a.seed) w.seed = *a.seed;
  ApplyKnobOverrides(set, &w.ksm);
  if (!a.limits.CheckBudget(w, name)) return kExitCannotRun;
  std::string filter_error;
  std::optional<teach::EventFilter> filter =
      teach::EventFilter::Parse(a.events_filter, &filter_error);
  if (!filter) {
    std::cerr << fmt::format("--events-filter {}\n", filter_error);
    return kExitInvalidInput;
  }
  if (!filter->empty() && a.events.empty()) {
    std::cerr << "--events-filter selects lines of the event log: give --events FILE too\n";
    return kExitInvalidInput;
  }
  OutputStream events;
  workloads::DriverOptions opt;
  opt.check = a.check;
  workloads::Driver* dp = nullptr;
  if (!a.events.empty()) {
    if (!events.Open(a.events)) return kExitInvalidInput;
    opt.on_event = [&events, &filter, &dp](const ksm::KsmEvent& e, uint64_t t) {
      teach::EventView v = teach::ViewEvent(*dp, e, t);
      if (filter->Matches(v)) events.stream() << teach::EventLine(*dp, v);
    };
  }
  OutputStream perfetto_out;
  std::optional<teach::PerfettoTrace> perfetto;
  if (!a.perfetto.empty()) {
    if (!perfetto_out.Open(a.perfetto)) return kExitInvalidInput;
    perfetto.emplace(perfetto_out.stream());
    perfetto->Install(opt);
  }
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
      std::cerr << fmt::format("{}: cannot create the directory: {}\n", a.dump_trees, ec.message());
      return kExitInvalidInput;
    }
  }
  StepExpectations expectations;
  bool last_was_entry = false;
  uint64_t steps_run = 0;
  opt.after_step = [&](const workloads::FlatStep& fs) {
    expectations.Note(fs);
    steps_run = fs.index + 1;
    const bool entry =
        fs.step->op() == workloads::Op::kSnapshot || fs.step->op() == workloads::Op::kExpect;
    last_was_entry = entry;
    if (!entry || a.dump_trees.empty()) return;
    for (bool stable : {true, false}) {
      std::string base =
          fmt::format("{}/step-{:04}-{}", a.dump_trees, fs.index, stable ? "stable" : "unstable");
      WriteOutput(base + ".dot",
                  stable ? teach::StableTreesDot(*dp) : teach::UnstableTreesDot(*dp));
      teach::DotToSvg(base + ".dot", base + ".svg");
    }
  };
  std::optional<traces::Recorder> recorder;
  if (!a.record.empty()) {
    recorder.emplace(w);
    recorder->Install(opt);
  }
  limits.Install(opt, &dp);
  workloads::Driver driver(w, opt);
  dp = &driver;
  if (recorder) recorder->Bind(&driver);
  if (perfetto) perfetto->Bind(&driver);
  nlohmann::ordered_json doc = driver.Run();
  if (perfetto) perfetto->Finish();
  if (!a.perfetto.empty() && !perfetto_out.Close()) return kExitInvalidInput;
  if (!a.events.empty() && !events.Close()) return kExitInvalidInput;
  if (recorder) {
    bool binary = a.record.ends_with(".ksmt");
    if (!WriteOutput(a.record,
                     traces::Encode(recorder->trace(),
                                    binary ? traces::Encoding::kBinary : traces::Encoding::kJsonl)))
      return kExitInvalidInput;
  }
  if (!a.timeline.empty()) {
    sampler.Finish(driver);
    if (!WriteOutput(a.timeline, sampler.Csv())) return kExitInvalidInput;
  }
  limits.Finish();
  const std::string text = doc.dump(2) + "\n";
  if (!doc_out.empty() && !WriteOutput(doc_out, text)) return kExitInvalidInput;
  if (a.json && !a.out.empty() && a.out != kStdio && !WriteOutput(a.out, text))
    return kExitInvalidInput;
  // The summary on stdout first, then the failures on stderr (below it on a terminal).
  std::ostringstream failure_text;
  FailureReport failures = ReportFailures(failure_text, doc, name, expectations, a.strict,
                                          SummaryStyle::ForFd(STDERR_FILENO).color);
  int status = driver.exit_status();
  if (status == 0 && a.strict && failures.unexpected > 0) status = 1;
  if (!a.quiet && !AnyStdout(outputs)) {
    std::optional<FinalState> final_state;
    if (!last_was_entry)
      final_state = FinalState{driver.Counters(), steps_run, driver.queue().now()};
    PrintRunSummary(std::cout, doc, name, final_state, status == 0,
                    SummaryStyle::ForFd(STDOUT_FILENO));
  }
  std::cout.flush();
  std::cerr << failure_text.str();
  return status;
}

RegisterCommand reg{
    {"run",
     "Simulate a workload and report the KSM counters (exit 0 every expect and verify held, 1 "
     "one failed, 2 invalid input, 3 valid but cannot be carried out: simulated machine out "
     "of memory, a wait that can never finish, the host budget or a work limit)",
     [](CLI::App* sub) {
       auto a = std::make_shared<RunArgs>();
       sub->add_option("file", a->file, "the workload (JSON, docs/WORKLOAD-FORMAT.md; '-': stdin)")
           ->required();
       AddOutputOption(sub, "--out,-o", &a->out, "write the result document here");
       sub->add_flag("--json", a->json,
                     "print the result document on stdout instead of the summary");
       AddOutputOption(sub, "--events", &a->events,
                       "write the KSM event log (JSON Lines, tracepoint names): every line "
                       "has time_ns, event, seq; ksmd's events their pass (1 = the first); "
                       "decisions func, what, mm, addr, page, pfn (docs/EVENTS.md)");
       sub->add_option("--events-filter", a->events_filter,
                       "keep only the event lines that match every term: "
                       "event=NAME,... func=NAME,... what=CODE,... proc=NAME,... "
                       "page=[PROC:]REGION[[A..B]],... pass=A..B,... (terms separated by "
                       "spaces or given as several options; commas separate alternatives; "
                       "e.g. --events-filter 'what=merged_two,merged_ksm "
                       "page=child:heap[0..63] pass=2..')");
       AddOutputOption(sub, "--perfetto", &a->perfetto,
                       "write the run as a timeline in the Trace Event Format (JSON; opens "
                       "in ui.perfetto.dev and chrome://tracing): ksmd's passes and "
                       "batches, each process's merges, COW breaks, swap-ins and "
                       "migrations, the counters; in simulated time");
       sub->add_flag("--check", a->check, "run the invariant checker after every step");
       sub->add_option("--seed", a->seed, "override the workload's seed")->check(UnsignedIn(0));
       sub->add_option("--profile", a->profiles,
                       "kernel profile, overriding the workload's \"kernel\": 6.1, "
                       "6.1-zero-unshare or 6.12; given twice (--profile 6.1 --profile 6.12), "
                       "runs the workload under both and prints their counters side by side "
                       "with the first point where they diverge and why (--json, --out: as a "
                       "document)")
           ->allow_extra_args(false);  // each --profile takes one name, not the file after it
       AddKnobOverrideOption(sub, &a->set);
       sub->add_flag("--strict", a->strict,
                     "a knob write that fails without the step's expect_error fails the run "
                     "(exit 1)");
       sub->add_flag("--quiet,-q", a->quiet,
                     "print no summary (failures and warnings still go to stderr)");
       AddOutputOption(sub, "--timeline", &a->timeline,
                       "write every counter (sysfs and KSM vmstat) as CSV: a row at each "
                       "change, at its simulated time");
       sub->add_option("--timeline-ms", a->timeline_ms,
                       "sample on a grid of N simulated ms instead (default 0: a row at each "
                       "change); a last row is written at the end of the run")
           ->check(UnsignedIn(0));
       AddOutputDirOption(sub, "--dump-trees", &a->dump_trees,
                          "at each snapshot and expect step, write the stable and unstable "
                          "trees as DIR/step-NNNN-{stable,unstable}.dot (and .svg when "
                          "Graphviz's dot is installed)");
       AddOutputOption(sub, "--record", &a->record,
                       "record the run as a trace (docs/TRACE-FORMAT.md): binary when the "
                       "name ends in .ksmt, else JSON Lines");
       AddForceFlag(sub, &a->force);
       a->limits.AddOptions(sub, /*work_limits=*/true);
       return [a] { return Run(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
