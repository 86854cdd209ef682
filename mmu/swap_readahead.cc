// The swapcache side of a swap-in and VMA-based swap readahead (mm/swap_state.c of Linux
// 6.1). The oracle's swap device is zram: non-rotational, so swapin_readahead() takes the
// VMA path (vma_ra_enabled is true, nr_rotate_swap 0), and SWP_SYNCHRONOUS_IO, so
// do_swap_page() reads through the swapcache (and reads ahead) only for a slot that is
// cached already or shared (__swap_count() != 1). Readahead pages wait in the swapcache,
// unmapped and marked PG_readahead, until a fault finds them (no read then) or they are
// reclaimed or their slot is freed.
#include "mmu/swap_readahead.h"

#include <algorithm>

#include "mmu/machine.h"

namespace ksmsim::mmu {

namespace {

constexpr uint64_t kPmdSize = uint64_t{1} << 21;  // one PTE table maps 2 MiB

// struct vma_swap_readahead: the PTEs to read, [start, start + nr_pte) in pages, and the
// faulting page's place among them.
struct VmaSwapReadahead {
  uint64_t start = 0;
  unsigned nr_pte = 0;
  unsigned offset = 0;
  unsigned win = 1;
};

// swap_ra_clamp_pfn(): the window stays inside the VMA and the faulting address's PTE table.
void swap_ra_clamp_pfn(const Vma* vma, uint64_t faddr, uint64_t lpfn, uint64_t rpfn,
                       uint64_t* start, uint64_t* end) {
  uint64_t pmd = faddr & ~(kPmdSize - 1);
  *start = std::max({lpfn, vma->start >> kPageShift, pmd >> kPageShift});
  *end = std::min({rpfn, vma->end >> kPageShift, (pmd + kPmdSize) >> kPageShift});
}

// swap_ra_info(): the window after a miss at faddr, from the VMA's last fault and hits;
// records the fault (with the window, hits reset) in the VMA.
void swap_ra_info(Vma* vma, uint64_t faddr, unsigned page_cluster, VmaSwapReadahead* ra_info) {
  unsigned max_win = 1u << std::min(page_cluster, SWAP_RA_ORDER_CEILING);
  if (max_win == 1) {
    ra_info->win = 1;
    return;
  }
  uint64_t fpfn = faddr >> kPageShift;
  uint64_t ra_val = GET_SWAP_RA_VAL(vma);
  uint64_t pfn = SWAP_RA_ADDR(ra_val) >> kPageShift;
  unsigned prev_win = SWAP_RA_WIN(ra_val);
  unsigned hits = SWAP_RA_HITS(ra_val);
  unsigned win = __swapin_nr_pages(pfn, fpfn, static_cast<int>(hits), static_cast<int>(max_win),
                                   static_cast<int>(prev_win));
  ra_info->win = win;
  vma->swap_readahead_info = SWAP_RA_VAL(faddr, win, 0);
  if (win == 1) return;
  uint64_t start, end;
  if (fpfn == pfn + 1) {  // moving up: the window starts here
    swap_ra_clamp_pfn(vma, faddr, fpfn, fpfn + win, &start, &end);
  } else if (pfn == fpfn + 1) {  // moving down: the window ends here
    swap_ra_clamp_pfn(vma, faddr, fpfn - win + 1, fpfn + 1, &start, &end);
  } else {
    unsigned left = (win - 1) / 2;
    swap_ra_clamp_pfn(vma, faddr, fpfn - left, fpfn + win - left, &start, &end);
  }
  ra_info->start = start;
  ra_info->nr_pte = static_cast<unsigned>(end - start);
  ra_info->offset = static_cast<unsigned>(fpfn - start);
}

}  // namespace

Page* Machine::swap_cache_get_folio(uint32_t slot, Vma* vma, uint64_t addr) {
  Page* page = swap_.cache(slot);
  if (!page) return nullptr;
  get_page(page);
  bool readahead = page->Test(PG_readahead);  // folio_test_clear_readahead()
  page->Clear(PG_readahead);
  // vma && swap_use_vma_readahead(): the VMA remembers this fault, and a readahead hit.
  uint64_t ra_val = GET_SWAP_RA_VAL(vma);
  uint64_t win = SWAP_RA_WIN(ra_val);
  uint64_t hits = SWAP_RA_HITS(ra_val);
  if (readahead) hits = std::min(hits + 1, SWAP_RA_HITS_MAX);
  vma->swap_readahead_info = SWAP_RA_VAL(addr, win, hits);
  if (readahead) ++vmstat_.swap_ra_hit;  // count_vm_event(SWAP_RA_HIT)
  return page;
}

Page* Machine::__read_swap_cache_async(uint32_t slot, Vma* vma, uint64_t addr,
                                       bool* new_page_allocated) {
  (void)addr;  // vma_alloc_folio(gfp_mask, 0, vma, addr): the node is the VMA's policy's
  *new_page_allocated = false;
  // "First check the swap cache."
  if (Page* page = swap_.cache(slot)) {
    get_page(page);
    return page;
  }
  // "Just skip read ahead for unused swap slot."
  if (swap_.count(slot) == 0) return nullptr;
  Page* page = alloc_page(alloc_node(vma));
  if (!page) return nullptr;
  // (swapcache_prepare() cannot fail here: reclaim during the allocation puts pages into
  // free slots only, and frees no slot a PTE refers to.)
  // add_to_swap_cache(): one reference for the swapcache and one for the caller. zram
  // reads synchronously, so the page holds the slot's data from here on.
  page->flags = PG_swapcache;
  page->set_refcount(2);
  set_page_private(page, slot);
  contents_.Ref(swap_.content(slot));
  page->content = swap_.content(slot);
  swap_.set_cache(slot, page, contents_);
  *new_page_allocated = true;
  return page;
}

Page* Machine::read_swap_cache_async(uint32_t slot, Vma* vma, uint64_t addr) {
  bool page_was_allocated = false;
  Page* page = __read_swap_cache_async(slot, vma, addr, &page_was_allocated);
  if (page_was_allocated) swap_readpage();
  return page;
}

Page* Machine::swapin_readahead(uint32_t slot, Vma* vma, uint64_t addr) {
  // swap_use_vma_readahead(): vma_ra_enabled and no rotational swap device (zram is not).
  return swap_vma_readahead(slot, vma, addr);
}

Page* Machine::swap_vma_readahead(uint32_t fslot, Vma* vma, uint64_t addr) {
  VmaSwapReadahead ra_info;
  swap_ra_info(vma, addr, config_.page_cluster, &ra_info);
  if (ra_info.win != 1) {
    for (unsigned i = 0; i < ra_info.nr_pte; ++i) {
      const Pte pte = vma->mm->page_table.Value((ra_info.start + i) << kPageShift);
      if (!pte.is_swap()) continue;
      bool page_allocated = false;
      Page* page = __read_swap_cache_async(pte.swap_slot(), vma, addr, &page_allocated);
      if (!page) continue;
      if (page_allocated) {
        swap_readpage();
        if (i != ra_info.offset) {
          page->Set(PG_readahead);  // SetPageReadahead()
          ++vmstat_.swap_ra;        // count_vm_event(SWAP_RA)
        }
      }
      put_page(page);
    }
  }
  return read_swap_cache_async(fslot, vma, addr);
}

}  // namespace ksmsim::mmu
