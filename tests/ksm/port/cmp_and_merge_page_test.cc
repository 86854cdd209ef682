// cmp_and_merge_page: the two-visit rule, an unstable tree hit, a stable tree hit, a
// volatile page. (The conventions: tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// cmp_and_merge_page: the two-visit rule, unstable tree hit, stable tree hit, volatile.

TEST(KsmPortTest, NewRmapItemNeedsTwoVisitsBeforeTheUnstableTree) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "range": [0, 1], "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"full_scans": 1, "pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
             "pages_volatile": 2},
     "procs": {"a": {"ksm_rmap_items": 1, "ksm_merging_pages": 0},
               "b": {"ksm_rmap_items": 1, "ksm_merging_pages": 0}}},
    {"op": "write", "proc": "a", "region": "r", "range": [1, 2], "data": {"fill": 66}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
             "pages_volatile": 1},
     "procs": {"a": {"ksm_rmap_items": 2, "ksm_merging_pages": 1},
               "b": {"ksm_rmap_items": 1, "ksm_merging_pages": 1}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 1, "pages_volatile": 0}}
  )"));
  // Pass 1: get_next_rmap_item() allocates zeroed rmap_items (L2207), so oldchecksum is 0
  // != calc_checksum(): L2095-2098 store the checksum and return. Both pages are volatile
  // (rmap_items - shared - sharing - unshared, L3094).
  // Pass 2: a[0] enters the unstable tree (L1971-1977); b[0] finds it (L1966) and
  // try_to_merge_two_pages makes b's page the KSM page (1 shared + 1 sharing, L2012-2015).
  // a[1] was written after pass 1: its new rmap_item is volatile for this one pass.
  // Pass 3: a[1]'s checksum is unchanged, nothing matches it: unstable (unshared 1).
}

TEST(KsmPortTest, UnstableTreeHitMakesANewKsmPage) {
  Outcome o = RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"key": "x"}},
    {"op": "write", "proc": "b", "region": "r", "data": {"key": "x"}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect",
     "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
             "pages_volatile": 0, "stable_node_chains": 0, "stable_node_dups": 0},
     "procs": {"a": {"ksm_rmap_items": 1, "ksm_merging_pages": 1},
               "b": {"ksm_rmap_items": 1, "ksm_merging_pages": 1}},
     "vmstat": {"cow_ksm": 0}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect",
     "ksm": {"full_scans": 5, "pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
             "pages_volatile": 0}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // Pass 2: a's item goes into the unstable tree (unshared 1), then b's item hits it:
  // try_to_merge_with_ksm_page removes a's item from the unstable tree again
  // (L1287 -> L772-787, unshared back to 0); stable_tree_insert adds one node, and
  // stable_tree_append runs for tree_rmap_item first (hlist empty: pages_shared++) and then
  // for rmap_item (hlist.next set: pages_sharing++), L2155-2158.
  // Later passes: both pages are PageKsm with rmap_item->head == stable_node: L2049-2051
  // return at once, nothing changes.
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 1);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 1);
}

TEST(KsmPortTest, ThirdPageInTheSamePassHitsTheStableTree) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"}, {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect",
     "ksm": {"pages_shared": 1, "pages_sharing": 2, "pages_unshared": 0, "pages_volatile": 0},
     "procs": {"c": {"ksm_rmap_items": 1, "ksm_merging_pages": 1}}}
  )"));
  // Pass 2: a -> unstable, b -> new KSM page with 2 mappings; c: stable_tree_search finds
  // that node (rmap_hlist_len 2 < max_page_sharing 256, a sharing candidate, L1501-1503),
  // try_to_merge_with_ksm_page succeeds and stable_tree_append adds a sharer (L2073-2081).
}

TEST(KsmPortTest, StableTreeHitMergesOnTheFirstVisit) {
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
    {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 3},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"full_scans": 3, "pages_shared": 1, "pages_sharing": 4, "pages_unshared": 0,
             "pages_volatile": 0},
     "procs": {"c": {"ksm_rmap_items": 3, "ksm_merging_pages": 3}}}
  )"));
  // c's rmap_items are brand new (oldchecksum 0) but cmp_and_merge_page searches the stable
  // tree before it looks at the checksum (L2060-2087 come before L2094): each of c's three
  // pages merges into the existing KSM page during its very first visit.
}

TEST(KsmPortTest, PageRewrittenBetweenPassesStaysOutOfTheUnstableTree) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "repeat", "times": 3, "steps": [
      {"op": "write", "proc": "a", "region": "r", "data": {"fill": 66}},
      {"op": "wait", "full_scans": 1},
      {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                               "pages_volatile": 1}},
      {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
      {"op": "wait", "full_scans": 1},
      {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                               "pages_volatile": 1}}
    ]},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 8, "pages_shared": 1, "pages_sharing": 1,
                             "pages_unshared": 0, "pages_volatile": 0}}
  )"));
  // a's page changes between every two passes, so at each visit its checksum differs from
  // oldchecksum: L2095-2098 return before the unstable tree; a stays volatile. b's page is
  // unchanged: every pass it is removed from the (already reset) unstable tree (L2067,
  // age != 0 so no rb_erase, L781-787) and inserted again: unshared stays 1. Once a stops
  // changing, the next pass puts a into the tree first and b hits it: merged.
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
