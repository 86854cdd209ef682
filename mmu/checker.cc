#include "mmu/checker.h"

#include <map>
#include <string>

namespace ksmsim::mmu {

std::vector<std::string> CheckMachine(Machine& m) {
  std::vector<std::string> out;
  std::map<Pfn, int> mapped;
  std::map<uint32_t, uint32_t> swapped;
  for (auto& [id, mm] : m.mms()) {
    const std::string& name = mm->name;  // clang 14 cannot capture a structured binding
    for (auto& [start, vma] : mm->vmas) {
      mm->page_table.ForEach(vma->start, vma->end, [&](uint64_t addr, Pte& pte) {
        if (pte.is_swap()) {
          ++swapped[pte.swap_slot()];
        } else if (pte.present() && !pte.special()) {
          ++mapped[pte.pfn()];
          Page* p = m.pfn_to_page(pte.pfn());
          if (!p || p->Test(PG_free))
            out.push_back("process " + name + " maps a free frame at " + std::to_string(addr));
        } else if (!pte.present()) {
          out.push_back("process " + name + " has a malformed PTE");
        }
      });
    }
  }
  PhysMem& phys = m.phys();
  for (Pfn pfn = phys.NextTouched(0, phys.total_pages()); pfn < phys.total_pages();
       pfn = phys.NextTouched(pfn + 1, phys.total_pages())) {
    Page* p = phys.page(pfn);
    std::string where = "pfn " + std::to_string(pfn);
    if (p->Test(PG_free)) {
      if (p->refcount() != 0 || p->mapcount() != 0)
        out.push_back(where + ": free frame with references");
      continue;
    }
    int ptes = mapped.count(pfn) ? mapped[pfn] : 0;
    if (p->mapcount() != ptes)
      out.push_back(where + ": mapcount " + std::to_string(p->mapcount()) + " but " +
                    std::to_string(ptes) + " PTEs map it");
    int expect =
        p->mapcount() + (p->PageSwapCache() ? 1 : 0) + m.page_pincount(p) + m.batch_refs(p);
    if (p->refcount() != expect)
      out.push_back(where + ": refcount " + std::to_string(p->refcount()) +
                    " but mappings + "
                    "swapcache + pins + mlock batch = " +
                    std::to_string(expect));
    if (p->refcount() == 0) out.push_back(where + ": in use with no reference (leaked)");
    if (p->Test(PG_readahead) && (!p->PageSwapCache() || p->mapcount() != 0))
      out.push_back(where + ": PG_readahead on a page mapped or not in the swapcache");
    if (p->PageSwapCache() && m.swap().cache(m.page_private(p)) != p)
      out.push_back(where + ": swapcache page not found under its slot");
  }
  // Slots never used (at or above created()) have no count; no swap PTE may name them.
  if (!swapped.empty() && swapped.rbegin()->first >= m.swap().created())
    out.push_back("swap slot " + std::to_string(swapped.rbegin()->first) +
                  ": a swap PTE refers to a slot never allocated");
  for (uint64_t s = 0; s < m.swap().created(); ++s) {
    uint32_t slot = static_cast<uint32_t>(s);
    uint32_t n = swapped.count(slot) ? swapped[slot] : 0;
    if (m.swap().count(slot) != n)
      out.push_back("swap slot " + std::to_string(slot) + ": count " +
                    std::to_string(m.swap().count(slot)) + " but " + std::to_string(n) +
                    " swap PTEs");
  }
  return out;
}

}  // namespace ksmsim::mmu
