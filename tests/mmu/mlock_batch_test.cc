// CPU 0's mlock batch (mm/mlock.c): every process and ksmd run on CPU 0 (the oracle pins
// them there), so the mlocks of faults and the munlocks of unmaps in a locked region share
// ksmd's batch. Each holds a page reference until the batch fills (PAGEVEC_SIZE, 15 in
// 6.1) or an lru_add_drain() empties it: munmap, exit, MADV_DONTNEED and MADV_PAGEOUT
// drain before they unmap, so their own munlocks stay in the batch after them.
#include <gtest/gtest.h>

#include <vector>

#include "mmu/machine.h"
#include "mmu_test_util.h"

namespace ksmsim::mmu {
namespace {

using testing::Addr;
using testing::Config;
using testing::PageAt;
using testing::UsedPages;
using testing::WriteGen;

class MlockBatchTest : public ::testing::Test {
 protected:
  MlockBatchTest() : m(Config({4096}, 64)) {}
  // Faults n pages of a new locked region of p in: each one's mlock goes to the batch.
  std::vector<Page*> LockedPages(Mm* p, uint64_t n, uint64_t* start) {
    *start = m.Mmap(p, "locked", n, 0, true);
    std::vector<Page*> pages;
    for (uint64_t i = 0; i < n; ++i) {
      EXPECT_FALSE(WriteGen(m, p, *start, i, 100 + i));
      pages.push_back(PageAt(m, p, Addr(*start, i)));
    }
    return pages;
  }
  Machine m;
};

TEST_F(MlockBatchTest, AProcessFaultsFillTheBatchWhichDrainsWhenFull) {
  Mm* p = m.CreateMm("p", 0);
  uint64_t start = 0;
  std::vector<Page*> pages = LockedPages(p, 20, &start);
  // The 15th mlock filled the batch, which was processed at once: the last 5 are held.
  for (size_t i = 0; i < 15; ++i) EXPECT_EQ(m.batch_refs(pages[i]), 0) << i;
  for (size_t i = 15; i < 20; ++i) {
    EXPECT_EQ(m.batch_refs(pages[i]), 1) << i;
    EXPECT_EQ(pages[i]->refcount(), 2) << i;  // the mapping and the batch
  }
  EXPECT_MACHINE_OK(m);
}

TEST_F(MlockBatchTest, MunmapDrainsFirstAndItsOwnMunlocksStayInTheBatch) {
  Mm* p = m.CreateMm("p", 0);
  uint64_t start = 0;
  LockedPages(p, 20, &start);
  m.Munmap(p, start, Addr(start, 20));
  // unmap_region(): lru_add_drain() (the 5 mlocks), then 20 munlocks: 15 fill the batch and
  // are processed, the last 5 pages stay allocated, held by the batch alone.
  EXPECT_EQ(UsedPages(m), 5u);
  EXPECT_MACHINE_OK(m);
  m.lru_add_drain();
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_MACHINE_OK(m);
}

TEST_F(MlockBatchTest, ExitDrainsBeforeItUnmaps) {
  Mm* p = m.CreateMm("p", 0);
  uint64_t start = 0;
  LockedPages(p, 3, &start);
  m.Exit(p);
  EXPECT_EQ(UsedPages(m), 3u);  // exit_mmap(): drained, then 3 munlocks held
  m.lru_add_drain();
  EXPECT_EQ(UsedPages(m), 0u);
}

TEST_F(MlockBatchTest, DontneedAndPageoutElsewhereDrainTheBatch) {
  Mm* p = m.CreateMm("p", 0);
  uint64_t start = 0;
  std::vector<Page*> pages = LockedPages(p, 3, &start);
  const uint64_t other = m.Mmap(p, "heap", 2, 0, false);
  ASSERT_FALSE(WriteGen(m, p, other, 0, 7));
  EXPECT_EQ(m.batch_refs(pages[0]), 1);
  ASSERT_FALSE(m.Madvise(p, other, Addr(other, 1), Advice::kDontneed));
  EXPECT_EQ(m.batch_refs(pages[0]), 0);  // zap_page_range_single(): lru_add_drain()
  uint64_t start2 = 0;
  Page* again = LockedPages(p, 1, &start2)[0];  // mlock_fixup() drained, then one mlock
  EXPECT_EQ(m.batch_refs(again), 1);
  ASSERT_FALSE(WriteGen(m, p, other, 1, 8));
  ASSERT_FALSE(m.Madvise(p, other, Addr(other, 2), Advice::kPageout));
  EXPECT_EQ(m.batch_refs(again), 0);  // madvise_pageout(): lru_add_drain()
  EXPECT_MACHINE_OK(m);
}

}  // namespace
}  // namespace ksmsim::mmu
