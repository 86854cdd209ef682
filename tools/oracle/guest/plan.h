// The kernel oracle's plan: a workload, as `ksmsim validate`'s parser types it, turned into a
// flat list of concrete actions (repeat expanded, processes and regions resolved to
// addresses, content counters fixed). Shared by the host (before booting: host/admit.h) and
// the guest (execution).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "workloads/workload.h"

namespace ksmsim::oracle {

using Json = nlohmann::ordered_json;

// A valid workload the kernel oracle cannot run (docs/ORACLE.md "Limitations"): the message
// names the JSON path and says "a limitation of the kernel oracle".
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kFirstRegionAddress = 0x200000000000ULL;
inline constexpr uint64_t kRegionAlign = 2ULL << 20;

// What a `write` puts into each page of its range (WORKLOAD-FORMAT "Byte for byte").
enum class DataKind { kFill, kUnique, kKey, kCycle, kPool, kPatch };

struct DataSpec {
  DataKind kind = DataKind::kFill;
  uint8_t byte = 0;      // fill value, or the patch's value
  uint16_t offset = 0;   // patch offset
  std::string key;       // key S
  uint64_t k = 0;        // cycle K, pool K
  uint64_t first_n = 0;  // pool/unique: the run-wide counter of the range's first page
};

// One page's content as the worker writes it.
enum class PageKind : uint8_t { kFill = 0, kGen = 1, kPatch = 2 };
struct PageData {
  PageKind kind = PageKind::kFill;
  uint8_t byte = 0;     // fill value or patch value
  uint16_t offset = 0;  // patch offset
  uint32_t pad = 0;
  uint64_t seed = 0;  // gen(seed)
};

enum class ActionKind {
  kSpawn,
  kFork,
  kExit,
  kMmap,
  kMunmap,
  kMadvise,
  kWrite,
  kRead,
  kVerify,
  kMigrate,
  kPin,
  kUnpin,
  kOffline,
  kOnline,
  kKsm,
  kWaitMs,
  kWaitFullScans,
  kExpect,
  kSnapshot,
  kPrctl,
};

using Advice = workloads::Advice;  // the worker passes it as an int: values are fixed

struct Action {
  ActionKind kind;
  uint64_t step = 0;  // index in the flattened (repeat-expanded) script
  std::string op;     // the workload's op name
  std::string path;   // JSON path of the step, e.g. steps[4].steps[1]
  int proc = -1;      // process id (index into Plan::proc_names)
  int child = -1;     // fork: the child's id
  std::string region;
  uint64_t addr = 0;          // address of the range's first page
  uint64_t pages = 0;         // pages in the range
  uint64_t region_first = 0;  // index of the range's first page inside the region
  int node = -1;              // spawn/mmap/migrate/offline/online
  bool locked = false;
  Advice advice = Advice::kMergeable;
  DataSpec data;
  int block = -1;
  std::string expect_error;                         // "" when not given
  std::vector<std::pair<std::string, Json>> knobs;  // ksm: in the order given
  uint64_t amount = 0;  // wait: ms or full_scans; prctl: memory_merge
  Json expect;  // expect: {"ksm":{..},"procs":{..},"vmstat":{..}}
  std::string label;
};

struct Plan {
  std::string name;
  uint64_t seed = 0;
  std::string kernel = "6.1";
  std::vector<uint64_t> node_mib;  // machine.nodes[i].memory_mib
  uint64_t swap_mib = 0;
  uint64_t block_mib = 128;
  std::vector<std::pair<std::string, Json>> initial_knobs;
  std::vector<std::string> proc_names;  // by process id
  std::vector<Action> actions;
  bool uses_hotplug = false;
  uint64_t max_pages_per_action = 0;
};

// Plans a workload that `ksmsim validate` accepts; throws PlanError for a limitation.
Plan MakePlan(const workloads::Workload& workload);

// The content of page `k` (0-based inside the action's range) of a write action.
PageData PageDataFor(const Plan& plan, const Action& a, uint64_t k);

// Fills `out` (4096 bytes) with gen(seed): word i is mix64(seed + i), little-endian.
void GenPage(uint64_t seed, uint8_t* out);

// The /proc/vmstat counters the guest reads.
const std::vector<std::string>& VmstatCounters();

}  // namespace ksmsim::oracle
