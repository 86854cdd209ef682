// The stable and unstable trees as Graphviz DOT (`run --dump-trees`, the stepper's `dot`),
// and rendering a DOT file with Graphviz when it is installed.
#include <cstdlib>
#include <map>
#include <string>

#include "fmt/format.h"
#include "tools/teach/tree_walk.h"
#include "tools/teach/trees.h"

namespace ksmsim::tools::teach {
namespace {

std::string StableLabel(const ksm::StableNode* n) {
  if (ksm::is_stable_node_chain(n)) return fmt::format("chain {}", n->id);
  return fmt::format("stable node {}\\nkpfn {}\\nsharers {}", n->id, n->kpfn, n->rmap_hlist_len);
}

}  // namespace

std::string StableTreesDot(workloads::Driver& d, int* nodes) {
  const ksm::Ksm& k = d.ksm();
  int count = 0;
  std::string s = "digraph stable_tree {\n  node [shape=box, fontname=\"monospace\"];\n";
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    s += fmt::format("  subgraph cluster_nid{} {{\n    label=\"root_stable_tree[{}]\";\n", nid,
                     nid);
    int order = 0;
    Walk(k.stable_root(nid).rb_node, 0, order, [&](const ksm::RbNode* rn, int, int) {
      auto* n = static_cast<const ksm::StableNode*>(rn);
      ++count;
      bool chain = ksm::is_stable_node_chain(n);
      s += fmt::format("    s{} [label=\"{}\"{}];\n", n->id, StableLabel(n),
                       chain ? ", shape=box3d, style=filled, fillcolor=\"#ffe9b3\"" : "");
      if (n->rb_left)
        s += fmt::format("    s{} -> s{} [label=\"L\"];\n", n->id,
                         static_cast<const ksm::StableNode*>(n->rb_left.get())->id);
      if (n->rb_right)
        s += fmt::format("    s{} -> s{} [label=\"R\"];\n", n->id,
                         static_cast<const ksm::StableNode*>(n->rb_right.get())->id);
      if (chain) {
        for (const ksm::StableNode* dup : Dups(n)) {
          ++count;
          s += fmt::format("    s{} [label=\"dup {}\", style=dashed];\n", dup->id,
                           StableLabel(dup));
          s += fmt::format("    s{} -> s{} [style=dashed, label=\"dup\"];\n", n->id, dup->id);
        }
      }
    });
    s += "  }\n";
  }
  if (!k.migrate_nodes().empty()) {
    s += "  subgraph cluster_migrate {\n    label=\"migrate_nodes\";\n";
    for (const ksm::StableNode* n : k.migrate_nodes()) {
      ++count;
      s += fmt::format("    s{} [label=\"{}\", style=dotted];\n", n->id, StableLabel(n));
    }
    s += "  }\n";
  }
  s += "}\n";
  if (nodes) *nodes = count;
  return s;
}

std::string UnstableTreesDot(workloads::Driver& d, int* nodes) {
  const ksm::Ksm& k = d.ksm();
  int count = 0;
  std::string s = "digraph unstable_tree {\n  node [shape=ellipse, fontname=\"monospace\"];\n";
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    s += fmt::format("  subgraph cluster_nid{} {{\n    label=\"root_unstable_tree[{}]\";\n",
                     nid, nid);
    int order = 0;
    std::map<const ksm::RbNode*, int> ids;
    Walk(k.unstable_root(nid).rb_node, 0, order,
         [&](const ksm::RbNode* rn, int, int) { ids[rn] = count++; });
    for (const auto& [rn, id] : ids) {
      auto* r = ksm::rb_entry_rmap_item(rn);
      s += fmt::format("    u{} [label=\"{}\\nseqnr {}\"];\n", id,
                       d.DescribeAddress(r->mm, r->address & ksm::PAGE_MASK),
                       r->address & ksm::SEQNR_MASK);
      if (rn->rb_left) s += fmt::format("    u{} -> u{} [label=\"L\"];\n", id, ids[rn->rb_left]);
      if (rn->rb_right)
        s += fmt::format("    u{} -> u{} [label=\"R\"];\n", id, ids[rn->rb_right]);
    }
    s += "  }\n";
  }
  s += "}\n";
  if (nodes) *nodes = count;
  return s;
}

bool DotToSvg(const std::string& dot_path, const std::string& svg_path) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) return false;
  std::string cmd = fmt::format("dot -Tsvg '{}' -o '{}'", dot_path, svg_path);
  return std::system(cmd.c_str()) == 0;
}

}  // namespace ksmsim::tools::teach
