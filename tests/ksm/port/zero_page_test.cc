// use_zero_pages: the kernel zero page, the seed-001 profile's zero-page unsharing and 6.12's KSM
// zero pages. (The conventions: tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// use_zero_pages: empty pages are merged with the kernel's zero page (L2101-2126).

std::string ZeroWorkload(std::string_view top, std::string_view more) {
  std::string steps = R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 0}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
  )";
  steps += more;
  return W(steps, R"("use_zero_pages": 1)", top);
}

TEST(KsmPortTest, ZeroPagesMergeIntoTheKernelZeroPageUncounted) {
  Outcome o = RunOk(ZeroWorkload("", R"(
    {"op": "snapshot", "label": "pass2"},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 4},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 2}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0},
                               "b": {"ksm_merging_pages": 0, "ksm_rmap_items": 0}}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "snapshot", "label": "run2"},
    {"op": "verify", "proc": "a", "region": "r"}
  )"));
  // Pass 2: each page's checksum equals zero_checksum; try_to_merge_one_page(page,
  // ZERO_PAGE) replaces the PTE with a special zero-page PTE (L1156-1170) and returns: no
  // stable node, no counter besides the rmap_item (volatile 4). Pass 3: follow_page gives
  // the zero page, which is not PageAnon (L2313), so no rmap_item is returned and
  // remove_trailing_rmap_items frees them (L2343).
  EXPECT_EQ(o.doc["results"][0]["machine"]["resident_pages"]["a"].get<int64_t>(), 0);
  // Plain 6.1 cannot find those zero pages again: run 2 leaves them mapped (the bug that
  // seed 001 fixes).
  EXPECT_EQ(o.doc["results"][3]["machine"]["resident_pages"]["a"].get<int64_t>(), 0);
  EXPECT_EQ(o.doc["results"][3]["machine"]["resident_pages"]["b"].get<int64_t>(), 0);
}

TEST(KsmPortTest, ZeroFilledPagesWithoutUseZeroPagesMakeAKsmPage) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 0}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_volatile": 0}}
  )"));
}

TEST(KsmPortTest, ZeroUnshareProfileCountsAndUnmergeableUnshares) {
  Outcome o = RunOk(ZeroWorkload(R"("kernel": "6.1-zero-unshare",)", R"(
    {"op": "expect", "ksm": {"ksm_zero_pages": 4, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 4}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"ksm_zero_pages": 4, "pages_volatile": 4},
                     "procs": {"a": {"ksm_rmap_items": 2, "ksm_merging_pages": 0},
                               "b": {"ksm_rmap_items": 2, "ksm_merging_pages": 0}}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "unmergeable"},
    {"op": "snapshot", "label": "after-unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "snapshot", "label": "after-pass"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 2, "pages_volatile": 2},
                     "procs": {"a": {"ksm_rmap_items": 0}, "b": {"ksm_rmap_items": 2}},
                     "vmstat": {"cow_ksm": 0}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "snapshot", "label": "run2"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 0, "pages_volatile": 0, "full_scans": 0},
                     "procs": {"b": {"ksm_rmap_items": 0}}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // Seed 001: try_to_merge_with_kernel_zero_page sets ZERO_PAGE_FLAG on the rmap_item and
  // the count goes up (4). Pass 3: scan_get_next_rmap_item returns the flagged items of
  // zero-page PTEs (so they survive) and cmp_and_merge_page returns early (flag already
  // set). MADV_UNMERGEABLE calls break_ksm(.., NULL/false): the zero pages stay for now
  // (resident 0 right after), but the VMA is no longer VM_MERGEABLE, so the next pass frees
  // a's items, and free_rmap_item -> unshare_zero_pages -> break_ksm(.., true) write-faults
  // them: a's two pages are its own again (resident 2). run 2 does the same for b through
  // remove_trailing_rmap_items (L974).
  const auto& r = o.doc["results"];
  auto resident = [&](size_t i, const char* p) {
    return r[i]["machine"]["resident_pages"][p].get<int64_t>();
  };
  EXPECT_EQ(r[2]["label"], "after-unmergeable");
  EXPECT_EQ(resident(2, "a"), 0);
  EXPECT_EQ(resident(3, "a"), 2);
  EXPECT_EQ(resident(3, "b"), 0);
  EXPECT_EQ(resident(5, "b"), 2);
}

TEST(KsmPortTest, ZeroUnshareFlagDroppedAfterTheZeroPageIsWritten) {
  RunOk(ZeroWorkload(R"("kernel": "6.1-zero-unshare",)", R"(
    {"op": "write", "proc": "a", "region": "r", "range": [0, 1], "data": {"fill": 7}},
    {"op": "expect", "ksm": {"ksm_zero_pages": 4}, "vmstat": {"cow_ksm": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"ksm_zero_pages": 4, "pages_unshared": 0, "pages_volatile": 4}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"ksm_zero_pages": 3, "pages_unshared": 1, "pages_volatile": 3},
                     "procs": {"a": {"ksm_rmap_items": 2}}}
  )"));
  // The write copies the zero page (not a KSM page: no cow_ksm). Next pass, a[0]'s page is
  // anon again and get_next_rmap_item returns its old, still flagged item: the checksum
  // changed (L2095), so it returns before the use_zero_pages block and the flag stays. The
  // pass after, the checksum is stable and != zero_checksum with the flag set: the flag is
  // cleared and the count drops (seed 001's "COW happens" branch), then a[0] goes into the
  // unstable tree.
}

TEST(KsmPortTest, ZeroUnshareFlaggedZeroPageSearchesNodeZerosTrees) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 0}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"ksm_zero_pages": 1, "pages_volatile": 1}},
    {"op": "ksm", "set": {"use_zero_pages": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 0, "ksm_zero_pages": 1},
                     "procs": {"a": {"ksm_rmap_items": 0}, "b": {"ksm_rmap_items": 1}}}
  )",
          R"("use_zero_pages": 1, "merge_across_nodes": 0)", R"("kernel": "6.1-zero-unshare",)",
          kTwoNodes));
  // Seed 001 hands the flagged item of a KSM-placed zero page to cmp_and_merge_page with
  // the zero page itself. With use_zero_pages switched off, that item goes through the
  // unstable tree of get_kpfn_nid(zero page) -- node 0, where the kernel's zero page lives.
  // b's empty page (node 0, second visit) then meets it in unstable tree 0, gets the zero
  // page back from get_mergeable_page, which is not PageAnon: NULL, b is not inserted
  // (L1935-1938), so b stays volatile. The pass after, a's item has lost ZERO_PAGE_FLAG to
  // remove_rmap_item_from_tree's `address &= PAGE_MASK` (L787), is no longer returned for
  // the zero-page PTE, and is freed without unsharing (the count stays 1): b is alone.
}

