// The fault handler (mm/memory.c): anonymous read and write faults, write-protect faults
// that reuse or copy, fork's copy-on-write sharing, exit, munmap and madvise(DONTNEED).
#include <gtest/gtest.h>

#include <cerrno>

#include "mmu/machine.h"
#include "mmu_test_util.h"

namespace ksmsim::mmu {
namespace {

using testing::Addr;
using testing::Config;
using testing::HoldsGen;
using testing::PageAt;
using testing::PteAt;
using testing::UsedPages;
using testing::WriteGen;

class FaultTest : public ::testing::Test {
 protected:
  FaultTest() : m(Config({4096})) {}
  Machine m;
};

// A machine whose PFNs and swap slots all have a 4-byte PTE form gives its processes
// narrow page tables; one frame or one swap slot more and they keep 8-byte PTEs. Faults,
// the zero page and swap entries work alike in both.
TEST(PteFormTest, NarrowPteTablesWhereEveryFrameAndSwapSlotFits) {
  const uint64_t fits = NarrowPte::kMaxField - 1;
  struct Case {
    uint64_t frames, swap;
    bool narrow;
  };
  for (const Case c : {Case{4096, 0, true}, Case{fits, 0, true}, Case{fits + 1, 0, false},
                       Case{4096, fits, true}, Case{4096, fits + 1, false}}) {
    MachineConfig config = Config({c.frames});
    config.swap_pages = c.swap;
    Machine m(config);
    Mm* mm = m.CreateMm("p", 0);
    EXPECT_EQ(mm->page_table.narrow(), c.narrow) << c.frames << " frames, " << c.swap << " slots";
    const uint64_t start = m.Mmap(mm, "heap", 2, 0, false);
    ContentId got = 0;
    ASSERT_FALSE(m.ReadPage(mm, Addr(start, 0), &got));
    m.contents().Unref(got);
    EXPECT_EQ(PteAt(m, mm, Addr(start, 0)).pfn(), kZeroPfn);
    ASSERT_FALSE(WriteGen(m, mm, start, 1, 5));
    EXPECT_TRUE(HoldsGen(m, mm, start, 1, 5));
    EXPECT_TRUE(PteAt(m, mm, Addr(start, 1)).write());
  }
}

TEST_F(FaultTest, ReadFaultMapsTheZeroPage) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 8, 0, false);
  ContentId got = 0;
  ASSERT_FALSE(m.ReadPage(mm, Addr(start, 3), &got));
  Pte pte = PteAt(m, mm, Addr(start, 3));
  EXPECT_TRUE(pte.present());
  EXPECT_TRUE(pte.special());
  EXPECT_FALSE(pte.write());
  EXPECT_EQ(pte.pfn(), kZeroPfn);
  EXPECT_EQ(got, m.contents().Fill(0));
  m.contents().Unref(got);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(mm->anon_rss, 0);
  EXPECT_EQ(m.resident_pages(mm), 0u);
  EXPECT_EQ(mm->vmas.begin()->second->anon_vma, nullptr);  // a read needs no anon_vma
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, WriteFaultAllocatesAnExclusivePage) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 8, 0, false);
  ASSERT_FALSE(WriteGen(m, mm, start, 2, 100));
  Pte pte = PteAt(m, mm, Addr(start, 2));
  EXPECT_TRUE(pte.present());
  EXPECT_TRUE(pte.write());
  EXPECT_TRUE(pte.dirty());
  EXPECT_FALSE(pte.special());
  Page* page = m.pfn_to_page(pte.pfn());
  EXPECT_TRUE(page->PageAnon());
  EXPECT_TRUE(page->Test(PG_anon_exclusive));
  EXPECT_EQ(page->mapcount(), 1);
  EXPECT_EQ(page->refcount(), 1);
  EXPECT_EQ(page->index(), Addr(start, 2) >> kPageShift);
  EXPECT_EQ(page->anon_vma(), mm->vmas.begin()->second->anon_vma);
  EXPECT_EQ(UsedPages(m), 1u);
  EXPECT_EQ(mm->anon_rss, 1);
  EXPECT_TRUE(HoldsGen(m, mm, start, 2, 100));
  // Writing again goes to the same frame without a fault.
  ASSERT_FALSE(WriteGen(m, mm, start, 2, 101));
  EXPECT_EQ(PteAt(m, mm, Addr(start, 2)).pfn(), pte.pfn());
  EXPECT_TRUE(HoldsGen(m, mm, start, 2, 101));
  EXPECT_EQ(UsedPages(m), 1u);
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, WriteAfterReadReplacesTheZeroPage) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 1, 0, false);
  ContentId got = 0;
  ASSERT_FALSE(m.ReadPage(mm, start, &got));
  ASSERT_FALSE(WriteGen(m, mm, start, 0, 5));
  Pte pte = PteAt(m, mm, start);
  EXPECT_FALSE(pte.special());
  EXPECT_NE(pte.pfn(), kZeroPfn);
  EXPECT_TRUE(pte.write());
  EXPECT_EQ(m.pfn_to_page(pte.pfn())->mapcount(), 1);
  EXPECT_EQ(UsedPages(m), 1u);
  EXPECT_EQ(mm->anon_rss, 1);
  EXPECT_TRUE(HoldsGen(m, mm, start, 0, 5));
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, WriteProtectFaultReusesAnExclusivePage) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 1, 0, false);
  ASSERT_FALSE(WriteGen(m, mm, start, 0, 9));
  PteRef pte = m.pte_of(mm, start);
  Pfn pfn = pte->pfn();
  pte.set(Pte{pte->v & ~(Pte::kWrite | Pte::kDirty)});  // as mprotect or write_protect_page would
  Vma* vma = mm->vma_lookup(start);
  unsigned ret = m.handle_mm_fault(vma, start, FAULT_FLAG_WRITE);
  EXPECT_TRUE(ret & VM_FAULT_WRITE);
  EXPECT_EQ(pte->pfn(), pfn);
  EXPECT_TRUE(pte->write());
  EXPECT_TRUE(pte->dirty());
  EXPECT_EQ(UsedPages(m), 1u);
  EXPECT_EQ(m.vmstat().cow_ksm, 0u);
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, WriteProtectFaultCopiesASharedPage) {
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 1, 0, false);
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 9));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  Page* shared = PageAt(m, parent, start);
  ASSERT_EQ(shared, PageAt(m, child, start));
  ASSERT_EQ(shared->mapcount(), 2);
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 10));
  Page* copy = PageAt(m, parent, start);
  EXPECT_NE(copy, shared);
  EXPECT_TRUE(copy->Test(PG_anon_exclusive));
  EXPECT_EQ(copy->mapcount(), 1);
  EXPECT_EQ(copy->refcount(), 1);
  EXPECT_EQ(shared->mapcount(), 1);
  EXPECT_EQ(shared->refcount(), 1);
  EXPECT_EQ(PageAt(m, child, start), shared);
  EXPECT_FALSE(PteAt(m, child, start).write());
  EXPECT_TRUE(HoldsGen(m, parent, start, 0, 10));
  EXPECT_TRUE(HoldsGen(m, child, start, 0, 9));
  EXPECT_EQ(UsedPages(m), 2u);
  // The child's page is now mapped once: its write fault reuses it (the refcount test of
  // do_wp_page, then page_move_anon_rmap to the child's own anon_vma).
  ASSERT_FALSE(WriteGen(m, child, start, 0, 11));
  EXPECT_EQ(PageAt(m, child, start), shared);
  EXPECT_TRUE(shared->Test(PG_anon_exclusive));
  EXPECT_EQ(shared->anon_vma(), child->vma_lookup(start)->anon_vma);
  EXPECT_EQ(UsedPages(m), 2u);
  EXPECT_TRUE(HoldsGen(m, child, start, 0, 11));
  EXPECT_TRUE(HoldsGen(m, parent, start, 0, 10));
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, ForkSharesPagesCopyOnWrite) {
  Mm* parent = m.CreateMm("parent", 0);
  constexpr uint64_t n = 600;  // spans two page-table leaves
  uint64_t start = m.Mmap(parent, "heap", n, 0, false);
  for (uint64_t i = 0; i < n; ++i) ASSERT_FALSE(WriteGen(m, parent, start, i, 1000 + i));
  ContentId z = 0;
  uint64_t hole = m.Mmap(parent, "holes", 4, 0, false);
  ASSERT_FALSE(m.ReadPage(parent, hole, &z));  // a zero-page PTE in a VMA with no anon_vma
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  EXPECT_EQ(child->next_region_addr, parent->next_region_addr);
  EXPECT_EQ(child->vmas.size(), parent->vmas.size());
  EXPECT_EQ(UsedPages(m), n);
  EXPECT_EQ(child->anon_rss, static_cast<int64_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    Pte pp = PteAt(m, parent, Addr(start, i)), cp = PteAt(m, child, Addr(start, i));
    ASSERT_TRUE(cp.present());
    EXPECT_EQ(pp.pfn(), cp.pfn());
    EXPECT_FALSE(pp.write());
    EXPECT_FALSE(cp.write());
    Page* page = m.pfn_to_page(pp.pfn());
    EXPECT_EQ(page->mapcount(), 2);
    EXPECT_EQ(page->refcount(), 2);
    EXPECT_FALSE(page->Test(PG_anon_exclusive));
  }
  EXPECT_MACHINE_OK(m);
  // Each side writes half; the other half stays shared.
  for (uint64_t i = 0; i < n; i += 2) ASSERT_FALSE(WriteGen(m, child, start, i, 5000 + i));
  EXPECT_EQ(UsedPages(m), n + n / 2);
  // The parent's pages the child copied away are mapped once now: its writes reuse them.
  for (uint64_t i = 0; i < n; i += 4) ASSERT_FALSE(WriteGen(m, parent, start, i, 9000 + i));
  EXPECT_EQ(UsedPages(m), n + n / 2);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t want_parent = i % 4 == 0 ? 9000 + i : 1000 + i;
    uint64_t want_child = i % 2 == 0 ? 5000 + i : 1000 + i;
    EXPECT_TRUE(HoldsGen(m, parent, start, i, want_parent)) << i;
    EXPECT_TRUE(HoldsGen(m, child, start, i, want_child)) << i;
    Page* pp = PageAt(m, parent, Addr(start, i));
    Page* cp = PageAt(m, child, Addr(start, i));
    if (i % 2 == 1) {
      EXPECT_EQ(pp, cp);
      EXPECT_EQ(pp->mapcount(), 2);
    } else {
      EXPECT_NE(pp, cp);
      EXPECT_EQ(pp->mapcount(), 1);
      EXPECT_EQ(cp->mapcount(), 1);
    }
  }
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, ExitFreesEveryFrame) {
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 100, 0, false);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_FALSE(WriteGen(m, parent, start, i, i));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  for (uint64_t i = 0; i < 50; ++i) ASSERT_FALSE(WriteGen(m, child, start, i, 777 + i));
  uint64_t other = m.Mmap(child, "more", 10, 0, false);
  for (uint64_t i = 0; i < 10; ++i) ASSERT_FALSE(WriteGen(m, child, other, i, 3 + i));
  EXPECT_EQ(UsedPages(m), 160u);
  m.Exit(parent);
  EXPECT_EQ(parent->mm_users, 0);
  EXPECT_TRUE(parent->vmas.empty());
  EXPECT_EQ(parent->anon_rss, 0);
  EXPECT_EQ(UsedPages(m), 110u);
  for (uint64_t i = 0; i < 100; ++i)
    EXPECT_TRUE(HoldsGen(m, child, start, i, i < 50 ? 777 + i : i)) << i;
  EXPECT_MACHINE_OK(m);
  m.Exit(child);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.phys().free_pages(0), 4096u);
  EXPECT_EQ(child->page_table.table_pages(), 3u);  // leaves freed (PGD, PUD, PMD remain)
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, MunmapFreesFramesAndPageTables) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 1024, 0, false);
  for (uint64_t i = 0; i < 1024; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  size_t tables = mm->page_table.table_pages();
  // Unmap the middle: the VMA is split in two and the pages in between are freed.
  m.Munmap(mm, Addr(start, 100), Addr(start, 612));
  EXPECT_EQ(UsedPages(m), 512u);
  EXPECT_EQ(mm->anon_rss, 512);
  EXPECT_EQ(mm->vmas.size(), 2u);
  EXPECT_EQ(mm->vma_lookup(Addr(start, 300)), nullptr);
  ContentId got = 0;
  auto err = m.ReadPage(mm, Addr(start, 300), &got);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, EFAULT);
  EXPECT_TRUE(HoldsGen(m, mm, start, 99, 99));
  EXPECT_TRUE(HoldsGen(m, mm, start, 612, 612));
  EXPECT_EQ(mm->page_table.table_pages(), tables);  // both leaves keep some entries
  m.Munmap(mm, start, Addr(start, 1024));
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(mm->anon_rss, 0);
  EXPECT_TRUE(mm->vmas.empty());
  EXPECT_EQ(mm->page_table.table_pages(), tables - 2);
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, MunmapOfASharedPageLeavesTheOtherMapping) {
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 4, 0, false);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_FALSE(WriteGen(m, parent, start, i, i));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  m.Munmap(parent, start, Addr(start, 4));
  EXPECT_EQ(UsedPages(m), 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(PageAt(m, child, Addr(start, i))->mapcount(), 1);
    EXPECT_TRUE(HoldsGen(m, child, start, i, i));
  }
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, MadviseDontneedFreesFramesAndReadsZeroAfterwards) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 16, 0, false);
  for (uint64_t i = 0; i < 16; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, 40 + i));
  ASSERT_FALSE(m.Madvise(mm, Addr(start, 4), Addr(start, 12), Advice::kDontneed));
  EXPECT_EQ(UsedPages(m), 8u);
  EXPECT_EQ(mm->anon_rss, 8);
  EXPECT_EQ(mm->vmas.size(), 1u);  // DONTNEED does not split
  EXPECT_TRUE(PteAt(m, mm, Addr(start, 4)).none());
  ContentId got = 0;
  ASSERT_FALSE(m.ReadPage(mm, Addr(start, 5), &got));
  EXPECT_EQ(got, m.contents().Fill(0));
  m.contents().Unref(got);
  EXPECT_TRUE(PteAt(m, mm, Addr(start, 5)).special());
  EXPECT_TRUE(HoldsGen(m, mm, start, 3, 43));
  EXPECT_TRUE(HoldsGen(m, mm, start, 12, 52));
  EXPECT_MACHINE_OK(m);
  // Beyond the mapping: ENOMEM, as madvise(2) reports unmapped addresses.
  auto err = m.Madvise(mm, start, Addr(start, 17), Advice::kDontneed);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, ENOMEM);
}

