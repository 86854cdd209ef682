// Reverse mapping and reclaim to swap (mm/rmap.c, mm/vmscan.c, mm/madvise.c's pageout),
// reduced to one page at a time and a synchronous swap device (zram).
#include <cerrno>

#include "mmu/machine.h"

namespace ksmsim::mmu {

void Machine::rmap_walk(Page* page, RmapWalkControl& rwc) {
  if (page->PageKsm()) {
    ksm_->rmap_walk_ksm(page, rwc);
    return;
  }
  AnonVma* av = page->anon_vma();
  if (!av) return;
  uint64_t addr = page->index() << kPageShift;
  std::vector<Vma*> vmas = av->vmas;  // the walk may not change the list, but be safe
  for (Vma* vma : vmas) {
    if (!vma->contains(addr)) continue;
    if (!rwc.rmap_one(page, vma, addr)) return;
    if (rwc.done && rwc.done(page)) return;
  }
}

// try_to_unmap(): replace every PTE of page with a swap entry for its swapcache slot.
bool Machine::try_to_unmap(Page* page) {
  RmapWalkControl rwc;
  const uint32_t slot = page_private(page);  // every p below is page
  rwc.rmap_one = [&](Page* p, Vma* vma, uint64_t addr) {
    PteRef pte = vma->mm->page_table.Lookup(addr, false);
    if (!pte || !pte->present() || pte->pfn() != p->pfn()) return true;
    if (vma->flags & VM_LOCKED) {  // mlock_vma_folio(): mlocked again, and stays
      p->Set(PG_mlocked);
      return false;
    }
    bool anon_exclusive = p->Test(PG_anon_exclusive);
    if (pte->dirty()) p->Set(PG_dirty);
    pte.set(Pte{Pte::Swap(slot).v | (anon_exclusive ? Pte::kSwpExclusive : 0)});
    p->Clear(PG_anon_exclusive);
    swap_.Duplicate(slot);
    ++vma->mm->swap_ents;
    page_remove_rmap(p, vma);
    put_page(p);
    return true;
  };
  rwc.done = [](Page* p) { return p->mapcount() == 0; };
  rmap_walk(page, rwc);
  return page->mapcount() == 0;
}

bool Machine::reclaim_page(Page* page) {
  // Anonymous pages, and the swapcache's unmapped ones (readahead has not made them anon).
  if (page->Test(PG_free) || !(page->PageAnon() || page->PageSwapCache()) || page->Test(PG_mlocked))
    return false;
  if (!trylock_page(page)) return false;
  get_page(page);  // isolate_lru_page()'s reference
  bool freed = false;
  do {
    if (!page->PageSwapCache()) {
      // add_to_swap(): no swap (or a full device) means an anon page cannot be reclaimed.
      uint32_t slot = swap_.Alloc();
      if (slot == kNoSwapSlot) break;
      page->Set(PG_swapcache | PG_dirty);
      set_page_private(page, slot);
      swap_.set_cache(slot, page, contents_);
      get_page(page);
    }
    if (page->mapcount() > 0 && !try_to_unmap(page)) break;
    if (page->Test(PG_dirty)) {  // pageout(): a synchronous write
      swap_.Write(page_private(page), page->content, contents_);
      ++vmstat_.pswpout;
      page->Clear(PG_dirty);
    }
    // __remove_mapping(): only the swapcache and our isolation reference may remain.
    if (page->refcount() != 2) break;
    uint32_t slot = page_private(page);
    page->Clear(PG_swapcache);
    set_page_private(page, kNoSwapSlot);
    swap_.set_cache(slot, nullptr, contents_);
    put_page(page);
    freed = true;
  } while (false);
  if (freed) {
    unlock_page(page);
    put_page(page);  // the last reference: the frame is freed
    return true;
  }
  unlock_page(page);
  put_page(page);
  return false;
}

bool Machine::ReclaimSome(int n) {
  if (swap_.slots() == 0) return false;
  int freed = 0;
  // A deterministic stand-in for the LRU: scan frames in PFN order from a rotating hand.
  // Only touched frames can be in use: the hand skips the others a chunk at a time.
  auto sweep = [&](Pfn from, Pfn to) {
    for (Pfn pfn = phys_.NextTouched(from, to); pfn < to && freed < n;
         pfn = phys_.NextTouched(pfn + 1, to)) {
      Page* p = phys_.page(pfn);
      if (p->Test(PG_free) || p->Test(PG_locked)) continue;
      if (reclaim_page(p)) ++freed;
      if (freed == n) reclaim_hand_ = pfn + 1;
    }
  };
  Pfn hand = reclaim_hand_ % phys_.total_pages();
  sweep(hand, phys_.total_pages());
  sweep(0, hand);
  return freed > 0;
}

std::optional<MachineError> Machine::Pageout(Mm* mm, uint64_t start, uint64_t end) {
  lru_add_drain();  // madvise_pageout()
  // madvise_cold_or_pageout_pte_range(): only pages mapped by this PTE alone.
  std::vector<Page*> list;
  mm->page_table.ForEach(start, end, [&](uint64_t, Pte& pte) {
    if (!pte.present() || pte.special()) return;
    Page* page = pfn_to_page(pte.pfn());
    if (page->mapcount() != 1) return;
    pte.v &= ~Pte::kAccessed;
    list.push_back(page);  // distinct pages: reclaiming one cannot free another
  });
  for (Page* page : list) reclaim_page(page);
  return std::nullopt;
}

}  // namespace ksmsim::mmu
