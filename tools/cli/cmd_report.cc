// `ksmsim report FILE.json -o report.html`: one self-contained HTML page (no network): the
// workload, the final counters, the counter plot, the trees at each snapshot and expect
// step, and a filterable log of ksmd's decisions and the KSM events.
#include <fstream>
#include <iostream>
#include <sstream>

#include "fmt/format.h"
#include "tools/cli/command.h"
#include "tools/cli/load_workload.h"
#include "tools/cli/run_limits.h"
#include "tools/teach/html_report.h"

namespace ksmsim::tools {
namespace {

struct ReportArgs {
  std::string file, out;
  uint64_t timeline_ms = 100;
  uint64_t max_events = 20000;
  RunLimits limits;
};

int Report(const ReportArgs& a) {
  std::optional<workloads::Workload> loaded = LoadWorkloadOrReport(a.file);
  if (!loaded) return kExitInvalidInput;
  if (!a.limits.CheckBudget(*loaded, a.file)) return kExitCannotRun;
  std::string source;
  {
    std::ifstream in(a.file);
    std::stringstream ss;
    ss << in.rdbuf();
    source = ss.str();
  }
  teach::HtmlReportOptions o;
  o.timeline_ms = a.timeline_ms;
  o.max_events = a.max_events;
  teach::HtmlReport report = teach::RunHtmlReport(*loaded, a.file, source, o);
  std::ofstream out(a.out);
  out << report.html;
  if (!out) {
    std::cerr << fmt::format("{}: cannot write\n", a.out);
    return 2;
  }
  return report.exit_status;
}

RegisterCommand reg{{"report",
                     "Run a workload and write one self-contained HTML report (counters, plot, "
                     "trees, filterable event log)",
                     [](CLI::App* sub) {
                       auto a = std::make_shared<ReportArgs>();
                       sub->add_option("file", a->file, "the workload (JSON, WORKLOAD-FORMAT v1)")
                           ->required();
                       sub->add_option("--out,-o", a->out, "the HTML file to write")->required();
                       sub->add_option("--timeline-ms", a->timeline_ms,
                                       "counter sampling period in simulated ms (default 100)")
                           ->check(CLI::PositiveNumber);
                       sub->add_option("--max-events", a->max_events,
                                       "at most this many rows in the event log (default 20000)");
                       a->limits.AddOptions(sub, /*work_limits=*/false);
                       return [a] { return Report(*a); };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
