// fork and exit: a forked child's rmap_items and sharing, exited processes' items. (The
// conventions: tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// fork and exit.

TEST(KsmPortTest, ForkedChildJoinsTheStableNode) {
  RunOk(TwoMerged("", R"(
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1},
                     "procs": {"c": {"ksm_merging_pages": 1, "ksm_rmap_items": 1}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 2, "pages_volatile": 0},
                     "procs": {"c": {"ksm_merging_pages": 2, "ksm_rmap_items": 2}},
                     "vmstat": {"cow_ksm": 0}},
    {"op": "verify", "proc": "c", "region": "r"}
  )"));
  // ksm_fork -> __ksm_enter puts c on the list; fork copies no rmap_items, but dup_mm
  // copies a's per-mm counters (1/1), which c reports on top of its own. Next pass, c's
  // page is the KSM page itself: stable_tree_search returns it ("ksm page forked",
  // L1555-1558), try_to_merge_one_page returns 0 for page == kpage (L1211) and
  // stable_tree_append adds c's rmap_item: first visit, no copy.
}

TEST(KsmPortTest, ForkedChildrenBypassMaxPageSharing) {
  RunOk(TwoMerged(R"("max_page_sharing": 2)", R"(
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "fork", "proc": "a", "child": "d"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 0,
                             "stable_node_dups": 0},
                     "procs": {"c": {"ksm_merging_pages": 2}, "d": {"ksm_merging_pages": 2}}}
  )"));
  // The node already has 2 == max_page_sharing mappings; for c and d it is not a sharing
  // candidate, so max_page_sharing_bypass is set (L2056-2057) and the "ksm page forked"
  // path appends them anyway: 4 mappings of one KSM page with max_page_sharing 2. (c and
  // d each also report a's 1 merging page, copied by dup_mm at the fork.)
}

TEST(KsmPortTest, ForkedUnmergedPageIsNotSubstitutedForItself) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "procs": {"a": {"ksm_rmap_items": 1}, "c": {"ksm_rmap_items": 1}}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "vmstat": {"cow_ksm": 0}}
  )"));
  // a and c map the same anonymous page after fork. a's item enters the unstable tree;
  // c's search meets it and gets the very same page back: "don't substitute a ksm page for
  // a forked page" returns NULL without inserting (L1940-1945), so c stays volatile. When
  // c writes, it gets its own copy (a plain COW, not COW_KSM), and the two merge.
}

TEST(KsmPortTest, ForkedCleanPageIsNotMergedWithItself) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "pageout"},
    {"op": "read", "proc": "a", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"pswpout": 1, "pswpin": 1, "cow_ksm": 0}}
  )",
          "", "", R"({"nodes": [{"memory_mib": 64}], "swap_mib": 16})"));
  // The same branch as above where it matters: swapped out and read back in, the page is
  // mapped read-only and clean, and fork clears PageAnonExclusive, so write_protect_page
  // would skip its count check (L1043-1047) and let try_to_merge_two_pages "merge" the
  // page with itself (page == kpage returns 0, L1211), making a KSM page shared by a and
  // c without freeing anything. The page == tree_page test (L1942) prevents that.
}

TEST(KsmPortTest, ExitedProcessItemsDroppedOnTheNextPass) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"}, {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 5}},
    {"op": "exit", "proc": "c"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 5, "pages_volatile": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_rmap_items": 2}, "b": {"ksm_rmap_items": 2}}}
  )"));
  // __ksm_exit leaves a slot with rmap_items on the list, moved just after the cursor
  // (L2556-2565), and exit_mmap unmaps c's pages. The counters only change when ksmd
  // reaches the slot: ksm_test_exit, so remove_trailing_rmap_items on the whole list
  // (L2334-2343): the KSM page is still mapped by a and b, so 2 x pages_sharing--.
}

TEST(KsmPortTest, ExitLeavesAKsmPageWithOneMapping) {
  RunOk(TwoMerged("", R"(
    {"op": "exit", "proc": "b"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 1, "ksm_rmap_items": 1}}},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 66}},
    {"op": "expect", "vmstat": {"cow_ksm": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 1},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 1}}}
  )"));
  // b's item was the list head of the node's hlist (appended last); removing it leaves a
  // non-empty hlist, so it counts as a pages_sharing-- (L758-761): a KSM page shared by
  // nobody else remains, pages_shared 1. a's write copies it (COW_KSM) and frees it; a's
  // next stable_tree_search finds the node stale and removes it.
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