TEST_F(FaultTest, MadviseMergeableSplitsTheVma) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 16, 0, false);
  ASSERT_FALSE(m.Madvise(mm, Addr(start, 4), Addr(start, 8), Advice::kMergeable));
  ASSERT_EQ(mm->vmas.size(), 3u);
  EXPECT_TRUE(mm->vma_lookup(Addr(start, 4))->flags & VM_MERGEABLE);
  EXPECT_FALSE(mm->vma_lookup(Addr(start, 3))->flags & VM_MERGEABLE);
  EXPECT_FALSE(mm->vma_lookup(Addr(start, 8))->flags & VM_MERGEABLE);
  for (uint64_t i = 0; i < 16; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  for (uint64_t i = 0; i < 16; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, i));
  EXPECT_MACHINE_OK(m);
}

// A `locked` region is mlock2(MLOCK_ONFAULT)ed (WORKLOAD-FORMAT: "not yet touched"): nothing
// is populated, and each page is mlocked when it is faulted in.
TEST_F(FaultTest, LockedMappingIsLockedOnFault) {
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "locked", 8, 0, true);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(PageAt(m, mm, start), nullptr);
  for (uint64_t i = 0; i < 8; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  EXPECT_EQ(UsedPages(m), 8u);
  Page* p = PageAt(m, mm, start);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->Test(PG_mlocked));
  auto err = m.Madvise(mm, start, Addr(start, 8), Advice::kDontneed);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, EINVAL);
  EXPECT_EQ(UsedPages(m), 8u);
  EXPECT_MACHINE_OK(m);
}

TEST_F(FaultTest, WriteToAnUnmappedAddressIsEfault) {
  Mm* mm = m.CreateMm("p", 0);
  auto err = m.WritePage(mm, 0x1000, m.contents().Fill(7));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, EFAULT);
  EXPECT_EQ(m.contents().live_contents(), 1u);  // only the zero page's content
}

}  // namespace
}  // namespace ksmsim::mmu
