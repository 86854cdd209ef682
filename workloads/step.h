// The typed step of the workload format: one payload struct per op, holding only that op's
// fields, and `Fields()` binding each member to its field (fields.h: name, JSON type, range).
// This file is the one place that says what an op is; the op table (ops.h), the parser
// (parse_step.cc), the JSON writer (step_json.h), the trace encodings (traces/) and the
// oracle's planner are all derived from it or dispatch on it. To add an op, see
// docs/ARCHITECTURE.md "Adding an op".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "workloads/field_values.h"
#include "workloads/fields.h"

namespace ksmsim::workloads {

struct Step;

// A field of payload P kept in member `member`; `required` as the format says.
template <class P, class M>
struct FieldOf {
  const FieldSpec* spec;
  M P::*member;
  bool required;
};
template <class P, class M>
constexpr FieldOf<P, M> Required(const FieldSpec& spec, M P::*member) {
  return {&spec, member, true};
}
template <class P, class M>
constexpr FieldOf<P, M> Optional(const FieldSpec& spec, M P::*member) {
  return {&spec, member, false};
}

// ---- the payloads, one per op ------------------------------------------------------------
// kName is the `op` string of the file. Fields() lists the op's fields in the order the
// parser reads them (required first; node before block). A field the file may leave out is
// std::optional, or a bool, string or container whose empty value means "not given".

struct SpawnStep {
  static constexpr std::string_view kName = "spawn";
  std::string proc;
  std::optional<uint64_t> node;
  static auto Fields() {
    return std::tuple{Required(kProcField, &SpawnStep::proc),
                      Optional(kNodeField, &SpawnStep::node)};
  }
  friend bool operator==(const SpawnStep&, const SpawnStep&) = default;
};

struct ForkStep {
  static constexpr std::string_view kName = "fork";
  std::string proc;
  std::string child;
  static auto Fields() {
    return std::tuple{Required(kProcField, &ForkStep::proc),
                      Required(kChildField, &ForkStep::child)};
  }
  friend bool operator==(const ForkStep&, const ForkStep&) = default;
};

struct ExitStep {
  static constexpr std::string_view kName = "exit";
  std::string proc;
  static auto Fields() { return std::tuple{Required(kProcField, &ExitStep::proc)}; }
  friend bool operator==(const ExitStep&, const ExitStep&) = default;
};

struct MmapStep {
  static constexpr std::string_view kName = "mmap";
  std::string proc;
  std::string region;
  std::optional<uint64_t> pages;  // unset only in a step whose pages did not parse
  std::optional<uint64_t> node;   // mbind() to it; unset: the faulting task's policy
  bool locked = false;
  static auto Fields() {
    return std::tuple{
        Required(kProcField, &MmapStep::proc), Required(kRegionField, &MmapStep::region),
        Required(kPagesField, &MmapStep::pages), Optional(kNodeField, &MmapStep::node),
        Optional(kLockedField, &MmapStep::locked)};
  }
  friend bool operator==(const MmapStep&, const MmapStep&) = default;
};

// The ops on a range of a region's pages share these fields (a base, not a payload).
struct RangeFields {
  std::string proc;
  std::string region;
  std::optional<PageRange> range;  // unset = the whole region
  friend bool operator==(const RangeFields&, const RangeFields&) = default;
};
template <class P>
auto RangeFieldList() {
  return std::tuple{Required(kProcField, &P::proc), Required(kRegionField, &P::region)};
}

struct MunmapStep : RangeFields {
  static constexpr std::string_view kName = "munmap";
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<MunmapStep>(),
                          std::tuple{Optional(kRangeField, &MunmapStep::range)});
  }
};

struct MadviseStep : RangeFields {
  static constexpr std::string_view kName = "madvise";
  Advice advice = Advice::kMergeable;
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<MadviseStep>(),
                          std::tuple{Required(kAdviceField, &MadviseStep::advice),
                                     Optional(kRangeField, &MadviseStep::range)});
  }
  friend bool operator==(const MadviseStep&, const MadviseStep&) = default;
};

