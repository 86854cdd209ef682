// /sys/kernel/mm/ksm: the knob stores with the kernel's parsing and EBUSY/EINVAL rules,
// and the counters as files (mm/ksm.c's *_show/*_store).
#include <cerrno>
#include <limits>
#include <string>

#include "ksm/ksm.h"

namespace ksmsim::ksm {

namespace {
// kstrtouint() of the decimal text: -EINVAL for a negative, -ERANGE above UINT_MAX.
int KstrToUint(int64_t v, unsigned* out) {
  if (v < 0) return -EINVAL;
  if (v > std::numeric_limits<unsigned>::max()) return -ERANGE;
  *out = static_cast<unsigned>(v);
  return 0;
}
// kstrtobool() looks at the first character only: "1", "10", "19" are all true.
int KstrToBool(int64_t v, bool* out) {
  std::string s = std::to_string(v);
  if (s[0] == '1') {
    *out = true;
    return 0;
  }
  if (s[0] == '0') {
    *out = false;
    return 0;
  }
  return -EINVAL;
}
}  // namespace

long Ksm::pages_volatile() const {
  long v = static_cast<long>(ksm_rmap_items_) - static_cast<long>(ksm_pages_shared_) -
           static_cast<long>(ksm_pages_sharing_) - static_cast<long>(ksm_pages_unshared_);
  return v < 0 ? 0 : v;  // it might sometimes be negative: conceal that
}

bool Ksm::ksmd_should_run() const {
  return (knobs_.run & KSM_RUN_MERGE) && ksm_mm_head_.next != &ksm_mm_head_;
}

int Ksm::StoreKnob(std::string_view name, int64_t value) {
  unsigned u = 0;
  if (name == "sleep_millisecs") {
    if (KstrToUint(value, &u)) return -EINVAL;
    knobs_.sleep_millisecs = u;
    return 0;
  }
  if (name == "pages_to_scan") {
    if (knobs_.ksm_advisor != KSM_ADVISOR_NONE) return -EINVAL;  // 6.12: the advisor's
    if (KstrToUint(value, &u)) return -EINVAL;
    knobs_.pages_to_scan = u;
    return 0;
  }
  if (name == "stable_node_chains_prune_millisecs") {
    if (KstrToUint(value, &u)) return -EINVAL;
    knobs_.stable_node_chains_prune_millisecs = u;
    return 0;
  }
  if (name == "run") {
    if (KstrToUint(value, &u)) return -EINVAL;
    if (u > KSM_RUN_UNMERGE) return -EINVAL;
    // KSM_RUN_MERGE sets ksmd running, 0 stops it; KSM_RUN_UNMERGE stops it and unmerges
    // everything (leaving mm_slots listed for when ksmd runs again).
    if (knobs_.run != u) {
      knobs_.run = u;
      if (u & KSM_RUN_UNMERGE) {
        // The writer of /sys/kernel/mm/ksm/run takes the COW faults (run_store's context).
        m_.set_foreign_task_node(kSysfsWriterNode);
        int err = unmerge_and_remove_all_rmap_items();
        m_.set_foreign_task_node(-1);
        if (err) {
          knobs_.run = KSM_RUN_STOP;
          return err;
        }
      }
    }
    return 0;
  }
  if (name == "max_page_sharing") {
    if (value > std::numeric_limits<int>::max() || value < std::numeric_limits<int>::min())
      return -ERANGE;
    int knob = static_cast<int>(value);
    // A KSM page starts shared by 2 mappings; the signed compare rejects negatives too.
    if (knob < 2) return -EINVAL;
    if (knobs_.max_page_sharing == knob) return 0;
    if (ksm_pages_shared_ || remove_all_stable_nodes()) return -EBUSY;
    knobs_.max_page_sharing = knob;
    ++dups_changes_;  // (simulator) full dups are no longer full: see DupsTail
    return 0;
  }
  if (name == "merge_across_nodes") {
    if (value < 0) return -EINVAL;
    if (value > 1) return -EINVAL;
    unsigned knob = static_cast<unsigned>(value);
    if (knobs_.merge_across_nodes != knob) {
      if (ksm_pages_shared_ || remove_all_stable_nodes()) return -EBUSY;
      knobs_.merge_across_nodes = knob;
      ksm_nr_node_ids_ = knob ? 1 : m_.phys().num_nodes();
    }
    return 0;
  }
  if (features_.smart_scan && name == "smart_scan") {
    bool b = false;
    if (KstrToBool(value, &b)) return -EINVAL;
    knobs_.smart_scan = b;
    return 0;
  }
  if (features_.sysfs_6_12 && name.starts_with("advisor_")) return store_advisor_knob(name, value);
  if (name == "use_zero_pages") {
    bool b = false;
    if (KstrToBool(value, &b)) return -EINVAL;
    knobs_.use_zero_pages = b;
    return 0;
  }
  return -ENOENT;
}

std::map<std::string, int64_t> Ksm::SysfsValues() const {
  std::map<std::string, int64_t> v;
  v["full_scans"] = static_cast<int64_t>(ksm_scan_.seqnr);
  v["max_page_sharing"] = knobs_.max_page_sharing;
  v["merge_across_nodes"] = knobs_.merge_across_nodes;
  v["pages_shared"] = static_cast<int64_t>(ksm_pages_shared_);
  v["pages_sharing"] = static_cast<int64_t>(ksm_pages_sharing_);
  v["pages_to_scan"] = knobs_.pages_to_scan;
  v["pages_unshared"] = static_cast<int64_t>(ksm_pages_unshared_);
  v["pages_volatile"] = pages_volatile();
  v["run"] = static_cast<int64_t>(knobs_.run & ~KSM_RUN_OFFLINE);
  v["sleep_millisecs"] = knobs_.sleep_millisecs;
  v["stable_node_chains"] = static_cast<int64_t>(ksm_stable_node_chains_);
  v["stable_node_chains_prune_millisecs"] = knobs_.stable_node_chains_prune_millisecs;
  v["stable_node_dups"] = static_cast<int64_t>(ksm_stable_node_dups_);
  v["use_zero_pages"] = knobs_.use_zero_pages ? 1 : 0;
  if (profile_ == Profile::k61ZeroUnshare || features_.sysfs_6_12)
    v["ksm_zero_pages"] = static_cast<int64_t>(ksm_zero_pages_);
  if (features_.smart_scan) {
    v["smart_scan"] = knobs_.smart_scan ? 1 : 0;
    v["pages_scanned"] = static_cast<int64_t>(ksm_pages_scanned_);
    v["pages_skipped"] = static_cast<int64_t>(ksm_pages_skipped_);
  }
  if (features_.sysfs_6_12) {
    v["general_profit"] = general_profit();
    v["advisor_max_cpu"] = knobs_.advisor_max_cpu;
    v["advisor_min_pages_to_scan"] = static_cast<int64_t>(knobs_.advisor_min_pages_to_scan);
    v["advisor_max_pages_to_scan"] = static_cast<int64_t>(knobs_.advisor_max_pages_to_scan);
    v["advisor_target_scan_time"] = static_cast<int64_t>(knobs_.advisor_target_scan_time);
  }
  return v;
}

// general_profit_show(): what merging saves, less what the rmap_items cost (may be < 0).
int64_t Ksm::general_profit() const {
  return (static_cast<int64_t>(ksm_pages_sharing_) + static_cast<int64_t>(ksm_zero_pages_)) *
             static_cast<int64_t>(mmu::kPageSize) -
         static_cast<int64_t>(ksm_rmap_items_) * features_.rmap_item_size;
}

// ksm_process_profit(): the same per process.
int64_t Ksm::ksm_process_profit(const mmu::Mm& mm) const {
  return (mm.ksm_merging_pages + mm.ksm_zero_pages) * static_cast<int64_t>(mmu::kPageSize) -
         mm.ksm_rmap_items * features_.rmap_item_size;
}

std::map<std::string, int64_t> Ksm::ProcValues(const mmu::Mm& mm) const {
  std::map<std::string, int64_t> v;
  v["ksm_merging_pages"] = mm.ksm_merging_pages;
  v["ksm_rmap_items"] = mm.ksm_rmap_items;
  if (features_.sysfs_6_12) {
    v["ksm_zero_pages"] = mm.ksm_zero_pages;
    v["ksm_process_profit"] = ksm_process_profit(mm);
  }
  return v;
}

}  // namespace ksmsim::ksm
