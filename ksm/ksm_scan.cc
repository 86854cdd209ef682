// ksmd's scan: ksm_do_scan, scan_get_next_rmap_item (the cursor over mm_slots, VMAs and
// rmap_lists) and cmp_and_merge_page, the decision for each scanned page (mm/ksm.c).
#include <cerrno>

#include "ksm/decision_events.h"
#include "ksm/ksm.h"
#include "ksm/snapshot.h"

namespace ksmsim::ksm {

using mmu::Page;

void Ksm::cmp_and_merge_page(Page* page, RmapItem* rmap_item) {
  bool max_page_sharing_bypass = false;

  trace_scan(rmap_item, page);
  StableNode* stable_node = page_stable_node(page);
  if (stable_node) {
    if (stable_node->place != StablePlace::kMigrate &&
        get_kpfn_nid(stable_node->kpfn) != NUMA(stable_node->nid)) {
      // The KSM page moved to another node: queue its node for re-placement.
      stable_node_dup_del(stable_node);
      stable_node->place = StablePlace::kMigrate;
      migrate_nodes_add(stable_node);
    }
    if (stable_node->place != StablePlace::kMigrate && rmap_item->head == stable_node) {
      trace_page(Decision::kInStable, rmap_item, page, stable_node);
      return;
    }
    // A KSM fork may go over the sharing limit.
    if (!is_page_sharing_candidate(stable_node)) max_page_sharing_bypass = true;
  } else if (features_.checksum_before_stable_search) {
    // 6.12: a page that is not KSM yet passes the checksum gate (and the zero page) before
    // the stable tree is searched for it.
    remove_rmap_item_from_tree(rmap_item);
    uint32_t checksum = calc_checksum(page);
    if (rmap_item->oldchecksum != checksum) {
      trace_checksum_changed(rmap_item, page, checksum);
      rmap_item->oldchecksum = checksum;
      return;
    }
    if (!try_to_merge_with_zero_page(rmap_item, page)) return;
  }

  // We first start with searching the page inside the stable tree.
  Page* kpage = stable_tree_search(page);
  if (kpage == page && rmap_item->head == stable_node) {
    trace_page(Decision::kKpageIsPage, rmap_item, page);
    m_.put_page(kpage);
    return;
  }
  remove_rmap_item_from_tree(rmap_item);
  if (kpage) {
    if (kpage == ErrBusy()) {
      trace_page(Decision::kBusy, rmap_item, nullptr);
      return;
    }
    int err = try_to_merge_with_ksm_page(rmap_item, page, kpage);
    if (!err) {
      // Merged: add its rmap_item to the stable tree.
      stable_tree_append(rmap_item, page_stable_node(kpage), max_page_sharing_bypass);
    }
    trace_merge_with_ksm_page(err, rmap_item, page, kpage);
    m_.put_page(kpage);
    return;
  }

  if (!features_.checksum_before_stable_search && checksum_gate_61(page, rmap_item)) return;
  unstable_tree_merge(page, rmap_item, stable_node);
}

// 6.1's checksum gate and zero-page merge, after the stable tree search: true when
// cmp_and_merge_page is done with the page.
bool Ksm::checksum_gate_61(Page* page, RmapItem* rmap_item) {
  mmu::Mm* mm = rmap_item->mm;
  // A page whose checksum changed since the last pass is changing frequently: keep it out
  // of the unstable tree and don't search for it there.
  uint32_t checksum = calc_checksum(page);
  if (rmap_item->oldchecksum != checksum) {
    trace_checksum_changed(rmap_item, page, checksum);
    rmap_item->oldchecksum = checksum;
    return true;
  }

  // Same checksum as an empty page: merge with the zero page if use_zero_pages.
  if (profile_ == Profile::k61ZeroUnshare) {
    if (knobs_.use_zero_pages) {
      if (checksum == zero_checksum_) {
        int err = try_to_merge_with_kernel_zero_page(mm, rmap_item, page);
        trace_zero_page_merge(err, rmap_item, page);
        if (!err) return true;
      } else if (rmap_item->address & ZERO_PAGE_FLAG) {
        // COW happened to the zero page: the flag is stale.
        rmap_item->address &= PAGE_MASK;
        --ksm_zero_pages_;
      }
    }
  } else if (knobs_.use_zero_pages && checksum == zero_checksum_) {
    int err = 0;
    if (mmu::Vma* vma = find_mergeable_vma(mm, rmap_item->address))
      err = try_to_merge_one_page(vma, page, m_.zero_page());
    trace_zero_page_merge(err, rmap_item, page);
    // Failure means the page was not really empty: continue. Otherwise we're done.
    if (!err) return true;
  }
  return false;
}

// try_to_merge_with_zero_page() (6.12): 0 when merged with the zero page, or when the VMA
// is gone; -EFAULT otherwise (use_zero_pages off, not the zero page's checksum, or failed).
int Ksm::try_to_merge_with_zero_page(RmapItem* rmap_item, Page* page) {
  int err = -EFAULT;
  if (knobs_.use_zero_pages && rmap_item->oldchecksum == zero_checksum_) {
    if (mmu::Vma* vma = find_mergeable_vma(rmap_item->mm, rmap_item->address)) {
      err = try_to_merge_one_page(vma, page, m_.zero_page());
    } else {
      err = 0;  // the VMA is out of date: no need to continue
    }
    trace_zero_page_merge(err, rmap_item, page);
  }
  return err;
}

// The end of cmp_and_merge_page: search the unstable tree, merge two pages into a new KSM
// page.
void Ksm::unstable_tree_merge(Page* page, RmapItem* rmap_item, StableNode* stable_node) {
  Page* tree_page = nullptr;
  Page* kpage = nullptr;
  RmapItem* tree_rmap_item = unstable_tree_search_insert(rmap_item, page, &tree_page);
  if (tree_rmap_item) {
    kpage = try_to_merge_two_pages(rmap_item, page, tree_rmap_item, tree_page);
    m_.put_page(tree_page);
    if (kpage) {
      // Merged: a new node in the stable tree, with both rmap_items.
      m_.trylock_page(kpage);
      stable_node = stable_tree_insert(kpage);
      stable_tree_append(tree_rmap_item, stable_node, false);
      stable_tree_append(rmap_item, stable_node, false);
      m_.unlock_page(kpage);
    }
    trace_merge_two_pages(rmap_item, page, tree_rmap_item, kpage, stable_node);
  }
}

RmapItem* Ksm::try_to_get_old_rmap_item(uint64_t addr, Ref32<RmapItem>* rmap_list) {
  while (*rmap_list) {
    RmapItem* rmap_item = *rmap_list;
    if ((rmap_item->address & PAGE_MASK) == addr) return rmap_item;
    if (rmap_item->address > addr) break;
    *rmap_list = rmap_item->rmap_list;
    remove_rmap_item_from_tree(rmap_item);
    emit({.name = "ksm_remove_rmap_item",
          .seq = ksm_scan_.seqnr,
          .mm = rmap_item->mm,
          .addr = rmap_item->address & PAGE_MASK});
    free_rmap_item(rmap_item);
  }
  return nullptr;
}

RmapItem* Ksm::get_next_rmap_item(MmSlot* mm_slot, Ref32<RmapItem>* rmap_list, uint64_t addr) {
  if (RmapItem* rmap_item = try_to_get_old_rmap_item(addr, rmap_list)) return rmap_item;
  RmapItem* rmap_item = alloc_rmap_item();
  // A new rmap_item's oldchecksum is 0: a page needs two visits to enter the unstable tree.
  rmap_item->mm = mm_slot->mm;
  ++rmap_item->mm->ksm_rmap_items;
  rmap_item->address = addr;
  rmap_item->rmap_list = *rmap_list;
  *rmap_list = rmap_item;
  return rmap_item;
}

// skip_age(): how many visits to skip after an unsuccessful one, by the rmap_item's age.
static unsigned skip_age(uint8_t age) {
  if (age <= 3) return 1;
  if (age <= 5) return 2;
  if (age <= 8) return 4;
  return 8;
}

// 6.12 smart scan: a page that keeps failing to merge is skipped more and more often (its
// first three visits never are; KSM pages never are). A skipped page leaves its tree.
bool Ksm::should_skip_rmap_item(Page* page, RmapItem* rmap_item) {
  if (!knobs_.smart_scan) return false;
  // Never skip pages that are already KSM: cmp_and_merge_page() must still see them.
  if (page->PageKsm()) return false;
  SkipAge& s = skip_ages_[rmap_item];
  uint8_t age = s.age;
  if (age != UINT8_MAX) ++s.age;
  // Smaller ages are not skipped: they need a chance to go through every phase of merging.
  if (age < 3) return false;
  // Are we still allowed to skip? If not, don't, and decide how often we may skip next.
  if (!s.remaining_skips) {
    s.remaining_skips = static_cast<uint8_t>(skip_age(age));
    return false;
  }
  ++ksm_pages_skipped_;
  --s.remaining_skips;
  ++pass_skipped_;
  trace_smart_scan_skip(rmap_item, page, s.age, s.remaining_skips);
  remove_rmap_item_from_tree(rmap_item);
  return true;
}

RmapItem* Ksm::scan_get_next_rmap_item(Page** page) {
  if (ksm_mm_head_.next == &ksm_mm_head_) return nullptr;
  MmSlot* mm_slot = ksm_scan_.mm_slot;
  if (mm_slot == &ksm_mm_head_) {
    advisor_start_scan();  // 6.12, with advisor_mode scan-time
    emit({.name = "ksm_start_scan", .seq = ksm_scan_.seqnr, .rmap_num = ksm_rmap_items_});
    pass_skipped_ = 0;
    m_.lru_add_drain_all();  // references held by CPU 0's mlock batch
    // Stale nodes on migrate_nodes are pruned once before each full scan.
    if (!ksm_merge_across_nodes()) {
      for (auto it = migrate_nodes_.begin(); it != migrate_nodes_.end();) {
        StableNode* stable_node = *it++;
        if (Page* p = get_ksm_page(stable_node, GET_KSM_PAGE_NOLOCK)) m_.put_page(p);
      }
    }
    for (int nid = 0; nid < ksm_nr_node_ids_; ++nid) root_unstable_tree_[nid] = RbRoot{};
    start_unstable_snapshots();  // (simulator) ksm/snapshot.h
    mm_slot = mm_slot->next;
    ksm_scan_.mm_slot = mm_slot;
    if (mm_slot == &ksm_mm_head_) return nullptr;
    ksm_scan_.address = 0;
    ksm_scan_.rmap_list = &mm_slot->rmap_list;
  }

  for (;;) {  // next_mm
    mmu::Mm* mm = mm_slot->mm;
    if (!ksm_test_exit(mm)) {
      for (mmu::Vma* vma = mm->find_vma(ksm_scan_.address); vma; vma = mm->find_vma(vma->end)) {
        if (!(vma->flags & mmu::VM_MERGEABLE)) continue;
        if (ksm_scan_.address < vma->start) ksm_scan_.address = vma->start;
        if (!vma->anon_vma) ksm_scan_.address = vma->end;
        while (ksm_scan_.address < vma->end) {
          *page = m_.follow_page(vma, ksm_scan_.address);
          if (!*page) {
            // follow_page finds nothing where no PTE table exists either: step over those
            // addresses in one go (the kernel walks them one by one, finding nothing).
            ksm_scan_.address =
                mm->page_table.SkipEmpty(ksm_scan_.address + mmu::kPageSize, vma->end);
            continue;
          }
          if ((*page)->PageAnon()) {
            RmapItem* rmap_item =
                get_next_rmap_item(mm_slot, ksm_scan_.rmap_list, ksm_scan_.address);
            ksm_scan_.rmap_list = &rmap_item->rmap_list;
            if (features_.smart_scan && should_skip_rmap_item(*page, rmap_item)) {
              m_.put_page(*page);
              *page = nullptr;
              ksm_scan_.address += mmu::kPageSize;  // next_page
              continue;
            }
            ksm_scan_.address += mmu::kPageSize;
            return rmap_item;
          }
          // Seed 001: the zero pages KSM placed keep their rmap_items, to be unshared.
          if (profile_ == Profile::k61ZeroUnshare && mmu::Machine::is_zero_pfn((*page)->pfn())) {
            RmapItem* rmap_item = try_to_get_old_rmap_item(ksm_scan_.address, ksm_scan_.rmap_list);
            if (rmap_item && (rmap_item->address & ZERO_PAGE_FLAG)) {
              ksm_scan_.rmap_list = &rmap_item->rmap_list;
              ksm_scan_.address += mmu::kPageSize;
              return rmap_item;
            }
          }
          m_.put_page(*page);
          ksm_scan_.address += mmu::kPageSize;
        }
      }
    }
    if (ksm_test_exit(mm)) {
      ksm_scan_.address = 0;
      ksm_scan_.rmap_list = &mm_slot->rmap_list;
    }
    // Nuke all the rmap_items above the cursor: no VM_MERGEABLE vma has such addresses.
    remove_trailing_rmap_items(ksm_scan_.rmap_list);
    ksm_scan_.mm_slot = mm_slot->next;
    if (ksm_scan_.address == 0) {
      // A full walk found no VM_MERGEABLE vma (or the mm exited): drop the mm, as
      // __ksm_exit would.
      mm_slot_free(mm_slot);
    }
    mm_slot = ksm_scan_.mm_slot;
    if (mm_slot == &ksm_mm_head_) break;
    ksm_scan_.address = 0;
    ksm_scan_.rmap_list = &mm_slot->rmap_list;
  }
  advisor_stop_scan();  // 6.12: scan_time_advisor() with advisor_mode scan-time
  // (simulator) The pass's smart-scan skips in one line, for logs filtered to one per pass.
  if (pass_skipped_)
    emit({.name = kSmartScanSkipEvent, .seq = ksm_scan_.seqnr, .skipped = pass_skipped_});
  emit({.name = "ksm_stop_scan", .seq = ksm_scan_.seqnr, .rmap_num = ksm_rmap_items_});
  ++ksm_scan_.seqnr;
  return nullptr;
}

void Ksm::ksm_do_scan(unsigned scan_npages) {
  work_ = Work{};
  m_.set_foreign_task_node(kKsmdNode);  // break_cow's faults are ksmd's
  unsigned until_lookahead = 0;
  while (scan_npages--) {
    if (until_lookahead-- == 0) {
      // (simulator) prefetching only: ksm/walk_lookahead.cc
      until_lookahead = static_cast<unsigned>(walk_lookahead()) - 1;
    }
    Page* page = nullptr;
    RmapItem* rmap_item = scan_get_next_rmap_item(&page);
    if (!rmap_item) break;
    ++work_.pages;
    cmp_and_merge_page(page, rmap_item);
    m_.put_page(page);
    ++ksm_pages_scanned_;
  }
  m_.set_foreign_task_node(-1);
}

}  // namespace ksmsim::ksm