struct WriteStep : RangeFields {
  static constexpr std::string_view kName = "write";
  DataSpec data;
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<WriteStep>(),
                          std::tuple{Required(kDataField, &WriteStep::data),
                                     Optional(kRangeField, &WriteStep::range)});
  }
  friend bool operator==(const WriteStep&, const WriteStep&) = default;
};

struct ReadStep : RangeFields {
  static constexpr std::string_view kName = "read";
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<ReadStep>(),
                          std::tuple{Optional(kRangeField, &ReadStep::range)});
  }
};

struct VerifyStep : RangeFields {
  static constexpr std::string_view kName = "verify";
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<VerifyStep>(),
                          std::tuple{Optional(kRangeField, &VerifyStep::range)});
  }
};

struct MigrateStep : RangeFields {
  static constexpr std::string_view kName = "migrate";
  uint64_t node = 0;
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<MigrateStep>(),
                          std::tuple{Required(kNodeField, &MigrateStep::node),
                                     Optional(kRangeField, &MigrateStep::range)});
  }
  friend bool operator==(const MigrateStep&, const MigrateStep&) = default;
};

struct PinStep : RangeFields {
  static constexpr std::string_view kName = "pin";
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<PinStep>(),
                          std::tuple{Optional(kRangeField, &PinStep::range)});
  }
};

struct UnpinStep : RangeFields {
  static constexpr std::string_view kName = "unpin";
  static auto Fields() {
    return std::tuple_cat(RangeFieldList<UnpinStep>(),
                          std::tuple{Optional(kRangeField, &UnpinStep::range)});
  }
};

// offline and online: memory block `block` of node `node` (a base, not a payload).
struct HotplugFields {
  uint64_t node = 0;
  uint64_t block = 0;
  std::optional<ExpectedError> expect_error;
  friend bool operator==(const HotplugFields&, const HotplugFields&) = default;
};
template <class P>
auto HotplugFieldsOf() {
  return std::tuple{Required(kNodeField, &P::node), Required(kBlockField, &P::block),
                    Optional(kExpectErrorField, &P::expect_error)};
}
struct OfflineStep : HotplugFields {
  static constexpr std::string_view kName = "offline";
  static auto Fields() { return HotplugFieldsOf<OfflineStep>(); }
};
struct OnlineStep : HotplugFields {
  static constexpr std::string_view kName = "online";
  static auto Fields() { return HotplugFieldsOf<OnlineStep>(); }
};

struct KsmStep {
  static constexpr std::string_view kName = "ksm";
  KnobList set;
  std::optional<ExpectedError> expect_error;
  static auto Fields() {
    return std::tuple{Required(kSetField, &KsmStep::set),
                      Optional(kExpectErrorField, &KsmStep::expect_error)};
  }
  friend bool operator==(const KsmStep&, const KsmStep&) = default;
};

// Exactly one of ms and full_scans (the parser checks it).
struct WaitStep {
  static constexpr std::string_view kName = "wait";
  std::optional<uint64_t> ms;
  std::optional<uint64_t> full_scans;
  WaitSpec spec() const {
    return ms ? WaitSpec{WaitSpec::Unit::kMs, *ms}
              : WaitSpec{WaitSpec::Unit::kFullScans, full_scans.value_or(0)};
  }
  static auto Fields() {
    return std::tuple{Optional(kMsField, &WaitStep::ms),
                      Optional(kFullScansField, &WaitStep::full_scans)};
  }
  friend bool operator==(const WaitStep&, const WaitStep&) = default;
};

// Counters that must be exactly equal (ksm = /sys/kernel/mm/ksm files, procs.<proc> =
// /proc/PID counters, vmstat = /proc/vmstat events).
struct ExpectStep {
  static constexpr std::string_view kName = "expect";
  CounterMap ksm;
  ProcCounterMap procs;
  CounterMap vmstat;
  static auto Fields() {
    return std::tuple{Optional(kKsmCountersField, &ExpectStep::ksm),
                      Optional(kProcCountersField, &ExpectStep::procs),
                      Optional(kVmstatField, &ExpectStep::vmstat)};
  }
  friend bool operator==(const ExpectStep&, const ExpectStep&) = default;
};

