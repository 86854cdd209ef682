// Pages, processes and mappings. Faults are in fault.cc, reclaim and swap in reclaim.cc,
// migration and hotplug in migrate.cc.
#include "mmu/machine.h"

#include <algorithm>
#include <cerrno>

namespace ksmsim::mmu {

int NoKsm::ksm_madvise(Vma&, uint64_t, uint64_t, Advice advice, uint64_t* vm_flags) {
  if (advice == Advice::kMergeable) *vm_flags |= VM_MERGEABLE;
  if (advice == Advice::kUnmergeable) *vm_flags &= ~uint64_t{VM_MERGEABLE};
  return 0;
}

void NoKsm::ksm_add_vma(Vma& vma) {
  if (vma.mm->mmf_vm_merge_any) vma.flags |= VM_MERGEABLE;
}

int NoKsm::ksm_enable_merge_any(Mm& mm) {
  mm.mmf_vm_merge_any = true;
  for (auto& [start, v] : mm.vmas) v->flags |= VM_MERGEABLE;
  return 0;
}

int NoKsm::ksm_disable_merge_any(Mm& mm) {
  mm.mmf_vm_merge_any = false;
  for (auto& [start, v] : mm.vmas) v->flags &= ~uint64_t{VM_MERGEABLE};
  return 0;
}

Machine::Machine(const MachineConfig& config)
    : config_(config),
      phys_(config.node_pages, config.block_pages, config.reserve_pages),
      swap_(config.swap_pages),
      zero_page_(phys_.zero_page()) {
  zero_page_->flags = PG_zero;
  zero_page_->set_refcount(1);
  zero_page_->content = contents_.Fill(0);
}

Machine::~Machine() = default;

// ---- pages ----

void Machine::free_frame(Page* page) {
  if (page->PageKsm()) changes_.ksm_page_freed();
  // free_pages_prepare(): page->mapping is reset, which is what makes a KSM stable node
  // that still points here stale (get_ksm_page's keyhole).
  page->set_mapping(nullptr);
  if (page->PageSwapCache()) set_page_private(page, kNoSwapSlot);  // freed by migration
  page->flags = 0;
  page->set_mapcount(0);
  contents_.Unref(page->content);
  page->content = 0;
  phys_.Free(page);
}

bool Machine::trylock_page(Page* page) {
  if (page->Test(PG_locked)) return false;
  page->Set(PG_locked);
  return true;
}

void Machine::unlock_page(Page* page) { page->Clear(PG_locked); }

void Machine::set_page_content(Page* page, ContentId content) {
  changes_.content_written();
  ContentId old = page->content;
  page->content = content;
  contents_.Unref(old);
}

void Machine::page_remove_rmap(Page* page, Vma* vma) {
  page->add_mapcount(-1);
  --vma->mm->anon_rss;
  munlock_vma_page(page, vma);
}

void Machine::mlock_vma_page(Page* page, Vma* vma) {
  if (!(vma->flags & VM_LOCKED)) return;
  page->Set(PG_mlocked);  // mlock_folio(): folio_test_set_mlocked
  mlock_batch_add(page);
}

void Machine::munlock_vma_page(Page* page, Vma* vma) {
  if (!(vma->flags & VM_LOCKED)) return;
  // "Assume that was the last mlock: reclaim will fix it if not" (__munlock_page). The
  // kernel clears PG_mlocked when the batch drains; here at once (see docs/FIDELITY.md).
  page->Clear(PG_mlocked);
  mlock_batch_add(page);
}

void Machine::mlock_batch_add(Page* page) {
  get_page(page);  // the zero page is not refcounted here, but takes a slot all the same
  mlock_batch_.push_back(page);
  // pagevec_add() returns the space left: a full batch is processed at once (mlock_pagevec).
  if (mlock_batch_.size() == config_.pagevec_size) lru_add_drain_all();
}

void Machine::lru_add_drain_all() {
  std::vector<Page*> batch;
  batch.swap(mlock_batch_);
  for (Page* page : batch) put_page(page);
  activate_batch_drain();
}

// folio_mark_accessed() without the multi-gen LRU.
void Machine::mark_page_accessed(Page* page) {
  if (!config_.activate_batch || !page->Test(PG_referenced)) {
    page->Set(PG_referenced);
    return;
  }
  if (page->Test(PG_mlocked) || page->Test(PG_active)) return;  // unevictable / active
  // folio_activate() needs the page on the LRU; one already in the batch is not (it is
  // found in no lru_add batch either: __lru_cache_activate_folio() does nothing).
  const bool in_batch = std::find(ksmd_activate_batch_.begin(), ksmd_activate_batch_.end(), page) !=
                        ksmd_activate_batch_.end();
  if (!in_batch) {
    get_page(page);
    ksmd_activate_batch_.push_back(page);
  }
  page->Clear(PG_referenced);
  // folio_batch_add() returns the space left: a full batch is moved at once.
  if (ksmd_activate_batch_.size() == config_.pagevec_size) activate_batch_drain();
}

// folio_batch_move_lru(..., folio_activate_fn): each page to the active list, its
// reference dropped (which frees a page nothing else holds any more).
void Machine::activate_batch_drain() {
  std::vector<Page*> batch;
  batch.swap(ksmd_activate_batch_);
  for (Page* page : batch) {
    if (!page->Test(PG_mlocked)) page->Set(PG_active);
    put_page(page);
  }
}

int Machine::batch_refs(const Page* page) const {
  return static_cast<int>(
      std::count(mlock_batch_.begin(), mlock_batch_.end(), page) +
      std::count(ksmd_activate_batch_.begin(), ksmd_activate_batch_.end(), page));
}

void Machine::page_add_anon_rmap(Page* page, Vma* vma, uint64_t addr, bool exclusive) {
  if (!page->PageAnon()) {
    // __page_set_anon_rmap(): a page not exclusively mapped here must point at the root
    // anon_vma, the oldest one every possible mapper is linked to.
    page->set_mapping(exclusive ? vma->anon_vma : vma->anon_vma->root);
    page->Set(PG_anon);
    page->set_index(addr >> kPageShift);
  }
  if (exclusive) page->Set(PG_anon_exclusive);
  mlock_vma_page(page, vma);  // 6.1's page_add_anon_rmap ends with mlock_vma_page()
  page->add_mapcount(1);
  ++vma->mm->anon_rss;
}

bool Machine::folio_free_swap(Page* page) {
  if (!page->PageSwapCache()) return false;
  uint32_t slot = page_private(page);
  if (swap_.count(slot) > 0) return false;  // folio_swapped()
  page->Clear(PG_swapcache);
  set_page_private(page, kNoSwapSlot);
  swap_.set_cache(slot, nullptr, contents_);
  put_page(page);  // the swapcache's reference
  return true;
}

AnonVma* Machine::anon_vma_prepare(Vma* vma) {
  if (vma->anon_vma) return vma->anon_vma;
  changes_.anon_vma_assigned();
  if (AnonVma* reuse = find_mergeable_anon_vma(vma)) {  // __anon_vma_prepare()
    reuse->vmas.push_back(vma);
    vma->anon_vma = reuse;
    vma->chain.push_back(reuse);
    return reuse;
  }
  AnonVma* av = anon_vmas_.New();
  av->id = next_anon_vma_id_++;
  av->vmas.push_back(vma);
  vma->anon_vma = av;
  vma->chain.push_back(av);
  return av;
}

void Machine::put_anon_vma(AnonVma* av) {
  // anon_vmas are kept until the machine goes away: a freed anon_vma's address could be
  // reused and confuse an rmap walk, and the objects are small.
  --av->refcount;
}

Page* Machine::alloc_page(int nid) {
  changes_.frame_allocated();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (Page* p = phys_.AllocOnNode(nid)) return p;
    // Fallback zonelist: the other nodes in increasing id (all at equal distance).
    for (int n = 0; n < phys_.num_nodes(); ++n) {
      if (n == nid) continue;
      if (Page* p = phys_.AllocOnNode(n)) return p;
    }
    if (attempt == 0 && !ReclaimSome(32)) break;
  }
  return nullptr;
}

