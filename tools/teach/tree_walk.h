// Walking KSM's trees for the pictures and the report (tree_dot.cc, report_trees.cc): a stable_node_chain's
// dups, and an in-order walk of a red-black tree with each node's depth and position.
#pragma once

#include <vector>

#include "ksm/ksm.h"

namespace ksmsim::tools::teach {

inline std::vector<const ksm::StableNode*> Dups(const ksm::StableNode* chain) {
  std::vector<const ksm::StableNode*> out;
  for (const ksm::StableNode* d = chain->dups.first; d; d = decltype(chain->dups)::next(d))
    out.push_back(d);
  return out;
}

// In-order walk with depth (for DOT edges and the report's index).
template <class F>
void Walk(const ksm::RbNode* n, int depth, int& order, F&& f) {
  if (!n) return;
  Walk(n->rb_left, depth + 1, order, f);
  f(n, depth, order++);
  Walk(n->rb_right, depth + 1, order, f);
}

}  // namespace ksmsim::tools::teach
