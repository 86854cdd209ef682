// A kernel profile's features: what each kernel generation's mm/ksm.c (and the mm code it
// relies on) does differently, as named flags read by the port, so that no function tests a
// version number. One table per profile in profile.cc; docs/FIDELITY.md maps them to the
// kernel functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ksmsim::ksm {

// "6.1" (Linux 6.1.192, Debian), "6.1-zero-unshare" (6.1 with the seed-001 zero-page patch),
// "6.12" (Linux 6.12.118, Debian).
enum class Profile { k61, k61ZeroUnshare, k612 };

struct ProfileFeatures {
  // 6.12: should_skip_rmap_item() with per-rmap_item age and remaining_skips, the
  // `smart_scan` knob (default 1), counters pages_scanned and pages_skipped.
  bool smart_scan = false;
  // 6.12.y "mm/ksm: fix incorrect KSM counter handling in mm_struct during fork": ksm_fork()
  // zeroes the child's ksm_merging_pages and ksm_rmap_items (6.1 keeps dup_mm's copy).
  bool fork_resets_mm_counters = false;
  // 6.12 cmp_and_merge_page(): for a page that is not KSM, the checksum gate and
  // try_to_merge_with_zero_page() come before stable_tree_search() (6.1: after), so a new
  // page merges with an existing KSM page on its second visit (6.1: its first).
  bool checksum_before_stable_search = false;
  // 6.12's KSM-placed zero pages: replace_page() maps the zero page with a dirty PTE
  // (is_ksm_zero_pte) and counts it in ksm_zero_pages and mm->ksm_zero_pages
  // (ksm_map_zero_page); zapping such a PTE or a copy-on-write fault on it uncounts it
  // (ksm_might_unmap_zero_page); break_ksm() unshares it (MADV_UNMERGEABLE, `run` 2);
  // ksm_fork() adds the child's inherited count to the global one.
  bool ksm_zero_pages = false;
  // 6.12's stable_node_dup(): the first live dup is found even when full (a candidate
  // replaces it), and a chain whose found dup is its only entry collapses into it whatever
  // the prune timer (6.1: only when pruning and that dup is a candidate); a chain left with
  // no live dup is freed there. __stable_node_chain() returns a full plain node too,
  // stable_tree_search() tests the found dup's candidacy, stable_tree_insert()'s chain()
  // may collapse, and stable_node_dup_any() is gone. (KERNEL-6.12.md 2.6)
  bool collapse_singular_chains = false;
  // 6.12's break_ksm() faults with FAULT_FLAG_UNSHARE (6.1: FAULT_FLAG_WRITE): the copy that
  // replaces a KSM page (or KSM zero page) is mapped read-only and clean, so after a fork
  // write_protect_page() skips its refcount test on it (a FOLL_GET pin no longer stops a merge).
  bool break_ksm_unshares = false;
  // 6.12's /sys/kernel/mm/ksm additions: ksm_zero_pages, general_profit, the advisor knobs
  // (stored with their write rules); /proc/PID/ksm_stat's ksm_zero_pages and
  // ksm_process_profit.
  bool sysfs_6_12 = false;
  // The kernel's LRU is the multi-gen LRU (Debian's 6.12 sets CONFIG_LRU_GEN_ENABLED, 6.1
  // does not): mark_page_accessed() keeps no activate batch
  // (mmu::MachineConfig::activate_batch).
  bool mglru = false;
  // PAGEVEC_SIZE: CPU 0's mlock batch (mmu::MachineConfig::pagevec_size).
  size_t pagevec_size = 15;
  // sizeof(struct ksm_rmap_item) on x86-64, for general_profit and ksm_process_profit.
  int64_t rmap_item_size = 64;
};

const ProfileFeatures& FeaturesOf(Profile profile);

}  // namespace ksmsim::ksm
