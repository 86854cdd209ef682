// Every field a step of the workload format can have (WORKLOAD-FORMAT.md "Steps"), defined
// once: its name, JSON type, accepted range and, for traces, its binary field id. The ops
// (step.h) say which of these fields each op takes and where its value is kept.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "workloads/field_values.h"

namespace ksmsim::workloads {

inline constexpr uint64_t kMaxNodes = 1024;  // MAX_NUMNODES of x86-64 (NODES_SHIFT 10)
inline constexpr uint64_t kMaxWaitMs = 1'000'000'000'000;  // about 31 years of simulated time
inline constexpr uint64_t kMaxCount = std::numeric_limits<uint32_t>::max();  // times, full_scans

// The JSON shape of a field's value.
enum class FieldType {
  kName,           // a non-empty string naming a process or region
  kString,         // any string (label)
  kUint,           // an integer in [min, max]
  kBool,           // true or false
  kRange,          // [first, end) page indices
  kAdvice,         // "mergeable", "unmergeable", "dontneed", "pageout"
  kData,           // {"fill": B} and the other data kinds
  kExpectedError,  // "none", "EBUSY", "EINVAL"
  kKnobWrites,     // {"knob": integer, ...}
  kCounters,       // {"counter": integer, ...}
  kProcCounters,   // {"proc": {"counter": integer, ...}, ...}
  kSteps,          // an array of steps
};

// No binary trace field id: the field is not carried by traces (`data` becomes the write's
// resolved contents; `times` and `steps` belong to repeat, which a trace has flattened).
inline constexpr int kNotInTraces = -1;

struct FieldSpec {
  std::string_view name;
  FieldType type;
  uint64_t min = 0;       // kUint
  uint64_t max = 0;       // kUint
  std::string_view note;  // kUint: what the number means, appended to range errors
  // The field's id in binary traces and its place in a trace record's canonical key order
  // (docs/TRACE-FORMAT.md); 0 is the record's path, 18 and 19 its contents and scans. A
  // new field takes the next free id (20, ...): ids are a file format, never renumbered.
  int trace_id = kNotInTraces;
};

// ---- the fields --------------------------------------------------------------------------

inline constexpr FieldSpec kProcField{"proc", FieldType::kName, 0, 0, "", 1};
inline constexpr FieldSpec kChildField{"child", FieldType::kName, 0, 0, "", 2};
inline constexpr FieldSpec kRegionField{"region", FieldType::kName, 0, 0, "", 3};
inline constexpr FieldSpec kPagesField{
    "pages",
    FieldType::kUint,
    1,
    kMaxRegionPages,
    "pages of 4 KiB; 34359738368 fill the 128 TiB user address space",
    4};
inline constexpr FieldSpec kNodeField{"node",        FieldType::kUint,    0,
                                      kMaxNodes - 1, "a NUMA node index", 5};
inline constexpr FieldSpec kLockedField{"locked", FieldType::kBool, 0, 0, "", 6};
inline constexpr FieldSpec kRangeField{"range", FieldType::kRange, 0, 0, "", 7};
inline constexpr FieldSpec kAdviceField{"advice", FieldType::kAdvice, 0, 0, "", 8};
inline constexpr FieldSpec kBlockField{"block",
                                       FieldType::kUint,
                                       0,
                                       std::numeric_limits<uint64_t>::max(),
                                       "a memory block index within the node",
                                       9};
inline constexpr FieldSpec kExpectErrorField{
    "expect_error", FieldType::kExpectedError, 0, 0, "", 10};
inline constexpr FieldSpec kSetField{"set", FieldType::kKnobWrites, 0, 0, "", 11};
inline constexpr FieldSpec kMsField{"ms", FieldType::kUint, 0, kMaxWaitMs, "milliseconds", 12};
inline constexpr FieldSpec kFullScansField{
    "full_scans", FieldType::kUint, 1, kMaxCount, "completed passes of ksmd to wait for", 13};
inline constexpr FieldSpec kKsmCountersField{"ksm", FieldType::kCounters, 0, 0, "", 14};
inline constexpr FieldSpec kProcCountersField{"procs", FieldType::kProcCounters, 0, 0, "", 15};
inline constexpr FieldSpec kVmstatField{"vmstat", FieldType::kCounters, 0, 0, "", 16};
// Every op takes a label (kept in Step::label); snapshot requires one.
inline constexpr FieldSpec kLabelField{"label", FieldType::kString, 0, 0, "", 17};
// The 2009 /dev/ksm driver's ioctls (kernel "2009"; docs/WORKLOAD-FORMAT.md "The 2009
// driver"): the fd an ioctl is issued on, the SMA fd it creates, struct ksm_memory_region
// (by region and page offset) and struct ksm_kthread_info. Trace id 20 is prctl's.
inline constexpr FieldSpec kFdField{"fd", FieldType::kName, 0, 0, "", 21};
inline constexpr FieldSpec kSmaField{"sma", FieldType::kName, 0, 0, "", 22};
inline constexpr FieldSpec kOffsetField{
    "offset", FieldType::kUint, 0, kMaxRegionPages - 1, "a page index in the region", 23};
inline constexpr FieldSpec kNpagesField{
    "npages", FieldType::kUint, 1, kMaxCount, "pages (struct ksm_memory_region's __u32)", 24};
inline constexpr FieldSpec kRunningField{
    "running", FieldType::kUint, 0, 1, "0 or 1 (flags & ksm_control_flags_run)", 25};
inline constexpr FieldSpec kPagesToScanField{
    "pages_to_scan", FieldType::kUint, 0, kMaxCount, "pages per iteration (__u32)", 26};
inline constexpr FieldSpec kSleepField{
    "sleep", FieldType::kUint, 0, kMaxCount, "microseconds between iterations (__u32)", 27};
inline constexpr FieldSpec kBadArgField{"bad_arg", FieldType::kBool, 0, 0, "", 28};
inline constexpr FieldSpec kDataField{"data", FieldType::kData, 0, 0, "", kNotInTraces};
inline constexpr FieldSpec kTimesField{"times",   FieldType::kUint, 1,
                                       kMaxCount, "repetitions",    kNotInTraces};
inline constexpr FieldSpec kStepsField{"steps", FieldType::kSteps, 0, 0, "", kNotInTraces};
inline constexpr FieldSpec kMemoryMergeField{
    "memory_merge", FieldType::kUint, 0, 1, "PR_SET_MEMORY_MERGE's argument: 1 on, 0 off", 20};

}  // namespace ksmsim::workloads
