// Process-wide merging, prctl(PR_SET_MEMORY_MERGE) (6.12 profile): ksm_enable_merge_any,
// ksm_disable_merge_any, ksm_add_vma on mmap, MMF_VM_MERGE_ANY inherited on fork.
// Line references "6.12:L<n>" are to mm/ksm.c of linux-source-6.12. (The conventions:
// tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

constexpr std::string_view k612 = R"("kernel": "6.12",)";

// 8 identical pages in a, opted in as a whole process: two passes merge them (pass 1
// records the checksums, pass 2 inserts page 0 into the unstable tree and merges the rest
// with it and then with its stable node), exactly as madvise(MADV_MERGEABLE) would. The
// process `keep` (2 pages of another content, madvised) keeps ksmd scanning when a drops
// out of its list; its pages make one more KSM page.
constexpr std::string_view kOptIn = R"(
    {"op": "spawn", "proc": "keep"},
    {"op": "mmap", "proc": "keep", "region": "k", "pages": 2},
    {"op": "write", "proc": "keep", "region": "k", "data": {"fill": 9}},
    {"op": "madvise", "proc": "keep", "region": "k", "advice": "mergeable"},
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 8},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 7}},
    {"op": "prctl", "proc": "a", "memory_merge": 1},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 8},
                     "procs": {"a": {"ksm_merging_pages": 8, "ksm_rmap_items": 8}}},
)";

TEST(KsmPortTest, PrctlMakesEveryMappingMergeable) {
  RunOk(W(std::string(kOptIn) + R"({"op": "snapshot", "label": "end"})", "", k612));
}

TEST(KsmPortTest, PrctlMakesLaterMappingsMergeableAtOnce) {
  // ksm_add_vma() from mmap_region(): the new region needs no madvise. Its pages find the
  // stable node in their first pass (6.12 checks the checksum first: they wait one pass).
  Outcome o = RunOk(W(std::string(kOptIn) + R"(
    {"op": "mmap", "proc": "a", "region": "s", "pages": 4},
    {"op": "write", "proc": "a", "region": "s", "data": {"fill": 7}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 12},
                     "procs": {"a": {"ksm_merging_pages": 12, "ksm_rmap_items": 12}}},
    {"op": "snapshot", "label": "end"})",
                      "", k612));
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 8);   // the first expect: before the mmap
  EXPECT_EQ(Ksm(o, 2, "pages_sharing"), 12);  // the snapshot
}

TEST(KsmPortTest, PrctlIsInheritedOnFork) {
  // MMF_VM_MERGE_ANY is in MMF_INIT_MASK: the child's own new mapping is mergeable too.
  RunOk(W(std::string(kOptIn) + R"(
    {"op": "fork", "proc": "a", "child": "b"},
    {"op": "mmap", "proc": "b", "region": "s", "pages": 4},
    {"op": "write", "proc": "b", "region": "s", "data": {"fill": 7}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "procs": {"b": {"ksm_merging_pages": 12}}},
    {"op": "snapshot", "label": "end"})",
          "", k612));
}

TEST(KsmPortTest, PrctlOffUnmergesEveryMergeableMapping) {
  // ksm_disable_merge_any() -> ksm_del_vmas(): every VM_MERGEABLE VMA is unmerged and
  // cleared, the explicitly madvised one too; the process's next mapping is not mergeable.
  // break_ksm() copies each of a's 8 mappings of the KSM page at once (cow_ksm 8); the
  // counters follow only when the next pass drops a's rmap_items and the stale stable node.
  RunOk(W(std::string(kOptIn) + R"(
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "prctl", "proc": "a", "memory_merge": 0},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 8}, "vmstat": {"cow_ksm": 8}},
    {"op": "mmap", "proc": "a", "region": "s", "pages": 4},
    {"op": "write", "proc": "a", "region": "s", "data": {"fill": 7}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0}}},
    {"op": "snapshot", "label": "end"})",
          "", k612));
}

TEST(KsmPortTest, PrctlOnTwiceKeepsAnUnmergeableVmaUnmergeable) {
  // ksm_enable_merge_any() returns at once when MMF_VM_MERGE_ANY is set: a VMA made
  // unmergeable since stays so.
  RunOk(W(std::string(kOptIn) + R"(
    {"op": "madvise", "proc": "a", "region": "r", "advice": "unmergeable"},
    {"op": "prctl", "proc": "a", "memory_merge": 1},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0}}},
    {"op": "snapshot", "label": "end"})",
          "", k612));
}

TEST(KsmPortTest, PrctlIsRefusedUnderTheSixOneProfile) {
  ParseOutcome parsed = ParseWorkloadText(
      W(R"({"op": "spawn", "proc": "a"}, {"op": "prctl", "proc": "a", "memory_merge": 1})"),
      "inline.json");
  ASSERT_FALSE(parsed.ok());
  std::string all;
  for (const auto& e : parsed.errors) all += e.ToString() + "\n";
  EXPECT_NE(all.find("steps[1].op"), std::string::npos) << all;
  EXPECT_NE(all.find("op \"prctl\" exists only with kernel 6.12"), std::string::npos) << all;
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
