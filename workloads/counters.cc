// Counter and knob tables (mm/ksm.c ksm_attrs[], /proc/PID/ksm_stat, mm/vmstat.c) and the
// knob value ranges of the sysfs store functions of Linux 6.1 mm/ksm.c.
#include "workloads/counters.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <limits>

#include "workloads/workload.h"

namespace ksmsim::workloads {
namespace {

constexpr int64_t kUintMax = 4294967295;  // kstrtouint
constexpr int64_t kIntMax = 2147483647;   // kstrtoint

struct KnobInfo {
  std::string_view name;
  int64_t def;
  KnobRange range;
};

// run: kstrtouint, > KSM_RUN_UNMERGE is EINVAL; max_page_sharing: kstrtoint, < 2 is EINVAL;
// merge_across_nodes: kstrtoul, > 1 is EINVAL; use_zero_pages: kstrtobool.
constexpr std::array<KnobInfo, 7> kKnobs = {{
    {"run", 0, {0, 2}},
    {"pages_to_scan", 100, {0, kUintMax}},
    {"sleep_millisecs", 20, {0, kUintMax}},
    {"max_page_sharing", 256, {2, kIntMax}},
    {"merge_across_nodes", 1, {0, 1}},
    {"use_zero_pages", 0, {0, 1}},
    {"stable_node_chains_prune_millisecs", 2000, {0, kUintMax}},
}};

constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();  // kstrtoul, in a workload

// 6.12's new writable numeric files (advisor_mode, a string, is kAdvisorMode).
// smart_scan: kstrtobool; advisor_*: kstrtoul, advisor_target_scan_time 0 is EINVAL.
constexpr std::array<KnobInfo, 5> kKnobs612 = {{
    {"smart_scan", 1, {0, 1}},
    {"advisor_max_cpu", 70, {0, kLongMax}},
    {"advisor_min_pages_to_scan", 500, {0, kLongMax}},
    {"advisor_max_pages_to_scan", 30000, {0, kLongMax}},
    {"advisor_target_scan_time", 200, {1, kLongMax}},
}};

// The 2009 driver's one knob, as 2.6.32 named it (the limit Kamezawa asked for in seed 004's
// review): strict_strtoul, 0 = no limit (the seed's own behaviour, and v3's default).
constexpr std::array<KnobInfo, 1> kKnobs2009 = {{
    {"max_kernel_pages", 0, {0, kLongMax}},
}};

const KnobInfo* FindKnob(std::string_view name) {
  for (const KnobInfo& k : kKnobs) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// advisor_mode's number: the enum ksm_advisor_type (KSM_ADVISOR_NONE, KSM_ADVISOR_SCAN_TIME).
constexpr KnobInfo kAdvisorModeKnob = {kAdvisorMode, 0, {0, 1}};

const KnobInfo* FindKnob(std::string_view name, KernelProfile kernel) {
  if (kernel == KernelProfile::k2009) {
    for (const KnobInfo& k : kKnobs2009) {
      if (k.name == name) return &k;
    }
    return nullptr;
  }
  if (const KnobInfo* k = FindKnob(name)) return k;
  if (kernel != KernelProfile::k612) return nullptr;
  if (name == kAdvisorMode) return &kAdvisorModeKnob;
  for (const KnobInfo& k : kKnobs612) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

const std::vector<std::string_view>& KsmCounterNames() {
  static const std::vector<std::string_view> names = {
      "pages_shared",     "pages_sharing",
      "pages_unshared",   "pages_volatile",
      "full_scans",       "stable_node_chains",
      "stable_node_dups", "run",
      "pages_to_scan",    "sleep_millisecs",
      "max_page_sharing", "merge_across_nodes",
      "use_zero_pages",   "stable_node_chains_prune_millisecs",
  };
  return names;
}

const std::vector<std::string_view>& KsmKnobNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const KnobInfo& k : kKnobs) v.push_back(k.name);
    return v;
  }();
  return names;
}

const std::vector<std::string_view>& ProcCounterNames() {
  static const std::vector<std::string_view> names = {"ksm_merging_pages", "ksm_rmap_items"};
  return names;
}

const std::vector<std::string_view>& VmstatCounterNames() {
  static const std::vector<std::string_view> names = {"cow_ksm", "ksm_swpin_copy", "pswpin",
                                                      "pswpout"};
  return names;
}

const std::vector<std::string_view>& KsmCounterNames(KernelProfile kernel) {
  static const std::vector<std::string_view> zero_unshare = [] {
    auto v = KsmCounterNames();
    v.push_back(kKsmZeroPages);
    return v;
  }();
  static const std::vector<std::string_view> k612 = [] {
    auto v = KsmCounterNames();
    for (std::string_view n :
         {"pages_scanned", "pages_skipped", "ksm_zero_pages", "general_profit"})
      v.push_back(n);
    for (const KnobInfo& k : kKnobs612) v.push_back(k.name);
    return v;
  }();
  // The 2009 driver has no sysfs: its kpage count as 2.6.32 showed it (pages_shared), the
  // mappings beyond one per kpage (pages_sharing), completed passes and the limit.
  static const std::vector<std::string_view> k2009 = {"pages_shared", "pages_sharing", "full_scans",
                                                      "max_kernel_pages"};
  switch (kernel) {
    case KernelProfile::k61:
      return KsmCounterNames();
    case KernelProfile::k61ZeroUnshare:
      return zero_unshare;
    case KernelProfile::k612:
      return k612;
    case KernelProfile::k2009:
      return k2009;
  }
  return KsmCounterNames();
}

const std::vector<std::string_view>& KsmKnobNames(KernelProfile kernel) {
  static const std::vector<std::string_view> k612 = [] {
    auto v = KsmKnobNames();
    for (const KnobInfo& k : kKnobs612) v.push_back(k.name);
    v.push_back(kAdvisorMode);
    return v;
  }();
  static const std::vector<std::string_view> k2009 = {kKnobs2009[0].name};
  if (kernel == KernelProfile::k2009) return k2009;
  return kernel == KernelProfile::k612 ? k612 : KsmKnobNames();
}

const std::vector<std::string_view>& ProcCounterNames(KernelProfile kernel) {
  static const std::vector<std::string_view> k612 = {"ksm_merging_pages", "ksm_rmap_items",
                                                     "ksm_zero_pages", "ksm_process_profit"};
  static const std::vector<std::string_view> none;  // 2009: no /proc/PID/ksm_* files
  if (kernel == KernelProfile::k2009) return none;
  return kernel == KernelProfile::k612 ? k612 : ProcCounterNames();
}

std::optional<KnobRange> KnobValueRange(std::string_view knob, KernelProfile kernel) {
  const KnobInfo* k = FindKnob(knob, kernel);
  if (k == nullptr) return std::nullopt;
  return k->range;
}

std::string ProfilesHaving(std::string_view name) {
  std::string out;
  for (KernelProfile p : {KernelProfile::k61, KernelProfile::k61ZeroUnshare, KernelProfile::k612,
                          KernelProfile::k2009}) {
    for (const auto* names : {&KsmCounterNames(p), &KsmKnobNames(p), &ProcCounterNames(p)}) {
      if (std::find(names->begin(), names->end(), name) == names->end()) continue;
      out += fmt::format("{}\"{}\"", out.empty() ? "" : " or ", KernelProfileName(p));
      break;
    }
  }
  return out;
}

std::string Instead2009(std::string_view name, KernelProfile kernel) {
  if (kernel != KernelProfile::k2009) return "";
  if (FindKnob(name) != nullptr || FindKnob(name, KernelProfile::k612) != nullptr)
    return "; the 2009 driver has no /sys/kernel/mm/ksm: its thread is started and paced with "
           "ksm_start_stop_kthread (running, pages_to_scan, sleep), and max_kernel_pages is "
           "its only knob";
  return fmt::format("; the 2009 driver shows {}", JoinNames(KsmCounterNames(kernel)));
}

bool IsKsmKnob(std::string_view name) { return FindKnob(name) != nullptr; }

const std::vector<std::string_view>& AdvisorModeNames() {
  static const std::vector<std::string_view> names = {"none", "scan-time"};
  return names;
}

std::optional<int64_t> AdvisorModeFromName(std::string_view name) {
  const auto& names = AdvisorModeNames();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int64_t>(i);
  return std::nullopt;
}

std::string_view AdvisorModeName(int64_t value) {
  const auto& names = AdvisorModeNames();
  return value >= 0 && static_cast<size_t>(value) < names.size() ? names[value] : "";
}

std::optional<KnobRange> KnobValueRange(std::string_view knob) {
  const KnobInfo* k = FindKnob(knob);
  if (k == nullptr) return std::nullopt;
  return k->range;
}

std::optional<int64_t> KnobDefault(std::string_view knob) {
  const KnobInfo* k = FindKnob(knob);
  if (k == nullptr) return std::nullopt;
  return k->def;
}

std::string JoinNames(const std::vector<std::string_view>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

std::optional<std::string_view> ClosestName(std::string_view name,
                                            const std::vector<std::string_view>& names) {
  std::optional<std::string_view> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  size_t typo_limit = std::max<size_t>(2, name.size() / 3);
  for (std::string_view candidate : names) {
    size_t d = EditDistance(name, candidate);
    // A typo, or a truncated or extended name ("swap" for "swap_mib").
    bool plausible =
        d <= typo_limit ||
        (name.size() >= 3 && (candidate.starts_with(name) || name.starts_with(candidate)));
    if (plausible && d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace ksmsim::workloads
