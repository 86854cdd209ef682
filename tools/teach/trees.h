// Pictures of KSM's trees: Graphviz DOT (tree_dot.cc) and indented text (tree_text.cc),
// for `run --dump-trees` and `ksmsim step` (the report summarises them: report_trees.h).
#pragma once

#include <string>

#include "workloads/driver.h"

namespace ksmsim::tools::teach {

// The stable trees (chains with their dups; kpfn, sharers = rmap_hlist_len) and
// migrate_nodes, and the unstable trees, as Graphviz DOT. `nodes` receives the number of
// graph nodes drawn.
std::string StableTreesDot(workloads::Driver& d, int* nodes = nullptr);
std::string UnstableTreesDot(workloads::Driver& d, int* nodes = nullptr);
// The same trees as indented text (red-black children marked L/R, chains with their dups,
// each KSM page's sharers), for `ksmsim step` (tools/teach/tree_text.cc).
std::string StableTreesText(workloads::Driver& d);
std::string UnstableTreesText(workloads::Driver& d);
// Runs `dot -Tsvg` when Graphviz is installed; false otherwise.
bool DotToSvg(const std::string& dot_path, const std::string& svg_path);

}  // namespace ksmsim::tools::teach
