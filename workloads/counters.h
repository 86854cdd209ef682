// The counter and knob names a workload may read or write (the kernel's own names), and
// the values the writable KSM knobs accept, as Linux 6.1's sysfs store functions check them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksmsim::workloads {

enum class KernelProfile;  // workloads/workload.h

// The same tables for a kernel profile: 6.12 adds counters (pages_scanned, pages_skipped,
// ksm_zero_pages, general_profit), knobs (smart_scan, advisor_mode, the advisor's numeric
// knobs) and
// /proc/PID/ksm_stat lines (ksm_zero_pages, ksm_process_profit).
const std::vector<std::string_view>& KsmCounterNames(KernelProfile kernel);
const std::vector<std::string_view>& KsmKnobNames(KernelProfile kernel);
const std::vector<std::string_view>& ProcCounterNames(KernelProfile kernel);
std::optional<struct KnobRange> KnobValueRange(std::string_view knob, KernelProfile kernel);
// The profiles that have `name` as a counter, knob or process counter, quoted and joined
// ("\"6.1-zero-unshare\" or \"6.12\""); empty when none: for "exists only with kernel ..."
std::string ProfilesHaving(std::string_view name);
// What kernel "2009" offers instead of `name`, a knob or counter of the later profiles
// ("; the 2009 driver ..."); empty for any other kernel.
std::string Instead2009(std::string_view name, KernelProfile kernel);

// Files of /sys/kernel/mm/ksm in Linux 6.1 (read-only counters and writable knobs).
const std::vector<std::string_view>& KsmCounterNames();
// Only with kernel "6.1-zero-unshare" (the seed-001 patch).
inline constexpr std::string_view kKsmZeroPages = "ksm_zero_pages";
// The writable /sys/kernel/mm/ksm knobs.
const std::vector<std::string_view>& KsmKnobNames();
// /proc/PID/ksm_merging_pages and /proc/PID/ksm_stat.
const std::vector<std::string_view>& ProcCounterNames();
// The /proc/vmstat events that concern KSM.
const std::vector<std::string_view>& VmstatCounterNames();

bool IsKsmKnob(std::string_view name);

// 6.12's advisor_mode, the one knob whose value is a string: "none" or "scan-time". A
// workload holds it as the kernel's enum ksm_advisor_type (0 none, 1 scan-time), and writes
// it back as the string; it is a knob but not a counter (the result's counters are numbers).
inline constexpr std::string_view kAdvisorMode = "advisor_mode";
const std::vector<std::string_view>& AdvisorModeNames();  // "none", "scan-time"
std::optional<int64_t> AdvisorModeFromName(std::string_view name);
std::string_view AdvisorModeName(int64_t value);  // "" for a value that is neither

// The values a knob accepts: [min, max]. nullopt for a name that is not a knob.
struct KnobRange {
  int64_t min;
  int64_t max;
};
std::optional<KnobRange> KnobValueRange(std::string_view knob);

// Linux 6.1's default value of a knob (run 0, pages_to_scan 100, ...); nullopt if unknown.
std::optional<int64_t> KnobDefault(std::string_view knob);

// "a, b, c": for messages listing the allowed names.
std::string JoinNames(const std::vector<std::string_view>& names);

// The name of `names` closest to `name` when it is a plausible typo (edit distance at most
// 2, or a third of the length), for "did you mean" hints.
std::optional<std::string_view> ClosestName(std::string_view name,
                                            const std::vector<std::string_view>& names);

}  // namespace ksmsim::workloads
