// The 16-byte frame descriptor (mmu/page.h): the PFN computed from its place, the 35-bit
// index, and counts that leave the 8-bit fields for the chunk's WideCounts and come back.
#include "mmu/page.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mmu/machine.h"
#include "mmu/phys_mem.h"
#include "mmu_test_util.h"

namespace ksmsim::mmu {
namespace {

using testing::Addr;
using testing::Config;
using testing::PageAt;
using testing::WriteGen;

TEST(PageTest, EveryDescriptorFindsItsPfnAndTheZeroPageItsOwn) {
  PhysMem phys({3 * kFramesPerChunk}, 512);
  for (Pfn pfn : {Pfn{0}, kFramesPerChunk - 1, kFramesPerChunk, 3 * kFramesPerChunk - 1})
    EXPECT_EQ(phys.page(pfn)->pfn(), pfn);
  EXPECT_EQ(phys.zero_page()->pfn(), kZeroPfn);
}

TEST(PageTest, CountsPastTheFieldMoveOutAndBack) {
  PhysMem phys({2 * kFramesPerChunk}, 512);
  Page* a = phys.page(3);
  Page* b = phys.page(kFramesPerChunk + 3);  // another chunk, the same table
  a->set_refcount(254);
  EXPECT_EQ(a->refcount(), 254);
  EXPECT_EQ(phys.wide_counts(), 0u);
  EXPECT_EQ(a->add_refcount(1), 255);  // no longer fits: kept in the table
  EXPECT_EQ(phys.wide_counts(), 1u);
  EXPECT_EQ(a->add_refcount(100000), 100255);
  b->set_mapcount(-1);  // below 0 is wide too
  EXPECT_EQ(b->mapcount(), -1);
  EXPECT_EQ(phys.wide_counts(), 2u);
  EXPECT_EQ(a->mapcount(), 0);  // the other count of the same page is untouched
  EXPECT_EQ(b->refcount(), 0);
  a->set_refcount(7);
  EXPECT_EQ(a->refcount(), 7);
  EXPECT_EQ(b->add_mapcount(1), 0);
  EXPECT_EQ(phys.wide_counts(), 0u);  // both back in their fields
}

TEST(PageTest, IndexHoldsEveryUserPageAndRefusesMore) {
  PhysMem phys({16}, 16);
  Page* p = phys.page(1);
  const uint64_t last = (uint64_t{1} << 35) - 1;  // TASK_SIZE's last page
  p->set_index(last);
  EXPECT_EQ(p->index(), last);
  EXPECT_EQ(p->pfn(), 1u);  // the index does not spill into the rest of the word
  EXPECT_EQ(p->flags, uint64_t{PG_free});
  EXPECT_DEATH(p->set_index(last + 1), "more than 35 bits");
}

// A page that 300 processes map: its counts leave the descriptor, the machine's invariants
// (mapcount == PTEs, refcount == mappings + other references) hold throughout, and the
// counts come back as the processes exit.
TEST(PageTest, APageMappedByThreeHundredForksKeepsExactCounts) {
  Machine m(Config({4096}));
  Mm* parent = m.CreateMm("p", 0);
  const uint64_t start = m.Mmap(parent, "heap", 4, 0, false);
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 7));
  std::vector<Mm*> children;
  for (int i = 0; i < 299; ++i) {
    Mm* child = nullptr;
    std::string name = "c";
    name += std::to_string(i);
    ASSERT_FALSE(m.Fork(parent, &child, name));
    children.push_back(child);
  }
  Page* page = PageAt(m, parent, Addr(start, 0));
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->mapcount(), 300);
  EXPECT_EQ(page->refcount(), 300);
  EXPECT_EQ(m.phys().wide_counts(), 2u);
  EXPECT_MACHINE_OK(m);
  for (size_t i = 0; i < 100; ++i) m.Exit(children[i]);
  EXPECT_EQ(page->mapcount(), 200);
  EXPECT_MACHINE_OK(m);
  for (size_t i = 100; i < children.size(); ++i) m.Exit(children[i]);
  EXPECT_EQ(page->mapcount(), 1);
  EXPECT_EQ(page->refcount(), 1);
  EXPECT_EQ(m.phys().wide_counts(), 0u);
  EXPECT_MACHINE_OK(m);
}

}  // namespace
}  // namespace ksmsim::mmu