// ---- processes and mappings ----

Mm* Machine::CreateMm(const std::string& name, int node) {
  Mm* mm = mm_pool_.New();
  mm->id = next_mm_id_++;
  mm->name = name;
  mm->node = node;
  mm->page_table.set_change_counters(&changes_);
  // 4-byte PTEs when every PFN and swap slot of this machine has a 4-byte form.
  mm->page_table.set_narrow(phys_.total_pages() < NarrowPte::kMaxField &&
                            swap_.slots() < NarrowPte::kMaxField);
  mms_.emplace(mm->id, mm);
  return mm;
}

Vma* Machine::InsertVma(Mm* mm, std::unique_ptr<Vma> vma) {
  changes_.vma_changed();
  Vma* raw = vma.get();
  raw->mm = mm;
  mm->vmas.emplace(raw->start, std::move(vma));
  return raw;
}

uint64_t Machine::Mmap(Mm* mm, const std::string& region, uint64_t pages, int node, bool locked) {
  constexpr uint64_t k2M = 2ULL << 20;
  uint64_t start = mm->next_region_addr;
  uint64_t size = pages << kPageShift;
  mm->next_region_addr = start + (size + k2M - 1) / k2M * k2M + k2M;
  auto vma = std::make_unique<Vma>();
  vma->start = start;
  vma->end = start + size;
  vma->region = region;
  vma->policy_node = node;
  // mlock2(MLOCK_ONFAULT) (VM_LOCKED | VM_LOCKONFAULT): the format says an mmap'd region is
  // not yet touched, so nothing is populated; each page is mlocked as it is faulted in.
  if (locked) vma->flags |= VM_LOCKED;
  if (locked) lru_add_drain();  // mlock_fixup(), before and after its (empty) page walk
  Vma* v = InsertVma(mm, std::move(vma));
  ksm_->ksm_add_vma(*v);  // mmap_region(): new VMAs never touch (a 2 MiB gap), none merges
  return start;
}

