// Merging in the 2009 driver: try_to_merge_two_pages() and try_to_merge_one_page() as seed
// 004 shows them, with page_wrprotect() and replace_page() of the same series (patches 2/4
// and 3/4), and the kpages they allocate: alloc_page() frames that are not PageAnon, which
// is what PageKsm() tests. max_kernel_pages (2.6.32) bounds how many may exist.
#include <cerrno>

#include "ksm/ksm2009/dev_ksm.h"

namespace ksmsim::ksm::ksm2009 {

using mmu::Pte;
using mmu::PteRef;
using mmu::Vma;

uint32_t DevKsm::calc_checksum(Page* page) {
  ++work_.checksums;
  return m_.contents().Checksum(page->content);  // (jhash in 2009: only equality matters)
}

int DevKsm::memcmp_pages(Page* a, Page* b) {
  ++work_.compares;
  return m_.contents().MemcmpPages(a->content, b->content);
}

// The shared zero page counts as not present: 2.6.29 had no zero page for anonymous reads
// (a read fault allocated a zeroed page), so a read-faulted page of the machine is skipped
// as untouched (docs/FIDELITY.md "2009").
bool DevKsm::is_present_pte(Mm* mm, uint64_t addr) const {
  Pte pte{m_.pte_value(mm, addr)};
  return pte.present() && !pte.special();
}

Page* DevKsm::get_user_page(Mm* mm, uint64_t addr) {
  Vma* vma = mm->vma_lookup(addr);
  if (!vma) return nullptr;
  return m_.follow_page(vma, addr);
}

int DevKsm::page_wrprotect(Page* page, bool* odirect_sync, int count_offset) {
  int ret = 0;
  *odirect_sync = true;
  mmu::RmapWalkControl rwc;
  rwc.rmap_one = [&](Page* p, Vma* vma, uint64_t addr) {
    PteRef pte = m_.pte_of(vma->mm, addr);
    if (!pte || !pte->present() || pte->pfn() != p->pfn()) return true;
    if (pte->write()) {
      // page_wrprotect_one(): no O_DIRECT (or any other reference) in flight.
      if (p->mapcount() + count_offset != p->refcount()) {
        *odirect_sync = false;
        return false;
      }
      pte.set(Pte{pte->v & ~Pte::kWrite});
    }
    ++ret;
    return true;
  };
  m_.rmap_walk(page, rwc);
  return ret;
}

int DevKsm::replace_page(Vma* vma, Page* oldpage, Page* newpage, Pte orig_pte) {
  uint64_t addr = oldpage->index() << mmu::kPageShift;  // page_address_in_vma()
  if (!vma->contains(addr)) return 1;
  PteRef pte = m_.pte_of(vma->mm, addr);
  if (!pte || !(*pte == orig_pte)) return 1;
  m_.get_page(newpage);
  newpage->add_mapcount(1);                            // page_add_file_rmap()
  pte.set(Pte::Make(newpage->pfn(), Pte::kAccessed));  // mk_pte(newpage, prot): read-only
  m_.page_remove_rmap(oldpage, vma);
  // (MM_ANONPAGES would become MM_FILEPAGES; the machine counts one resident kind and takes
  // it back when the kpage's PTE goes.)
  ++vma->mm->anon_rss;
  m_.put_page(oldpage);
  return 0;
}

// 0 when the PTE of oldpage in vma now maps newpage, 1 otherwise.
int DevKsm::try_to_merge_one_page(Mm* mm, Vma* vma, Page* oldpage, Page* newpage) {
  int ret = 1;
  m_.get_page(newpage);
  m_.get_page(oldpage);
  do {
    uint64_t addr = oldpage->index() << mmu::kPageShift;  // addr_in_vma()
    if (!vma->contains(addr)) break;
    PteRef ptep = m_.pte_of(mm, addr);
    if (!ptep) break;
    Pte orig_pte = *ptep;
    if (!orig_pte.present() || orig_pte.pfn() != oldpage->pfn()) break;
    if (!m_.trylock_page(oldpage)) break;
    bool odirect_sync = false;
    if (page_wrprotect(oldpage, &odirect_sync, 2) == 0) {
      m_.unlock_page(oldpage);
      break;
    }
    m_.unlock_page(oldpage);
    if (!odirect_sync) break;
    orig_pte.v &= ~Pte::kWrite;  // pte_wrprotect()
    if (memcmp_pages(oldpage, newpage) == 0) ret = replace_page(vma, oldpage, newpage, orig_pte);
  } while (false);
  if (ret == 0) ++work_.merges;
  m_.put_page(oldpage);
  m_.put_page(newpage);
  return ret;
}

Page* DevKsm::alloc_kpage() {
  // v3's answer to the review, kept by 2.6.32: no new kpage at the limit (0: no limit).
  if (max_kernel_pages_ != 0 && static_cast<uint64_t>(kpages()) >= max_kernel_pages_)
    return nullptr;
  Page* kpage = m_.alloc_page(0);  // GFP_HIGHUSER, from ksmd's CPU (node 0)
  if (!kpage) return nullptr;
  kpage->flags = 0;  // not PageAnon: PageKsm(), and on no LRU (never reclaimed)
  kpage->set_refcount(1);
  kpage->set_mapping(kpage_tag());
  kpages_.erase(kpage->pfn());  // a stale entry of a freed frame
  kpages_.insert(kpage->pfn());
  return kpage;
}

// The seed's get_user_pages(current, mm1, addr1, 1, 1, ...): a write fault that copies the
// kpage back into a private anonymous page.
void DevKsm::break_cow(Mm* mm, uint64_t addr) {
  Vma* vma = mm->vma_lookup(addr);
  if (!vma) return;
  ++work_.faults;
  m_.handle_mm_fault(vma, addr, mmu::FAULT_FLAG_WRITE);
}

// 0 when page1 (of mm1 at addr1) and page2 now map one kpage, 1 otherwise: into page2 when
// it is a kpage already, else into a new kpage both are merged into (one merged alone is
// broken again).
int DevKsm::try_to_merge_two_pages(Mm* mm1, Page* page1, Mm* mm2, Page* page2, uint64_t addr1,
                                   uint64_t addr2) {
  int ret = 1;
  if (PageKsm(page2)) {
    Vma* vma = mm1->find_vma(addr1);
    if (!vma) return ret;
    return try_to_merge_one_page(mm1, vma, page1, page2);
  }
  Page* kpage = alloc_kpage();
  if (!kpage) return ret;
  Vma* vma = mm1->find_vma(addr1);
  if (!vma) {
    m_.put_page(kpage);
    return ret;
  }
  m_.contents().Ref(page1->content);  // copy_user_highpage()
  kpage->content = page1->content;
  ret = try_to_merge_one_page(mm1, vma, page1, kpage);
  if (!ret) {
    vma = mm2->find_vma(addr2);
    if (!vma) {
      m_.put_page(kpage);
      return 1;
    }
    ret = try_to_merge_one_page(mm2, vma, page2, kpage);
    // A kpage with one PTE: broken again.
    if (ret) break_cow(mm1, addr1);
  }
  m_.put_page(kpage);
  return ret;
}

}  // namespace ksmsim::ksm::ksm2009
