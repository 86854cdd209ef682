#include "ksm/ksm_check.h"

#include <set>
#include <string>
#include <utility>

namespace ksmsim::ksm {

namespace {
std::string Mismatch(const char* what, uint64_t counter, uint64_t recount) {
  return std::string(what) + " is " + std::to_string(counter) + " but a recount gives " +
         std::to_string(recount);
}
}  // namespace

std::vector<std::string> CheckKsm(const Ksm& ksm, mmu::Machine& m) {
  std::vector<std::string> out;
  uint64_t items = 0, stable_items = 0, unstable_items = 0;
  for (const MmSlot* slot : ksm.mm_slots()) {
    uint64_t prev = 0;
    int64_t per_mm = 0;
    for (const RmapItem* it = slot->rmap_list; it; it = it->rmap_list) {
      ++items;
      ++per_mm;
      if (it->address & STABLE_FLAG) ++stable_items;
      if (it->address & UNSTABLE_FLAG) ++unstable_items;
      uint64_t a = it->address & PAGE_MASK;
      if (per_mm > 1 && a <= prev) out.push_back("rmap_list of " + slot->mm->name + " unsorted");
      prev = a;
    }
    // A fork child starts with its parent's count (see Machine::Fork).
    per_mm += slot->mm->ksm_rmap_items_inherited;
    if (per_mm != slot->mm->ksm_rmap_items)
      out.push_back(Mismatch(("ksm_rmap_items of " + slot->mm->name).c_str(),
                             slot->mm->ksm_rmap_items, per_mm));
  }
  // Items of mms KSM has dropped are freed with their slot, so this is the whole count.
  if (items != ksm.rmap_items()) out.push_back(Mismatch("ksm_rmap_items", ksm.rmap_items(), items));
  if (stable_items != ksm.pages_shared() + ksm.pages_sharing())
    out.push_back(Mismatch("pages_shared + pages_sharing", ksm.pages_shared() + ksm.pages_sharing(),
                           stable_items));
  if (unstable_items != ksm.pages_unshared())
    out.push_back(Mismatch("pages_unshared", ksm.pages_unshared(), unstable_items));

  uint64_t shared = 0, chains = 0, dups = 0;
  std::set<const StableNode*> nodes;
  auto visit = [&](const StableNode* n) {
    nodes.insert(n);
    if (n->hlist.first) ++shared;
    int len = 0;
    for (const RmapItem* it = n->hlist.first; it; it = it->hlist.next) {
      ++len;
      if (it->head != n) out.push_back("an rmap_item on a stable node's list points elsewhere");
    }
    if (len != n->rmap_hlist_len) out.push_back(Mismatch("rmap_hlist_len", n->rmap_hlist_len, len));
  };
  for (int nid = 0; nid < ksm.nr_trees(); ++nid) {
    for (RbNode* rb = rb_first(&ksm.stable_root(nid)); rb; rb = rb_next(rb)) {
      auto* n = static_cast<const StableNode*>(rb);
      if (is_stable_node_chain(n)) {
        ++chains;
        for (const StableNode* d = n->dups.first; d; d = d->hlist_dup.next) {
          ++dups;
          visit(d);
        }
      } else {
        visit(n);
      }
    }
  }
  for (const StableNode* n : ksm.migrate_nodes()) visit(n);
  if (shared != ksm.pages_shared())
    out.push_back(Mismatch("pages_shared", ksm.pages_shared(), shared));
  if (chains != ksm.stable_node_chains())
    out.push_back(Mismatch("stable_node_chains", ksm.stable_node_chains(), chains));
  if (dups != ksm.stable_node_dups())
    out.push_back(Mismatch("stable_node_dups", ksm.stable_node_dups(), dups));
  // Every KSM page's stable node is alive and points back to it (the keyhole's other side).
  mmu::PhysMem& phys = m.phys();
  for (mmu::Pfn pfn = phys.NextTouched(0, phys.total_pages()); pfn < phys.total_pages();
       pfn = phys.NextTouched(pfn + 1, phys.total_pages())) {
    mmu::Page* p = phys.page(pfn);
    if (p->Test(mmu::PG_free) || !p->PageKsm() || !p->mapping()) continue;
    auto* n = static_cast<const StableNode*>(p->mapping());
    if (!nodes.count(n))
      out.push_back("pfn " + std::to_string(pfn) + ": KSM page whose stable node is gone");
    else if (n->kpfn != pfn)
      out.push_back("pfn " + std::to_string(pfn) + ": its stable node points to pfn " +
                    std::to_string(n->kpfn));
  }
  // 6.12: ksm_zero_pages, global and per mm, counts the KSM-placed (dirty) zero-page PTEs.
  if (ksm.features().ksm_zero_pages) {
    int64_t all = 0;
    for (auto& [id, mm] : m.mms()) {
      int64_t zero_ptes = 0;
      for (auto& [start, vma] : mm->vmas) {
        mm->page_table.ForEach(vma->start, vma->end, [&](uint64_t, mmu::Pte& pte) {
          if (mmu::Machine::is_ksm_zero_pte(pte)) ++zero_ptes;
        });
      }
      if (zero_ptes != mm->ksm_zero_pages)
        out.push_back(Mismatch(("ksm_zero_pages of " + mm->name).c_str(),
                               static_cast<uint64_t>(mm->ksm_zero_pages),
                               static_cast<uint64_t>(zero_ptes)));
      all += zero_ptes;
    }
    if (static_cast<uint64_t>(all) != ksm.zero_pages())
      out.push_back(Mismatch("ksm_zero_pages", ksm.zero_pages(), static_cast<uint64_t>(all)));
  }
  // Every tree-walk snapshot still valid by its tag describes its page (ksm/snapshot.cc).
  for (std::string& s : ksm.stale_snapshots()) out.push_back(std::move(s));
  return out;
}

}  // namespace ksmsim::ksm