std::vector<Vma*> Machine::SplitRange(Mm* mm, uint64_t start, uint64_t end) {
  auto split_at = [&](uint64_t addr) {
    Vma* v = mm->vma_lookup(addr);
    if (!v || v->start == addr) return;
    auto tail = std::make_unique<Vma>(*v);  // __split_vma(): same flags and anon_vma
    tail->start = addr;
    v->end = addr;
    Vma* t = InsertVma(mm, std::move(tail));
    for (AnonVma* av : t->chain) {
      auto& list = av->vmas;
      list.insert(std::find(list.begin(), list.end(), v) + 1, t);
    }
  };
  split_at(start);
  split_at(end);
  std::vector<Vma*> out;
  for (auto it = mm->vmas.lower_bound(start); it != mm->vmas.end() && it->first < end; ++it)
    out.push_back(it->second.get());
  return out;
}

void Machine::unlink_vma(Vma* vma) {
  for (AnonVma* av : vma->chain) {
    auto& list = av->vmas;
    list.erase(std::remove(list.begin(), list.end(), vma), list.end());
  }
  if (vma->anon_vma) put_anon_vma(vma->anon_vma);
}

void Machine::Munmap(Mm* mm, uint64_t start, uint64_t end) {
  changes_.vma_changed();
  const std::vector<Vma*> vmas = SplitRange(mm, start, end);
  if (!vmas.empty()) lru_add_drain();  // unmap_region()
  for (Vma* v : vmas) {
    zap_range(v, v->start, v->end);
    unlink_vma(v);
    mm->page_table.FreeEmpty(v->start, v->end);
    mm->vmas.erase(v->start);
  }
}

