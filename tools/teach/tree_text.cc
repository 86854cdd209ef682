// The stable and unstable trees as indented text, for `ksmsim step` (`trees`): the same
// content as StableTreesDot / UnstableTreesDot, readable in a terminal.
#include <string>

#include "fmt/format.h"
#include "tools/teach/trees.h"

namespace ksmsim::tools::teach {
namespace {

constexpr int kMaxSharersShown = 4;

// "a:heap[0] b:heap[0] ... (+254 more)": the rmap_items listed from a stable node.
std::string Sharers(const workloads::Driver& d, const ksm::StableNode* n) {
  std::string out;
  int shown = 0, more = 0;
  for (const ksm::RmapItem* r = n->hlist.first; r; r = decltype(n->hlist)::next(r)) {
    if (shown < kMaxSharersShown) {
      out += ' ';  // (not " " + name: GCC 12's -Wrestrict misfires on it)
      out += d.DescribeAddress(r->mm, r->address & ksm::PAGE_MASK);
      ++shown;
    } else {
      ++more;
    }
  }
  if (more) out += fmt::format(" (+{} more)", more);
  return out;
}

std::string KsmPage(const workloads::Driver& d, const ksm::StableNode* n) {
  return fmt::format("kpfn {} sharers {}:{}", n->kpfn, n->rmap_hlist_len, Sharers(d, n));
}

// Pre-order: a node, then its left and right children one level deeper.
template <class F>
void PreOrder(const ksm::RbNode* n, int depth, const char* side, F&& f) {
  if (!n) return;
  f(n, depth, side);
  PreOrder(n->rb_left, depth + 1, "L ", f);
  PreOrder(n->rb_right, depth + 1, "R ", f);
}

std::string Indent(int depth) { return std::string(2 + 2 * depth, ' '); }

// "root_stable_tree[0]: 3 nodes", "root_unstable_tree[1]: empty".
std::string TreeHeading(const char* tree, int nid, int count, const char* noun) {
  return fmt::format("{}[{}]: {}\n", tree, nid,
                     count ? fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s") : "empty");
}

}  // namespace

std::string StableTreesText(workloads::Driver& d) {
  const ksm::Ksm& k = d.ksm();
  std::string s;
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    std::string body;
    int count = 0;
    PreOrder(
        k.stable_root(nid).rb_node, 0, "", [&](const ksm::RbNode* rn, int depth, const char* side) {
          auto* n = static_cast<const ksm::StableNode*>(rn);
          ++count;
          if (!ksm::is_stable_node_chain(n)) {
            body +=
                fmt::format("{}{}stable node {} {}\n", Indent(depth), side, n->id, KsmPage(d, n));
            return;
          }
          body += fmt::format("{}{}chain {}\n", Indent(depth), side, n->id);
          for (const ksm::StableNode* dup = n->dups.first; dup; dup = decltype(n->dups)::next(dup))
            body += fmt::format("{}  dup {} {}\n", Indent(depth), dup->id, KsmPage(d, dup));
        });
    s += TreeHeading("root_stable_tree", nid, count, "node");
    s += body;
  }
  if (!k.migrate_nodes().empty()) {
    s += fmt::format("migrate_nodes: {}\n", k.migrate_nodes().size());
    for (const ksm::StableNode* n : k.migrate_nodes())
      s += fmt::format("  stable node {} {}\n", n->id, KsmPage(d, n));
  }
  return s;
}

std::string UnstableTreesText(workloads::Driver& d) {
  const ksm::Ksm& k = d.ksm();
  std::string s;
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    std::string body;
    int count = 0;
    PreOrder(k.unstable_root(nid).rb_node, 0, "",
             [&](const ksm::RbNode* rn, int depth, const char* side) {
               auto* r = ksm::rb_entry_rmap_item(rn);
               ++count;
               body += fmt::format("{}{}{} seqnr {}\n", Indent(depth), side,
                                   d.DescribeAddress(r->mm, r->address & ksm::PAGE_MASK),
                                   r->address & ksm::SEQNR_MASK);
             });
    s += TreeHeading("root_unstable_tree", nid, count, "item");
    s += body;
  }
  return s;
}

}  // namespace ksmsim::tools::teach
