// Searching and inserting: stable_tree_search (with chains, dups and migrated KSM pages),
// stable_tree_insert, unstable_tree_search_insert and stable_tree_append (mm/ksm.c).
#include <cerrno>

#include "ksm/decision_events.h"
#include "ksm/ksm.h"
#include "ksm/snapshot.h"

namespace ksmsim::ksm {

using mmu::Page;

Page* Ksm::stable_tree_search(Page* page) {
  StableNode* page_node = page_stable_node(page);
  if (page_node && page_node->place != StablePlace::kMigrate) {
    trace_stable(Decision::kStableKsmPageForked, page_node, NUMA_NO_NODE);
    m_.get_page(page);  // ksm page forked
    return page;
  }
  int nid = get_kpfn_nid(page->pfn());
  RbRoot* root = &root_stable_tree_[nid];
  StableNode* stable_node = nullptr;
  StableNode* stable_node_dup = nullptr;
  StableNode* stable_node_any = nullptr;
  RbLink* new_link;
  RbNode* parent;
  const auto prefix = static_cast<uint32_t>(m_.contents().Word0(page->content));
again:
  new_link = &root->rb_node;
  parent = nullptr;
  while (*new_link) {
    stable_node = static_cast<StableNode*>(new_link->get());
    stable_node_any = nullptr;
    __builtin_prefetch(stable_node->rb_left);  // the next level's node (no effect on the outcome)
    __builtin_prefetch(stable_node->rb_right);
    if (stable_snapshot_descend(stable_node, page, prefix, &parent, &new_link)) continue;
    Page* tree_page = __stable_node_chain(&stable_node_dup, &stable_node, root, true);
    // stable_node may have been freed and replaced by the collapsed dup (chain_prune).
    // (6.12: a null tree_page alone says "restart": stable_node_dup_any is gone.)
    if (!stable_node_dup && !features_.collapse_singular_chains) {
      // Every dup is full, or the chain was empty and has just been erased.
      stable_node_any = stable_node_dup_any(stable_node, root);
      if (!stable_node_any) goto again;  // rb_erase just ran
      // Any dup will do to continue the walk: they all hold the same content.
      tree_page = get_ksm_page(stable_node_any, GET_KSM_PAGE_NOLOCK);
    }
    if (!tree_page) goto again;  // a stale node was erased and the tree rebalanced
    ++work_.compares;
    int ret = memcmp_pages(page, tree_page);
    m_.put_page(tree_page);
    parent = *new_link;
    if (ret < 0) {
      new_link = &parent->rb_left;
    } else if (ret > 0) {
      new_link = &parent->rb_right;
    } else {
      if (page_node && page->mapcount() > 1) goto chain_append;
      // A payload match, but every dup is full: wait for an unstable tree match to make
      // a new KSM page for this chain.
      if (features_.collapse_singular_chains ? !is_page_sharing_candidate(stable_node_dup)
                                             : !stable_node_dup) {
        trace_stable(is_stable_node_chain(stable_node) ? Decision::kStableChainFull
                                                       : Decision::kStableNodeFull,
                     stable_node, nid);
        return nullptr;
      }
      tree_page = get_ksm_page(stable_node_dup, GET_KSM_PAGE_TRYLOCK);
      if (tree_page == ErrBusy()) {
        trace_stable(Decision::kStableBusy, stable_node_dup, NUMA_NO_NODE);
        return ErrBusy();
      }
      if (!tree_page) goto again;
      m_.unlock_page(tree_page);
      if (get_kpfn_nid(stable_node_dup->kpfn) != NUMA(stable_node_dup->nid)) {
        trace_stable(Decision::kStableReplace, stable_node_dup, nid,
                     static_cast<int64_t>(stable_node_dup->kpfn));
        m_.put_page(tree_page);
        goto replace;
      }
      trace_stable(
          is_stable_node_chain(stable_node) ? Decision::kStableMatchChain : Decision::kStableMatch,
          stable_node_dup, nid, static_cast<int64_t>(tree_page->pfn()));
      return tree_page;
    }
  }
  if (!page_node) {
    trace_stable(Decision::kStableNoMatch, nullptr, nid);
    return nullptr;
  }
  trace_stable(Decision::kStableMigratedInserted, page_node, nid);
  // A migrated KSM page finds no match: it becomes a node of this tree.
  migrate_nodes_del(page_node);
  page_node->place = StablePlace::kTree;
  page_node->nid = nid;
  rb_link_node(page_node, parent, new_link);
  rb_insert_color(page_node, root);
out:
  if (is_page_sharing_candidate(page_node)) {
    m_.get_page(page);
    return page;
  }
  return nullptr;

replace:
  // The matching dup's page sits on another node now: move that dup to migrate_nodes,
  // and put the scanned migrated KSM page (if any) in its place.
  if (stable_node_dup == stable_node) {  // there is no chain
    if (page_node) {
      migrate_nodes_del(page_node);
      page_node->place = StablePlace::kTree;
      page_node->nid = nid;
      rb_replace_node(stable_node_dup, page_node, root);
      if (is_page_sharing_candidate(page_node))
        m_.get_page(page);
      else
        page = nullptr;
    } else {
      rb_erase(stable_node_dup, root);
      page = nullptr;
    }
  } else {
    __stable_node_dup_del(stable_node_dup);
    if (page_node) {
      migrate_nodes_del(page_node);
      page_node->nid = nid;
      stable_node_chain_add_dup(page_node, stable_node);
      if (is_page_sharing_candidate(page_node))
        m_.get_page(page);
      else
        page = nullptr;
    } else {
      page = nullptr;
    }
  }
  stable_node_dup->place = StablePlace::kMigrate;
  migrate_nodes_add(stable_node_dup);
  return page;

chain_append:
  // stable_node_dup could be null if it reached the limit.
  if (!stable_node_dup) stable_node_dup = stable_node_any;
  if (stable_node_dup == stable_node) {
    // chain is missing so create it
    stable_node = alloc_stable_node_chain(stable_node_dup, root);
  }
  // Add the migrated KSM page as another dup of this content on this node.
  trace_stable(Decision::kStableChainAppend, stable_node, nid);
  migrate_nodes_del(page_node);
  page_node->nid = nid;
  stable_node_chain_add_dup(page_node, stable_node);
  goto out;
}

StableNode* Ksm::stable_tree_insert(Page* kpage) {
  mmu::Pfn kpfn = kpage->pfn();
  int nid = get_kpfn_nid(kpfn);
  RbRoot* root = &root_stable_tree_[nid];
  StableNode* stable_node = nullptr;
  StableNode* stable_node_dup = nullptr;
  RbLink* new_link;
  RbNode* parent;
  bool need_chain = false;
  const auto prefix = static_cast<uint32_t>(m_.contents().Word0(kpage->content));
again:
  parent = nullptr;
  new_link = &root->rb_node;
  while (*new_link) {
    stable_node = static_cast<StableNode*>(new_link->get());
    if (stable_snapshot_descend(stable_node, kpage, prefix, &parent, &new_link)) continue;
    StableNode* stable_node_any = nullptr;
    StableNode* s = stable_node;
    // chain(): 6.1 passes the node by value, 6.12 by reference (it may collapse).
    StableNode** sp = features_.collapse_singular_chains ? &stable_node : &s;
    Page* tree_page = __stable_node_chain(&stable_node_dup, sp, root, false);
    if (!stable_node_dup && !features_.collapse_singular_chains) {
      stable_node_any = stable_node_dup_any(stable_node, root);
      if (!stable_node_any) goto again;
      tree_page = get_ksm_page(stable_node_any, GET_KSM_PAGE_NOLOCK);
    }
    if (!tree_page) goto again;
    ++work_.compares;
    int ret = memcmp_pages(kpage, tree_page);
    m_.put_page(tree_page);
    parent = *new_link;
    if (ret < 0) {
      new_link = &parent->rb_left;
    } else if (ret > 0) {
      new_link = &parent->rb_right;
    } else {
      need_chain = true;
      break;
    }
  }
  stable_node_dup = alloc_stable_node();
  stable_node_dup->kpfn = kpfn;
  set_page_stable_node(kpage, stable_node_dup);
  stable_node_dup->rmap_hlist_len = 0;
  stable_node_dup->nid = nid;
  if (!need_chain) {
    rb_link_node(stable_node_dup, parent, new_link);
    rb_insert_color(stable_node_dup, root);
  } else {
    if (!is_stable_node_chain(stable_node))
      stable_node = alloc_stable_node_chain(stable_node, root);  // chain is missing
    stable_node_chain_add_dup(stable_node_dup, stable_node);
  }
  return stable_node_dup;
}

namespace {
void PrefetchWalkedItem(const RbNode* node) {
  __builtin_prefetch(node);
  // (integer arithmetic: node may be null, which a prefetch ignores)
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(node) + 31));
}
}  // namespace