void Machine::Exit(Mm* mm) {
  changes_.mm_exited();
  mm->mm_users = 0;
  ksm_->ksm_exit(*mm);  // __mmput(): ksm_exit() before exit_mmap()
  lru_add_drain();      // exit_mmap()
  for (auto& [start, v] : mm->vmas) {
    zap_range(v.get(), v->start, v->end);
    unlink_vma(v.get());
  }
  for (auto& [start, v] : mm->vmas) mm->page_table.FreeEmpty(v->start, v->end);
  mm->vmas.clear();
  // do_exit(): exit_files() after exit_mm() closes the pipes that hold the process's page
  // references (its pins), which frees pages the teardown left only pinned.
  for (auto it = pins_.begin(); it != pins_.end();) {
    if (it->mm_id != mm->id) {
      ++it;
      continue;
    }
    Page* page = it->page;
    it = pins_.erase(it);
    if (page == zero_page_) continue;
    unpin_page(page);
    put_page(page);
  }
}

std::optional<MachineError> Machine::Fork(Mm* parent, Mm** child_out,
                                          const std::string& child_name) {
  changes_.mm_forked();
  Mm* child = CreateMm(child_name, parent->node);
  child->next_region_addr = parent->next_region_addr;
  // dup_mm() memcpy()s the mm_struct and 6.1's ksm_fork() does not reset the per-mm KSM
  // counters, so the child starts with the parent's (the real kernel reports them; fixed
  // upstream only in 2025 by "mm/ksm: fix incorrect KSM counter handling ... during fork").
  child->ksm_merging_pages = parent->ksm_merging_pages;
  child->ksm_rmap_items = parent->ksm_rmap_items;
  child->ksm_zero_pages = parent->ksm_zero_pages;
  child->ksm_rmap_items_inherited = parent->ksm_rmap_items;
  child->mmf_vm_merge_any = parent->mmf_vm_merge_any;  // mm_init(): in MMF_INIT_MASK
  ksm_->ksm_fork(*child, *parent);                     // dup_mmap(): ksm_fork() first
  for (auto& [start, pv] : parent->vmas) {
    auto cv = std::make_unique<Vma>();
    cv->start = pv->start;
    cv->end = pv->end;
    cv->flags = pv->flags & ~uint64_t{VM_LOCKED};  // mlock is not inherited
    cv->policy_node = pv->policy_node;             // vma_dup_policy()
    cv->region = pv->region;
    cv->swap_readahead_info = pv->swap_readahead_info;  // vm_area_dup() copies the whole VMA
    Vma* c = InsertVma(child, std::move(cv));
    if (!pv->anon_vma) continue;  // copy_page_range() skips VMAs never faulted
    // anon_vma_fork(): link into every anon_vma of the parent, plus a new one of our own.
    for (AnonVma* av : pv->chain) {
      av->vmas.push_back(c);
      c->chain.push_back(av);
    }
    AnonVma* own = anon_vmas_.New();
    own->id = next_anon_vma_id_++;
    own->root = pv->anon_vma->root;
    own->vmas.push_back(c);
    c->anon_vma = own;
    c->chain.push_back(own);
    // copy_pte_range()
    parent->page_table.ForEach(pv->start, pv->end, [&](uint64_t addr, Pte& spte) {
      PteRef dpte = child->page_table.Lookup(addr, true);
      if (spte.is_swap()) {
        swap_.Duplicate(spte.swap_slot());
        spte.v &= ~Pte::kSwpExclusive;
        dpte.set(spte);
        ++child->swap_ents;
        return;
      }
      if (spte.special()) {
        dpte.set(spte);
        return;
      }
      Page* page = pfn_to_page(spte.pfn());
      // (page_needs_cow_for_dma() would copy a FOLL_PIN-pinned page for the child now; the
      // workload's pin is FOLL_GET, as vmsplice takes it, which does not count.)
      // page_try_dup_anon_rmap(): the page is shared from now on.
      page->Clear(PG_anon_exclusive);
      get_page(page);
      page->add_mapcount(1);
      ++child->anon_rss;
      if (spte.write()) spte.v &= ~Pte::kWrite;  // is_cow_mapping(): write-protect both
      dpte.set(Pte{spte.v & ~Pte::kAccessed});   // pte_mkold() for the child
    });
  }
  *child_out = child;
  return std::nullopt;
}

