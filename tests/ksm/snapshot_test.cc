// The tree-walk snapshots (docs/ARCHITECTURE.md "Tree-walk snapshots"): levels of the
// unstable and stable trees decided without the kernel's lookup must give the kernel's
// outcome. Each test changes what a node's lookup would find after its snapshot was taken,
// in a way the shortcut must notice, and checks the counters mm/ksm.c gives for it.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ksm/ksm.h"
#include "ksm/ksm_check.h"
#include "mmu/machine.h"

namespace ksmsim::ksm {
namespace {

class SnapshotTest : public ::testing::Test {
 protected:
  SnapshotTest() : m_(Config()), ksm_(m_, Profile::k61) { m_.set_ksm(&ksm_); }
  ~SnapshotTest() override { m_.set_ksm(nullptr); }

  static mmu::MachineConfig Config() {
    mmu::MachineConfig c;
    c.node_pages = {4096};
    return c;
  }

  // One mergeable process whose page i holds gen(xs[i]); returns its start address.
  uint64_t Process(const std::vector<uint64_t>& xs) {
    mm_ = m_.CreateMm("p", 0);
    const uint64_t start = m_.Mmap(mm_, "r", xs.size(), 0, false);
    for (size_t i = 0; i < xs.size(); ++i) Write(start, i, xs[i]);
    EXPECT_FALSE(
        m_.Madvise(mm_, start, start + xs.size() * mmu::kPageSize, mmu::Advice::kMergeable));
    EXPECT_EQ(ksm_.StoreKnob("run", 1), 0);
    return start;
  }
  void Write(uint64_t start, uint64_t i, uint64_t x) {
    EXPECT_FALSE(m_.WritePage(mm_, start + i * mmu::kPageSize, m_.contents().Gen(x)));
  }
  void Check() {
    for (const std::string& p : CheckKsm(ksm_, m_)) ADD_FAILURE() << p;
  }

