// The walk lookahead (ksm/walk_lookahead.cc): it walks both trees ahead of the scan for the
// pages the scan will reach next, and must change nothing (behaviour-neutral by
// construction: ksm_do_scan's outcomes are then the same with or without it), and it must
// cover the pages that are really next.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "ksm/ksm.h"
#include "ksm/ksm_check.h"
#include "mmu/machine.h"
#include "tests/ksm/ksm_test_peer.h"

namespace ksmsim::ksm {
namespace {

// The lookahead's window: kLookaheadPages in ksm/walk_lookahead.cc.
constexpr int kWindow = 32;

class WalkLookaheadTest : public ::testing::Test {
 protected:
  WalkLookaheadTest() : m_(Config()), ksm_(m_, Profile::k61) {
    m_.set_ksm(&ksm_);
    KsmTestPeer::set_lookahead_min_nodes(ksm_, 0);  // walk these small trees too
  }
  ~WalkLookaheadTest() override { m_.set_ksm(nullptr); }

  static mmu::MachineConfig Config() {
    mmu::MachineConfig c;
    c.node_pages = {4096};
    return c;
  }

  // One mergeable process of `n` pages: page i holds gen(1000 + i % distinct).
  void Process(uint64_t n, uint64_t distinct) {
    mm_ = m_.CreateMm("p", 0);
    const uint64_t start = m_.Mmap(mm_, "r", n, 0, false);
    for (uint64_t i = 0; i < n; ++i)
      EXPECT_FALSE(
          m_.WritePage(mm_, start + i * mmu::kPageSize, m_.contents().Gen(1000 + i % distinct)));
    EXPECT_FALSE(m_.Madvise(mm_, start, start + n * mmu::kPageSize, mmu::Advice::kMergeable));
    EXPECT_EQ(ksm_.StoreKnob("run", 1), 0);
  }

  // Everything the lookahead could touch by mistake: the counters, the cursor, the machine's
  // change counters and every node of both trees with its links and snapshot.
  std::string State() const {
    std::string s = fmt::format(
        "shared {} sharing {} unshared {} rmap_items {} chains {} dups {} cursor {} changes {} "
        "lookups {}\n",
        ksm_.pages_shared(), ksm_.pages_sharing(), ksm_.pages_unshared(), ksm_.rmap_items(),
        ksm_.stable_node_chains(), ksm_.stable_node_dups(), ksm_.scan_cursor().address,
        m_.changes().change_count(), m_.changes().lookup_epoch());
    for (int nid = 0; nid < ksm_.nr_trees(); ++nid) {
      for (const RbNode* rb = rb_first(&ksm_.unstable_root(nid)); rb; rb = rb_next(rb)) {
        const RmapItem* item = rb_entry_rmap_item(rb);
        s += fmt::format("u {} {} {} {} {} {}\n", item->address, item->snapshot_tag,
                         item->snapshot_prefix, rb->rb_parent_color, sim::ArenaRef(rb->rb_left),
                         sim::ArenaRef(rb->rb_right));
      }
      for (const RbNode* rb = rb_first(&ksm_.stable_root(nid)); rb; rb = rb_next(rb)) {
        const auto* n = static_cast<const StableNode*>(rb);
        s += fmt::format("s {} {} {} {}\n", n->kpfn, n->snapshot_tag, n->snapshot_prefix,
                         n->rmap_hlist_len);
      }
    }
    return s;
  }

