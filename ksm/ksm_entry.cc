// KSM's entry points from the rest of mm/: madvise, fork, exit, swap-in, rmap walks,
// migration and the memory hotplug notifier; plus the mm_slot list (mm/ksm.c).
#include <cerrno>

#include "ksm/ksm.h"

namespace ksmsim::ksm {

using mmu::Page;

Ksm::Ksm(mmu::Machine& machine, Profile profile)
    : m_(machine), profile_(profile), features_(FeaturesOf(profile)) {
  int nodes = machine.phys().num_nodes();
  root_stable_tree_.resize(nodes);
  root_unstable_tree_.resize(nodes);
  ksm_scan_.mm_slot = &ksm_mm_head_;
  // ksm_init(): the correct value depends on page size and endianness.
  zero_checksum_ = calc_checksum(m_.zero_page());
  work_ = Work{};
}

Ksm::~Ksm() {
  for (MmSlot* s = ksm_mm_head_.next; s != &ksm_mm_head_;) {
    MmSlot* next = s->next;
    delete s;
    s = next;
  }
}

void Ksm::list_del(MmSlot* s) {
  s->prev->next = s->next;
  s->next->prev = s->prev;
  s->next = s->prev = s;
}

void Ksm::list_add_after(MmSlot* s, MmSlot* pos) {
  s->next = pos->next;
  s->prev = pos;
  pos->next->prev = s;
  pos->next = s;
}

void Ksm::list_add_before(MmSlot* s, MmSlot* pos) { list_add_after(s, pos->prev); }

void Ksm::mm_slot_free(MmSlot* slot) {
  mm_slots_hash_.erase(slot->mm);
  list_del(slot);
  slot->mm->mmf_vm_mergeable = false;
  delete slot;
}

std::vector<const MmSlot*> Ksm::mm_slots() const {
  std::vector<const MmSlot*> out;
  for (const MmSlot* s = ksm_mm_head_.next; s != &ksm_mm_head_; s = s->next) out.push_back(s);
  return out;
}

namespace {

// vma_ksm_compatible() on a VMA's flags: the mappings KSM never touches.
bool ksm_compatible_flags(uint64_t vm_flags) {
  using namespace mmu;
  return !(vm_flags & (VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB |
                       VM_MIXEDMAP));
}

bool vma_ksm_compatible(const mmu::Vma& vma) { return ksm_compatible_flags(vma.flags); }

void __ksm_add_vma(mmu::Vma& vma) {
  if (vma.flags & mmu::VM_MERGEABLE) return;
  if (vma_ksm_compatible(vma)) vma.flags |= mmu::VM_MERGEABLE;
}

void ksm_add_vmas(mmu::Mm& mm) {
  for (auto& [start, vma] : mm.vmas) __ksm_add_vma(*vma);
}

}  // namespace

int Ksm::ksm_madvise(mmu::Vma& vma, uint64_t start, uint64_t end, mmu::Advice advice,
                     uint64_t* vm_flags) {
  using namespace mmu;
  if (advice == Advice::kMergeable) {
    // Be somewhat over-protective for now!
    if ((*vm_flags & VM_MERGEABLE) || !ksm_compatible_flags(*vm_flags))
      return 0;  // just ignore the advice
    if (!vma.mm->mmf_vm_mergeable) {
      int err = __ksm_enter(vma.mm);
      if (err) return err;
    }
    *vm_flags |= VM_MERGEABLE;
  } else if (advice == Advice::kUnmergeable) {
    if (!(*vm_flags & VM_MERGEABLE)) return 0;  // just ignore the advice
    if (vma.anon_vma) {
      int err = unmerge_ksm_pages(&vma, start, end);
      if (err) return err;
    }
    *vm_flags &= ~uint64_t{VM_MERGEABLE};
  }
  return 0;
}

// ---- process-wide merging: prctl(PR_SET_MEMORY_MERGE) (6.3+) ----

// ksm_add_vma()
void Ksm::ksm_add_vma(mmu::Vma& vma) {
  mmu::Mm* mm = vma.mm;
  if (!mm->mmf_vm_merge_any) return;
  __ksm_add_vma(vma);
  // ksmd may have dropped the mm after a pass that found no mergeable VMA.
  if (!mm->mmf_vm_mergeable) __ksm_enter(mm);
}

// ksm_del_vmas() with __ksm_del_vma()
int Ksm::ksm_del_vmas(mmu::Mm& mm) {
  for (auto& [start, vma] : mm.vmas) {
    if (!(vma->flags & mmu::VM_MERGEABLE)) continue;
    if (vma->anon_vma) {
      int err = unmerge_ksm_pages(vma.get(), vma->start, vma->end);
      if (err) return err;
    }
    vma->flags &= ~uint64_t{mmu::VM_MERGEABLE};
  }
  return 0;
}

// ksm_enable_merge_any()
int Ksm::ksm_enable_merge_any(mmu::Mm& mm) {
  if (mm.mmf_vm_merge_any) return 0;
  if (!mm.mmf_vm_mergeable) {
    int err = __ksm_enter(&mm);
    if (err) return err;
  }
  mm.mmf_vm_merge_any = true;
  ksm_add_vmas(mm);
  return 0;
}

// ksm_disable_merge_any(): unmerges like MADV_UNMERGEABLE; on failure merging stays on.
int Ksm::ksm_disable_merge_any(mmu::Mm& mm) {
  if (!mm.mmf_vm_merge_any) return 0;
  int err = ksm_del_vmas(mm);
  if (err) {
    ksm_add_vmas(mm);
    return err;
  }
  mm.mmf_vm_merge_any = false;
  return 0;
}

int Ksm::__ksm_enter(mmu::Mm* mm) {
  auto* slot = new MmSlot;
  slot->mm = mm;
  mm_slots_hash_[mm] = slot;
  // Insert just behind the scanning cursor, to let the area settle down a little; but
  // during `run` 2 insert at the end, or the unmerge would miss this mm's KSM pages.
  if (knobs_.run & KSM_RUN_UNMERGE)
    list_add_before(slot, &ksm_mm_head_);
  else
    list_add_before(slot, ksm_scan_.mm_slot);
  mm->mmf_vm_mergeable = true;
  emit({.name = "ksm_enter", .seq = ksm_scan_.seqnr, .mm = mm});
  return 0;
}

void Ksm::__ksm_exit(mmu::Mm* mm) {
  auto it = mm_slots_hash_.find(mm);
  MmSlot* mm_slot = it == mm_slots_hash_.end() ? nullptr : it->second;
  if (mm_slot && ksm_scan_.mm_slot != mm_slot) {
    if (!mm_slot->rmap_list) {
      mm_slot_free(mm_slot);  // easy to free
    } else {
      // Leave it for ksmd to free, scanned next.
      list_del(mm_slot);
      list_add_after(mm_slot, ksm_scan_.mm_slot);
    }
  }
  emit({.name = "ksm_exit", .seq = ksm_scan_.seqnr, .mm = mm});
}

void Ksm::ksm_fork(mmu::Mm& mm, mmu::Mm& oldmm) {
  if (!oldmm.mmf_vm_mergeable) return;
  if (features_.fork_resets_mm_counters) {
    // 6.12.y: the child's copies of the parent's counters (dup_mm's memcpy) are reset.
    mm.ksm_merging_pages = 0;
    mm.ksm_rmap_items = 0;
    mm.ksm_rmap_items_inherited = 0;
  }
  // 6.12: the child's page tables map the parent's KSM zero pages too (copy_pte_range
  // keeps their dirty PTEs): it keeps their count, and the global count grows by it.
  if (features_.ksm_zero_pages) ksm_zero_pages_ += static_cast<unsigned long>(mm.ksm_zero_pages);
  __ksm_enter(&mm);
}

void Ksm::ksm_exit(mmu::Mm& mm) {
  if (mm.mmf_vm_mergeable) __ksm_exit(&mm);
}

Page* Ksm::ksm_might_need_to_copy(Page* page, mmu::Vma& vma, uint64_t address) {
  mmu::AnonVma* anon_vma = page->anon_vma();
  if (page->PageKsm()) {
    if (page_stable_node(page) && !(knobs_.run & KSM_RUN_UNMERGE)) return page;
  } else if (!anon_vma) {
    return page;  // no need to copy it
  } else if (page->index() == (address >> mmu::kPageShift) && vma.anon_vma &&
             anon_vma->root == vma.anon_vma->root) {
    return page;  // still no need to copy it
  }
  Page* new_page = m_.alloc_page(m_.alloc_node(&vma));
  if (!new_page) return nullptr;
  new_page->flags = mmu::PG_dirty;
  new_page->set_refcount(1);
  m_.contents().Ref(page->content);
  new_page->content = page->content;
  ++m_.vmstat().ksm_swpin_copy;  // count_vm_event(KSM_SWPIN_COPY)
  return new_page;
}

void Ksm::rmap_walk_ksm(Page* page, mmu::RmapWalkControl& rwc) {
  StableNode* stable_node = page_stable_node(page);
  if (!stable_node) return;
  // First the vma each rmap_item was merged in; then, in case of forks since ksmd
  // passed, the covering vmas of other mms.
  for (int search_new_forks = 0; search_new_forks < 2; ++search_new_forks) {
    for (RmapItem* rmap_item = stable_node->hlist.first; rmap_item;
         rmap_item = rmap_item->hlist.next) {
      mmu::AnonVma* anon_vma = rmap_item->anon_vma;
      std::vector<mmu::Vma*> vmas = anon_vma->vmas;
      for (mmu::Vma* vma : vmas) {
        uint64_t addr = rmap_item->address & PAGE_MASK;
        if (addr < vma->start || addr >= vma->end) continue;
        if ((rmap_item->mm == vma->mm) == static_cast<bool>(search_new_forks)) continue;
        if (!rwc.rmap_one(page, vma, addr)) return;
        if (rwc.done && rwc.done(page)) return;
      }
    }
  }
}

void Ksm::folio_migrate_ksm(Page* newpage, Page* oldpage) {
  StableNode* stable_node = page_stable_node(oldpage);
  if (stable_node) {
    ++stable_remaps_;
    stable_node->kpfn = newpage->pfn();
    oldpage->set_mapping(nullptr);  // set_page_stable_node(&folio->page, NULL)
  }
}

bool Ksm::stable_node_dup_remove_range(StableNode* stable_node, uint64_t start, uint64_t end) {
  if (stable_node->kpfn >= start && stable_node->kpfn < end) {
    // Don't get_ksm_page: the page has already gone (which is why we keep kpfn).
    remove_node_from_stable_tree(stable_node);
    return true;
  }
  return false;
}

bool Ksm::stable_node_chain_remove_range(StableNode* stable_node, uint64_t start, uint64_t end,
                                         RbRoot* root) {
  if (!is_stable_node_chain(stable_node))
    return stable_node_dup_remove_range(stable_node, start, end);
  for (StableNode* dup = stable_node->dups.first; dup;) {
    StableNode* next = dup->hlist_dup.next;
    stable_node_dup_remove_range(dup, start, end);
    dup = next;
  }
  if (stable_node->dups.empty()) {
    free_stable_node_chain(stable_node, root);
    return true;  // notify caller that tree was rebalanced
  }
  return false;
}

void Ksm::ksm_check_stable_tree(uint64_t start_pfn, uint64_t end_pfn) {
  for (int nid = 0; nid < ksm_nr_node_ids_; ++nid) {
    RbNode* node = rb_first(&root_stable_tree_[nid]);
    while (node) {
      auto* stable_node = static_cast<StableNode*>(node);
      if (stable_node_chain_remove_range(stable_node, start_pfn, end_pfn, &root_stable_tree_[nid]))
        node = rb_first(&root_stable_tree_[nid]);
      else
        node = rb_next(node);
    }
  }
  for (auto it = migrate_nodes_.begin(); it != migrate_nodes_.end();) {
    StableNode* stable_node = *it++;
    if (stable_node->kpfn >= start_pfn && stable_node->kpfn < end_pfn)
      remove_node_from_stable_tree(stable_node);
  }
}

void Ksm::memory_callback(mmu::MemAction action, uint64_t start_pfn, uint64_t nr_pages) {
  switch (action) {
    case mmu::MemAction::kGoingOffline:
      // Keep ksmd and the unmerge paths off the stable tree while memory goes away.
      knobs_.run |= KSM_RUN_OFFLINE;
      break;
    case mmu::MemAction::kOffline:
      // Migration did most of the work; prune nodes still pointing at offlined frames.
      ksm_check_stable_tree(start_pfn, start_pfn + nr_pages);
      knobs_.run &= ~KSM_RUN_OFFLINE;
      break;
    case mmu::MemAction::kCancelOffline:
      knobs_.run &= ~KSM_RUN_OFFLINE;
      break;
    default:
      break;
  }
}

}  // namespace ksmsim::ksm