  mmu::Machine m_;
  Ksm ksm_;
  mmu::Mm* mm_ = nullptr;
};

TEST_F(SnapshotTest, AnUnchangedTreeIsWalkedFromSnapshots) {
  std::vector<uint64_t> xs;
  for (uint64_t i = 0; i < 64; ++i) xs.push_back(1000 + 7 * i);
  Process(xs);
  ksm_.ksm_do_scan(1000);  // pass 1: checksums only
  ksm_.ksm_do_scan(1000);  // pass 2: every page into the unstable tree
  EXPECT_EQ(ksm_.pages_unshared(), 64u);
  ksm_.ksm_do_scan(1000);  // pass 3: the same tree again, nothing changed in between
  EXPECT_GT(ksm_.last_work().compares, 64u);
  EXPECT_EQ(ksm_.last_work().snapshot_compares, ksm_.last_work().compares);
  EXPECT_EQ(ksm_.pages_unshared(), 64u);
  Check();
}

// A node's content changes between two batches (a user write: it counts both in
// lookup_epoch and, through the fault path's PTE lookup, in the page table's writes). The
// kernel's walk compares against the new content and merges; a stale snapshot would not.
TEST_F(SnapshotTest, AWriteToATreePageBetweenBatchesIsSeen) {
  const uint64_t start = Process({100, 200, 300});
  ksm_.ksm_do_scan(10);  // pass 1
  ksm_.ksm_do_scan(2);   // pass 2: pages 0 (the root) and 1 enter the unstable tree
  ASSERT_EQ(ksm_.pages_unshared(), 2u);
  Write(start, 0, 300);  // page 0 now holds page 2's bytes
  ksm_.ksm_do_scan(1);   // page 2: unstable_tree_search_insert meets page 0 first: a match
  EXPECT_EQ(ksm_.pages_shared(), 1u);
  EXPECT_EQ(ksm_.pages_sharing(), 1u);
  EXPECT_EQ(ksm_.pages_unshared(), 1u);
  Check();
}

// A node's page is unmapped between two batches (MADV_DONTNEED: a page-table write, no
// lookup_epoch change). get_mergeable_page finds nothing, so unstable_tree_search_insert
// gives up without inserting page 2; a stale snapshot would have inserted it.
TEST_F(SnapshotTest, AnUnmappedTreePageStopsTheWalk) {
  const uint64_t start = Process({100, 200, 300});
  ksm_.ksm_do_scan(10);
  ksm_.ksm_do_scan(2);
  ASSERT_EQ(ksm_.pages_unshared(), 2u);
  EXPECT_FALSE(m_.Madvise(mm_, start, start + mmu::kPageSize, mmu::Advice::kDontneed));
  ksm_.ksm_do_scan(1);
  EXPECT_EQ(ksm_.pages_unshared(), 2u);  // page 2 was not inserted
  EXPECT_EQ(ksm_.pages_shared(), 0u);
  Check();
}

// A KSM page (a stable node's) is freed between two passes, by unmapping it (no content
// written, no VMA changed). The next stable_tree_search that passes its node must go
// through get_ksm_page(), which finds the node stale and removes it at once.
TEST_F(SnapshotTest, AFreedKsmPageIsFoundStale) {
  // Page 0 is scanned first in every pass; 1 and 2 make KSM page A (the stable tree's
  // root), 3 and 4 KSM page B.
  const uint64_t start = Process({300, 100, 100, 200, 200});
  ksm_.ksm_do_scan(10);  // pass 1
  ksm_.ksm_do_scan(10);  // pass 2
  ASSERT_EQ(ksm_.pages_shared(), 2u);
  ASSERT_EQ(ksm_.pages_sharing(), 2u);
  EXPECT_FALSE(m_.Madvise(mm_, start + mmu::kPageSize, start + 3 * mmu::kPageSize,
                          mmu::Advice::kDontneed));  // A is freed
  ksm_.ksm_do_scan(1);                  // page 0: its stable_tree_search starts at A's node
  EXPECT_EQ(ksm_.pages_shared(), 1u);   // A's node is gone already,
  EXPECT_EQ(ksm_.pages_sharing(), 1u);  // before pages 1 and 2 are visited
  Check();
}

// A mutator that changes a page but forgets its change counter (here: a frame's content
// replaced behind the machine's back) leaves a snapshot whose tag holds although its page
// changed. The checker (run after every step with --check) names it.
TEST_F(SnapshotTest, TheCheckerFindsAnUnstableChangeTheCountersMissed) {
  const uint64_t start = Process({100, 200, 300});
  ksm_.ksm_do_scan(10);  // pass 1
  ksm_.ksm_do_scan(3);   // pass 2 (not ended): the three pages in the unstable tree,
  ASSERT_EQ(ksm_.pages_unshared(), 3u);  // with snapshots
  Check();
  mmu::Page* page = m_.pfn_to_page(mmu::Pte{m_.pte_value(mm_, start)}.pfn());
  const mmu::ContentId was = page->content;
  page->content = m_.contents().Gen(999);  // no ChangeCounters bump point called
  const std::vector<std::string> stale = CheckKsm(ksm_, m_);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_NE(stale[0].find("unstable tree snapshot of p address"), std::string::npos) << stale[0];
  page->content = was;
  Check();
}

TEST_F(SnapshotTest, TheCheckerFindsAStableChangeTheCountersMissed) {
  const uint64_t start = Process({100, 100, 100});
  ksm_.ksm_do_scan(10);  // pass 1
  ksm_.ksm_do_scan(10);  // pass 2: pages 0 and 1 merge; page 2's search snapshots the node
  ASSERT_EQ(ksm_.pages_shared(), 1u);
  ASSERT_EQ(ksm_.pages_sharing(), 2u);
  Check();
  mmu::Page* kpage = m_.pfn_to_page(mmu::Pte{m_.pte_value(mm_, start)}.pfn());
  ASSERT_TRUE(kpage->PageKsm());
  const mmu::ContentId was = kpage->content;
  kpage->content = m_.contents().Gen(999);  // no ChangeCounters bump point called
  const std::vector<std::string> stale = CheckKsm(ksm_, m_);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_NE(stale[0].find("stable tree snapshot of node"), std::string::npos) << stale[0];
  kpage->content = was;
  Check();
}

}  // namespace
}  // namespace ksmsim::ksm
