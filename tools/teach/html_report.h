// The HTML report behind `ksmsim report`: runs a workload and builds one self-contained
// page (no network): the workload, the final counters, the counter plot, the trees at each
// snapshot and expect step, and a filterable log of ksmd's decisions and the KSM events.
#pragma once

#include <cstdint>
#include <string>

#include "workloads/workload.h"

namespace ksmsim::tools::teach {

struct HtmlReportOptions {
  uint64_t timeline_ms = 100;   // counter sampling period in simulated ms
  uint64_t max_events = 20000;  // at most this many rows in the event log
};

struct HtmlReport {
  std::string html;
  int exit_status = 0;  // the driver's: 0 every expect and verify held, 1 otherwise
};

// Runs `w`; `file` and `source` are the workload's path and text, shown on the page.
HtmlReport RunHtmlReport(const workloads::Workload& w, const std::string& file,
                         const std::string& source, const HtmlReportOptions& o);

}  // namespace ksmsim::tools::teach
