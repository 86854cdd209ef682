// Merging refused (write_protect_page and a pinned page), and unmerging:
// madvise(MADV_UNMERGEABLE) on a range, run 2, run 0. (The conventions:
// tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// write_protect_page refuses a page with an extra reference: page_count !=
// page_mapcount + 1 + PageSwapCache (L1069), as a pin (GUP/O_DIRECT) makes it.

TEST(KsmPortTest, PinnedTreePageRefusedAndTheHalfMergedPageIsBroken) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "pin", "proc": "a", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"cow_ksm": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "unpin", "proc": "a", "region": "r"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // a (pinned) is the unstable tree page, b the scanned page. try_to_merge_two_pages first
  // turns b's own page into a KSM page (kpage NULL, L1240-1253), then fails to
  // write-protect a's page (count = 1 map + 1 pin + 1 ksmd ref = 3 != 1 + 1), so break_cow
  // undoes b (L1322-1323): do_wp_page copies a PageKsm page and counts COW_KSM. Every pass
  // repeats it: cow_ksm +1 per pass, a stays unshared, b volatile (its item was taken out of
  // the tree at L2067 and the merge failed). Once unpinned, the merge succeeds.
}

TEST(KsmPortTest, PinnedScannedPageRefusedWithoutCow) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "pin", "proc": "b", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 4},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"cow_ksm": 0}}
  )"));
  // Here the pinned page is the scanned one: the first try_to_merge_with_ksm_page (kpage
  // NULL) already fails in write_protect_page, nothing was made KSM, nothing to break.
}

TEST(KsmPortTest, PinnedPageWithAStableMatchStaysVolatile) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"}, {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "pin", "proc": "c", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 1},
                     "procs": {"c": {"ksm_merging_pages": 0, "ksm_rmap_items": 1}}},
    {"op": "unpin", "proc": "c", "region": "r"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 2, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"c": {"ksm_merging_pages": 1}}}
  )"));
  // c finds a stable match every pass, so cmp_and_merge_page returns after the failed
  // try_to_merge_with_ksm_page (L2069-2087) and never reaches the checksum or the unstable
  // tree: c is volatile, not unshared, for as long as the pin lasts.
}

// ---------------------------------------------------------------------------------------
// Unmerging: madvise(MADV_UNMERGEABLE) on a range, and run 2.

TEST(KsmPortTest, UnmergeRangeThenMergeableAgain) {
  RunOk(EightPages(R"(
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 2], "advice": "unmergeable"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7},
                     "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 5, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 2, "ksm_rmap_items": 2},
                               "b": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 2], "advice": "mergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7, "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "verify", "proc": "a", "region": "r"}
  )"));
  // unmerge_ksm_pages breaks COW on a[0], a[1] at once (cow_ksm 2) and leaves the
  // rmap_items (L811-815): counters unchanged until the next pass, where
  // get_next_rmap_item frees the two items below a[2] (L2196-2205); the KSM page is still
  // mapped, so each is a pages_sharing-- (L758-761). Made mergeable again, the two copies
  // get new rmap_items that hit the stable tree on their first visit.
}

TEST(KsmPortTest, Run2UnmergesEverythingAndResetsFullScans) {
  RunOk(EightPages(R"(
    {"op": "ksm", "set": {"run": 2}, "expect_error": "none"},
    {"op": "expect", "ksm": {"run": 2, "full_scans": 0, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 0,
                             "stable_node_chains": 0, "stable_node_dups": 0},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0},
                               "b": {"ksm_merging_pages": 0, "ksm_rmap_items": 0}},
                     "vmstat": {"cow_ksm": 8}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 1, "pages_volatile": 8, "pages_shared": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 7}}
  )"));
  // unmerge_and_remove_all_rmap_items: break_ksm on all 8 KSM mappings (each a COW_KSM
  // copy, even the last, since do_wp_page never reuses a KSM page), then
  // remove_trailing_rmap_items for each mm; the last items find the KSM page freed and
  // remove the node; seqnr = 0 (L996). The mm_slots stay listed (L921-922 comment): with
  // run 1 again the processes are rescanned from scratch with new rmap_items.
}

TEST(KsmPortTest, Run0StopsScanning) {
  RunOk(EightPages(R"(
    {"op": "ksm", "set": {"run": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 66}},
    {"op": "wait", "ms": 1000},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 7},
                     "vmstat": {"cow_ksm": 4}}
  )"));
}

// Run 2, then fork and a FOLL_GET pin (vmsplice) of 4 of the child's 8 pages (the oracle
// case cases-6.12/11-run2-unshare-pinned-fork, whose kernel results these are).
std::string UnmergeForkPin(std::string_view top) {
  return W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 8},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 5}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "fork", "proc": "a", "child": "b"},
    {"op": "pin", "proc": "b", "region": "r", "range": [0, 4]},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "snapshot", "label": "after"}
  )",
           "", top);
}

TEST(KsmPortTest, Run2Under612UnsharesSoPinnedForkedCopiesMerge) {
  // 6.12's break_ksm() faults with FAULT_FLAG_UNSHARE: wp_page_copy() maps each copy
  // read-only and clean. fork() then clears PageAnonExclusive, so write_protect_page()
  // finds a PTE neither writable, dirty nor exclusive and skips the mapcount/refcount
  // test: the pinned pages merge like the others.
  Outcome o = RunOk(UnmergeForkPin(R"("kernel": "6.12",)"));
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 1);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 15);
  EXPECT_EQ(Ksm(o, 0, "pages_volatile"), 0);
  EXPECT_EQ(o.doc["results"][0]["vmstat"]["cow_ksm"].get<int64_t>(), 8);
}

TEST(KsmPortTest, Run2Under61WriteFaultsSoPinnedForkedCopiesStayApart) {
  // 6.1's FAULT_FLAG_WRITE leaves the copies' PTEs dirty (fork keeps the dirty bit in a
  // private mapping): write_protect_page() tests the counts, and the pin's extra reference
  // fails it for every page shared with a pinned one.
  Outcome o = RunOk(UnmergeForkPin(""));
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 0);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 0);
  EXPECT_EQ(Ksm(o, 0, "pages_unshared"), 1);
  EXPECT_EQ(Ksm(o, 0, "pages_volatile"), 15);
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