  mmu::Machine m_;
  Ksm ksm_;
  mmu::Mm* mm_ = nullptr;
};

TEST_F(WalkLookaheadTest, ChangesNothingMidPass) {
  Process(64, 40);         // pages 40..63 repeat pages 0..23: both trees fill during pass 2
  ksm_.ksm_do_scan(1000);  // pass 1: checksums
  ksm_.ksm_do_scan(50);    // pass 2 up to page 50: unstable tree and KSM pages
  ASSERT_GT(ksm_.pages_unshared(), 0u);
  ASSERT_GT(ksm_.pages_shared(), 0u);
  const std::string before = State();
  // Pages 50..63 are next: 14, fewer than a full window, as the VMA ends there.
  EXPECT_EQ(KsmTestPeer::walk_lookahead(ksm_), 14);
  EXPECT_EQ(State(), before);
  for (const std::string& p : CheckKsm(ksm_, m_)) ADD_FAILURE() << p;
}

// Below the tree size that pays, pages seen before are skipped a window at a time, and
// pages seen for the first time still get their checksums in one batch.
TEST_F(WalkLookaheadTest, SmallTreesOnlyBatchFirstVisitsChecksums) {
  KsmTestPeer::set_lookahead_min_nodes(ksm_, 1000);
  Process(64, 64);
  ksm_.ksm_do_scan(10);  // pass 1 up to page 10: pages 10.. have no rmap_item yet
  const mmu::Pte pte{m_.pte_value(mm_, ksm_.scan_cursor().address)};
  const mmu::ContentId next = m_.pfn_to_page(pte.pfn())->content;
  const std::string before = State();
  EXPECT_EQ(KsmTestPeer::walk_lookahead(ksm_), kWindow);
  EXPECT_EQ(State(), before);
  // Its checksum is now cached: computing it again changes nothing and agrees with a store
  // that computes it from scratch.
  mmu::ContentStore fresh;
  EXPECT_EQ(m_.contents().Checksum(next), fresh.Checksum(fresh.Gen(1010)));
  ksm_.ksm_do_scan(1000);  // the rest of pass 1
  ksm_.ksm_do_scan(10);    // pass 2: rmap_items exist, the trees are small
  EXPECT_EQ(KsmTestPeer::walk_lookahead(ksm_), kWindow);
}

TEST_F(WalkLookaheadTest, CoversAFullWindowAndNothingAtAPassStart) {
  Process(64, 64);
  // Before the first pass the cursor is at the list head: no tree to walk yet.
  EXPECT_EQ(KsmTestPeer::walk_lookahead(ksm_), 1);
  ksm_.ksm_do_scan(1000);  // pass 1
  ksm_.ksm_do_scan(10);    // pass 2 up to page 10
  const std::string before = State();
  EXPECT_EQ(KsmTestPeer::walk_lookahead(ksm_), kWindow);
  EXPECT_EQ(State(), before);
}

// The same program scanned in batches of every size gives the same counters: the lookahead
// window restarts at every batch, and where it starts must not matter.
TEST_F(WalkLookaheadTest, BatchSizeDoesNotChangeTheOutcome) {
  Process(200, 120);
  ksm_.ksm_do_scan(1000);
  ksm_.ksm_do_scan(1000);
  for (unsigned batch : {1u, 7u, 31u, 32u, 33u}) {
    mmu::Machine m(Config());
    Ksm k(m, Profile::k61);
    m.set_ksm(&k);
    mmu::Mm* mm = m.CreateMm("p", 0);
    const uint64_t start = m.Mmap(mm, "r", 200, 0, false);
    for (uint64_t i = 0; i < 200; ++i)
      ASSERT_FALSE(m.WritePage(mm, start + i * mmu::kPageSize, m.contents().Gen(1000 + i % 120)));
    ASSERT_FALSE(m.Madvise(mm, start, start + 200 * mmu::kPageSize, mmu::Advice::kMergeable));
    ASSERT_EQ(k.StoreKnob("run", 1), 0);
    while (k.full_scans() < 2) k.ksm_do_scan(batch);
    EXPECT_EQ(k.pages_shared(), ksm_.pages_shared()) << "batch " << batch;
    EXPECT_EQ(k.pages_sharing(), ksm_.pages_sharing()) << "batch " << batch;
    EXPECT_EQ(k.pages_unshared(), ksm_.pages_unshared()) << "batch " << batch;
    m.set_ksm(nullptr);
  }
}

}  // namespace
}  // namespace ksmsim::ksm
