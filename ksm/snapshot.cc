// The tree-walk snapshots' checks (ksm/snapshot.h): KSMSIM_PARANOID builds redo the
// kernel's path at every shortcut; the checker (ksm_check.cc) finds any snapshot whose tag
// still holds although its page changed: a mutator that forgot its change counter.
#include "ksm/snapshot.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fmt/format.h"

namespace ksmsim::ksm {

using mmu::Page;

bool Ksm::ksm_page_fresh(const StableNode* stable_node) const {
  const Page* kpage = m_.pfn_to_page(stable_node->kpfn);
  return kpage && kpage->PageKsm() && kpage->mapping() == stable_node && kpage->refcount() > 0;
}

// KSMSIM_PARANOID builds: the shortcut's answer must be what get_ksm_page() and
// memcmp_pages() give: the node is not stale, and (with a page) the comparison is `ret`.
void Ksm::check_stable_snapshot(StableNode* stable_node, Page* page, int ret) {
  const bool fresh = ksm_page_fresh(stable_node);
  const bool ok = fresh && (!page || memcmp_pages(page, m_.pfn_to_page(stable_node->kpfn)) == ret);
  if (!ok) {
    std::fprintf(stderr, "ksmsim: stable tree snapshot of node %llu is stale (%s)\n",
                 static_cast<unsigned long long>(stable_node->id),
                 fresh ? "the comparison differs" : "the node is stale");
    std::abort();
  }
}

bool Ksm::dups_tail_holds(const StableNode* chain, const DupsTail& tail) const {
  const StableNode* dup = chain->dups.first;
  while (dup && dup != tail.from) dup = dup->hlist_dup.next;
  if (!dup) return false;
  uint32_t n = 0;
  for (; dup; dup = dup->hlist_dup.next, ++n) {
    if (dup->snapshot_tag != tail.tag || dup->rmap_hlist_len < knobs_.max_page_sharing ||
        !ksm_page_fresh(dup))
      return false;
  }
  return n == tail.count;
}

// KSMSIM_PARANOID builds: a tail the walk is about to count in one step must hold.
void Ksm::check_dups_tail(const StableNode* chain, const DupsTail& tail) const {
  if (dups_tail_holds(chain, tail)) return;
  std::fprintf(stderr, "ksmsim: chain %llu: its recorded tail of %u full dups changed\n",
               static_cast<unsigned long long>(chain->id), tail.count);
  std::abort();
}

// KSMSIM_PARANOID builds: the shortcut's answer must be what the kernel's path gives.
void Ksm::check_unstable_snapshot(RmapItem* tree_rmap_item, Page* page, int ret) {
  Page* tree_page = get_mergeable_page(tree_rmap_item);
  const int want = tree_page && tree_page != page ? memcmp_pages(page, tree_page) : 0;
  if (tree_page) m_.put_page(tree_page);
  if (want != ret) {
    std::fprintf(stderr,
                 "ksmsim: unstable tree snapshot of mm %llu address %#llx is stale (shortcut %d, "
                 "lookup %d%s)\n",
                 static_cast<unsigned long long>(tree_rmap_item->mm->id),
                 static_cast<unsigned long long>(tree_rmap_item->address & PAGE_MASK), ret, want,
                 tree_page ? "" : ", no page");
    std::abort();
  }
}

// Every snapshot whose tag holds must still describe what its lookup would find, whether
// or not a walk consults it: get_mergeable_page()'s page with those first 4 bytes for this
// pass's unstable tree, get_ksm_page()'s (fresh) page with those bytes for a stable node.
std::vector<std::string> Ksm::stale_snapshots() const {
  std::vector<std::string> out;
  const mmu::ContentStore& cs = m_.contents();
  auto prefix_of = [&](const Page* p) { return static_cast<uint32_t>(cs.Word0(p->content)); };
  // The unstable tree is this pass's only while a pass runs: after ksm_stop_scan its items
  // leave it without rb_erase, and the tree is emptied when the next pass starts.
  const bool in_pass = ksm_scan_.mm_slot != &ksm_mm_head_;
  for (int nid = 0; nid < ksm_nr_node_ids_ && in_pass && unstable_snapshots_usable(); ++nid) {
    for (const RbNode* rb = rb_first(&root_unstable_tree_[nid]); rb; rb = rb_next(rb)) {
      const RmapItem* item = rb_entry_rmap_item(rb);
      if (item->snapshot_tag != unstable_snapshot_tag(m_, item->mm)) continue;
      const uint64_t addr = item->address & PAGE_MASK;
      const mmu::Vma* vma = item->mm->mm_users ? item->mm->vma_lookup(addr) : nullptr;
      const mmu::Pte pte{m_.pte_value(item->mm, addr)};
      const Page* page = vma && (vma->flags & mmu::VM_MERGEABLE) && vma->anon_vma && pte.present()
                             ? m_.pfn_to_page(pte.pfn())
                             : nullptr;
      if (!page || !page->PageAnon() || prefix_of(page) != item->snapshot_prefix)
        out.push_back(fmt::format(
            "unstable tree snapshot of {} address {:#x} is stale but its tag holds (a change "
            "the machine's change counters missed)",
            item->mm->name, addr));
    }
  }
  auto check = [&](const StableNode* n) {
    if (n->snapshot_tag != stable_snapshot_tag() || is_stable_node_chain(n)) return;
    if (!ksm_page_fresh(n) || prefix_of(m_.pfn_to_page(n->kpfn)) != n->snapshot_prefix)
      out.push_back(fmt::format(
          "stable tree snapshot of node {} (pfn {}) is stale but its tag holds (a change the "
          "machine's change counters missed)",
          n->id, n->kpfn));
  };
  for (int nid = 0; nid < ksm_nr_node_ids_; ++nid) {
    for (const RbNode* rb = rb_first(&root_stable_tree_[nid]); rb; rb = rb_next(rb)) {
      auto* n = static_cast<const StableNode*>(rb);
      check(n);
      if (is_stable_node_chain(n))
        for (const StableNode* d = n->dups.first; d; d = d->hlist_dup.next) check(d);
    }
  }
  for (const StableNode* n : migrate_nodes_) check(n);
  // A chain's recorded tail of full dups (DupsTail) that the walk would still use must be
  // in the chain's list, run to its end, and hold only full dups whose snapshots hold.
  std::vector<std::string> tails;
  for (const auto& [chain, t] : dups_tails_) {  // (the lines are sorted below)
    if (!dups_tails_enabled_ || t.tag != stable_snapshot_tag() || t.changes != dups_changes_)
      continue;
    if (!dups_tail_holds(chain, t))
      tails.push_back(fmt::format(
          "chain {}: its recorded tail of {} full dups is not what its list holds (a change "
          "dups_changes_ missed)",
          chain->id, t.count));
  }
  std::sort(tails.begin(), tails.end());
  out.insert(out.end(), tails.begin(), tails.end());
  return out;
}

}  // namespace ksmsim::ksm
