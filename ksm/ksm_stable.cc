// The stable tree's nodes (mm/ksm.c): allocation, chains and dups, get_ksm_page's keyhole,
// rmap_item removal, remove_stable_node for sysfs, and stable_node_dup's pick of a chain's
// dup. The walks (stable_tree_search, stable_tree_insert) are in ksm_tree.cc.
#include <cerrno>

#include "ksm/ksm.h"
#include "ksm/snapshot.h"

namespace ksmsim::ksm {

using mmu::Page;
using mmu::Pfn;

RmapItem* Ksm::alloc_rmap_item() {
  RmapItem* rmap_item = rmap_item_cache_.alloc();
  ++ksm_rmap_items_;
  return rmap_item;
}

void Ksm::free_rmap_item(RmapItem* rmap_item) {
  // Seed 001: freeing the rmap_item of a KSM-placed zero page unshares that page.
  if (profile_ == Profile::k61ZeroUnshare && (rmap_item->address & ZERO_PAGE_FLAG))
    unshare_zero_pages(rmap_item);
  if (features_.smart_scan) skip_ages_.erase(rmap_item);
  --ksm_rmap_items_;
  --rmap_item->mm->ksm_rmap_items;
  rmap_item_cache_.free(rmap_item);
}

StableNode* Ksm::alloc_stable_node() {
  StableNode* stable_node = stable_node_cache_.alloc();
  stable_node->id = next_stable_node_id_++;
  return stable_node;
}

void Ksm::free_stable_node(StableNode* stable_node) {
  if (!dups_tails_.empty()) dups_tails_.erase(stable_node);  // (simulator) a chain's
  stable_node_cache_.free(stable_node);
}

int Ksm::get_kpfn_nid(Pfn kpfn) const {
  if (ksm_merge_across_nodes()) return 0;
  // pfn_to_nid(): the shared zero page (which seed 001's scan hands to cmp_and_merge_page
  // for a KSM-placed zero page) is in the kernel image, in node 0's memory, as
  // Machine::page_to_nid says; its PFN lies outside every node's range.
  return NUMA(mmu::Machine::is_zero_pfn(kpfn) ? 0 : m_.phys().pfn_to_nid(kpfn));
}

StableNode* Ksm::page_stable_node(const Page* page) const {
  return page->PageKsm() ? static_cast<StableNode*>(page->mapping()) : nullptr;
}

void Ksm::set_page_stable_node(Page* page, StableNode* stable_node) {
  if (page_stable_node(page)) ++stable_remaps_;  // an existing stable node loses its page
  page->set_mapping(stable_node);
  page->Set(mmu::PG_anon | mmu::PG_ksm);
}

void Ksm::stable_node_chain_add_dup(StableNode* dup, StableNode* chain) {
  dup->place = StablePlace::kDup;
  chain->dups.add_head(dup);
  ++ksm_stable_node_dups_;
}

void Ksm::migrate_nodes_add(StableNode* stable_node) {
  migrate_nodes_.push_front(stable_node);
  migrate_its_[stable_node] = migrate_nodes_.begin();
}

void Ksm::migrate_nodes_del(StableNode* stable_node) {
  auto it = migrate_its_.find(stable_node);
  migrate_nodes_.erase(it->second);
  migrate_its_.erase(it);
}

void Ksm::__stable_node_dup_del(StableNode* dup) {
  ++dups_changes_;  // (simulator) see DupsTail
  decltype(dup->dups)::del(dup);
  --ksm_stable_node_dups_;
}

void Ksm::stable_node_dup_del(StableNode* dup) {
  if (is_stable_node_dup(dup))
    __stable_node_dup_del(dup);
  else
    rb_erase(dup, &root_stable_tree_[NUMA(dup->nid)]);
}

StableNode* Ksm::alloc_stable_node_chain(StableNode* dup, RbRoot* root) {
  StableNode* chain = alloc_stable_node();
  chain->chain_prune_time = jiffies();
  chain->rmap_hlist_len = STABLE_NODE_CHAIN;
  chain->nid = NUMA_NO_NODE;
  ++ksm_stable_node_chains_;
  // The chain takes the dup's place in the tree; the dup moves into the chain.
  rb_replace_node(dup, chain, root);
  stable_node_chain_add_dup(dup, chain);
  return chain;
}

void Ksm::free_stable_node_chain(StableNode* chain, RbRoot* root) {
  rb_erase(chain, root);
  free_stable_node(chain);
  --ksm_stable_node_chains_;
}

void Ksm::remove_node_from_stable_tree(StableNode* stable_node) {
  for (RmapItem* item = stable_node->hlist.first; item; item = item->hlist.next) {
    if (item->hlist.next)
      --ksm_pages_sharing_;
    else
      --ksm_pages_shared_;
    --item->mm->ksm_merging_pages;
    --stable_node->rmap_hlist_len;
    ++dups_changes_;  // (simulator) see DupsTail
    m_.put_anon_vma(item->anon_vma);
    item->address &= PAGE_MASK;
  }
  emit({.name = "ksm_remove_ksm_page",
        .seq = ksm_scan_.seqnr,
        .pfn = static_cast<int64_t>(stable_node->kpfn)});
  if (stable_node->place == StablePlace::kMigrate)
    migrate_nodes_del(stable_node);
  else
    stable_node_dup_del(stable_node);
  free_stable_node(stable_node);
}

// get_ksm_page(): is the page at stable_node->kpfn still this node's KSM page? Peek
// through the keyhole (page->mapping) instead of holding a reference; a stale node is
// removed from the tree and null returned.
Page* Ksm::get_ksm_page(StableNode* stable_node, GetKsmPageFlags flags) {
  Pfn kpfn = stable_node->kpfn;
  Page* page = m_.pfn_to_page(kpfn);
  if (!page || !page->PageKsm() || page->mapping() != stable_node || page->refcount() == 0) {
    // stale: (the kernel re-reads kpfn here in case of migration; ours is synchronous)
    remove_node_from_stable_tree(stable_node);
    return nullptr;
  }
  m_.get_page(page);
  if (flags == GET_KSM_PAGE_TRYLOCK) {
    if (!m_.trylock_page(page)) {
      m_.put_page(page);
      return ErrBusy();
    }
  } else if (flags == GET_KSM_PAGE_LOCK) {
    m_.trylock_page(page);  // lock_page(): nothing else holds page locks across steps
  }
  return page;
}

void Ksm::remove_rmap_item_from_tree(RmapItem* rmap_item) {
  if (rmap_item->address & STABLE_FLAG) {
    StableNode* stable_node = rmap_item->head;
    Page* page = get_ksm_page(stable_node, GET_KSM_PAGE_LOCK);
    if (!page) return;
    decltype(stable_node->hlist)::del(rmap_item);
    m_.unlock_page(page);
    m_.put_page(page);
    if (!stable_node->hlist.empty())
      --ksm_pages_sharing_;
    else
      --ksm_pages_shared_;
    --rmap_item->mm->ksm_merging_pages;
    --stable_node->rmap_hlist_len;
    ++dups_changes_;  // (simulator) see DupsTail
    m_.put_anon_vma(rmap_item->anon_vma);
    rmap_item->head = nullptr;
    rmap_item->address &= PAGE_MASK;
  } else if (rmap_item->address & UNSTABLE_FLAG) {
    // ksmd can usually skip the rb_erase: root_unstable_tree was reset at the start of
    // this pass. Only an item inserted by this very pass is still in the tree.
    uint8_t age = static_cast<uint8_t>(ksm_scan_.seqnr - rmap_item->address);
    if (!age) rb_erase(&rmap_item->rb, &root_unstable_tree_[NUMA(rmap_item->nid)]);
    --ksm_pages_unshared_;
    rmap_item->address &= PAGE_MASK;
  }
}

void Ksm::remove_trailing_rmap_items(Ref32<RmapItem>* rmap_list) {
  while (*rmap_list) {
    RmapItem* rmap_item = *rmap_list;
    *rmap_list = rmap_item->rmap_list;
    remove_rmap_item_from_tree(rmap_item);
    free_rmap_item(rmap_item);
  }
}

// remove_stable_node(): only through sysfs (run 2, max_page_sharing, merge_across_nodes).
int Ksm::remove_stable_node(StableNode* stable_node) {
  Page* page = get_ksm_page(stable_node, GET_KSM_PAGE_LOCK);
  if (!page) return 0;  // get_ksm_page removed the stale node itself
  int err = -EBUSY;
  if (page->mapcount() == 0) {
    // Not yet stale (an unmapped KSM page can linger, e.g. in the swapcache), but safe.
    ++stable_remaps_;
    page->set_mapping(nullptr);
    page->Clear(mmu::PG_ksm);
    remove_node_from_stable_tree(stable_node);
    err = 0;
  }
  m_.unlock_page(page);
  m_.put_page(page);
  return err;
}

int Ksm::remove_stable_node_chain(StableNode* stable_node, RbRoot* root) {
  if (!is_stable_node_chain(stable_node)) return remove_stable_node(stable_node) ? 1 : 0;
  StableNode* dup = stable_node->dups.first;
  while (dup) {
    StableNode* next = dup->hlist_dup.next;
    if (remove_stable_node(dup)) return 1;
    dup = next;
  }
  free_stable_node_chain(stable_node, root);
  return 0;
}

int Ksm::remove_all_stable_nodes() {
  int err = 0;
  for (int nid = 0; nid < ksm_nr_node_ids_; ++nid) {
    while (root_stable_tree_[nid].rb_node) {
      auto* stable_node = static_cast<StableNode*>(root_stable_tree_[nid].rb_node.get());
      if (remove_stable_node_chain(stable_node, &root_stable_tree_[nid])) {
        err = -EBUSY;
        break;  // proceed to next nid
      }
    }
  }
  for (auto it = migrate_nodes_.begin(); it != migrate_nodes_.end();) {
    StableNode* stable_node = *it++;
    if (remove_stable_node(stable_node)) err = -EBUSY;
  }
  return err;
}

bool Ksm::__is_page_sharing_candidate(const StableNode* stable_node, int offset) const {
  // At least one mapping must still exist, or the page is about to be freed.
  return stable_node->rmap_hlist_len &&
         stable_node->rmap_hlist_len + offset < knobs_.max_page_sharing;
}

Page* Ksm::stable_node_dup(StableNode** _stable_node_dup, StableNode** _stable_node, RbRoot* root,
                           bool prune_stale_stable_nodes) {
  StableNode* stable_node = *_stable_node;
  StableNode* found = nullptr;
  Page* tree_page = nullptr;
  int nr = 0;
  int found_rmap_hlist_len = 0;
  uint64_t prune_jiffies = stable_node->chain_prune_time +
                           (uint64_t{knobs_.stable_node_chains_prune_millisecs} * kHz + 999) / 1000;
  if (!prune_stale_stable_nodes || jiffies() < prune_jiffies)  // time_before()
    prune_stale_stable_nodes = false;
  else
    stable_node->chain_prune_time = jiffies();

  const bool v612 = features_.collapse_singular_chains;
  // (simulator) The list's tail of full, unchanged dups, if it is still as last found
  // (DupsTail in ksm/ksm.h), and the run of such dups this walk is in.
  const DupsTail* tail = nullptr;
  if (!dups_tails_.empty()) {  // (most programs never have a chain that long)
    auto it = dups_tails_.find(stable_node);
    if (dups_tails_enabled_ && it != dups_tails_.end() && it->second.tag == stable_snapshot_tag() &&
        it->second.changes == dups_changes_)
      tail = &it->second;
  }
  StableNode* run_from = nullptr;
  uint32_t run = 0;
  uint64_t run_tag = 0;
  auto record_tail = [&](uint32_t count) {
    DupsTail& t = dups_tails_[stable_node];
    t.from = run_from;
    t.count = count;
    t.tag = run_tag;
    t.changes = dups_changes_;
  };
  bool walked_to_end = true;
  for (StableNode* dup = stable_node->dups.first; dup;) {
    // (simulator) the unchanged tail of full dups: each would only be counted.
    if (tail && dup == tail->from && (!v612 || found)) {
#ifdef KSMSIM_PARANOID
      check_dups_tail(stable_node, *tail);
#endif
      nr += static_cast<int>(tail->count);
      // Full dups just before it (a head dup that filled up) join the tail.
      if (run > 0 && run_tag == stable_snapshot_tag()) record_tail(run + tail->count);
      run = 0;
      break;
    }
    StableNode* next = dup->hlist_dup.next;
    // (simulator) a full dup, unchanged; in 6.12 only once a dup is found (before that,
    // the first live dup is found even when full).
    if ((!v612 || found) && stable_snapshot_skips_dup(dup)) {
      ++nr;
      if (dup->rmap_hlist_len < knobs_.max_page_sharing) {
        run = 0;  // an empty dup: its first sharer would make it a candidate
      } else if (run++ == 0) {
        run_from = dup;
        run_tag = stable_snapshot_tag();
      }
      dup = next;
      continue;
    }
    run = 0;
    // get_ksm_page() may free dup (a stale one): hence the _safe walk.
    Page* _tree_page = get_ksm_page(dup, GET_KSM_PAGE_NOLOCK);
    if (!_tree_page) {
      dup = next;
      continue;
    }
    take_stable_snapshot(dup, _tree_page);
    ++nr;
    if (v612) {
      // Pick the best candidate if possible.
      if (!found ||
          (is_page_sharing_candidate(dup) &&
           (!is_page_sharing_candidate(found) || dup->rmap_hlist_len > found_rmap_hlist_len))) {
        if (found) m_.put_page(tree_page);
        found = dup;
        found_rmap_hlist_len = found->rmap_hlist_len;
        tree_page = _tree_page;
        // skip put_page for found candidate
        if (!prune_stale_stable_nodes && is_page_sharing_candidate(found)) {
          walked_to_end = false;
          break;
        }
        dup = next;
        continue;
      }
    } else if (is_page_sharing_candidate(dup)) {
      if (!found || dup->rmap_hlist_len > found_rmap_hlist_len) {
        if (found) m_.put_page(tree_page);
        found = dup;
        found_rmap_hlist_len = found->rmap_hlist_len;
        tree_page = _tree_page;
        // skip put_page for found dup
        if (!prune_stale_stable_nodes) {
          walked_to_end = false;
          break;
        }
        dup = next;
        continue;
      }
    }
    m_.put_page(_tree_page);
    dup = next;
  }
  // (simulator) A run of full, unchanged dups that reached the list's end is its tail.
  if (dups_tails_enabled_ && walked_to_end && run >= kDupsTailMin &&
      run_tag == stable_snapshot_tag())
    record_tail(run);

  if (found) {
    // 6.12: hlist_is_singular_node(&found->hlist_dup, &stable_node->hlist).
    const bool collapse = v612 ? stable_node->dups.first == found && !found->hlist_dup.next
                               : prune_stale_stable_nodes && nr == 1;
    if (collapse) {
      // Just one dup left (6.1: below the limit): collapse the chain into it.
      rb_replace_node(stable_node, found, root);
      free_stable_node(stable_node);
      --ksm_stable_node_chains_;
      --ksm_stable_node_dups_;
      found->place = StablePlace::kTree;
      found->hlist_dup = {};
      *_stable_node = found;
      stable_node = nullptr;
    } else if (stable_node->dups.first != found && __is_page_sharing_candidate(found, 1)) {
      // Move a dup that can take more sharers to the head, for quicker searches.
      decltype(stable_node->dups)::del(found);
      stable_node->dups.add_head(found);
    }
  } else if (v612) {
    // Its hlist must be empty if no one found.
    free_stable_node_chain(stable_node, root);
  }
  *_stable_node_dup = found;
  return tree_page;
}

StableNode* Ksm::stable_node_dup_any(StableNode* stable_node, RbRoot* root) {
  if (!is_stable_node_chain(stable_node)) return stable_node;
  if (stable_node->dups.empty()) {
    free_stable_node_chain(stable_node, root);
    return nullptr;
  }
  return stable_node->dups.first;
}

Page* Ksm::__stable_node_chain(StableNode** _stable_node_dup, StableNode** _stable_node,
                               RbRoot* root, bool prune_stale_stable_nodes) {
  StableNode* stable_node = *_stable_node;
  if (!is_stable_node_chain(stable_node)) {
    // 6.12 returns a full plain node's page too: its callers test the candidacy.
    if (features_.collapse_singular_chains || is_page_sharing_candidate(stable_node)) {
      *_stable_node_dup = stable_node;
      Page* page = get_ksm_page(stable_node, GET_KSM_PAGE_NOLOCK);
      if (page) take_stable_snapshot(stable_node, page);  // (simulator) as dups' below
      return page;
    }
    *_stable_node_dup = nullptr;  // reached the max_page_sharing limit
    return nullptr;
  }
  return stable_node_dup(_stable_node_dup, _stable_node, root, prune_stale_stable_nodes);
}

}  // namespace ksmsim::ksm
