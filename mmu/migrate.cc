// Page migration (mm/migrate.c, move_pages) and memory hotremove (mm/memory_hotplug.c),
// with the KSM memory notifier called around offlining.
#include <cerrno>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "mmu/machine.h"

namespace ksmsim::mmu {

int Machine::migrate_page(Page* page, int nid, bool avoid_isolated) {
  (void)avoid_isolated;
  if (page == zero_page_ || page->Test(PG_free)) return 0;
  if (page_pincount(page) > 0) return EBUSY;  // folio_migrate_mapping(): refcount mismatch
  if (!trylock_page(page)) return EBUSY;
  changes_.page_migrated();
  // try_to_migrate(): find every PTE first; a mapping rmap cannot see blocks migration.
  // try_to_migrate_one() replaces each PTE with a migration entry as the walk finds it, so
  // a PTE met again (rmap_walk_ksm's search_new_forks pass meets a fork child's mapping
  // through the parent's anon_vma) is no longer present; folio_not_mapped() ends the walk
  // once every mapping is found. Here the PTEs are collected first and rewritten after.
  std::vector<PteRef> ptes;
  std::vector<std::pair<const Mm*, uint64_t>> where;  // each PTE's mm and address, for events
  absl::flat_hash_set<const void*> found;             // PTE slots; membership only, never iterated
  RmapWalkControl rwc;
  rwc.rmap_one = [&](Page* p, Vma* vma, uint64_t addr) {
    PteRef pte = vma->mm->page_table.Lookup(addr, false);
    if (pte && pte->present() && pte->pfn() == p->pfn() && found.insert(pte.slot()).second) {
      ptes.push_back(pte);
      if (page_event_) where.emplace_back(vma->mm, addr & ~uint64_t{kPageSize - 1});
    }
    return true;
  };
  rwc.done = [&](Page* p) { return static_cast<int>(ptes.size()) == p->mapcount(); };
  rmap_walk(page, rwc);
  if (static_cast<int>(ptes.size()) != page->mapcount()) {
    unlock_page(page);
    return EBUSY;
  }
  Page* np = nid >= 0 ? phys_.AllocOnNode(nid) : nullptr;
  if (!np) {
    unlock_page(page);
    return ENOMEM;
  }
  // Move the descriptor state: mapping (anon_vma or stable node), flags, counts, content.
  np->flags = page->flags & ~Pfn{PG_locked};
  np->set_mapping(page->mapping());
  np->set_index(page->index());
  np->set_refcount(page->refcount());
  np->set_mapcount(page->mapcount());
  np->content = page->content;
  contents_.Ref(np->content);
  if (page->PageSwapCache()) {
    uint32_t slot = page_private(page);
    set_page_private(np, slot);
    swap_.set_cache(slot, np, contents_);
  }
  for (PteRef pte : ptes) pte.set(Pte::Make(np->pfn(), pte->v & ((1ULL << kPageShift) - 1)));
  if (page->PageKsm()) ksm_->folio_migrate_ksm(np, page);
  for (const auto& [mm, addr] : where)
    page_event_({.kind = PageEvent::Kind::kMigrate,
                 .mm = mm,
                 .addr = addr,
                 .pfn = page->pfn(),
                 .new_pfn = np->pfn(),
                 .nid = nid});
  unlock_page(page);
  page->set_refcount(0);
  free_frame(page);
  return 0;
}

std::optional<MachineError> Machine::Migrate(Mm* mm, uint64_t start, uint64_t end, int nid) {
  lru_add_drain_all();  // migrate_pages(): lru_cache_disable()
  // move_pages(2) with MPOL_MF_MOVE_ALL (as root): shared and KSM pages move too.
  std::vector<Page*> pages;
  mm->page_table.ForEach(start, end, [&](uint64_t, Pte& pte) {
    if (!pte.present() || pte.special()) return;
    Page* page = pfn_to_page(pte.pfn());
    if (page_to_nid(page) == nid) return;
    pages.push_back(page);
  });
  for (Page* page : pages) {
    int err = migrate_page(page, nid);
    if (err == ENOMEM) return MachineError{ENOMEM, "node has no free memory for the pages"};
  }
  return std::nullopt;
}

int Machine::OfflineBlock(int nid, uint64_t block) {
  lru_add_drain_all();  // offline_pages(): lru_cache_disable()
  if (nid < 0 || nid >= phys_.num_nodes() || block >= phys_.node_blocks(nid)) return EINVAL;
  Pfn start = phys_.node_start(nid) + block * phys_.block_pages();
  Pfn end = std::min(start + phys_.block_pages(), phys_.node_start(nid) + phys_.node_pages(nid));
  if (phys_.IsIsolated(start)) return EINVAL;  // device_offline() of an offline block
  phys_.IsolateRange(start, end);
  ksm_->memory_callback(MemAction::kGoingOffline, start, end - start);
  // offline_pages() retries do_migrate_range() until every page has moved (or a signal
  // arrives: the format's EBUSY), so every page that can move does, even when one cannot.
  int err = 0;
  for (Pfn pfn = phys_.NextTouched(start, end); pfn < end; pfn = phys_.NextTouched(pfn + 1, end)) {
    Page* page = phys_.page(pfn);
    if (page->Test(PG_free)) continue;
    // do_migrate_range(): the target nodemask is every node with memory but the page's
    // own, unless it is the only one; alloc_migration_target() then takes the first node
    // of that mask with a free frame (the zonelist order of alloc_page's fallback).
    int page_err = ENOMEM;
    for (int n = 0; n < phys_.num_nodes() && page_err == ENOMEM; ++n) {
      if (n == nid && phys_.num_nodes() > 1) continue;
      page_err = migrate_page(page, n);
    }
    if (page_err) err = EBUSY;
  }
  if (err) {
    phys_.UnisolateRange(start, end);
    ksm_->memory_callback(MemAction::kCancelOffline, start, end - start);
    return EBUSY;
  }
  ksm_->memory_callback(MemAction::kOffline, start, end - start);
  return 0;
}

int Machine::OnlineBlock(int nid, uint64_t block) {
  if (nid < 0 || nid >= phys_.num_nodes() || block >= phys_.node_blocks(nid)) return EINVAL;
  Pfn start = phys_.node_start(nid) + block * phys_.block_pages();
  Pfn end = std::min(start + phys_.block_pages(), phys_.node_start(nid) + phys_.node_pages(nid));
  if (!phys_.IsIsolated(start)) return EINVAL;  // device_online() of an online block
  ksm_->memory_callback(MemAction::kGoingOnline, start, end - start);
  phys_.UnisolateRange(start, end);
  ksm_->memory_callback(MemAction::kOnline, start, end - start);
  return 0;
}

}  // namespace ksmsim::mmu
