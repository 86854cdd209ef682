// `ksmsim report FILE.json -o report.html`: one self-contained HTML page (no network): the
// counters at each snapshot, interactive counter plots, the trees summarised with a view
// of their top levels and a search by page, and the event log of the whole run.
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
  teach::HtmlReportOptions o;
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
  teach::HtmlReport report = teach::RunHtmlReport(*loaded, name, source, a.o);
  if (!WriteOutput(a.out, report.html)) return kExitInvalidInput;
  return report.exit_status;
}

RegisterCommand reg{
    {"report",
     "Run a workload and write one self-contained HTML report (counters per "
     "snapshot, plots, trees, event log)",
     [](CLI::App* sub) {
       auto a = std::make_shared<ReportArgs>();
       sub->add_option("file", a->file, "the workload (JSON, docs/WORKLOAD-FORMAT.md; '-': stdin)")
           ->required();
       AddOutputOption(sub, "--out,-o", &a->out, "the HTML file to write")->required();
       sub->add_option("--max-events", a->o.max_events,
                       "at most this many rows in the event log, sampled "
                       "across every pass (default 10000)")
           ->check(UnsignedIn(0));
       sub->add_option("--tree-levels", a->o.tree_levels,
                       "red-black levels of each tree kept for the tree view "
                       "(default 7)")
           ->check(UnsignedIn(1, 16));
       sub->add_option("--search-runs", a->o.search_runs,
                       "size budget of the search-by-page index, in runs of "
                       "pages over the whole report (default 200000)")
           ->check(UnsignedIn(0));
       AddForceFlag(sub, &a->force);
       a->limits.AddOptions(sub, /*work_limits=*/false);
       return [a] { return Report(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
