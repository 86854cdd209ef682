// The host budget: before a run allocates anything, an upper bound on the host memory the
// workload will need, from what its steps declare they touch (pages written, read, verified
// or pinned, per process and region, each region counted at most once; forks; result
// entries), compared with the memory available. A run that cannot fit stops at once with
// exit status 3 instead of failing hours later in bad_alloc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "workloads/workload.h"

namespace ksmsim::workloads {

// Host bytes per page a workload touches, an upper bound of the measured cost (frame
// descriptor, PTE and table share, what was written, rmap_item, stable node, content entry,
// swap slot; docs/PERFORMANCE.md measures ~180).
inline constexpr uint64_t kHostBytesPerTouchedPage = 384;

struct HostEstimate {
  uint64_t bytes = 0;  // for the whole run
  // The first step whose running total passes the limit given to EstimateHostMemory (when
  // one does): its flattened index (first occurrence), op and JSON path.
  std::optional<uint64_t> over_step;
  Op over_op = Op::kSpawn;
  std::string over_path;
  uint64_t over_bytes = 0;  // the running total at that step
};

// Walks the script without expanding repeats (a repeat multiplies its body's touches).
HostEstimate EstimateHostMemory(const Workload& workload, uint64_t limit_bytes);

// MemAvailable of /proc/meminfo in bytes, or nullopt when it cannot be read.
std::optional<uint64_t> HostMemAvailable();

// The budget check of `run`, `replay`, `report`, `explain` and `step`: the limit is the
// smaller of MemAvailable and max_memory_mib (0 = none). Returns the message to print
// (naming the step, the estimate and the limit) when the workload does not fit.
std::optional<std::string> CheckHostBudget(const Workload& workload, uint64_t max_memory_mib);

}  // namespace ksmsim::workloads
