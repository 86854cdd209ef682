// How each decision of the port (ksm/ksm_decision.h) becomes a "ksmsim_decision" event:
// the fields each one carries. Every decision names the page cmp_and_merge_page is deciding
// about (mm, addr, pfn: traced_, set by trace_scan), whatever else it is about. Inline, and each
// tests tracing() before building anything, so that the port's per-page paths pay one test when no
// event sink is set. Included by the port's files that decide (ksm_scan.cc, ksm_tree.cc) and
// nowhere else.
#pragma once

#include "ksm/ksm.h"

namespace ksmsim::ksm {

inline KsmEvent Ksm::decision_event(Decision d) const {
  const DecisionName n = decision_name(d);
  return {.name = kDecisionEvent,
          .seq = ksm_scan_.seqnr,
          .mm = traced_.mm,
          .addr = traced_.addr,
          .pfn = traced_.pfn,
          .decision = d,
          .func = n.func,
          .what = n.what};
}

inline void Ksm::trace_scan(const RmapItem* rmap_item, const mmu::Page* page) {
  if (!tracing()) return;
  traced_ = {rmap_item->mm, rmap_item->address & PAGE_MASK, static_cast<int64_t>(page->pfn())};
  emit(decision_event(Decision::kScan));
}

inline void Ksm::trace_smart_scan_skip(const RmapItem* rmap_item, const mmu::Page* page,
                                       uint8_t age, uint8_t remaining_skips) {
  if (!tracing()) return;
  traced_ = {rmap_item->mm, rmap_item->address & PAGE_MASK, static_cast<int64_t>(page->pfn())};
  KsmEvent e = decision_event(Decision::kSmartScanSkip);
  e.skip_age = age;
  e.remaining_skips = remaining_skips;
  emit(e);
}

// A decision about the scanned page (its mm, and its pfn when `page` is given).
inline void Ksm::trace_page(Decision d, const RmapItem* rmap_item, const mmu::Page* page,
                            const StableNode* stable_node) {
  if (!tracing()) return;
  KsmEvent e = decision_event(d);
  e.mm = rmap_item->mm;
  if (page) e.pfn = static_cast<int64_t>(page->pfn());
  if (stable_node) e.node_id = stable_node->id;
  emit(e);
}

inline void Ksm::trace_checksum_changed(const RmapItem* rmap_item, const mmu::Page* page,
                                        uint32_t checksum) {
  if (!tracing()) return;
  KsmEvent e = decision_event(Decision::kChecksumChanged);
  e.mm = rmap_item->mm;
  e.pfn = static_cast<int64_t>(page->pfn());
  e.oldchecksum = rmap_item->oldchecksum;
  e.checksum = checksum;
  emit(e);
}

// The merge with the kernel zero page: try_to_merge_one_page in 6.1,
// try_to_merge_with_kernel_zero_page in the seed-001 profile.
inline void Ksm::trace_zero_page_merge(int err, const RmapItem* rmap_item, const mmu::Page* page) {
  if (!tracing()) return;
  const bool seed001 = profile_ == Profile::k61ZeroUnshare;
  KsmEvent e =
      decision_event(seed001 ? (err ? Decision::kKernelZeroFailed : Decision::kKernelZeroMerged)
                             : (err ? Decision::kZeroFailed : Decision::kZeroMerged));
  e.mm = rmap_item->mm;
  e.pfn = static_cast<int64_t>(page->pfn());
  e.err = err;
  emit(e);
}

inline void Ksm::trace_merge_with_ksm_page(int err, const RmapItem* rmap_item,
                                           const mmu::Page* page, const mmu::Page* kpage) {
  if (!tracing()) return;
  KsmEvent e = decision_event(err ? Decision::kMergeKsmFailed : Decision::kMergedKsm);
  e.mm = rmap_item->mm;
  e.pfn = static_cast<int64_t>(page->pfn());
  e.other_pfn = static_cast<int64_t>(kpage->pfn());
  e.err = err;
  const StableNode* stable_node = page_stable_node(kpage);
  e.node_id = stable_node ? stable_node->id : 0;
  emit(e);
  if (err) return;
  emit({.name = "ksm_merge_with_ksm_page",
        .seq = ksm_scan_.seqnr,
        .mm = rmap_item->mm,
        .addr = rmap_item->address & PAGE_MASK,
        .pfn = static_cast<int64_t>(page->pfn()),
        .other_pfn = static_cast<int64_t>(kpage->pfn())});
}

// After try_to_merge_two_pages: `kpage` null when it failed, else the new KSM page and
// its stable node.
inline void Ksm::trace_merge_two_pages(const RmapItem* rmap_item, const mmu::Page* page,
                                       const RmapItem* tree_rmap_item, const mmu::Page* kpage,
                                       const StableNode* stable_node) {
  if (!tracing()) return;
  KsmEvent e = decision_event(kpage ? Decision::kMergedTwo : Decision::kMergeTwoFailed);
  e.mm = rmap_item->mm;
  e.pfn = static_cast<int64_t>(page->pfn());
  e.other_mm = tree_rmap_item->mm;
  e.other_addr = tree_rmap_item->address & PAGE_MASK;
  if (kpage) {
    e.other_pfn = static_cast<int64_t>(kpage->pfn());
    e.node_id = stable_node->id;
    e.nid = stable_node->nid;
  }
  emit(e);
}

// A decision of stable_tree_search about stable_node (if any) of tree `nid`; `kpfn` is the
// KSM page matched, where one is.
inline void Ksm::trace_stable(Decision d, const StableNode* stable_node, int nid, int64_t kpfn) {
  if (!tracing()) return;
  KsmEvent e = decision_event(d);
  e.other_pfn = kpfn;
  if (stable_node) e.node_id = stable_node->id;
  e.nid = nid;
  emit(e);
}

// A decision of unstable_tree_search_insert about tree_rmap_item's page (if any) of tree
// `nid`; `tree_page` is that page when it matched.
inline void Ksm::trace_unstable(Decision d, const RmapItem* tree_rmap_item, int nid,
                                const mmu::Page* tree_page) {
  if (!tracing()) return;
  KsmEvent e = decision_event(d);
  if (tree_page) e.other_pfn = static_cast<int64_t>(tree_page->pfn());
  if (tree_rmap_item) {
    e.other_mm = tree_rmap_item->mm;
    e.other_addr = tree_rmap_item->address & PAGE_MASK;
  }
  e.nid = nid;
  emit(e);
}

}  // namespace ksmsim::ksm
