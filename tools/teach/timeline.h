// Counter timelines (`run --timeline`, the report): the KSM sysfs counters and the KSM
// vmstat sampled on a grid of simulated time, as CSV.
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

// Samples the counters every `every_ns` of simulated time (DriverOptions::before_time).
class TimelineSampler {
 public:
  explicit TimelineSampler(uint64_t every_ns) : every_(every_ns ? every_ns : 1) {}
  void Before(workloads::Driver& d, uint64_t time_ns);  // sample grid points < time_ns
  void Finish(workloads::Driver& d);                     // a last row at the end
  std::string Csv() const;
  std::vector<std::string> columns;
  std::vector<std::pair<uint64_t, std::vector<int64_t>>> rows;  // time_ns, values

 private:
  uint64_t every_;
  uint64_t next_ = 0;
};

}  // namespace ksmsim::tools::teach
