// Merging and unmerging: write_protect_page, replace_page, try_to_merge_*, break_ksm,
// break_cow and the unmerge paths of madvise and `run` 2 (mm/ksm.c).
#include <cerrno>

#include "ksm/ksm.h"

namespace ksmsim::ksm {

using mmu::Page;
using mmu::Pte;
using mmu::PteRef;
using mmu::Vma;

uint32_t Ksm::calc_checksum(Page* page) {
  ++work_.checksums;
  return m_.contents().Checksum(page->content);
}

int Ksm::memcmp_pages(Page* a, Page* b) {
  return m_.contents().MemcmpPages(a->content, b->content);
}

// break_ksm(): write-fault a KSM page (or, with ksm_check_bypass, a KSM-placed zero page;
// in 6.12 any KSM-placed zero page, is_ksm_zero_pte) to give this mapping its own copy again.
// 6.12 faults with FAULT_FLAG_UNSHARE instead: the copy is mapped read-only and clean.
int Ksm::break_ksm(Vma* vma, uint64_t addr, bool ksm_check_bypass) {
  unsigned ret = 0;
  do {
    Page* page = m_.follow_page(vma, addr & PAGE_MASK);
    if (!page) break;
    if (page->PageKsm() || (ksm_check_bypass && mmu::Machine::is_zero_pfn(page->pfn())) ||
        (features_.ksm_zero_pages &&
         mmu::Machine::is_ksm_zero_pte(Pte{m_.pte_value(vma->mm, addr & PAGE_MASK)}))) {
      ++work_.faults;
      const unsigned fault =
          features_.break_ksm_unshares ? mmu::FAULT_FLAG_UNSHARE : mmu::FAULT_FLAG_WRITE;
      ret = m_.handle_mm_fault(vma, addr & PAGE_MASK, fault | mmu::FAULT_FLAG_REMOTE);
    } else {
      ret = mmu::VM_FAULT_WRITE;
    }
    m_.put_page(page);
  } while (!(ret & (mmu::VM_FAULT_WRITE | mmu::VM_FAULT_SIGBUS | mmu::VM_FAULT_SIGSEGV |
                    mmu::VM_FAULT_OOM)));
  return (ret & mmu::VM_FAULT_OOM) ? -ENOMEM : 0;
}

Vma* Ksm::find_mergeable_vma(mmu::Mm* mm, uint64_t addr) {
  if (ksm_test_exit(mm)) return nullptr;
  Vma* vma = mm->vma_lookup(addr & PAGE_MASK);
  if (!vma || !(vma->flags & mmu::VM_MERGEABLE) || !vma->anon_vma) return nullptr;
  return vma;
}

void Ksm::break_cow(RmapItem* rmap_item) {
  // Undoing a merge always drops the anon_vma reference taken for it.
  m_.put_anon_vma(rmap_item->anon_vma);
  if (Vma* vma = find_mergeable_vma(rmap_item->mm, rmap_item->address))
    break_ksm(vma, rmap_item->address, false);
}

int Ksm::unshare_zero_pages(RmapItem* rmap_item) {
  int err = -EFAULT;
  --ksm_zero_pages_;
  if (ksm_test_exit(rmap_item->mm)) return err;
  if (Vma* vma = rmap_item->mm->vma_lookup(rmap_item->address & PAGE_MASK))
    err = break_ksm(vma, rmap_item->address, true);
  return err;
}

// ksm_map_zero_page() (6.12, include/linux/ksm.h): replace_page() mapped a KSM zero page.
void Ksm::ksm_map_zero_page(mmu::Mm* mm) {
  ++ksm_zero_pages_;
  ++mm->ksm_zero_pages;
}

// ksm_might_unmap_zero_page() (6.12): the machine zapped or copied a zero-page PTE.
void Ksm::ksm_might_unmap_zero_page(mmu::Mm& mm, Pte pte) {
  if (!features_.ksm_zero_pages || !mmu::Machine::is_ksm_zero_pte(pte)) return;
  --ksm_zero_pages_;
  --mm.ksm_zero_pages;
}

Page* Ksm::get_mergeable_page(RmapItem* rmap_item) {
  Vma* vma = find_mergeable_vma(rmap_item->mm, rmap_item->address);
  if (!vma) return nullptr;
  Page* page = m_.follow_page(vma, rmap_item->address & PAGE_MASK);
  if (!page) return nullptr;
  if (!page->PageAnon()) {
    m_.put_page(page);
    return nullptr;
  }
  return page;
}

// unmerge_ksm_pages(): rmap_items are left for the next ksmd pass to clean up.
int Ksm::unmerge_ksm_pages(Vma* vma, uint64_t start, uint64_t end) {
  int err = 0;
  for (uint64_t addr = start; addr < end && !err; addr += mmu::kPageSize) {
    if (ksm_test_exit(vma->mm)) break;
    err = break_ksm(vma, addr, false);
  }
  return err;
}

int Ksm::unmerge_and_remove_all_rmap_items() {
  ksm_scan_.mm_slot = ksm_mm_head_.next;
  for (MmSlot* mm_slot = ksm_scan_.mm_slot; mm_slot != &ksm_mm_head_; mm_slot = ksm_scan_.mm_slot) {
    mmu::Mm* mm = mm_slot->mm;
    for (auto& [start, vma] : mm->vmas) {
      if (ksm_test_exit(mm)) break;
      if (!(vma->flags & mmu::VM_MERGEABLE) || !vma->anon_vma) continue;
      int err = unmerge_ksm_pages(vma.get(), vma->start, vma->end);
      if (err) {
        ksm_scan_.mm_slot = &ksm_mm_head_;
        return err;
      }
    }
    remove_trailing_rmap_items(&mm_slot->rmap_list);
    ksm_scan_.mm_slot = mm_slot->next;
    if (ksm_test_exit(mm)) mm_slot_free(mm_slot);
  }
  // Clean up stable nodes, but don't worry if some are still busy.
  remove_all_stable_nodes();
  ksm_scan_.seqnr = 0;
  // (simulator) The kernel leaves root_unstable_tree on the freed items of the last pass
  // until the next pass resets it, and nothing reads it meanwhile; `step` and `report` do,
  // so it is emptied here (no kernel decision changes: every pass starts from RB_ROOT).
  for (RbRoot& root : root_unstable_tree_) root = RbRoot{};
  return 0;
}

// write_protect_page(): make the PTE read-only and clean, unless someone (O_DIRECT, a
// pin) holds a reference beyond the mappings, the swapcache and ksmd's own.
int Ksm::write_protect_page(Vma* vma, Page* page, Pte* orig_pte) {
  mmu::AnonVma* av = page->anon_vma();
  if (!vma->anon_vma || !av || vma->anon_vma->root != av->root) return -EFAULT;
  uint64_t address = page->index() << mmu::kPageShift;  // page_address_in_vma()
  if (!vma->contains(address)) return -EFAULT;
  PteRef pte = m_.pte_of_merging(vma->mm, address);
  if (!pte || !pte->present() || pte->special() || pte->pfn() != page->pfn()) return -EFAULT;
  bool anon_exclusive = page->Test(mmu::PG_anon_exclusive);
  if (pte->write() || pte->dirty() || anon_exclusive) {
    int swapped = page->PageSwapCache() ? 1 : 0;
    Pte entry = *pte;                                                        // ptep_clear_flush()
    if (page->mapcount() + 1 + swapped != page->refcount()) return -EFAULT;  // pte restored
    // page_try_share_anon_rmap() fails only for a possibly DMA-pinned page, and those
    // have already failed the count check above.
    page->Clear(mmu::PG_anon_exclusive);
    if (entry.dirty()) page->Set(mmu::PG_dirty);
    entry.v &= ~(Pte::kWrite | Pte::kDirty);
    pte.set(entry);
  }
  *orig_pte = *pte;
  return 0;
}

int Ksm::replace_page(Vma* vma, Page* page, Page* kpage, Pte orig_pte) {
  mmu::AnonVma* av = page->anon_vma();
  if (!vma->anon_vma || !av || vma->anon_vma->root != av->root) return -EFAULT;
  uint64_t addr = page->index() << mmu::kPageShift;
  if (!vma->contains(addr)) return -EFAULT;
  PteRef ptep = m_.pte_of_merging(vma->mm, addr);
  if (!ptep || !(*ptep == orig_pte)) return -EFAULT;
  Pte newpte;
  if (!mmu::Machine::is_zero_pfn(kpage->pfn())) {
    m_.get_page(kpage);
    m_.page_add_anon_rmap(kpage, vma, addr, false);
    newpte = Pte::Make(kpage->pfn(), Pte::kAccessed);  // mk_pte(vm_page_prot): read-only
  } else if (features_.ksm_zero_pages) {
    // 6.12: pte_mkdirty marks the zero page mapped by KSM (is_ksm_zero_pte), and it counts.
    newpte = Pte::Make(kpage->pfn(), Pte::kSpecial | Pte::kDirty | Pte::kAccessed);
    ksm_map_zero_page(vma->mm);
  } else {
    newpte = Pte::Make(kpage->pfn(), Pte::kSpecial | Pte::kAccessed);
    // (the kernel's dec_mm_counter(MM_ANONPAGES) is page_remove_rmap's below here)
  }
  ptep.set(newpte);
  m_.page_remove_rmap(page, vma);
  if (page->mapcount() == 0) m_.folio_free_swap(page);
  m_.put_page(page);
  return 0;
}

int Ksm::try_to_merge_one_page(Vma* vma, Page* page, Page* kpage) {
  Pte orig_pte;
  int err = -EFAULT;
  if (page == kpage) return 0;  // ksm page forked
  if (!page->PageAnon()) return err;
  // trylock, not lock: rather scan on and come back to this page later.
  if (!m_.trylock_page(page)) return err;
  if (write_protect_page(vma, page, &orig_pte) == 0) {
    if (!kpage) {
      // Upgrade page from PageAnon+anon_vma to PageKsm+NULL stable_node: stable_tree_insert
      // will set the node. Reclaim must write it out, so mark it dirty.
      set_page_stable_node(page, nullptr);
      m_.mark_page_accessed(page);
      page->Set(mmu::PG_dirty);
      err = 0;
    } else if (m_.contents().MemcmpPages(page->content, kpage->content) == 0) {
      err = replace_page(vma, page, kpage, orig_pte);
    }
  }
  // (6.1 has no VM_LOCKED block here any more: replace_page's page_add_anon_rmap and
  // page_remove_rmap move the mlock, each through CPU 0's mlock batch.)
  m_.unlock_page(page);
  return err;
}

int Ksm::try_to_merge_with_ksm_page(RmapItem* rmap_item, Page* page, Page* kpage) {
  Vma* vma = find_mergeable_vma(rmap_item->mm, rmap_item->address);
  int err = -EFAULT;
  if (vma) {
    err = try_to_merge_one_page(vma, page, kpage);
    if (!err) {
      // Unstable nid is in union with stable anon_vma: remove first.
      remove_rmap_item_from_tree(rmap_item);
      // Must get reference to anon_vma while still holding mmap_lock.
      rmap_item->anon_vma = vma->anon_vma;
      m_.get_anon_vma(vma->anon_vma);
      ++work_.merges;
    }
  }
  emit({.name = "ksm_merge_one_page",
        .seq = ksm_scan_.seqnr,
        .mm = rmap_item->mm,
        .addr = rmap_item->address & PAGE_MASK,
        .pfn = static_cast<int64_t>(page->pfn()),
        // the KSM page: kpage, or the page itself when it becomes one (the tracepoint's pfn)
        .other_pfn = static_cast<int64_t>(kpage ? kpage->pfn() : page->pfn()),
        .err = err});
  return err;
}

int Ksm::try_to_merge_with_kernel_zero_page(mmu::Mm* mm, RmapItem* rmap_item, Page* page) {
  int err = 0;
  if (!(rmap_item->address & ZERO_PAGE_FLAG)) {
    Vma* vma = find_mergeable_vma(mm, rmap_item->address);
    if (vma) err = try_to_merge_one_page(vma, page, m_.zero_page());
    // err == 0 also when the vma is out of date: nothing more to do then.
    if (!err) {
      rmap_item->address |= ZERO_PAGE_FLAG;
      ++ksm_zero_pages_;
    }
  }
  return err;
}

Page* Ksm::try_to_merge_two_pages(RmapItem* rmap_item, Page* page, RmapItem* tree_rmap_item,
                                  Page* tree_page) {
  int err = try_to_merge_with_ksm_page(rmap_item, page, nullptr);
  if (!err) {
    err = try_to_merge_with_ksm_page(tree_rmap_item, tree_page, page);
    // If that fails, we have a ksm page with only one pte pointing to it: break it.
    if (err) break_cow(rmap_item);
  }
  return err ? nullptr : page;
}

}  // namespace ksmsim::ksm
