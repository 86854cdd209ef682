// (simulator) The walk lookahead: the pages ksmd is about to scan have their tree walks
// started together, so that their cache misses overlap. Read-only and behaviour-neutral:
// see Ksm::walk_lookahead() in ksm/ksm.h and docs/PERFORMANCE.md.
#include <algorithm>

#include "ksm/ksm.h"
#include "mmu/machine.h"

namespace ksmsim::ksm {

namespace {

// Pages whose walks go together: enough misses in flight to cover a DRAM access, and few
// enough that their lines stay in L1/L2 until the real walks read them. Measured
// (docs/PERFORMANCE.md): 8 gives most of the gain; scale (64 GiB) 32.0 s at 16, 30.0-30.8 s
// at 32 and at 64.
constexpr int kLookaheadPages = 32;

// One walk in progress: the node whose lines were prefetched, and the page's first 4 bytes.
struct Cursor {
  const RbNode* node;
  uint32_t prefix;
  bool stable;
};

// The bytes a level of each walk reads: an rmap_item's first 24 (it may straddle two lines),
// a stable node's first line (alignas(64)).
void PrefetchLevel(const RbNode* node, bool stable) {
  __builtin_prefetch(node);
  if (!stable)
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(node) + 23));
}

// The first 4 bytes of the page the node last found (its snapshot, held or not): where the
// real walk's comparison would most likely send the page. A chain has no page of its own;
// its first dup's stands for it.
uint32_t NodePrefix(const Cursor& c) {
  if (!c.stable) return rb_entry_rmap_item(c.node)->snapshot_prefix;
  const auto* stable_node = static_cast<const StableNode*>(c.node);
  if (is_stable_node_chain(stable_node) && stable_node->dups.first)
    return stable_node->dups.first->snapshot_prefix;
  return stable_node->snapshot_prefix;
}

}  // namespace

int Ksm::walk_lookahead() {
  if (ksm_scan_.mm_slot == &ksm_mm_head_) return 1;  // a pass starts: its tree is not built
  const mmu::Mm* mm = ksm_scan_.mm_slot->mm;
  if (ksm_test_exit(mm)) return 1;
  // Small trees: only the checksums, and only where the pages ahead have not been scanned
  // before (no rmap_item yet), which is where calc_checksum() will compute them.
  const bool walks = ksm_pages_unshared_ + ksm_pages_shared_ >= lookahead_min_nodes_;
  if (!walks) {
    const RmapItem* next = *ksm_scan_.rmap_list;
    if (next && (next->address & PAGE_MASK) <= ksm_scan_.address) return kLookaheadPages;
  }
  // The next kLookaheadPages pages of the mm that the scan will reach (the PTEs and frames
  // are what follow_page() will read; a page already KSM walks no tree).
  Cursor cursors[2 * kLookaheadPages];
  mmu::ContentId contents[kLookaheadPages];
  int n = 0;
  int pages = 0;
  int nc = 0;
  int budget = 4 * kLookaheadPages;  // addresses looked at, mapped or not
  uint64_t addr = ksm_scan_.address;
  for (const mmu::Vma* vma = mm->find_vma(addr); vma && pages < kLookaheadPages && budget > 0;
       vma = mm->find_vma(vma->end)) {
    if (!(vma->flags & mmu::VM_MERGEABLE) || !vma->anon_vma) continue;
    for (addr = std::max(addr, vma->start);
         addr < vma->end && pages < kLookaheadPages && budget-- > 0; addr += mmu::kPageSize) {
      const mmu::Pte pte{m_.pte_value(mm, addr)};
      if (!pte.present()) continue;
      const mmu::Page* page = m_.pfn_to_page(pte.pfn());
      if (!page->PageAnon()) continue;
      ++pages;
      if (page->PageKsm()) continue;
      contents[nc++] = page->content;
      if (!walks) continue;
      const auto prefix = static_cast<uint32_t>(m_.contents().Word0(page->content));
      const int nid = get_kpfn_nid(pte.pfn());
      if (const RbNode* root = root_stable_tree_[nid].rb_node.get())
        cursors[n++] = {root, prefix, true};
      if (const RbNode* root = root_unstable_tree_[nid].rb_node.get())
        cursors[n++] = {root, prefix, false};
    }
  }
  // Their checksums, where calc_checksum() will need them computed, in one go.
  m_.contents().PrepareChecksums(contents, static_cast<size_t>(nc));
  // A stable walk that ends at equal prefixes will most likely match there: get_ksm_page()
  // then reads that KSM page's descriptor, which is fetched now too (of a frame whose
  // descriptor exists: page() then only computes its address).
  mmu::PhysMem& phys = m_.phys();
  auto prefetch_ksm_page = [&](const StableNode* stable_node) {
    if (is_stable_node_chain(stable_node)) stable_node = stable_node->dups.first;
    if (!stable_node) return;
    const mmu::Pfn kpfn = stable_node->kpfn;
    if (!mmu::Machine::is_zero_pfn(kpfn) && phys.touched(kpfn)) __builtin_prefetch(phys.page(kpfn));
  };
  // One level of each walk in turn: by the time a walk's turn comes back, the line its
  // last level prefetched has had the other walks' time to arrive. A walk ends at a leaf or
  // where the prefixes are equal (there the real walk compares the pages).
  while (n > 0) {
    for (int i = 0; i < n;) {
      Cursor& c = cursors[i];
      const uint32_t node_prefix = NodePrefix(c);
      const RbNode* next = nullptr;
      if (node_prefix != c.prefix)
        next = mmu::ContentStore::CompareWord0(c.prefix, node_prefix) < 0 ? c.node->rb_left.get()
                                                                          : c.node->rb_right.get();
      else if (c.stable)
        prefetch_ksm_page(static_cast<const StableNode*>(c.node));
      if (!next) {
        cursors[i] = cursors[--n];
        continue;
      }
      PrefetchLevel(next, c.stable);
      c.node = next;
      ++i;
    }
  }
  return std::max(pages, 1);
}

}  // namespace ksmsim::ksm