RmapItem* Ksm::unstable_tree_search_insert(RmapItem* rmap_item, Page* page, Page** tree_pagep) {
  int nid = get_kpfn_nid(page->pfn());
  RbRoot* root = &root_unstable_tree_[nid];
  RbLink* new_link = &root->rb_node;
  RbNode* parent = nullptr;
  const auto prefix = static_cast<uint32_t>(m_.contents().Word0(page->content));
  const bool snapshots = unstable_snapshots_usable();
  while (*new_link) {
    RmapItem* tree_rmap_item = rb_entry_rmap_item(*new_link);
    // The next level's node is one of these two: start loading both now, both cache lines
    // of the 32 bytes a level reads when an item straddles two (no effect on the outcome;
    // the walk is bound by these dependent loads).
    PrefetchWalkedItem(tree_rmap_item->rb.rb_left);
    PrefetchWalkedItem(tree_rmap_item->rb.rb_right);
    if (snapshots && unstable_snapshot_descend(tree_rmap_item, page, prefix, &parent, &new_link))
      continue;
    Page* tree_page = get_mergeable_page(tree_rmap_item);
    if (!tree_page) {
      trace_unstable(Decision::kUnstableTreePageGone, tree_rmap_item, NUMA_NO_NODE);
      return nullptr;
    }
    take_unstable_snapshot(tree_rmap_item, tree_page);
    if (page == tree_page) {  // don't substitute a ksm page for a forked page
      trace_unstable(Decision::kUnstableSamePage, tree_rmap_item, NUMA_NO_NODE);
      m_.put_page(tree_page);
      return nullptr;
    }
    ++work_.compares;
    int ret = memcmp_pages(page, tree_page);
    parent = *new_link;
    if (ret < 0) {
      m_.put_page(tree_page);
      new_link = &parent->rb_left;
    } else if (ret > 0) {
      m_.put_page(tree_page);
      new_link = &parent->rb_right;
    } else if (!ksm_merge_across_nodes() && m_.page_to_nid(tree_page) != nid) {
      // Migrated to another node: it will be flushed out and reinserted next pass.
      trace_unstable(Decision::kUnstableOtherNode, tree_rmap_item, nid);
      m_.put_page(tree_page);
      return nullptr;
    } else {
      trace_unstable(Decision::kUnstableMatch, tree_rmap_item, nid, tree_page);
      *tree_pagep = tree_page;
      return tree_rmap_item;
    }
  }
  rmap_item->address |= UNSTABLE_FLAG;
  rmap_item->address |= (ksm_scan_.seqnr & SEQNR_MASK);
  rmap_item->nid = nid;
  take_unstable_snapshot(rmap_item, page);
  rb_link_node(&rmap_item->rb, parent, new_link);
  rb_insert_color(&rmap_item->rb, root);
  ++ksm_pages_unshared_;
  trace_unstable(Decision::kUnstableInserted, nullptr, nid);
  return nullptr;
}

void Ksm::stable_tree_append(RmapItem* rmap_item, StableNode* stable_node,
                             bool /*max_page_sharing_bypass: only silences a warning*/) {
  ++stable_node->rmap_hlist_len;
  rmap_item->head = stable_node;
  rmap_item->address |= STABLE_FLAG;
  stable_node->hlist.add_head(rmap_item);
  if (rmap_item->hlist.next)
    ++ksm_pages_sharing_;
  else
    ++ksm_pages_shared_;
  ++rmap_item->mm->ksm_merging_pages;
}

}  // namespace ksmsim::ksm