struct SnapshotStep {
  static constexpr std::string_view kName = "snapshot";
  static constexpr bool kLabelRequired = true;
  static auto Fields() { return std::tuple{}; }
  friend bool operator==(const SnapshotStep&, const SnapshotStep&) = default;
};

struct RepeatStep {
  static constexpr std::string_view kName = "repeat";
  uint64_t times = 1;
  std::vector<Step> steps;  // the body
  static auto Fields() {
    return std::tuple{Required(kTimesField, &RepeatStep::times),
                      Required(kStepsField, &RepeatStep::steps)};
  }
  friend bool operator==(const RepeatStep&, const RepeatStep&);
};

// prctl(PR_SET_MEMORY_MERGE): the whole process opts in to (1) or out of (0) merging,
// inherited on fork (Linux 6.3+; the 6.12 profile only).
struct PrctlStep {
  static constexpr std::string_view kName = "prctl";
  static constexpr std::string_view kKernels = "6.12";
  std::string proc;
  uint64_t memory_merge = 0;
  static auto Fields() {
    return std::tuple{Required(kProcField, &PrctlStep::proc),
                      Required(kMemoryMergeField, &PrctlStep::memory_merge)};
  }
  friend bool operator==(const PrctlStep&, const PrctlStep&) = default;
};

// ---- the 2009 /dev/ksm driver (kernel "2009" only) -----------------------------------------
// One op per ioctl of the seed's include/linux/ksm.h, issued by process `proc` on its fd
// `fd` (docs/WORKLOAD-FORMAT.md "The 2009 driver"). `bad_arg`: the ioctl's argument points
// at memory copy_from_user/copy_to_user cannot reach (EFAULT).

// open("/dev/ksm") as fd `fd`, then KSM_GET_API_VERSION (KSM_API_VERSION, 1).
struct KsmOpenStep {
  static constexpr std::string_view kKernels = "2009";
  static constexpr std::string_view kName = "ksm_open";
  std::string proc;
  std::string fd;
  static auto Fields() {
    return std::tuple{Required(kProcField, &KsmOpenStep::proc),
                      Required(kFdField, &KsmOpenStep::fd)};
  }
  friend bool operator==(const KsmOpenStep&, const KsmOpenStep&) = default;
};

// KSM_CREATE_SHARED_MEMORY_AREA on `fd`: the new SMA fd is `sma`.
struct KsmCreateSharedMemoryAreaStep {
  static constexpr std::string_view kKernels = "2009";
  static constexpr std::string_view kName = "ksm_create_shared_memory_area";
  std::string proc;
  std::string fd;
  std::string sma;
  std::optional<ExpectedError> expect_error;
  static auto Fields() {
    using S = KsmCreateSharedMemoryAreaStep;
    return std::tuple{Required(kProcField, &S::proc), Required(kFdField, &S::fd),
                      Required(kSmaField, &S::sma), Optional(kExpectErrorField, &S::expect_error)};
  }
  friend bool operator==(const KsmCreateSharedMemoryAreaStep&,
                         const KsmCreateSharedMemoryAreaStep&) = default;
};

// KSM_REGISTER_MEMORY_REGION on SMA fd `fd`: addr = region's start + offset pages, npages
// (unset: to the region's end). The driver does not check them against the mappings.
struct KsmRegisterMemoryRegionStep {
  static constexpr std::string_view kKernels = "2009";
  static constexpr std::string_view kName = "ksm_register_memory_region";
  std::string proc;
  std::string fd;
  std::string region;
  std::optional<uint64_t> offset;
  std::optional<uint64_t> npages;
  bool bad_arg = false;
  std::optional<ExpectedError> expect_error;
  static auto Fields() {
    using S = KsmRegisterMemoryRegionStep;
    return std::tuple{Required(kProcField, &S::proc),
                      Required(kFdField, &S::fd),
                      Required(kRegionField, &S::region),
                      Optional(kOffsetField, &S::offset),
                      Optional(kNpagesField, &S::npages),
                      Optional(kBadArgField, &S::bad_arg),
                      Optional(kExpectErrorField, &S::expect_error)};
  }
  friend bool operator==(const KsmRegisterMemoryRegionStep&,
                         const KsmRegisterMemoryRegionStep&) = default;
};

