// The values a step's fields hold once parsed (WORKLOAD-FORMAT.md "Steps"): page ranges,
// madvise advice, write data, expected errors, knob writes and counter values, with the
// names the file uses for them. The fields themselves are in fields.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ksmsim::workloads {

inline constexpr uint64_t kPageSize = 4096;
// The 128 TiB x86-64 user address space in 4 KiB pages: no region can be larger.
inline constexpr uint64_t kMaxRegionPages = uint64_t{1} << 35;

// Knob writes in the order the file gives them (sysfs writes are order-sensitive).
using KnobList = std::vector<std::pair<std::string, int64_t>>;
// Counter name -> value, sorted by name.
using CounterMap = std::map<std::string, int64_t>;
// Process name -> its counters (`expect`'s `procs`).
using ProcCounterMap = std::map<std::string, CounterMap>;

enum class Advice { kMergeable, kUnmergeable, kDontneed, kPageout };
std::string_view AdviceName(Advice advice);  // "mergeable", ...
std::optional<Advice> AdviceFromName(std::string_view name);

// `expect_error`: the outcome a ksm/offline/online step, or an ioctl of the 2009 /dev/ksm
// driver, must have ("none" = success).
enum class ExpectedError { kNone, kEBUSY, kEINVAL, kEFAULT, kEPERM, kEBADF };
std::string_view ExpectedErrorName(ExpectedError error);  // "none", "EBUSY", "EINVAL", ...
std::optional<ExpectedError> ExpectedErrorFromName(std::string_view name);
// Every name ExpectedErrorFromName accepts, for messages.
const std::vector<std::string_view>& ExpectedErrorNames();
// The name of an errno in result documents, the simulator's and the oracle guest's alike:
// "none" for 0, "EBUSY", "EINVAL", ... for the ones KSM, the mmu and the guest meet, "errno N"
// for another.
std::string ErrnoName(int err);

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

// What a `wait` waits for: `ms` of simulated time, or `full_scans` more completed passes.
struct WaitSpec {
  enum class Unit { kMs, kFullScans };
  Unit unit = Unit::kMs;
  uint64_t amount = 0;
  friend bool operator==(const WaitSpec&, const WaitSpec&) = default;
};

}  // namespace ksmsim::workloads
