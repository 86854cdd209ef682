// The report's view of KSM's trees at one snapshot, built to stay small at a million pages:
// counts (nodes, depth, chains, dups), the distribution of sharers per KSM page, the top
// KSM pages by sharers, the top levels of each red-black tree (for a view that expands on
// click) and a run-length index from page to stable node (for the search by page).
#pragma once

#include <cstddef>

#include "nlohmann/json.hpp"
#include "workloads/driver.h"

namespace ksmsim::tools::teach {

struct TreeSummaryOptions {
  int view_depth = 7;           // red-black levels kept for the view (the rest only counted)
  size_t top_nodes = 20;        // KSM pages listed by sharers
  size_t search_runs = 200000;  // most index runs kept; past it the search is left out
};

// The JSON object the report's script draws (tools/teach/report/report.js reads it):
//   stable[nid] / unstable[nid]: {nodes, depth, chains, dups, view}
//   view node: {t: label, id, n: nodes in its subtree, k: [left, right], d: [dups]}
//   ksm_pages, migrate, hist: [[label, count]], top: [[id, kpfn, sharers, page, where]]
//   index: {"proc:region": [start, len, node, dnode, ...]} (index start+i is in stable node
//   node+i*dnode), unstable_index: {"proc:region": [start, len, ...]}, index_note
// `budget` is the number of index runs left for the whole report; it is decreased.
nlohmann::json TreeSummaryJson(workloads::Driver& d, const TreeSummaryOptions& o, size_t* budget);

}  // namespace ksmsim::tools::teach
