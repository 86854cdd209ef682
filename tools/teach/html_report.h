// The HTML report behind `ksmsim report`: runs a workload and builds one self-contained
// page (no network) that stays small and quick at a million pages: the workload, a table
// of the counters at each snapshot (the result document's entries), interactive counter
// plots (uPlot, compiled in), the trees summarised at each snapshot and expect step with a
// view of their top levels and a search by page, and the event log of the whole run
// (counts by pass and kind, rows sampled across every pass, a filter).
#pragma once

#include <cstdint>
#include <string>

#include "workloads/workload.h"

namespace ksmsim::tools::teach {

struct HtmlReportOptions {
  uint64_t max_events = 10000;    // at most this many rows in the event log
  uint64_t rows_per_group = 50;   // the first rows of each pass and kind of event kept
  uint64_t search_runs = 200000;  // the page index's size budget (runs, whole report)
  int tree_levels = 7;            // red-black levels kept for the tree view
};

struct HtmlReport {
  std::string html;
  int exit_status = 0;  // the driver's: 0 every expect and verify held, 1 otherwise
};

// Runs `w`; `file` and `source` are the workload's path and text, shown on the page.
HtmlReport RunHtmlReport(const workloads::Workload& w, const std::string& file,
                         const std::string& source, const HtmlReportOptions& o);

}  // namespace ksmsim::tools::teach
