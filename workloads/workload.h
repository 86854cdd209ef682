// The typed form of a workload file (docs/WORKLOAD-FORMAT.md, version 1): the machine,
// the initial KSM knobs and the script of steps, as parse.h produces it after validation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ksmsim::workloads {

inline constexpr int64_t kFormatVersion = 1;
inline constexpr uint64_t kPageSize = 4096;
// The 128 TiB x86-64 user address space in 4 KiB pages: no region can be larger.
inline constexpr uint64_t kMaxRegionPages = uint64_t{1} << 35;

// The behaviour profile (`kernel`): plain Linux 6.1 mm/ksm.c, 6.1 with the seed-001 patch
// that flags, counts and unshares zero pages placed by KSM, or Linux 6.12's mm/ksm.c.
enum class KernelProfile { k61, k61ZeroUnshare, k612 };
// "6.1", "6.1-zero-unshare", "6.12"
std::string_view KernelProfileName(KernelProfile profile);
// Every profile's name, for messages.
const std::vector<std::string_view>& KernelProfileNames();
std::optional<KernelProfile> KernelProfileFromName(std::string_view name);

struct NodeSpec {
  uint64_t memory_mib = 1024;
  // Memory of the node outside its blocks (the oracle guest's boot memory), allocated last
  // and never offlined; unset: 64 MiB when the workload has offline/online steps, else 0.
  std::optional<uint64_t> reserve_mib;
};

// `machine`: NUMA nodes (PFNs laid out node after node), swap and hotplug granularity.
struct MachineSpec {
  std::vector<NodeSpec> nodes = {NodeSpec{}};
  uint64_t swap_mib = 0;
  uint64_t memory_block_mib = 128;
  uint64_t page_size = kPageSize;

  // Number of hotplug memory blocks on `node` (its memory divided by memory_block_mib,
  // rounded up); 0 for a node that does not exist.
  uint64_t BlocksOnNode(uint64_t node) const;
};

// Knob writes in the order the file gives them (sysfs writes are order-sensitive).
using KnobList = std::vector<std::pair<std::string, int64_t>>;
// Counter name -> value, sorted by name.
using CounterMap = std::map<std::string, int64_t>;

enum class Op {
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
  kWait,
  kExpect,
  kSnapshot,
  kRepeat,
};
std::string_view OpName(Op op);  // the `op` string of the file, e.g. "mmap"
std::optional<Op> OpFromName(std::string_view name);
const std::vector<Op>& AllOps();

enum class Advice { kMergeable, kUnmergeable, kDontneed, kPageout };
std::string_view AdviceName(Advice advice);  // "mergeable", ...
std::optional<Advice> AdviceFromName(std::string_view name);

// `expect_error`: the outcome a ksm/offline/online step must have ("none" = success).
enum class ExpectedError { kNone, kEBUSY, kEINVAL };
std::string_view ExpectedErrorName(ExpectedError error);  // "none", "EBUSY", "EINVAL"
std::optional<ExpectedError> ExpectedErrorFromName(std::string_view name);

// `range`: pages [first, end) by index inside the region.
struct PageRange {
  uint64_t first = 0;
  uint64_t end = 0;
  uint64_t size() const { return end - first; }
  friend bool operator==(const PageRange&, const PageRange&) = default;
};

// `data`: how every page of a write's range gets its contents (exactly one kind).
struct DataSpec {
  enum class Kind { kFill, kUnique, kKey, kCycle, kPool, kPatch };
  Kind kind = Kind::kFill;
  uint8_t fill = 0;           // kFill: every byte
  std::string key;            // kKey: the content's name
  uint64_t k = 0;             // kCycle, kPool: number of distinct contents (>= 1)
  uint16_t patch_offset = 0;  // kPatch: byte offset 0..4095
  uint8_t patch_value = 0;    // kPatch: the byte's new value
  friend bool operator==(const DataSpec&, const DataSpec&) = default;
};
std::string_view DataKindName(DataSpec::Kind kind);  // "fill", "unique", ...

// `wait`: advance simulated time by `ms`, or until full_scans has grown by `full_scans`.
struct WaitSpec {
  enum class Unit { kMs, kFullScans };
  Unit unit = Unit::kMs;
  uint64_t amount = 0;
  friend bool operator==(const WaitSpec&, const WaitSpec&) = default;
};

// `expect`: counters that must be exactly equal (ksm = /sys/kernel/mm/ksm files,
// procs.<proc> = /proc/PID counters, vmstat = /proc/vmstat events).
struct ExpectSpec {
  CounterMap ksm;
  std::map<std::string, CounterMap> procs;
  CounterMap vmstat;
  friend bool operator==(const ExpectSpec&, const ExpectSpec&) = default;
};

// One step of the script as written. Only the fields of its op are meaningful; `path` is
// its JSON path in the file ("steps[4]", "steps[4].steps[1]").
struct Step {
  Op op = Op::kSpawn;
  std::string path;
  std::string proc;                // every op naming a process
  std::string child;               // fork
  std::string region;              // mmap munmap madvise write read verify migrate pin unpin
  std::optional<uint64_t> pages;   // mmap
  std::optional<uint64_t> node;    // spawn mmap (optional), migrate offline online (required)
  bool locked = false;             // mmap
  std::optional<PageRange> range;  // unset = the whole region
  std::optional<Advice> advice;    // madvise
  std::optional<DataSpec> data;    // write
  std::optional<uint64_t> block;   // offline online: block index within the node
  std::optional<ExpectedError> expect_error;  // ksm offline online
  KnobList set;                               // ksm
  std::optional<WaitSpec> wait;               // wait
  std::optional<ExpectSpec> expect;           // expect
  std::string label;                          // any op; required for snapshot
  uint64_t times = 0;                         // repeat
  std::vector<Step> steps;                    // repeat: the body
};

struct Workload {
  int64_t version = kFormatVersion;
  std::string name;
  std::string description;
  uint64_t seed = 0;
  KernelProfile kernel = KernelProfile::k61;
  MachineSpec machine;
  KnobList ksm;  // initial knob values, in file order; absent knobs keep kernel defaults
  std::vector<Step> steps;
};

// One step of the script with `repeat` expanded. `step` points into the Workload passed
// to Flatten, which must outlive the FlatStep; it is never a repeat step.
struct FlatStep {
  uint64_t index = 0;  // position in the flattened script (`step` in the result document)
  std::string path;    // JSON path of the step in the file
  const Step* step = nullptr;
};

// The script in execution order with every repeat expanded (a repeat contributes its
// body `times` times and no entry of its own).
std::vector<FlatStep> Flatten(const Workload& workload);

// Visits the flattened script in order without materialising it; stops early (and
// returns false) when `visit` returns false.
bool ForEachFlatStep(const Workload& workload, const std::function<bool(const FlatStep&)>& visit);

// Length of the flattened script, saturating at UINT64_MAX.
uint64_t FlattenedSize(const Workload& workload);

// Number of steps of the script, counting every nested step once (repeat steps included).
uint64_t NestedSize(const Workload& workload);

}  // namespace ksmsim::workloads
