// The page fault handler (mm/memory.c): anonymous faults, write-protect faults with
// reuse or copy, and swap-in; plus the user accesses of the workload built on them.
#include <cerrno>

#include "mmu/machine.h"

namespace ksmsim::mmu {

namespace {
constexpr uint64_t kUserBits = Pte::kWrite | Pte::kDirty | Pte::kAccessed;
}

// page_add_new_anon_rmap(): a fresh page, exclusively mapped at addr of vma.
static void NewAnonPage(Page* p, Vma* vma, uint64_t addr) {
  p->Set(PG_anon | PG_anon_exclusive);
  p->set_mapping(vma->anon_vma);
  p->set_index(addr >> kPageShift);
  p->set_mapcount(1);
  ++vma->mm->anon_rss;
}

unsigned Machine::handle_mm_fault(Vma* vma, uint64_t addr, unsigned flags) {
  PteRef pte = vma->mm->page_table.Lookup(addr, true);
  const Pte entry = *pte;  // vmf->orig_pte
  if (entry.none()) return do_anonymous_page(vma, addr, pte, flags);
  if (entry.is_swap()) return do_swap_page(vma, addr, pte, flags);
  if ((flags & FAULT_FLAG_WRITE) && !entry.write()) return do_wp_page(vma, addr, pte);
  if ((flags & FAULT_FLAG_UNSHARE) && !entry.write())
    return do_wp_page(vma, addr, pte, /*unshare=*/true);
  pte.set(Pte{entry.v | Pte::kAccessed | (flags & FAULT_FLAG_WRITE ? Pte::kDirty : 0)});
  return VM_FAULT_OK;
}

unsigned Machine::do_anonymous_page(Vma* vma, uint64_t addr, PteRef pte, unsigned flags) {
  if (!(flags & FAULT_FLAG_WRITE)) {
    // Read fault: map the shared zero page, read-only and special.
    pte.set(Pte::Make(kZeroPfn, Pte::kSpecial | Pte::kAccessed));
    return VM_FAULT_OK;
  }
  anon_vma_prepare(vma);
  Page* page = alloc_page(alloc_node(vma));
  if (!page) return VM_FAULT_OOM;
  page->flags = 0;
  page->set_refcount(1);
  page->content = contents_.Fill(0);
  NewAnonPage(page, vma, addr);
  mlock_vma_page(page, vma);  // mlock_new_page(): PG_mlocked, through the mlock batch
  pte.set(Pte::Make(page->pfn(), kUserBits));
  return VM_FAULT_WRITE;
}

// With unshare (FAULT_FLAG_UNSHARE), a reusable page is only marked exclusive and a copy
// is mapped read-only and clean.
unsigned Machine::do_wp_page(Vma* vma, uint64_t addr, PteRef pte, bool unshare) {
  if (pte->special()) return wp_page_copy(vma, addr, pte, nullptr, unshare);
  Page* page = pfn_to_page(pte->pfn());
  if (page->PageAnon()) {
    bool reuse = page->Test(PG_anon_exclusive);
    if (!reuse && !page->PageKsm() && page->refcount() <= 3 &&
        page->refcount() <= 1 + (page->PageSwapCache() ? 1 : 0) && trylock_page(page)) {
      if (page->PageSwapCache()) folio_free_swap(page);
      if (page->refcount() == 1) {
        // page_move_anon_rmap(): "it's dark out, and we're wearing sunglasses".
        page->set_mapping(vma->anon_vma);
        page->Set(PG_anon_exclusive);
        reuse = true;
      }
      unlock_page(page);
    }
    if (reuse && unshare) return VM_FAULT_OK;  // "if (unlikely(unshare))": exclusive now
    if (reuse) {                               // wp_page_reuse()
      pte.set(Pte{pte->v | kUserBits});
      return VM_FAULT_WRITE;
    }
  }
  // copy: "Ok, we need to copy. Oh, well.." -- get_page(vmf->page), dropped by
  // wp_page_copy(), keeps the old page alive while the allocation may reclaim.
  get_page(page);
  if (!page->PageKsm()) return wp_page_copy(vma, addr, pte, page, unshare);
  ++vmstat_.cow_ksm;  // count_vm_event(COW_KSM)
  const Pfn ksm_pfn = page->pfn();
  unsigned ret = wp_page_copy(vma, addr, pte, page, unshare);
  if (page_event_ && (ret & VM_FAULT_WRITE))
    page_event_({.kind = PageEvent::Kind::kCowKsm,
                 .mm = vma->mm,
                 .addr = addr & ~uint64_t{kPageSize - 1},
                 .pfn = ksm_pfn,
                 .new_pfn = pte->pfn()});
  return ret;
}

// `old` carries the reference do_wp_page() took (null: the zero page is being replaced).
// An unsharing copy is mapped without pte_mkdirty() and maybe_mkwrite(): read-only, clean.
unsigned Machine::wp_page_copy(Vma* vma, uint64_t addr, PteRef pte, Page* old, bool unshare) {
  const Pte orig_pte = *pte;  // vmf->orig_pte
  anon_vma_prepare(vma);
  Page* page = alloc_page(alloc_node(vma));
  if (!page) {
    if (old) put_page(old);
    return VM_FAULT_OOM;
  }
  page->flags = 0;
  page->set_refcount(1);
  if (old) {
    contents_.Ref(old->content);
    page->content = old->content;
  } else {
    page->content = contents_.Fill(0);
  }
  if (!(*pte == orig_pte)) {
    // !pte_same(): the allocation reclaimed, and try_to_unmap() replaced this PTE with a
    // swap entry. Drop the new page and the old one; the fault is retried.
    put_page(page);
    if (old) put_page(old);
    return 0;
  }
  // (the zero page replaced: ksm_might_unmap_zero_page(), only for a KSM-placed one)
  if (!old && is_ksm_zero_pte(orig_pte)) ksm_->ksm_might_unmap_zero_page(*vma->mm, orig_pte);
  NewAnonPage(page, vma, addr);
  mlock_vma_page(page, vma);  // mlock_new_page(): PG_mlocked, through the mlock batch
  pte.set(Pte::Make(page->pfn(), unshare ? uint64_t{Pte::kAccessed} : kUserBits));
  if (old) {
    page_remove_rmap(old, vma);
    put_page(old);  // the reference of the PTE just replaced
    put_page(old);  // do_wp_page()'s
  }
  return VM_FAULT_WRITE;
}

unsigned Machine::do_swap_page(Vma* vma, uint64_t addr, PteRef pte, unsigned flags) {
  uint32_t slot = pte->swap_slot();
  bool exclusive = pte->v & Pte::kSwpExclusive;
  Page* page = swap_cache_get_folio(slot, vma, addr);
  Page* swapcache = page;
  bool read_from_device = false;  // for the swap-in event
  if (!page) {
    read_from_device = true;
    if (swap_.count(slot) == 1) {
      // SWP_SYNCHRONOUS_IO (zram) and __swap_count() == 1: "skip swapcache".
      page = alloc_page(alloc_node(vma));
      if (!page) return VM_FAULT_OOM;
      page->flags = 0;
      page->set_refcount(1);
      contents_.Ref(swap_.content(slot));
      page->content = swap_.content(slot);
      swap_readpage();
    } else {
      // A shared slot: read into the swapcache, with readahead around addr.
      page = swapin_readahead(slot, vma, addr);
      if (!page) return VM_FAULT_OOM;
      swapcache = page;
    }
  }
  if (swapcache) {
    page = ksm_->ksm_might_need_to_copy(page, *vma, addr);
    if (!page) {
      put_page(swapcache);
      return VM_FAULT_OOM;
    }
  }
  if (!page->PageKsm() && page != swapcache) exclusive = true;  // a fresh private copy
  if (page->PageKsm()) exclusive = false;
  swap_.Free(slot, contents_);  // swap_free()
  if (page == swapcache && page->PageSwapCache()) {
    // should_try_to_free_swap()
    bool try_free = swap_.vm_swap_full() || (vma->flags & VM_LOCKED) || page->Test(PG_mlocked) ||
                    ((flags & FAULT_FLAG_WRITE) && !page->PageKsm() && page->refcount() == 2);
    if (try_free) folio_free_swap(page);
  }
  --vma->mm->swap_ents;
  uint64_t bits = Pte::kAccessed;
  unsigned ret = VM_FAULT_OK;
  if (!page->PageKsm() && (exclusive || page->refcount() == 1)) {
    if (flags & FAULT_FLAG_WRITE) {
      bits |= Pte::kWrite | Pte::kDirty;
      flags &= ~FAULT_FLAG_WRITE;
      ret |= VM_FAULT_WRITE;
    }
    exclusive = true;  // rmap_flags |= RMAP_EXCLUSIVE: the only reference is ours
  } else {
    exclusive = false;
  }
  if (!page->PageAnon()) {
    page_add_anon_rmap(page, vma, addr, exclusive);
  } else {
    page_add_anon_rmap(page, vma, addr, exclusive);
  }
  pte.set(Pte::Make(page->pfn(), bits));
  if (page_event_)
    page_event_({.kind = PageEvent::Kind::kSwapIn,
                 .mm = vma->mm,
                 .addr = addr & ~uint64_t{kPageSize - 1},
                 .pfn = page->pfn(),
                 .swap_read = read_from_device});
  if (swapcache && page != swapcache) put_page(swapcache);
  if (flags & FAULT_FLAG_WRITE) ret |= do_wp_page(vma, addr, pte);
  return ret;
}

std::optional<MachineError> Machine::WritePage(Mm* mm, uint64_t addr, ContentId content) {
  Vma* vma = mm->vma_lookup(addr);
  if (!vma) {
    contents_.Unref(content);
    return MachineError{EFAULT, "write to an address that is not mapped"};
  }
  for (int tries = 0;; ++tries) {
    PteRef pte = mm->page_table.Lookup(addr, false);
    const Pte entry = pte ? *pte : Pte{};
    if (entry.present() && entry.write()) {
      pte.set(Pte{entry.v | Pte::kDirty | Pte::kAccessed});
      set_page_content(pfn_to_page(entry.pfn()), content);
      return std::nullopt;
    }
    if (tries == 4 || (handle_mm_fault(vma, addr, FAULT_FLAG_WRITE) & VM_FAULT_OOM)) {
      contents_.Unref(content);
      return MachineError{ENOMEM,
                          "out of memory: no free frame on any node and "
                          "nothing reclaimable (add swap_mib or memory)"};
    }
  }
}

std::optional<MachineError> Machine::ReadPage(Mm* mm, uint64_t addr, ContentId* content) {
  Vma* vma = mm->vma_lookup(addr);
  if (!vma) return MachineError{EFAULT, "read of an address that is not mapped"};
  PteRef pte = mm->page_table.Lookup(addr, false);
  if (!pte || !pte->present()) {
    if (handle_mm_fault(vma, addr, 0) & VM_FAULT_OOM)
      return MachineError{ENOMEM, "out of memory while swapping a page in"};
    pte = mm->page_table.Lookup(addr, false);
  }
  pte.set(Pte{pte->v | Pte::kAccessed});
  *content = pfn_to_page(pte->pfn())->content;
  return std::nullopt;
}

std::optional<MachineError> Machine::Pin(Mm* mm, uint64_t addr) {
  // get_user_pages(FOLL_GET) without FOLL_WRITE, as vmsplice() into a pipe takes it: the
  // page is faulted in for reading (never unshared) and holds one more reference.
  Vma* vma = mm->vma_lookup(addr);
  if (!vma) return MachineError{EFAULT, "pin of an address that is not mapped"};
  PteRef pte = mm->page_table.Lookup(addr, false);
  if (!pte || !pte->present()) {
    if (handle_mm_fault(vma, addr, 0) & VM_FAULT_OOM)
      return MachineError{ENOMEM, "out of memory while pinning"};
    pte = mm->page_table.Lookup(addr, false);
  }
  Page* page = pfn_to_page(pte->pfn());
  pins_.push_back({mm->id, addr, page});
  if (page == zero_page_) return std::nullopt;
  ++pincounts_[page];
  page->add_refcount(1);
  return std::nullopt;
}

std::optional<MachineError> Machine::Unpin(Mm* mm, uint64_t addr) {
  // The reference is on the page that was pinned, wherever it is mapped now.
  for (auto it = pins_.begin(); it != pins_.end(); ++it) {
    if (it->mm_id != mm->id || it->addr != addr) continue;
    Page* page = it->page;
    pins_.erase(it);
    if (page == zero_page_) return std::nullopt;
    unpin_page(page);
    put_page(page);
    return std::nullopt;
  }
  return MachineError{EINVAL, "unpin of a page that is not pinned"};
}

}  // namespace ksmsim::mmu
