// `ksmsim replay TRACE`: run a recorded trace on a fresh machine (docs/TRACE-FORMAT.md).
#include <unistd.h>

#include <iostream>

#include "fmt/format.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/cli/knob_overrides.h"
#include "tools/cli/run_failures.h"
#include "tools/cli/run_limits.h"
#include "tools/cli/run_summary.h"
#include "traces/replay.h"

namespace ksmsim::tools {
namespace {

struct ReplayArgs {
  std::string file;
  std::string out;
  std::vector<std::string> set;
  bool check = false;
  bool force = false;
  bool quiet = false;
  bool json = false;
  RunLimits limits;
};

// What ksmd did compared with the recording, for the closing line.
std::string KsmdVerdict(const traces::ReplayOutcome& r, bool with_set) {
  if (r.waits_compared == 0)
    return fmt::format(
        "the trace recorded no ksmd scan, so none was compared; the replay ran "
        "{} full scan{}",
        r.full_scans, r.full_scans == 1 ? "" : "s");
  if (r.divergences.empty())
    return fmt::format("ksmd ran as recorded at {} wait{} ({} full scans)", r.waits_compared,
                       r.waits_compared == 1 ? "" : "s", r.full_scans);
  return fmt::format("ksmd diverged at {} of {} waits{}", r.divergences.size(), r.waits_compared,
                     with_set ? " (expected with --set)" : "");
}

int Replay(const ReplayArgs& a) {
  workloads::KnobList set;
  if (!ParseKnobOverrides(a.set, &set)) return 2;
  const std::string doc_out = a.json ? std::string(kStdio) : a.out;
  std::vector<std::string> outputs = {doc_out};
  if (a.json && !a.out.empty() && a.out != kStdio) outputs.push_back(a.out);
  if (!CheckOutputs(outputs, a.force)) return 2;
  const std::string name = InputName(a.file);
  traces::ReplayOutcome r;
  try {
    std::string bytes;
    if (!ReadInput(a.file, &bytes)) return 2;
    traces::Trace t;
    try {
      t = traces::Decode(bytes);
    } catch (const traces::TraceError& e) {
      throw traces::TraceError{name + ": " + e.message};
    }
    try {
      if (!a.limits.CheckBudget(traces::TraceWorkload(t, set), name)) return kExitCannotRun;
      r = traces::Replay(t, set, a.check);
    } catch (const traces::TraceError& e) {
      throw traces::TraceError{name + ": " + e.message};
    }
  } catch (const traces::TraceError& e) {
    std::cerr << e.message << "\n" << name << ": invalid trace, nothing was replayed\n";
    return 2;
  }
  const std::string text = r.document.dump(2) + "\n";
  if (!doc_out.empty() && !WriteOutput(doc_out, text)) return 2;
  if (a.json && !a.out.empty() && a.out != kStdio && !WriteOutput(a.out, text)) return 2;
  std::cout.flush();
  for (const auto& d : r.divergences) std::cerr << fmt::format("{}: ksmd diverged: {}\n", name, d);
  StepExpectations expectations;
  for (const auto& [step, expected] : r.expect_errors) expectations.Set(step, expected);
  ReportFailures(std::cerr, r.document, name, expectations, /*strict=*/false,
                 SummaryStyle::ForFd(STDERR_FILENO).color);
  int status = r.exit_status;
  if (!r.divergences.empty() && set.empty() && status == 0) status = 1;
  if (!a.quiet && !AnyStdout(outputs)) {
    std::optional<FinalState> final_state;
    if (!r.last_was_entry) final_state = FinalState{r.final_counters, r.steps_run, r.time_ns};
    PrintRunSummary(std::cout, r.document, name, final_state, false,
                    SummaryStyle::ForFd(STDOUT_FILENO));
    std::cout << fmt::format("\n{}: replayed {} ({} results, {} errors), {}\n", name,
                             r.document["workload"].get<std::string>(),
                             r.document["results"].size(), r.document["errors"].size(),
                             KsmdVerdict(r, !set.empty()));
  }
  return status;
}

RegisterCommand reg{
    {"replay",
     "Replay a recorded trace; exit 0 as recorded, 1 an expect/verify failed or "
     "ksmd diverged (without --set), 2 invalid trace, 3 cannot be carried out",
     [](CLI::App* sub) {
       auto a = std::make_shared<ReplayArgs>();
       sub->add_option("trace", a->file, "the trace (JSON Lines or binary; '-': stdin)")
           ->required();
       AddOutputOption(sub, "--out,-o", &a->out, "write the result document here");
       sub->add_flag("--json", a->json,
                     "print the result document on stdout instead of the "
                     "summary");
       AddKnobOverrideOption(sub, &a->set);
       sub->add_flag("--check", a->check, "run the invariant checker after every step");
       sub->add_flag("--quiet,-q", a->quiet, "print no summary (failures still go to stderr)");
       AddForceFlag(sub, &a->force);
       a->limits.AddOptions(sub, /*work_limits=*/false);
       return [a] { return Replay(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
