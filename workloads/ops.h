// The op table of the workload format (WORKLOAD-FORMAT.md "Steps"): each op's name, its
// required and optional fields, each field's JSON type and, for integers, the accepted
// range. The parser (parse_step.cc) takes the fields of a step from here, and a test keeps
// docs/workload.schema.json's per-op field lists equal to it.
#pragma once

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "workloads/workload.h"

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

struct FieldSpec {
  std::string_view name;
  FieldType type;
  uint64_t min = 0;       // kUint
  uint64_t max = 0;       // kUint
  std::string_view note;  // kUint: what the number means, appended to range errors
};

struct OpSpec {
  Op op;
  std::string_view name;            // the `op` string of the file
  std::vector<FieldSpec> required;  // in the order the parser reads them
  std::vector<FieldSpec> optional;  // besides "label", which every op accepts

  // The field called `name` (required or optional), or null.
  const FieldSpec* Find(std::string_view name) const;
};

// Every op, in the order of the Op enum (the record types of binary traces follow it).
const std::vector<OpSpec>& OpTable();
const OpSpec& SpecOf(Op op);

}  // namespace ksmsim::workloads
