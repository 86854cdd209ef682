// Moving KSM pages: migrate_page and memory hotremove of a KSM page that a fork child maps
// too (rmap_walk_ksm meets the child's mapping in both of its passes), and the node that
// hotremove moves pages to. Both were found by the real 6.1 kernel (oracle cases 22, 23).
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "ksm/ksm.h"
#include "ksm/ksm_check.h"
#include "mmu/machine.h"

namespace ksmsim::ksm {
namespace {

class KsmMigrateTest : public ::testing::Test {
 protected:
  explicit KsmMigrateTest(std::vector<uint64_t> node_pages = {1024, 1024})
      : m_(Config(std::move(node_pages))), ksm_(m_, Profile::k61) {
    m_.set_ksm(&ksm_);
  }
  ~KsmMigrateTest() override { m_.set_ksm(nullptr); }

  static mmu::MachineConfig Config(std::vector<uint64_t> node_pages) {
    mmu::MachineConfig c;
    c.node_pages = std::move(node_pages);
    c.block_pages = 256;
    return c;
  }

  // Two pages of 'A' in a fresh process on node 0, madvised mergeable; returns the start.
  uint64_t TwoPages(mmu::Mm* mm) {
    uint64_t start = m_.Mmap(mm, "r", 2, 0, false);
    for (uint64_t i = 0; i < 2; ++i)
      EXPECT_FALSE(m_.WritePage(mm, start + i * mmu::kPageSize, m_.contents().Fill(65)));
    EXPECT_FALSE(m_.Madvise(mm, start, start + 2 * mmu::kPageSize, mmu::Advice::kMergeable));
    return start;
  }

  mmu::Page* PageOf(mmu::Mm* mm, uint64_t addr) {
    mmu::PteRef pte = mm->page_table.Lookup(addr, false);
    return pte && pte->present() ? m_.pfn_to_page(pte->pfn()) : nullptr;
  }

  void Check() {
    for (const std::string& p : CheckKsm(ksm_, m_)) ADD_FAILURE() << p;
  }

  mmu::Machine m_;
  Ksm ksm_;
};

TEST_F(KsmMigrateTest, AKsmPageAForkChildMapsTooMoves) {
  mmu::Mm* a = m_.CreateMm("a", 0);
  uint64_t start = TwoPages(a);
  mmu::Mm* b = nullptr;
  ASSERT_FALSE(m_.Fork(a, &b, "b"));
  ASSERT_EQ(ksm_.StoreKnob("run", 1), 0);
  for (int i = 0; i < 4; ++i) ksm_.ksm_do_scan(100);
  mmu::Page* kpage = PageOf(a, start);
  ASSERT_NE(kpage, nullptr);
  ASSERT_TRUE(kpage->PageKsm());
  ASSERT_EQ(kpage->mapcount(), 4);  // a and b, two pages each
  ASSERT_EQ(b->ksm_rmap_items, 2);  // the child has rmap_items of its own in the stable tree
  // The walk meets each of b's PTEs twice (b's rmap_item, then a's in search_new_forks);
  // the kernel's walk has unmapped it by then, so it counts once.
  EXPECT_EQ(m_.migrate_page(kpage, 1), 0);
  mmu::Page* moved = PageOf(a, start);
  ASSERT_NE(moved, kpage);
  EXPECT_EQ(m_.page_to_nid(moved), 1);
  EXPECT_TRUE(moved->PageKsm());
  EXPECT_EQ(PageOf(b, start), moved);
  EXPECT_EQ(PageOf(b, start + mmu::kPageSize), moved);
  EXPECT_EQ(moved->mapcount(), 4);
  Check();
}

TEST_F(KsmMigrateTest, OfflineMovesAForkFamilysKsmPageToTheOtherNode) {
  mmu::Mm* a = m_.CreateMm("a", 0);
  uint64_t start = TwoPages(a);
  mmu::Mm* b = nullptr;
  ASSERT_FALSE(m_.Fork(a, &b, "b"));
  ASSERT_EQ(ksm_.StoreKnob("run", 1), 0);
  for (int i = 0; i < 4; ++i) ksm_.ksm_do_scan(100);
  mmu::Page* kpage = PageOf(a, start);
  ASSERT_TRUE(kpage->PageKsm());
  ASSERT_LT(kpage->pfn(), 256u);
  EXPECT_EQ(m_.OfflineBlock(0, 0), 0);  // was EBUSY: b's PTEs were counted twice
  mmu::Page* moved = PageOf(a, start);
  EXPECT_EQ(m_.page_to_nid(moved), 1);  // do_migrate_range() leaves the block's own node out
  EXPECT_EQ(PageOf(b, start), moved);
  EXPECT_EQ(ksm_.pages_shared(), 1u);
  Check();
}

}  // namespace
}  // namespace ksmsim::ksm