// KSM_REMOVE_MEMORY_REGION on SMA fd `fd`: every region of the SMA.
struct KsmRemoveMemoryRegionStep {
  static constexpr std::string_view kKernels = "2009";
  static constexpr std::string_view kName = "ksm_remove_memory_region";
  std::string proc;
  std::string fd;
  std::optional<ExpectedError> expect_error;
  static auto Fields() {
    using S = KsmRemoveMemoryRegionStep;
    return std::tuple{Required(kProcField, &S::proc), Required(kFdField, &S::fd),
                      Optional(kExpectErrorField, &S::expect_error)};
  }
  friend bool operator==(const KsmRemoveMemoryRegionStep&,
                         const KsmRemoveMemoryRegionStep&) = default;
};

// KSM_START_STOP_KTHREAD on `fd` with struct ksm_kthread_info.
struct KsmStartStopKthreadStep {
  static constexpr std::string_view kKernels = "2009";
  static constexpr std::string_view kName = "ksm_start_stop_kthread";
  std::string proc;
  std::string fd;
  uint64_t running = 0;
  uint64_t pages_to_scan = 0;
  uint64_t sleep = 0;
  bool bad_arg = false;
  std::optional<ExpectedError> expect_error;
  static auto Fields() {
    using S = KsmStartStopKthreadStep;
    return std::tuple{Required(kProcField, &S::proc),
                      Required(kFdField, &S::fd),
                      Required(kRunningField, &S::running),
                      Required(kPagesToScanField, &S::pages_to_scan),
                      Required(kSleepField, &S::sleep),
                      Optional(kBadArgField, &S::bad_arg),
                      Optional(kExpectErrorField, &S::expect_error)};
  }
  friend bool operator==(const KsmStartStopKthreadStep&, const KsmStartStopKthreadStep&) = default;
};

// KSM_GET_INFO_KTHREAD on `fd`: the values read back must equal those given (as expect).
struct KsmGetInfoKthreadStep {
  static constexpr std::string_view kKernels = "2009";
  static constexpr std::string_view kName = "ksm_get_info_kthread";
  std::string proc;
  std::string fd;
  std::optional<uint64_t> running;
  std::optional<uint64_t> pages_to_scan;
  std::optional<uint64_t> sleep;
  bool bad_arg = false;
  std::optional<ExpectedError> expect_error;
  static auto Fields() {
    using S = KsmGetInfoKthreadStep;
    return std::tuple{Required(kProcField, &S::proc),
                      Required(kFdField, &S::fd),
                      Optional(kRunningField, &S::running),
                      Optional(kPagesToScanField, &S::pages_to_scan),
                      Optional(kSleepField, &S::sleep),
                      Optional(kBadArgField, &S::bad_arg),
                      Optional(kExpectErrorField, &S::expect_error)};
  }
  friend bool operator==(const KsmGetInfoKthreadStep&, const KsmGetInfoKthreadStep&) = default;
};

// ---- the list of ops ---------------------------------------------------------------------
// Every op in the order of the Op enum, which is the order of the record types of binary
// traces: a new op goes at the end. X(Name) names the payload NameStep and the value kName.
// clang-format off
#define KSMSIM_WORKLOAD_OPS(X) \
  X(Spawn) \
  X(Fork) \
  X(Exit) \
  X(Mmap) \
  X(Munmap) \
  X(Madvise) \
  X(Write) \
  X(Read) \
  X(Verify) \
  X(Migrate) \
  X(Pin) \
  X(Unpin) \
  X(Offline) \
  X(Online) \
  X(Ksm) \
  X(Wait) \
  X(Expect) \
  X(Snapshot) \
  X(Repeat) \
  X(Prctl) \
  X(KsmOpen) \
  X(KsmCreateSharedMemoryArea) \
  X(KsmRegisterMemoryRegion) \
  X(KsmRemoveMemoryRegion) \
  X(KsmStartStopKthread) \
  X(KsmGetInfoKthread)
