// The tree-walk snapshots (simulator only, behaviour-neutral; docs/ARCHITECTURE.md
// "Tree-walk snapshots"): each node of this pass's unstable tree, and each stable node,
// keeps the first 4 bytes of the page its lookup last found, tagged with the machine's
// change counters (mmu/change_counters.h) at that time. While the tag holds, a tree level
// whose first 4 bytes differ is decided from the snapshot, without the lookup: what that
// skips is a get_page()/put_page() pair and reads, so the outcome, every counter,
// work.compares and the event log are the kernel path's.
//
// Inline: the walks call these at every level. Included by the tree walks' files
// (ksm_tree.cc, ksm_stable.cc, ksm_scan.cc) and ksm/snapshot.cc, which holds the checks.
#pragma once

#include "ksm/ksm.h"

namespace ksmsim::ksm {

// ---- the unstable tree ----

// lookup_epoch() plus the mm's page-table writes, which only grow; compared in 32 bits, so
// shortcuts stop for the rest of a pass once change_count() moved 2^32 since it began.
inline uint32_t Ksm::unstable_snapshot_tag(const mmu::Machine& m, const mmu::Mm* mm) {
  return static_cast<uint32_t>(m.changes().lookup_epoch() + mm->page_table.writes());
}

inline bool Ksm::unstable_snapshots_usable() const {
  return m_.changes().change_count() - unstable_snapshot_base_ < (uint64_t{1} << 32);
}

// A pass's unstable tree starts empty: its snapshots count from here.
inline void Ksm::start_unstable_snapshots() {
  unstable_snapshot_base_ = m_.changes().change_count();
}

// Records what get_mergeable_page(rmap_item) gives now: `page`, mapped by the PTE at
// rmap_item's address (a tag that cannot match if that PTE does not map it).
inline void Ksm::take_unstable_snapshot(RmapItem* rmap_item, const mmu::Page* page) {
  const mmu::Mm* mm = rmap_item->mm;
  const mmu::Pte pte{m_.pte_value(mm, rmap_item->address & PAGE_MASK)};
  const uint32_t tag = unstable_snapshot_tag(m_, mm);
  const bool maps_page = pte.present() && pte.pfn() == page->pfn();
  rmap_item->snapshot_tag = maps_page ? tag : tag - 1;
  rmap_item->snapshot_prefix = static_cast<uint32_t>(m_.contents().Word0(page->content));
}

// The memcmp_pages() sign of (the page whose first 4 bytes are `prefix`, tree_rmap_item's
// page) when the snapshot holds and the prefixes differ; 0 when the lookup must be done.
// Nothing get_mergeable_page() reads can have changed: no lookup_epoch() change (no VMA,
// exit, frame allocation or content write) and no write to the mm's page table, so the same
// present anon page with the same content. (The caller has checked
// unstable_snapshots_usable().)
inline int Ksm::unstable_snapshot_cmp(const RmapItem* tree_rmap_item, uint32_t prefix) {
  if (tree_rmap_item->snapshot_tag != unstable_snapshot_tag(m_, tree_rmap_item->mm) ||
      tree_rmap_item->snapshot_prefix == prefix)
    return 0;
  return mmu::ContentStore::CompareWord0(prefix, tree_rmap_item->snapshot_prefix);
}

// A level counted as the comparison it stands for; *parent and *new_link move down.
inline void Ksm::snapshot_descend(int ret, RbNode** parent, RbLink** new_link) {
  ++work_.compares;
  ++work_.snapshot_compares;
  *parent = **new_link;
  *new_link = ret < 0 ? &(*parent)->rb_left : &(*parent)->rb_right;
}

// One level of unstable_tree_search_insert decided from tree_rmap_item's snapshot: true
// when it was, with *parent and *new_link moved down as the kernel's comparison would have.
inline bool Ksm::unstable_snapshot_descend(RmapItem* tree_rmap_item, mmu::Page* page,
                                           uint32_t prefix, RbNode** parent, RbLink** new_link) {
  const int ret = unstable_snapshot_cmp(tree_rmap_item, prefix);
  if (!ret) return false;
#ifdef KSMSIM_PARANOID
  check_unstable_snapshot(tree_rmap_item, page, ret);
#else
  (void)page;  // for the check only
#endif
  snapshot_descend(ret, parent, new_link);
  return true;
}

// ---- the stable tree ----

// A plain node (not a chain) below max_page_sharing whose snapshot holds is a node
// get_ksm_page() would find unchanged, with the same KSM page and bytes: nothing it reads
// changed (no KSM page freed, migrated or remapped, no content written).
inline uint64_t Ksm::stable_snapshot_tag() const {
  return m_.changes().lookup_epoch() + m_.changes().ksm_page_epoch() + stable_remaps_;
}

inline void Ksm::take_stable_snapshot(StableNode* stable_node, const mmu::Page* tree_page) {
  stable_node->snapshot_tag = stable_snapshot_tag();
  stable_node->snapshot_prefix = static_cast<uint32_t>(m_.contents().Word0(tree_page->content));
}

inline int Ksm::stable_snapshot_cmp(const StableNode* stable_node, uint32_t prefix) const {
  if (stable_node->snapshot_tag != stable_snapshot_tag() ||
      stable_node->snapshot_prefix == prefix || is_stable_node_chain(stable_node) ||
      !is_page_sharing_candidate(stable_node))
    return 0;
  return mmu::ContentStore::CompareWord0(prefix, stable_node->snapshot_prefix);
}

// One level of a stable-tree walk decided from stable_node's snapshot: true when it was,
// with *parent and *new_link moved down as the kernel's comparison would have.
inline bool Ksm::stable_snapshot_descend(StableNode* stable_node, mmu::Page* page, uint32_t prefix,
                                         RbNode** parent, RbLink** new_link) {
  const int ret = stable_snapshot_cmp(stable_node, prefix);
  if (!ret) return false;
#ifdef KSMSIM_PARANOID
  check_stable_snapshot(stable_node, page, ret);
#else
  (void)page;  // for the check only
#endif
  snapshot_descend(ret, parent, new_link);
  return true;
}

// stable_node_dup's walk of a chain: a dup whose snapshot holds is not stale, so
// get_ksm_page() would find its page; if it cannot take more sharers, that page would only
// be put back. True when the pair can be skipped.
inline bool Ksm::stable_snapshot_skips_dup(StableNode* dup) {
  if (dup->snapshot_tag != stable_snapshot_tag() || is_page_sharing_candidate(dup)) return false;
#ifdef KSMSIM_PARANOID
  check_stable_snapshot(dup, nullptr, 0);
#endif
  return true;
}

}  // namespace ksmsim::ksm
