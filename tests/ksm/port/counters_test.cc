// Per-process counters, what gets an rmap_item at all, and determinism. (The conventions:
// tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// Per-process counters and what gets an rmap_item at all.

TEST(KsmPortTest, PerProcessCountersOnlyCoverMergeableAnonPages) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "m", "pages": 8},
    {"op": "mmap", "proc": "b", "region": "m", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "n", "pages": 2},
    {"op": "write", "proc": "a", "region": "m", "range": [0, 2], "data": {"fill": 65}},
    {"op": "write", "proc": "a", "region": "m", "range": [2, 3], "data": {"unique": true}},
    {"op": "read", "proc": "a", "region": "m", "range": [3, 5]},
    {"op": "write", "proc": "b", "region": "m", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "n", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "m", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "m", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_unshared": 1,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_rmap_items": 3, "ksm_merging_pages": 2},
                               "b": {"ksm_rmap_items": 2, "ksm_merging_pages": 2}}}
  )"));
  // a: pages 0-1 merge, page 2 (unique) sits in the unstable tree, pages 3-4 were only
  // read (zero-page PTEs: not PageAnon, skipped, L2313) and 5-7 were never touched
  // (follow_page NULL, L2306): 3 rmap_items. b: region n is not VM_MERGEABLE (L2295).
}

TEST(KsmPortTest, SameWorkloadGivesByteIdenticalResults) {
  std::string text = W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 64},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 64},
    {"op": "write", "proc": "a", "region": "r", "data": {"pool": 8}},
    {"op": "write", "proc": "b", "region": "r", "data": {"pool": 8}},
    {"op": "write", "proc": "b", "region": "r", "range": [60, 64], "data": {"unique": true}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "merged"},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "write", "proc": "c", "region": "r", "range": [0, 8], "data": {"cycle": 3}},
    {"op": "madvise", "proc": "b", "region": "r", "range": [10, 20], "advice": "unmergeable"},
    {"op": "wait", "ms": 55},
    {"op": "snapshot", "label": "mid"},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "end"}
  )",
                       R"("max_page_sharing": 4)", R"("seed": 12345,)");
  Outcome first = RunOk(text);
  Outcome second = RunOk(text);
  EXPECT_EQ(first.doc.dump(), second.doc.dump());
  EXPECT_EQ(first.doc["results"].size(), 3u);
  EXPECT_GT(Ksm(first, 0, "pages_sharing"), 0);
}

TEST(KsmPortTest, ForkChildStartsWithItsParentsKsmCounters) {
  // dup_mm() copies the mm_struct and 6.1's ksm_fork() does not reset ksm_merging_pages
  // or ksm_rmap_items, so the child reports the parent's figures on top of its own, and
  // keeps them after run 2 has removed every rmap_item (oracle case 21 shows the same).
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "expect", "procs": {"c": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7},
                     "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4},
                               "c": {"ksm_merging_pages": 8, "ksm_rmap_items": 8}}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0},
                               "c": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}}
  )"));
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
