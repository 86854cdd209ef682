// The oracle guest's view of the kernel: sysfs and procfs reads and writes, module
// loading, the zram swap device, and the map from a workload's (node, block) to memory blocks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/oracle/guest/plan.h"
#include "workloads/field_values.h"

namespace ksmsim::oracle {

// "EBUSY", "EINVAL", ... or "none" for 0: the simulator's names (workloads/field_values.h).
using workloads::ErrnoName;

// Reads a whole file; throws with the path and errno on failure.
std::string ReadFile(const std::string& path);
// Writes `value` in one write(); returns 0 or the errno.
int WriteFile(const std::string& path, const std::string& value);

// Mounts /proc, /sys, /dev (devtmpfs) and /run (tmpfs).
void MountBasics();

// Pins this process (and so every worker forked from it) and the ksmd kthread to CPU 0
// (on node 0): faults that ksmd or the sysfs writer take for a workload process allocate
// on node 0, and ksmd's per-CPU mlock batch is one batch (docs/ORACLE.md "CPU placement").
// Returns ksmd's pid; throws when ksmd cannot be found or pinned.
int PinToCpuZero();

// Loads every /modules/*.ko in name order with finit_module.
void LoadModules(const std::string& dir);

// Creates /dev/zram0 of `mib` MiB, writes a swap header on it and swaps on.
void SetupZramSwap(uint64_t mib);

// Every numeric file of /sys/kernel/mm/ksm, with `run` and `sleep_millisecs` replaced by
// the workload's values (the kernel's differ: see executor.cc).
Json ReadKsmCounters(int64_t desired_run, uint64_t desired_sleep_ms);
// ksm_merging_pages and ksm_rmap_items of one process.
Json ReadProcCounters(pid_t pid);
// cow_ksm, ksm_swpin_copy, pswpin, pswpout from /proc/vmstat.
Json ReadVmstat();
uint64_t ReadKsmValue(const std::string& name);
// The same, or nullopt when the kernel has no such file (6.12's pages_scanned on 6.1).
std::optional<uint64_t> ReadKsmValueIfAny(const std::string& name);

// The hot-pluggable memory blocks of each NUMA node: memory blocks whose zone is Movable,
// in ascending block number; a workload's (node, block) is blocks[node][block].
std::vector<std::vector<int>> MovableMemoryBlocks(size_t nodes);

}  // namespace ksmsim::oracle