std::optional<MachineError> Machine::Prctl(Mm* mm, bool memory_merge) {
  changes_.vma_changed();
  // prctl(PR_SET_MEMORY_MERGE) in kernel/sys.c, under the mmap write lock.
  int err = memory_merge ? ksm_->ksm_enable_merge_any(*mm) : ksm_->ksm_disable_merge_any(*mm);
  if (err) return MachineError{-err, "prctl(PR_SET_MEMORY_MERGE) failed"};
  return std::nullopt;
}

std::optional<MachineError> Machine::Madvise(Mm* mm, uint64_t start, uint64_t end, Advice advice) {
  // madvise_walk_vmas(): prev is the VMA before the range, or the first VMA itself when the
  // range starts inside it.
  bool hole = false;
  uint64_t covered = start;
  Vma* v = mm->find_vma(start);
  Vma* prev = v && start > v->start ? v : (v ? vma_prev(mm, v) : nullptr);
  for (; v && v->start < end; v = mm->find_vma(covered)) {
    if (v->start > covered) hole = true;
    uint64_t s = std::max(start, v->start), e = std::min(end, v->end);
    if (advice == Advice::kMergeable || advice == Advice::kUnmergeable) {
      uint64_t flags = v->flags;
      int err = ksm_->ksm_madvise(*v, s, e, advice, &flags);
      if (err) return MachineError{-err, "ksm_madvise failed"};
      v = madvise_update_vma(v, &prev, s, e, flags);
      covered = std::max(e, prev->end);
    } else if (advice == Advice::kDontneed) {
      if (v->flags & VM_LOCKED)
        return MachineError{EINVAL, "madvise(MADV_DONTNEED) on a locked region"};
      lru_add_drain();  // zap_page_range_single()
      zap_range(v, s, e);
      prev = v;
      covered = v->end;
    } else {
      if (v->flags & VM_LOCKED)
        return MachineError{EINVAL, "madvise(MADV_PAGEOUT) on a locked region"};
      if (auto err = Pageout(mm, s, e)) return err;
      prev = v;
      covered = v->end;
    }
    if (covered >= end) break;
  }
  if (hole || covered < end)
    return MachineError{ENOMEM, "the range includes addresses that are not mapped"};
  return std::nullopt;
}

void Machine::zap_pte(Vma* vma, uint64_t /*addr*/, PteRef pte) {
  Mm* mm = vma->mm;
  if (pte->is_swap()) {
    // free_swap_and_cache(): the cached copy goes too once nothing maps it.
    uint32_t slot = pte->swap_slot();
    pte.set(Pte{});
    --mm->swap_ents;
    swap_.Free(slot, contents_);
    Page* cached = swap_.cache(slot);
    if (cached && swap_.count(slot) == 0 && cached->mapcount() == 0) folio_free_swap(cached);
    return;
  }
  if (pte->special()) {
    const Pte ptent = *pte;
    pte.set(Pte{});
    if (is_ksm_zero_pte(ptent)) ksm_->ksm_might_unmap_zero_page(*mm, ptent);
    return;
  }
  Page* page = pfn_to_page(pte->pfn());
  if (pte->dirty()) page->Set(PG_dirty);
  pte.set(Pte{});
  page_remove_rmap(page, vma);
  // free_swap_cache() from the TLB batch: drop an unmapped page's swap copy.
  if (page->mapcount() == 0 && page->PageSwapCache()) folio_free_swap(page);
  put_page(page);
}

void Machine::zap_range(Vma* vma, uint64_t start, uint64_t end) {
  vma->mm->page_table.ForEach(
      start, end, [&](uint64_t addr, Pte& pte) { zap_pte(vma, addr, PteRef(&pte, false)); });
}

uint64_t Machine::resident_pages(const Mm* mm) const {
  uint64_t n = 0;
  for (auto& [start, v] : mm->vmas) {
    const_cast<Mm*>(mm)->page_table.ForEach(v->start, v->end, [&](uint64_t, Pte& pte) {
      if (pte.present() && !pte.special()) ++n;
    });
  }
  return n;
}

}  // namespace ksmsim::mmu
