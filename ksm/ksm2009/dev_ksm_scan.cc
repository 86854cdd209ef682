// The 2009 driver's scan: the rmap_hash, the stable and unstable trees of tree_items,
// cmp_and_merge_page() and the cursor over the registered slots (ksm_scan_start,
// scan_get_next_index, scan_update_old_index). Seed 004 shows the data structures, the
// comments that describe the scan and the hash table's functions; the rest follows the
// same posting's ksm.c as docs/FIDELITY.md "2009" says.
#include <cerrno>

#include "ksm/ksm2009/dev_ksm.h"

namespace ksmsim::ksm::ksm2009 {

namespace {
TreeItem* rb_entry_tree_item(RbNode* node) { return static_cast<TreeItem*>(node); }
}  // namespace

TreeItem* DevKsm::alloc_tree_item() { return tree_item_cache_.alloc(); }

void DevKsm::free_tree_item(TreeItem* tree_item) { tree_item_cache_.free(tree_item); }

// ---- the rmap_hash -------------------------------------------------------------------------

RmapItem* DevKsm::get_rmap_item(Mm* mm, uint64_t addr) {
  auto it = rmap_hash_.find({mm->id, addr});
  return it == rmap_hash_.end() ? nullptr : it->second.get();
}

RmapItem* DevKsm::create_new_rmap_item(Mm* mm, uint64_t addr, uint32_t checksum) {
  auto item = std::make_unique<RmapItem>();
  item->mm = mm;
  item->address = addr;
  item->oldchecksum = checksum;
  RmapItem* r = item.get();
  rmap_hash_[{mm->id, addr}] = std::move(item);
  return r;
}

// Frees the rmap_item, taking it out of its stable tree node (the node goes with its last
// rmap_item) or freeing its unstable tree_item (that tree is emptied wholesale, never erased
// from: see scan_get_next_index).
void DevKsm::remove_rmap_item_from_tree(RmapItem* rmap_item) {
  TreeItem* tree_item = rmap_item->tree_item;
  rmap_item->tree_item = nullptr;
  if (rmap_item->stable_tree) {
    if (rmap_item->prev) rmap_item->prev->next = rmap_item->next;
    if (rmap_item->next) rmap_item->next->prev = rmap_item->prev;
  }
  if (tree_item) {
    if (rmap_item->stable_tree) {
      if (!rmap_item->next && !rmap_item->prev) {
        rb_erase(tree_item, &root_stable_tree_);
        free_tree_item(tree_item);
      } else if (!rmap_item->prev) {
        tree_item->rmap_item = rmap_item->next;
      } else {
        tree_item->rmap_item = rmap_item->prev;
      }
    } else {
      // A node of this pass's tree (a page registered twice, visited again in one pass): the
      // seed frees it while linked; it is unlinked first here (docs/FIDELITY.md "2009").
      if (tree_item->unstable_gen == unstable_gen_) rb_erase(tree_item, &root_unstable_tree_);
      free_tree_item(tree_item);
    }
  }
  rmap_hash_.erase({rmap_item->mm->id, rmap_item->address});  // hlist_del, free_rmap_item
}

void DevKsm::remove_page_from_tree(Mm* mm, uint64_t addr) {
  if (RmapItem* rmap_item = get_rmap_item(mm, addr)) remove_rmap_item_from_tree(rmap_item);
}

// ---- the trees ---------------------------------------------------------------------------

// is_zapped_item(): true when the address no longer maps a kpage (written, unmapped,
// swapped); else *page is that kpage, with a reference.
bool DevKsm::is_zapped_item(RmapItem* rmap_item, Page** page) {
  Page* p = nullptr;
  if (is_present_pte(rmap_item->mm, rmap_item->address))
    p = get_user_page(rmap_item->mm, rmap_item->address);
  if (!p) return true;
  if (!PageKsm(p)) {
    m_.put_page(p);
    return true;
  }
  *page = p;
  return false;
}

// The node whose kpage equals page (its first live rmap_item; *page2 the kpage, with a
// reference), or null. Dead rmap_items met on the way are dropped; a node left without a
// live one ends the search.
RmapItem* DevKsm::stable_tree_search(Page* page, Page** page2, RmapItem* rmap_item) {
  RbNode* node = root_stable_tree_.rb_node;
  while (node) {
    TreeItem* tree_item = rb_entry_tree_item(node);
    RmapItem* found = tree_item->rmap_item;
    while (found) {
      RmapItem* next = found->next;
      if (!rmap_item || !(found->mm == rmap_item->mm && found->address == rmap_item->address)) {
        if (!is_zapped_item(found, page2)) break;
        remove_rmap_item_from_tree(found);
      }
      found = next;
    }
    if (!found) return nullptr;
    int ret = memcmp_pages(page, *page2);  // trusted: kpages are write-protected
    if (ret < 0) {
      m_.put_page(*page2);
      node = node->rb_left;
    } else if (ret > 0) {
      m_.put_page(*page2);
      node = node->rb_right;
    } else {
      return found;
    }
  }
  return nullptr;
}

// 0 when new_tree_item (for rmap_item, whose page is `page`) is linked into the stable tree;
// 1 when a node equal to it, or a node with no live rmap_item, is met.
int DevKsm::stable_tree_insert(Page* page, TreeItem* new_tree_item, RmapItem* rmap_item) {
  RbLink* link = &root_stable_tree_.rb_node;
  RbNode* parent = nullptr;
  while (*link) {
    TreeItem* tree_item = rb_entry_tree_item(*link);
    RmapItem* insert = tree_item->rmap_item;
    Page* page2 = nullptr;
    while (insert) {
      RmapItem* next = insert->next;
      if (!(insert->mm == rmap_item->mm && insert->address == rmap_item->address)) {
        if (!is_zapped_item(insert, &page2)) break;
        remove_rmap_item_from_tree(insert);
      }
      insert = next;
    }
    if (!insert) return 1;
    int ret = memcmp_pages(page, page2);
    m_.put_page(page2);
    parent = *link;
    if (ret < 0) {
      link = &(*link)->rb_left;
    } else if (ret > 0) {
      link = &(*link)->rb_right;
    } else {
      return 1;
    }
  }
  rb_link_node(new_tree_item, parent, link);
  rb_insert_color(new_tree_item, &root_stable_tree_);
  rmap_item->stable_tree = true;
  rmap_item->tree_item = new_tree_item;
  return 0;
}

// The unstable tree_item whose page equals page (*page2 that page, with a reference), or
// null; without a match, page_rmap_item (when there is one) is inserted. A node whose page
// is not present ends the walk ("We dont want to swap in pages").
TreeItem* DevKsm::unstable_tree_search_insert(Page* page, Page** page2, RmapItem* page_rmap_item) {
  RbLink* link = &root_unstable_tree_.rb_node;
  RbNode* parent = nullptr;
  while (*link) {
    TreeItem* tree_item = rb_entry_tree_item(*link);
    RmapItem* rmap_item = tree_item->rmap_item;
    if (!is_present_pte(rmap_item->mm, rmap_item->address)) return nullptr;
    *page2 = get_user_page(rmap_item->mm, rmap_item->address);
    if (!*page2) return nullptr;
    int ret = memcmp_pages(page, *page2);
    parent = *link;
    if (ret < 0) {
      m_.put_page(*page2);
      link = &(*link)->rb_left;
    } else if (ret > 0) {
      m_.put_page(*page2);
      link = &(*link)->rb_right;
    } else {
      return tree_item;
    }
  }
  if (!page_rmap_item) return nullptr;
  TreeItem* new_tree_item = alloc_tree_item();
  page_rmap_item->tree_item = new_tree_item;
  page_rmap_item->stable_tree = false;
  new_tree_item->rmap_item = page_rmap_item;
  new_tree_item->unstable_gen = unstable_gen_;
  rb_link_node(new_tree_item, parent, link);
  rb_insert_color(new_tree_item, &root_unstable_tree_);
  return nullptr;
}

// update_tree(): true when the rmap_item was freed: it was in the last pass's unstable tree,
// or it was in the stable tree and its address maps a kpage no more (then *wait: no new
// rmap_item for it in this visit).
bool DevKsm::update_tree(RmapItem* rmap_item, bool* wait) {
  if (!rmap_item->stable_tree) {
    if (rmap_item->tree_item) {
      remove_rmap_item_from_tree(rmap_item);
      return true;
    }
    return false;
  }
  Page* page = nullptr;
  if (is_zapped_item(rmap_item, &page)) {
    remove_rmap_item_from_tree(rmap_item);
    *wait = true;
    return true;
  }
  m_.put_page(page);
  return false;
}

// ---- one page ------------------------------------------------------------------------------

// The stable tree first, then (for a page whose checksum held since the last visit) the
// unstable tree; a page seen for the first time gets an rmap_item with its checksum.
int DevKsm::cmp_and_merge_page(KsmScan* ksm_scan, Page* page) {
  KsmMemSlot* slot = ksm_scan->slot_index;
  uint64_t addr = slot->addr + ksm_scan->page_index * mmu::kPageSize;
  bool wait = false;
  int ret = 0;
  Page* page2 = nullptr;
  RmapItem* rmap_item = get_rmap_item(slot->mm, addr);
  if (rmap_item && update_tree(rmap_item, &wait)) rmap_item = nullptr;

  if (RmapItem* tree_rmap_item = stable_tree_search(page, &page2, rmap_item)) {
    ret = try_to_merge_two_pages(slot->mm, page, tree_rmap_item->mm, page2, addr,
                                 tree_rmap_item->address);
    m_.put_page(page2);
    if (!ret) {
      // Merged: the rmap_item joins the node's list, behind the rmap_item found.
      if (!rmap_item) rmap_item = create_new_rmap_item(slot->mm, addr, 0);
      rmap_item->next = tree_rmap_item->next;
      rmap_item->prev = tree_rmap_item;
      if (tree_rmap_item->next) tree_rmap_item->next->prev = rmap_item;
      tree_rmap_item->next = rmap_item;
      rmap_item->stable_tree = true;
      rmap_item->tree_item = tree_rmap_item->tree_item;
    }
    return !ret;
  }

  if (rmap_item) {
    uint32_t checksum = calc_checksum(page);
    if (rmap_item->oldchecksum != checksum) {
      rmap_item->oldchecksum = checksum;
      return ret;
    }
  }

  if (TreeItem* tree_item = unstable_tree_search_insert(page, &page2, rmap_item)) {
    RmapItem* tree_rmap_item = tree_item->rmap_item;
    ret = try_to_merge_two_pages(slot->mm, page, tree_rmap_item->mm, page2, addr,
                                 tree_rmap_item->address);
    // Merged: the unstable node becomes a stable one, keyed by the page it held.
    if (!ret) {
      rb_erase(tree_item, &root_unstable_tree_);
      tree_item->unstable_gen = 0;
      stable_tree_insert(page2, tree_item, tree_rmap_item);
    }
    m_.put_page(page2);
    return !ret;
  }
  if (!wait && !rmap_item) create_new_rmap_item(slot->mm, addr, calc_checksum(page));
  return ret;
}

// ---- the cursor ------------------------------------------------------------------------------

// The next position: the next page of the slot, the next slot, or (a pass done: the
// unstable tree emptied) the first slot's first page. -EAGAIN with no slot registered.
int DevKsm::scan_get_next_index(KsmScan* ksm_scan) {
  if (slots_.empty()) return -EAGAIN;
  KsmMemSlot* slot = ksm_scan->slot_index;
  // (slot->npages - page_index - 1) > 0, in unsigned long
  if (uint64_t{slot->npages} - ksm_scan->page_index - 1 != 0) {
    ++ksm_scan->page_index;
    return 0;
  }
  auto it = slots_.begin();
  while (it != slots_.end() && it->get() != slot) ++it;
  if (it != slots_.end() && ++it != slots_.end()) {
    ksm_scan->page_index = 0;
    ksm_scan->slot_index = it->get();
    return 0;
  }
  root_unstable_tree_ = RbRoot{};
  ++unstable_gen_;
  ++full_scans_;
  ksm_scan->page_index = 0;
  ksm_scan->slot_index = slots_.front().get();
  return 0;
}

void DevKsm::scan_update_old_index(KsmScan* ksm_scan) {
  if (slots_.empty()) return;
  for (const auto& slot : slots_)
    if (slot.get() == ksm_scan->slot_index) return;
  ksm_scan->slot_index = slots_.front().get();
  ksm_scan->page_index = 0;
}

// The cursor moves before each page it scans, and once more after the batch: the position
// after a batch's last page is passed over unscanned (the seed's loop; later versions
// dropped that last call).
int DevKsm::ksm_scan_start(KsmScan* ksm_scan, unsigned scan_npages) {
  int ret = 0;
  reset_work();
  scan_update_old_index(ksm_scan);
  while (scan_npages > 0) {
    ret = scan_get_next_index(ksm_scan);
    if (ret) return ret;
    KsmMemSlot* slot = ksm_scan->slot_index;
    uint64_t addr = slot->addr + ksm_scan->page_index * mmu::kPageSize;
    ++work_.pages;
    // Swapped-out (or swapcache) pages are not scanned: "it is just for performance".
    if (is_present_pte(slot->mm, addr)) {
      if (Page* page = get_user_page(slot->mm, addr)) {
        if (!PageKsm(page)) cmp_and_merge_page(ksm_scan, page);
        m_.put_page(page);
      }
    }
    --scan_npages;
  }
  scan_get_next_index(ksm_scan);
  return ret;
}

}  // namespace ksmsim::ksm::ksm2009
