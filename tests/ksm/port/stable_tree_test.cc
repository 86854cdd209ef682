// The stable tree's stale nodes (get_ksm_page's keyhole), and DESIGN.md's table measured
// on a real 6.1 kernel. (The conventions: tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// Stale stable nodes (get_ksm_page's keyhole, L664-737).

TEST(KsmPortTest, StaleStableNodeIsRemovedWhenALookupMeetsIt) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 66}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 67}},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1},
                     "procs": {"a": {"ksm_merging_pages": 1}, "b": {"ksm_merging_pages": 1}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "EBUSY"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 2},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 1},
                               "b": {"ksm_merging_pages": 0, "ksm_rmap_items": 1}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "none"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 2,
                             "pages_volatile": 0, "max_page_sharing": 10}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // Both writes copy the KSM page (COW_KSM: 2); the second leaves it unmapped and freed.
  // Nobody looks at the stable node, so the counters keep their values (the node lingers)
  // and max_page_sharing, which tests the ksm_pages_shared counter (L3057), still fails
  // with EBUSY. Pass 3: a's stable_tree_search meets the node at the root; get_ksm_page
  // sees page->mapping no longer pointing at it and remove_node_from_stable_tree drops it
  // with both rmap_items (L600-636). Both checksums changed: volatile 2. Pass 4: unshared.
}

TEST(KsmPortTest, MeasuredLinux61Table) {
  // DESIGN.md's table, measured on a real 6.1 kernel: two processes of 1000 pages of 0x41.
  std::string steps = R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "heap", "pages": 1000},
    {"op": "mmap", "proc": "b", "region": "heap", "pages": 1000},
    {"op": "write", "proc": "a", "region": "heap", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "heap", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "heap", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "heap", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 2000, "stable_node_chains": 0,
                             "stable_node_dups": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1992, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "write", "proc": "a", "region": "heap", "range": [0, 1],
     "data": {"patch": {"offset": 100, "value": 1}}},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1992, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1991, "pages_unshared": 0,
                             "pages_volatile": 1, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1991, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "expect", "ksm": {"full_scans": 0, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 0,
                             "stable_node_chains": 0, "stable_node_dups": 0},
                     "vmstat": {"cow_ksm": 2000}},
    {"op": "verify", "proc": "a", "region": "heap"},
    {"op": "verify", "proc": "b", "region": "heap"}
  )";
  RunOk(W(steps, "", "", R"({"nodes": [{"memory_mib": 256}]})"));
  // 2000 = 7 * 256 + 208: eight KSM pages (seven full dups and one with 208 mappings).
  // The patched page: copied at once (cow_ksm 1), its rmap_item leaves its dup one pass
  // later (L2067: the checksum changed, so volatile), and enters the unstable tree the pass
  // after. run 2 breaks COW on the 1999 remaining KSM mappings (cow_ksm 2000 in all).

  // With max_page_sharing 10000 the same pages make one KSM page (the table's other row).
  std::string single = steps.substr(0, steps.find(R"({"op": "expect", "ksm": {"pages_shared": 8)"));
  single += R"({"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1999,
                                  "pages_unshared": 0, "pages_volatile": 0,
                                  "stable_node_chains": 0, "stable_node_dups": 0}})";
  RunOk(W(single, R"("max_page_sharing": 10000)", "", R"({"nodes": [{"memory_mib": 256}]})"));
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
