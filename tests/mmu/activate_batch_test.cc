// mark_page_accessed() and ksmd's activate batch (Machine::mark_page_accessed): the second
// access of an inactive page holds a reference in the batch until it fills or drains.
#include <gtest/gtest.h>

#include <vector>

#include "mmu/machine.h"
#include "mmu_test_util.h"

namespace ksmsim::mmu {
namespace {

using testing::Addr;
using testing::Config;
using testing::WriteGen;

// n private pages of one process, each written, and their descriptors.
std::vector<Page*> Pages(Machine& m, int n) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", n, 0, false);
  std::vector<Page*> pages;
  for (int i = 0; i < n; ++i) {
    EXPECT_FALSE(WriteGen(m, mm, start, i, 100 + i));
    pages.push_back(m.pfn_to_page(Pte{m.pte_value(mm, Addr(start, i))}.pfn()));
  }
  return pages;
}

TEST(ActivateBatchTest, FirstAccessOnlyMarksReferenced) {
  Machine m(Config({4096}));
  Page* page = Pages(m, 1)[0];
  m.mark_page_accessed(page);
  EXPECT_TRUE(page->Test(PG_referenced));
  EXPECT_FALSE(page->Test(PG_active));
  EXPECT_EQ(page->refcount(), 1);
  EXPECT_MACHINE_OK(m);
}

TEST(ActivateBatchTest, SecondAccessHoldsAReferenceUntilTheDrain) {
  Machine m(Config({4096}));
  Page* page = Pages(m, 1)[0];
  m.mark_page_accessed(page);
  m.mark_page_accessed(page);
  EXPECT_EQ(page->refcount(), 2);  // the batch's folio_get()
  EXPECT_FALSE(page->Test(PG_referenced));
  EXPECT_FALSE(page->Test(PG_active));
  EXPECT_EQ(m.batch_refs(page), 1);
  EXPECT_MACHINE_OK(m);
  // A third access finds it off the LRU, in the batch: no second reference.
  m.mark_page_accessed(page);
  m.mark_page_accessed(page);
  EXPECT_EQ(page->refcount(), 2);
  m.lru_add_drain_all();
  EXPECT_EQ(page->refcount(), 1);
  EXPECT_TRUE(page->Test(PG_active));
  // Active and referenced: nothing more to do.
  m.mark_page_accessed(page);
  EXPECT_EQ(page->refcount(), 1);
  EXPECT_MACHINE_OK(m);
}

TEST(ActivateBatchTest, AFullBatchDrainsAtOnce) {
  Machine m(Config({4096}));
  std::vector<Page*> pages = Pages(m, 15);
  for (int i = 0; i < 14; ++i) {
    m.mark_page_accessed(pages[i]);
    m.mark_page_accessed(pages[i]);
    EXPECT_EQ(pages[i]->refcount(), 2);
  }
  m.mark_page_accessed(pages[14]);
  m.mark_page_accessed(pages[14]);  // the 15th entry: folio_batch_add() says full
  for (Page* page : pages) {
    EXPECT_EQ(page->refcount(), 1);
    EXPECT_TRUE(page->Test(PG_active));
  }
  EXPECT_MACHINE_OK(m);
}

TEST(ActivateBatchTest, MultiGenLruKeepsNoBatch) {
  MachineConfig c = Config({4096});
  c.activate_batch = false;  // the 6.12 profile
  Machine m(c);
  Page* page = Pages(m, 1)[0];
  m.mark_page_accessed(page);
  m.mark_page_accessed(page);
  EXPECT_EQ(page->refcount(), 1);
  EXPECT_TRUE(page->Test(PG_referenced));
  EXPECT_MACHINE_OK(m);
}

}  // namespace
}  // namespace ksmsim::mmu
