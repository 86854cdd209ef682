// The stepper's breakpoints and watches (`ksmsim step`): `break page PROC:REGION[i]` stops
// whenever ksmd scans that page (cmp_and_merge_page on it); `watch COUNTER` stops whenever
// that counter's value changes (checked at every KSM event, before each step and batch).
// Both stop every run command except `finish`; they share one numbering for `delete`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/teach/event_filter.h"
#include "workloads/driver.h"

namespace ksmsim::tools {

class StopPoints {
 public:
  // `steps`: the flattened script, for the names of processes and regions.
  explicit StopPoints(const std::vector<workloads::FlatStep>& steps) : steps_(steps) {}

  // The commands; each returns the line to print ("error: ..." when refused).
  std::string Break(const std::vector<std::string>& args);
  std::string Watch(workloads::Driver& d, const std::vector<std::string>& args);
  std::string Delete(const std::vector<std::string>& args);
  std::string List() const;

  // The breakpoints a scan of this page hits ("breakpoint 1 (page a:heap[3])").
  std::vector<std::string> Hits(const workloads::Driver::PageLocation& loc) const;
  // The watches whose counter changed since they last looked ("watch 2: ksm.pages_shared
  // 0 -> 1"); records the new values.
  std::vector<std::string> Changes(workloads::Driver& d);
  bool has_watches() const { return !watches_.empty(); }
  bool has_breaks() const { return !breaks_.empty(); }

 private:
  struct BreakPoint {
    int id;
    teach::PageSelector page;
    std::string text;
  };
  struct WatchPoint {
    int id;
    std::string name;  // group.key or procs.P.key
    std::optional<int64_t> last;
  };
  // A counter's value now (nullopt: a process not alive now); `name` normalised.
  static std::optional<int64_t> Value(workloads::Driver& d, const std::string& name);

  const std::vector<workloads::FlatStep>& steps_;
  std::vector<BreakPoint> breaks_;
  std::vector<WatchPoint> watches_;
  int next_id_ = 1;
};

}  // namespace ksmsim::tools
