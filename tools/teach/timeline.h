// Counter timelines (`run --timeline`, the report, `plot`): the KSM sysfs counters and the
// KSM vmstat as CSV, either one row at each change, at the exact simulated time of the
// change, or sampled on a grid of simulated time.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "workloads/driver.h"

namespace ksmsim::tools::teach {

// The counters sampled for --timeline: every /sys/kernel/mm/ksm file and the KSM vmstat.
std::vector<std::string> TimelineColumns(workloads::Driver& d);
std::vector<int64_t> TimelineRow(workloads::Driver& d);

// Samples the counters (DriverOptions::before_time). every_ns 0: a row whenever a value
// differs from the last row, at the simulated time when it changed (the time of the ksmd
// batch or the step that changed it: before time moves on, the counters are those of
// queue().now()); a row at time 0 holds the starting values. every_ns > 0: a row at each
// multiple of every_ns.
class TimelineSampler {
 public:
  explicit TimelineSampler(uint64_t every_ns) : every_(every_ns) {}
  void Before(workloads::Driver& d, uint64_t time_ns);  // called before time moves to time_ns
  void Finish(workloads::Driver& d);                    // a last row at the end
  std::string Csv() const;
  std::vector<std::string> columns;
  std::vector<std::pair<uint64_t, std::vector<int64_t>>> rows;  // time_ns, values

 private:
  void Observe(workloads::Driver& d);  // change mode: a row now if a value changed
  uint64_t every_;
  uint64_t next_ = 0;
};

}  // namespace ksmsim::tools::teach