// ---------------------------------------------------------------------------------------
// 6.12: KSM-placed zero pages are mapped with a dirty PTE (is_ksm_zero_pte) and counted in
// ksm_zero_pages, globally and per mm (ksm_map_zero_page); a write's copy on write, a zap
// and exit uncount them (ksm_might_unmap_zero_page); ksm_fork adds the child's inherited
// count; break_ksm unshares them (MADV_UNMERGEABLE, run 2). Oracle case 6.12/07.

TEST(KsmPortTest, K612CountsKsmZeroPagesUntilWrittenZappedOrUnshared) {
  Outcome o = RunOk(ZeroWorkload(R"("kernel": "6.12",)", R"(
    {"op": "expect", "ksm": {"ksm_zero_pages": 4, "general_profit": 16128},
                     "procs": {"a": {"ksm_zero_pages": 2, "ksm_process_profit": 8064}}},
    {"op": "write", "proc": "a", "region": "r", "range": [0, 1], "data": {"fill": 7}},
    {"op": "expect", "ksm": {"ksm_zero_pages": 3}, "procs": {"a": {"ksm_zero_pages": 1}}},
    {"op": "fork", "proc": "b", "child": "c"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 5}, "procs": {"c": {"ksm_zero_pages": 2}}},
    {"op": "madvise", "proc": "c", "region": "r", "range": [1, 2], "advice": "dontneed"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 4}, "procs": {"c": {"ksm_zero_pages": 1}}},
    {"op": "exit", "proc": "c"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 3}},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "unmergeable"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 1}, "procs": {"b": {"ksm_zero_pages": 0}}},
    {"op": "snapshot", "label": "b unmergeable"},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "expect", "ksm": {"ksm_zero_pages": 0}, "procs": {"a": {"ksm_zero_pages": 0}}},
    {"op": "snapshot", "label": "run2"},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // Unsharing faults a zeroed page in for each KSM zero page (break_ksm sees the dirty
  // zero-page PTE; 6.1 sees only PageKsm and leaves them mapped).
  ASSERT_EQ(o.doc["results"][6]["label"], "b unmergeable");
  ASSERT_EQ(o.doc["results"][8]["label"], "run2");
  EXPECT_EQ(o.doc["results"][6]["machine"]["resident_pages"]["b"].get<int64_t>(), 2);
  EXPECT_EQ(o.doc["results"][8]["machine"]["resident_pages"]["a"].get<int64_t>(), 2);
}

// The 6.1 profile maps KSM's zero page clean and never counts it: no ksm_zero_pages.
TEST(KsmPortTest, K61KeepsNoKsmZeroPageCount) {
  Outcome o = RunOk(ZeroWorkload("", R"(
    {"op": "wait", "full_scans": 1},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "snapshot", "label": "run2"}
  )"));
  EXPECT_FALSE(o.doc["results"][0]["ksm"].contains("ksm_zero_pages"));
  EXPECT_EQ(o.doc["results"][0]["machine"]["resident_pages"]["a"].get<int64_t>(), 0);
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
