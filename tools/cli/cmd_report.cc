// `ksmsim report FILE.json -o report.html`: one self-contained HTML page (no network): the
// workload, the final counters, the counter plot, the trees at each snapshot and expect
// step, and a filterable log of ksmd's decisions and the KSM events.
#include <iostream>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/cli/load_workload.h"
#include "tools/cli/run_limits.h"
#include "tools/teach/html_report.h"

namespace ksmsim::tools {
namespace {

struct ReportArgs {
  std::string file, out;
  uint64_t timeline_ms = 100;
  uint64_t max_events = 20000;
  bool force = false;
  RunLimits limits;
};

int Report(const ReportArgs& a) {
  if (!CheckOutputs({a.out}, a.force)) return kExitInvalidInput;
  std::string source;
  std::optional<workloads::Workload> loaded = LoadWorkloadOrReport(a.file, std::cerr, &source);
  if (!loaded) return kExitInvalidInput;
  const std::string name = InputName(a.file);
  if (!a.limits.CheckBudget(*loaded, name)) return kExitCannotRun;
  teach::HtmlReportOptions o;
  o.timeline_ms = a.timeline_ms;
  o.max_events = a.max_events;
  teach::HtmlReport report = teach::RunHtmlReport(*loaded, name, source, o);
  if (!WriteOutput(a.out, report.html)) return kExitInvalidInput;
  return report.exit_status;
}

RegisterCommand reg{
    {"report",
     "Run a workload and write one self-contained HTML report (counters, plot, "
     "trees, filterable event log)",
     [](CLI::App* sub) {
       auto a = std::make_shared<ReportArgs>();
       sub->add_option("file", a->file, "the workload (JSON, docs/WORKLOAD-FORMAT.md; '-': stdin)")
           ->required();
       AddOutputOption(sub, "--out,-o", &a->out, "the HTML file to write")->required();
       sub->add_option("--timeline-ms", a->timeline_ms,
                       "counter sampling period in simulated ms (default 100)")
           ->check(UnsignedIn(1));
       sub->add_option("--max-events", a->max_events,
                       "at most this many rows in the event log (default 20000)")
           ->check(UnsignedIn(0));
       AddForceFlag(sub, &a->force);
       a->limits.AddOptions(sub, /*work_limits=*/false);
       return [a] { return Report(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
