// 6.12's scan-time advisor (mm/ksm.c, "ksm advisor"): with advisor_mode "scan-time", at the
// end of every full scan scan_time_advisor() sets pages_to_scan so that a scan takes about
// advisor_target_scan_time seconds, smoothed by an exponentially weighted moving average of
// the change and bounded by ksmd's CPU use; its knobs' store functions and set_advisor_defaults.
// The simulator reads ktime_get() and ksmd's task_sched_runtime() from ksm::Ksmd: the
// simulated time and ksmd's CPU time by the cost model (docs/FIDELITY.md, "The scan-time
// advisor's clocks").
#include <algorithm>
#include <cerrno>
#include <string>

#include "ksm/ksm.h"

namespace ksmsim::ksm {

namespace {

constexpr unsigned DEFAULT_PAGES_TO_SCAN = 100;
// Min CPU for scanning pages per scan.
constexpr unsigned long KSM_ADVISOR_MIN_CPU = 10;
// Exponentially weighted moving average.
constexpr unsigned long EWMA_WEIGHT = 30;
constexpr int64_t NSEC_PER_MSEC = 1000000;
constexpr int64_t MSEC_PER_SEC = 1000;

// Calculate exponential weighted moving average.
unsigned long ewma(unsigned long prev, unsigned long curr) {
  return ((100 - EWMA_WEIGHT) * prev + EWMA_WEIGHT * curr) / 100;
}

// sysfs_streq(): equal, a trailing newline on the written text ignored.
bool sysfs_streq(std::string_view s1, std::string_view s2) {
  if (s2.ends_with('\n')) s2.remove_suffix(1);
  return s1 == s2;
}

}  // namespace

void Ksm::set_advisor_defaults() {
  if (knobs_.ksm_advisor == KSM_ADVISOR_NONE) {
    knobs_.pages_to_scan = DEFAULT_PAGES_TO_SCAN;
  } else if (knobs_.ksm_advisor == KSM_ADVISOR_SCAN_TIME) {
    advisor_ctx_ = advisor_ctx{};
    knobs_.pages_to_scan = static_cast<unsigned>(knobs_.advisor_min_pages_to_scan);
  }
}

void Ksm::advisor_start_scan() {
  if (knobs_.ksm_advisor == KSM_ADVISOR_SCAN_TIME) advisor_ctx_.start_scan = ktime_get();
}

// new_pages_to_scan = pages_to_scan * (scan_time / target_scan_time), times the smoothed
// change of the scan time, bounded by the CPU ksmd may use (10% to advisor_max_cpu% at the
// last scan's cost per page) and by advisor_max_pages_to_scan. The kernel's types are kept:
// pages_to_scan is an unsigned int (its "* 100" wraps as the kernel's does).
void Ksm::scan_time_advisor() {
  unsigned int cpu_percent;
  unsigned long cpu_time;
  unsigned long cpu_time_diff;
  unsigned long cpu_time_diff_ms;
  unsigned long pages;
  unsigned long per_page_cost;
  unsigned long factor;
  unsigned long change;
  unsigned long last_scan_time;
  unsigned long scan_time;

  // Convert scan time to seconds (the simulated clock: ns, so no jiffy granularity).
  const int64_t delta_ms =
      static_cast<int64_t>(ktime_get() - advisor_ctx_.start_scan) / NSEC_PER_MSEC;
  scan_time = static_cast<unsigned long>(delta_ms / MSEC_PER_SEC);
  scan_time = scan_time ? scan_time : 1;

  // Calculate CPU consumption of ksmd background thread.
  cpu_time = ksmd_clock_ ? ksmd_clock_->task_sched_runtime() : 0;
  cpu_time_diff = cpu_time - advisor_ctx_.cpu_time;
  cpu_time_diff_ms = cpu_time_diff / 1000 / 1000;

  cpu_percent = static_cast<unsigned>((cpu_time_diff_ms * 100) / (scan_time * 1000));
  cpu_percent = cpu_percent ? cpu_percent : 1;
  // prev_scan_time(): the previous scan's time, or this one's for the first.
  last_scan_time = advisor_ctx_.scan_time ? advisor_ctx_.scan_time : scan_time;

  // Calculate scan time as percentage of target scan time.
  factor = knobs_.advisor_target_scan_time * 100 / scan_time;
  factor = factor ? factor : 1;

  // Calculate scan time as percentage of last scan time and use exponentially weighted
  // average to smooth it.
  change = scan_time * 100 / last_scan_time;
  change = change ? change : 1;
  change = ewma(advisor_ctx_.change, change);

  // Calculate new scan rate based on target scan rate.
  pages = static_cast<unsigned>(knobs_.pages_to_scan * 100u) / factor;
  // Update pages_to_scan by weighted change percentage.
  pages = pages * change / 100;

  // Cap new pages_to_scan value.
  per_page_cost = knobs_.pages_to_scan / cpu_percent;
  per_page_cost = per_page_cost ? per_page_cost : 1;

  pages = std::min(pages, per_page_cost * knobs_.advisor_max_cpu);
  pages = std::max(pages, per_page_cost * KSM_ADVISOR_MIN_CPU);
  pages = std::min(pages, knobs_.advisor_max_pages_to_scan);

  // Update advisor context.
  advisor_ctx_.change = change;
  advisor_ctx_.scan_time = scan_time;
  advisor_ctx_.cpu_time = cpu_time;

  knobs_.pages_to_scan = static_cast<unsigned>(pages);
  emit({.name = "ksm_advisor",
        .seq = ksm_scan_.seqnr,
        .scan_time = static_cast<int64_t>(scan_time),
        .pages_to_scan = pages,
        .cpu_percent = cpu_percent});
}

void Ksm::advisor_stop_scan() {
  if (knobs_.ksm_advisor == KSM_ADVISOR_SCAN_TIME) scan_time_advisor();
}

int Ksm::advisor_mode_store(std::string_view buf) {
  if (!features_.sysfs_6_12) return -ENOENT;
  const ksm_advisor_type curr_advisor = knobs_.ksm_advisor;
  if (sysfs_streq("scan-time", buf))
    knobs_.ksm_advisor = KSM_ADVISOR_SCAN_TIME;
  else if (sysfs_streq("none", buf))
    knobs_.ksm_advisor = KSM_ADVISOR_NONE;
  else
    return -EINVAL;
  // Set advisor default values.
  if (curr_advisor != knobs_.ksm_advisor) set_advisor_defaults();
  return 0;
}

std::string Ksm::advisor_mode_show() const {
  return knobs_.ksm_advisor == KSM_ADVISOR_SCAN_TIME ? "none [scan-time]" : "[none] scan-time";
}

// The advisor's knobs (6.12): advisor_mode as the workload format's number for its string
// (0 "none", 1 "scan-time": the enum's values; another number is text the kernel does not
// know, EINVAL); the others kstrtoul each, advisor_max_cpu kept in an unsigned int,
// advisor_target_scan_time 0 EINVAL. None of them touches pages_to_scan but advisor_mode.
int Ksm::store_advisor_knob(std::string_view name, int64_t value) {
  if (value < 0) return -EINVAL;
  const auto v = static_cast<unsigned long>(value);
  if (name == "advisor_mode") {
    if (v == KSM_ADVISOR_NONE) return advisor_mode_store("none");
    if (v == KSM_ADVISOR_SCAN_TIME) return advisor_mode_store("scan-time");
    return -EINVAL;
  }
  if (name == "advisor_max_cpu") {
    knobs_.advisor_max_cpu = static_cast<unsigned>(v);
  } else if (name == "advisor_min_pages_to_scan") {
    knobs_.advisor_min_pages_to_scan = v;
  } else if (name == "advisor_max_pages_to_scan") {
    knobs_.advisor_max_pages_to_scan = v;
  } else if (name == "advisor_target_scan_time") {
    if (v == 0) return -EINVAL;
    knobs_.advisor_target_scan_time = v;
  } else {
    return -ENOENT;
  }
  return 0;
}

}  // namespace ksmsim::ksm
