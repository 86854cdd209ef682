// merge_across_nodes with two NUMA nodes, migrated KSM pages (replace, chain append),
// munmap, and a migration or exit in the middle of a pass (rmap and migration). (The
// conventions: tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// merge_across_nodes with two NUMA nodes: regions x on node 0 and y on node 1 in a and b.

std::string NumaWorkload(int merge_across_nodes) {
  return W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "x", "pages": 1, "node": 0},
    {"op": "mmap", "proc": "a", "region": "y", "pages": 1, "node": 1},
    {"op": "mmap", "proc": "b", "region": "x", "pages": 1, "node": 0},
    {"op": "mmap", "proc": "b", "region": "y", "pages": 1, "node": 1},
    {"op": "write", "proc": "a", "region": "x", "data": {"fill": 65}},
    {"op": "write", "proc": "a", "region": "y", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "x", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "y", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "x", "advice": "mergeable"},
    {"op": "madvise", "proc": "a", "region": "y", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "x", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "y", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "merged"},
    {"op": "ksm", "set": {"merge_across_nodes": )" +
               std::to_string(1 - merge_across_nodes) +
               R"(}, "expect_error": "EBUSY"}
  )",
           "\"merge_across_nodes\": " + std::to_string(merge_across_nodes), "", kTwoNodes);
}

TEST(KsmPortTest, MergeAcrossNodes1MakesOneKsmPage) {
  Outcome o = RunOk(NumaWorkload(1));
  // One stable and one unstable tree for all nodes (get_kpfn_nid returns 0, L556): a.x
  // goes into the unstable tree, a.y hits it, b.x and b.y hit the stable node.
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 1);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 3);
  EXPECT_EQ(Ksm(o, 0, "pages_unshared"), 0);
}

TEST(KsmPortTest, MergeAcrossNodes0MakesOneKsmPagePerNode) {
  Outcome o = RunOk(NumaWorkload(0));
  // A stable and an unstable tree per node: a.x -> unstable tree 0, a.y -> unstable tree
  // 1, b.x hits tree 0, b.y hits tree 1: two KSM pages, one per node.
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 2);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 2);
  EXPECT_EQ(Ksm(o, 0, "pages_unshared"), 0);
  EXPECT_EQ(Ksm(o, 0, "merge_across_nodes"), 0);
}

TEST(KsmPortTest, MergeAcrossNodes0KeepsNodesApart) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b", "node": 1},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 2,
                             "pages_volatile": 0}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "ksm", "set": {"merge_across_nodes": 1, "run": 1}, "expect_error": "none"},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0}}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // With one page per node and separate trees they never meet: unshared 2. After run 2
  // (nothing shared, so the knob may change) merging across nodes joins them.
}

// Migrated KSM pages with merge_across_nodes 0 (stable_tree_search's migrate_nodes paths).

TEST(KsmPortTest, MigratedKsmPageIsReplacedWhenAnotherNodeSearchesForIt) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 66}},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 1}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "migrate", "proc": "a", "region": "r", "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 1, "stable_node_chains": 0,
                             "stable_node_dups": 0}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 1,
                             "pages_volatile": 0},
                     "procs": {"c": {"ksm_merging_pages": 0}}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // Scan order c, a, b. The KSM page of a and b (node 0, stable tree 0) moves to node 1
  // with both mappings. Next pass c, now holding the same bytes on node 0, is scanned
  // first: stable_tree_search in tree 0 matches the node, but its kpfn is on node 1
  // (L1683-1686), so `replace` erases it from tree 0 and parks it on migrate_nodes
  // (L1715-1752) and returns NULL: c does not merge across nodes (and, its checksum having
  // changed, is volatile). Then a's scan finds its page's node on migrate_nodes, searches
  // tree 1, finds nothing and links the node there (L1695-1704): a and b stay merged.
  // From then on c is alone in tree 0: unshared.
}

TEST(KsmPortTest, MigratedSharedKsmPageJoinsAChainOnItsNewNode) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "spawn", "proc": "c", "node": 1}, {"op": "spawn", "proc": "d", "node": 1},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "d", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "d", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "d", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "stable_node_chains": 0}},
    {"op": "migrate", "proc": "a", "region": "r", "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 2}},
    {"op": "verify", "proc": "b", "region": "r"}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // One KSM page per node after pass 2. a and b's page then moves to node 1, where c and
  // d's page has the same content. a's scan moves its node to migrate_nodes (L2042-2048);
  // stable_tree_search finds the equal node in tree 1 and, the migrated page being mapped
  // twice, takes `chain_append` (L1642-1643): the tree-1 node becomes a chain with both
  // pages as dups (L1755-1786). Nothing is unmerged.
}

TEST(KsmPortTest, MunmapDropsItemsAndThenTheMmSlot) {
  RunOk(TwoMerged("", R"(
    {"op": "munmap", "proc": "a", "region": "r"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 3, "pages_shared": 1, "pages_sharing": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_rmap_items": 0, "ksm_merging_pages": 0}}},
    {"op": "munmap", "proc": "b", "region": "r"},
    {"op": "wait", "ms": 500},
    {"op": "expect", "ksm": {"full_scans": 4, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 0},
                     "procs": {"b": {"ksm_rmap_items": 0}}}
  )"));
  // With no VMA left, the walk of a ends with ksm_scan.address == 0: its rmap_items are
  // trailing (L2343; the KSM page is still b's, so a pages_sharing--) and the slot is freed
  // like __ksm_exit would (L2349-2365). Then b: its item finds the freed KSM page stale.
  // With no mm left ksmd stops (ksmd_should_run, L2409): one more full scan, no more.
}

// Steps between two batches of one pass: pages_to_scan 1 makes every batch one page, and
// a batch runs every 20 ms (sleep_millisecs; the cost of one page is microseconds). After
// `wait full_scans` returns (the batch that ended the pass), `wait ms 30` runs exactly one
// more batch: a's page of the next pass. b's page comes in the batch after.

TEST(KsmPortTest, UnstableTreePageMigratedMidPassIsNotMerged) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1, "pages_to_scan": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "wait", "ms": 30},
    {"op": "expect", "ksm": {"full_scans": 1, "pages_unshared": 1, "pages_volatile": 1}},
    {"op": "migrate", "proc": "a", "region": "r", "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 1, "pages_volatile": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"full_scans": 4, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 2, "pages_volatile": 0}}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // a's page enters unstable tree 0, then moves to node 1. b's search in tree 0 compares
  // equal with it, but with merge_across_nodes 0 a tree page now on another node is left
  // alone and b is not inserted either (L1956-1964): b stays volatile. From the next pass
  // each page sits in its own node's unstable tree: 2 unshared, never merged.
}

TEST(KsmPortTest, ExitMidPassErasesItemsInsertedThisPass) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1, "pages_to_scan": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "wait", "ms": 30},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 1}},
    {"op": "exit", "proc": "a"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 1, "pages_volatile": 0},
                     "procs": {"b": {"ksm_rmap_items": 1}}}
  )"));
  // a exits while the cursor is still on its slot, so __ksm_exit leaves the slot alone
  // (L2556). The next batch finds the mm exiting and frees its rmap_items; a's item was
  // inserted into the unstable tree by this very pass, so remove_rmap_item_from_tree must
  // rb_erase it (age 0, L775-785) before b searches the tree: b finds nothing and goes in.
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
