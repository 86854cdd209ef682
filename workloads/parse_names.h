// The name checks of a workload: which processes and regions exist at each step, followed
// through the script in execution order (forks inherit regions, exits end processes).
#pragma once

#include <vector>

#include "workloads/parse_reader.h"
#include "workloads/workload.h"

namespace ksmsim::workloads {

// First virtual address of a process's regions, and the end of the x86-64 user address
// space (TASK_SIZE, 128 TiB minus one page). WORKLOAD-FORMAT.md "Addresses".
inline constexpr uint64_t kFirstRegionAddress = 0x200000000000;
inline constexpr uint64_t kTaskSize = 0x7ffffffff000;

// Reports, once per step path: spawning a live process name, forking to a live name,
// naming a process that was never spawned or has exited, mmapping an existing region name,
// naming a region the process does not have, a range past the region's end, expecting
// counters of a process that does not exist, and regions that no longer fit in the user
// address space. Steps inside `repeat` are followed for every repetition (stopping once a
// repetition changes nothing).
void CheckScriptNames(const std::vector<Step>& steps, Reader& reader);

}  // namespace ksmsim::workloads