// clang-format on

enum class Op {
#define KSMSIM_OP_ENUM(Name) k##Name,
  KSMSIM_WORKLOAD_OPS(KSMSIM_OP_ENUM)
#undef KSMSIM_OP_ENUM
};

namespace internal {
template <class Ignored, class... P>
struct VariantOf {
  using type = std::variant<P...>;
};
}  // namespace internal

// One alternative per op, at the index of its Op value.
#define KSMSIM_OP_TYPE(Name) , Name##Step
using StepPayload = internal::VariantOf<void KSMSIM_WORKLOAD_OPS(KSMSIM_OP_TYPE)>::type;
#undef KSMSIM_OP_TYPE

inline constexpr size_t kNumOps = std::variant_size_v<StepPayload>;

// The Op of payload type P.
template <class P, size_t I = 0>
constexpr Op OpOf() {
  static_assert(I < kNumOps, "not a step payload");
  if constexpr (std::is_same_v<std::variant_alternative_t<I, StepPayload>, P>) {
    return static_cast<Op>(I);
  } else {
    return OpOf<P, I + 1>();
  }
}

// Whether the op needs a label (snapshot).
template <class P>
constexpr bool LabelRequired() {
  if constexpr (requires { P::kLabelRequired; }) {
    return P::kLabelRequired;
  } else {
    return false;
  }
}

// The kernel profiles that have the op, comma-separated ("6.12"); empty: every profile.
template <class P>
constexpr std::string_view KernelsOf() {
  if constexpr (requires { P::kKernels; }) {
    return P::kKernels;
  } else {
    return {};
  }
}

// Calls f(field) for each FieldOf of payload type P, in Fields() order.
template <class P, class F>
void ForEachFieldOf(F&& f) {
  std::apply([&](const auto&... field) { (f(field), ...); }, P::Fields());
}

// One step of the script as written: the op's payload, plus what every op has: its JSON
// path in the file ("steps[4]", "steps[4].steps[1]") and its label.
struct Step {
  std::string path;
  std::string label;
  StepPayload payload;

  Op op() const { return static_cast<Op>(payload.index()); }
  // The payload as P; P must be the step's op (std::bad_variant_access otherwise).
  template <class P>
  const P& as() const {
    return std::get<P>(payload);
  }
  template <class P>
  P& as() {
    return std::get<P>(payload);
  }
  // The payload as P, or null when the step is another op.
  template <class P>
  const P* get_if() const {
    return std::get_if<P>(&payload);
  }
  friend bool operator==(const Step&, const Step&) = default;
};

inline bool operator==(const RepeatStep& a, const RepeatStep& b) {
  return a.times == b.times && a.steps == b.steps;
}

// The steps of a repeat's body, or an empty list for any other step.
const std::vector<Step>& BodyOf(const Step& step);

// The fields of a step on a region's pages (munmap, madvise, write, read, verify, migrate,
// pin, unpin), or null for any other step.
inline const RangeFields* RangeOf(const Step& step) {
  return std::visit(
      [](const auto& payload) -> const RangeFields* {
        if constexpr (std::is_base_of_v<RangeFields, std::decay_t<decltype(payload)>>) {
          return &payload;
        } else {
          return nullptr;
        }
      },
      step.payload);
}

// The `expect_error` of a ksm, offline or online step or of an ioctl of the 2009 driver
// (null when the step has none or is another op).
inline const std::optional<ExpectedError>* ExpectErrorOf(const Step& step) {
  return std::visit(
      [](const auto& payload) -> const std::optional<ExpectedError>* {
        if constexpr (requires { payload.expect_error; }) {
          return &payload.expect_error;
        } else {
          return nullptr;
        }
      },
      step.payload);
}


}  // namespace ksmsim::workloads
