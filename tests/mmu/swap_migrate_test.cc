// Swap (pageout and swap-in, the swapcache), pins, out-of-memory and reclaim, page
// migration between nodes, and memory hotremove/hotadd of a block.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

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

TEST(SwapTest, PageoutThenReadBack) {
  Machine m(Config({4096}, 64));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 10, 0, false);
  for (uint64_t i = 0; i < 10; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, 200 + i));
  ASSERT_FALSE(m.Madvise(mm, start, Addr(start, 10), Advice::kPageout));
  EXPECT_EQ(m.vmstat().pswpout, 10u);
  EXPECT_EQ(m.vmstat().pswpin, 0u);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.swap().used(), 10u);
  EXPECT_EQ(mm->swap_ents, 10);
  EXPECT_EQ(mm->anon_rss, 0);
  EXPECT_EQ(m.resident_pages(mm), 0u);
  Pte pte = PteAt(m, mm, start);
  EXPECT_TRUE(pte.is_swap());
  EXPECT_TRUE(pte.v & Pte::kSwpExclusive);
  EXPECT_EQ(m.swap().count(pte.swap_slot()), 1u);
  EXPECT_EQ(m.swap().cache(pte.swap_slot()), nullptr);  // written and dropped from cache
  EXPECT_MACHINE_OK(m);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, 200 + i)) << i;
  EXPECT_EQ(m.vmstat().pswpin, 10u);
  EXPECT_EQ(m.swap().used(), 0u);  // one user: swap-in skipped the swapcache, slot freed
  EXPECT_EQ(mm->swap_ents, 0);
  EXPECT_EQ(mm->anon_rss, 10);
  EXPECT_EQ(UsedPages(m), 10u);
  Page* p = PageAt(m, mm, start);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->PageSwapCache());
  EXPECT_TRUE(p->Test(PG_anon_exclusive));
  // An exclusive page swapped in by a read fault is reused by the write that follows.
  ASSERT_FALSE(WriteGen(m, mm, start, 0, 300));
  EXPECT_EQ(PageAt(m, mm, start), p);
  EXPECT_EQ(UsedPages(m), 10u);
  EXPECT_MACHINE_OK(m);
}

TEST(SwapTest, WriteFaultOnASwappedPage) {
  Machine m(Config({4096}, 64));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 2, 0, false);
  ASSERT_FALSE(WriteGen(m, mm, start, 0, 1));
  ASSERT_FALSE(m.Pageout(mm, start, Addr(start, 2)));
  ASSERT_FALSE(WriteGen(m, mm, start, 0, 2));
  EXPECT_EQ(m.vmstat().pswpin, 1u);
  EXPECT_TRUE(PteAt(m, mm, start).write());
  EXPECT_EQ(UsedPages(m), 1u);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_TRUE(HoldsGen(m, mm, start, 0, 2));
  EXPECT_MACHINE_OK(m);
}

TEST(SwapTest, SharedSwapEntryGoesThroughTheSwapcache) {
  Machine m(Config({4096}, 64));
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 4, 0, false);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_FALSE(WriteGen(m, parent, start, i, i));
  ASSERT_FALSE(m.Pageout(parent, start, Addr(start, 4)));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  Pte pp = PteAt(m, parent, start), cp = PteAt(m, child, start);
  ASSERT_TRUE(pp.is_swap());
  EXPECT_EQ(pp.swap_slot(), cp.swap_slot());
  EXPECT_FALSE(pp.v & Pte::kSwpExclusive);  // fork marks the entry shared
  EXPECT_EQ(m.swap().count(pp.swap_slot()), 2u);
  EXPECT_EQ(child->swap_ents, 4);
  EXPECT_MACHINE_OK(m);

  EXPECT_TRUE(HoldsGen(m, parent, start, 0, 0));
  EXPECT_EQ(m.vmstat().pswpin, 4u);  // with readahead: the whole 4-page VMA
  Page* page = PageAt(m, parent, start);
  ASSERT_NE(page, nullptr);
  EXPECT_TRUE(page->PageSwapCache());
  EXPECT_EQ(m.swap().cache(pp.swap_slot()), page);
  EXPECT_FALSE(PteAt(m, parent, start).write());
  EXPECT_EQ(page->refcount(), 2);  // the mapping and the swapcache
  EXPECT_MACHINE_OK(m);
  EXPECT_TRUE(HoldsGen(m, child, start, 0, 0));
  EXPECT_EQ(m.vmstat().pswpin, 4u);  // found in the swapcache: no second read
  EXPECT_EQ(PageAt(m, child, start), page);
  EXPECT_EQ(page->mapcount(), 2);
  EXPECT_MACHINE_OK(m);

  // Writing the shared swapcache page copies it; both sides keep their data.
  ASSERT_FALSE(WriteGen(m, child, start, 0, 50));
  EXPECT_NE(PageAt(m, child, start), page);
  EXPECT_TRUE(HoldsGen(m, parent, start, 0, 0));
  EXPECT_TRUE(HoldsGen(m, child, start, 0, 50));
  EXPECT_MACHINE_OK(m);

  m.Exit(child);
  m.Exit(parent);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_MACHINE_OK(m);
}

// do_swap_page(): a page taken from the swapcache whose last other reference went away
// (folio_ref_count() == 1 after should_try_to_free_swap dropped the swapcache) is mapped
// with RMAP_EXCLUSIVE: a writable PTE always maps a PageAnonExclusive page.
TEST(SwapTest, SwapInOfTheLastReferenceIsExclusive) {
  Machine m(Config({4096}, 64));
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 1, 0, false);
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 1));
  ASSERT_FALSE(m.Pageout(parent, start, Addr(start, 1)));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  EXPECT_TRUE(HoldsGen(m, child, start, 0, 1));  // into the swapcache
  Page* page = PageAt(m, child, start);
  m.Exit(child);  // the slot is still used by the parent: the page stays cached
  ASSERT_TRUE(page->PageSwapCache());
  ASSERT_EQ(page->refcount(), 1);
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 2));
  EXPECT_EQ(PageAt(m, parent, start), page);
  EXPECT_TRUE(PteAt(m, parent, start).write());
  EXPECT_TRUE(page->Test(PG_anon_exclusive));
  EXPECT_FALSE(page->PageSwapCache());
  EXPECT_EQ(page->refcount(), 1);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_EQ(m.vmstat().pswpin, 1u);
  EXPECT_TRUE(HoldsGen(m, parent, start, 0, 2));
  EXPECT_MACHINE_OK(m);
}

TEST(SwapTest, PageoutSkipsPagesMappedMoreThanOnce) {
  Machine m(Config({4096}, 64));
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 4, 0, false);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_FALSE(WriteGen(m, parent, start, i, i));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  ASSERT_FALSE(WriteGen(m, child, start, 0, 9));  // page 0 is now private on both sides
  ASSERT_FALSE(m.Pageout(parent, start, Addr(start, 4)));
  EXPECT_EQ(m.vmstat().pswpout, 1u);
  EXPECT_TRUE(PteAt(m, parent, start).is_swap());
  EXPECT_TRUE(PteAt(m, parent, Addr(start, 1)).present());
  EXPECT_MACHINE_OK(m);
}

// page_remove_rmap() munlocks a page unmapped from a VM_LOCKED VMA: once the locked
// parent is gone, the child's copy of its page (fork does not inherit mlock) is an
// ordinary page that can be paged out.
TEST(SwapTest, PagesOfAnExitedLockedMappingCanBePagedOut) {
  Machine m(Config({4096}, 64));
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "locked", 4, 0, true);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_FALSE(WriteGen(m, parent, start, i, i));
  ASSERT_TRUE(PageAt(m, parent, start)->Test(PG_mlocked));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  EXPECT_FALSE(child->vma_lookup(start)->flags & VM_LOCKED);
  m.Exit(parent);
  Page* page = PageAt(m, child, start);
  EXPECT_FALSE(page->Test(PG_mlocked));
  ASSERT_FALSE(m.Pageout(child, start, Addr(start, 4)));
  EXPECT_EQ(m.vmstat().pswpout, 4u);
  EXPECT_EQ(UsedPages(m), 0u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(HoldsGen(m, child, start, i, i));
  EXPECT_MACHINE_OK(m);
}

// Reclaim of a page mapped by a locked VMA fails in try_to_unmap(), which mlocks it again.
TEST(SwapTest, ReclaimLeavesALockedPage) {
  Machine m(Config({4096}, 64));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "locked", 1, 0, true);
  ASSERT_FALSE(WriteGen(m, mm, start, 0, 1));
  Page* page = PageAt(m, mm, start);
  EXPECT_FALSE(m.reclaim_page(page));
  EXPECT_EQ(PageAt(m, mm, start), page);
  EXPECT_TRUE(page->Test(PG_mlocked));
  EXPECT_EQ(m.vmstat().pswpout, 0u);
  EXPECT_MACHINE_OK(m);
}

TEST(SwapTest, PageoutWithoutSwapFailsSoftly) {
  Machine m(Config({4096}));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 4, 0, false);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  EXPECT_FALSE(m.Madvise(mm, start, Addr(start, 4), Advice::kPageout));
  EXPECT_EQ(m.vmstat().pswpout, 0u);
  EXPECT_EQ(UsedPages(m), 4u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, i));
  EXPECT_MACHINE_OK(m);
}

// A pin is get_user_pages(FOLL_GET) as vmsplice() takes it: one more page reference, not
// FOLL_PIN. Reclaim unmaps and writes the page, but __remove_mapping() cannot free it: it
// stays in the swapcache until the reference goes.
TEST(PinTest, PinPreventsReclaimingTheFrame) {
  Machine m(Config({4096}, 64));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 4, 0, false);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  ASSERT_FALSE(m.Pin(mm, Addr(start, 1)));
  Page* pinned = PageAt(m, mm, Addr(start, 1));
  EXPECT_EQ(m.page_pincount(pinned), 1);
  EXPECT_EQ(pinned->refcount(), 2);
  EXPECT_MACHINE_OK(m);
  ASSERT_FALSE(m.Pageout(mm, start, Addr(start, 4)));
  EXPECT_EQ(m.vmstat().pswpout, 4u);
  EXPECT_TRUE(PteAt(m, mm, Addr(start, 1)).is_swap());
  EXPECT_FALSE(pinned->Test(PG_free));
  EXPECT_TRUE(pinned->PageSwapCache());
  EXPECT_EQ(pinned->mapcount(), 0);
  EXPECT_EQ(pinned->refcount(), 2);  // the swapcache and the pin
  EXPECT_EQ(UsedPages(m), 1u);
  EXPECT_EQ(m.swap().used(), 4u);
  EXPECT_FALSE(m.reclaim_page(pinned));
  EXPECT_MACHINE_OK(m);
  // Read back from the swapcache: no swap read for the pinned page.
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, i));
  EXPECT_EQ(m.vmstat().pswpin, 3u);
  EXPECT_EQ(PageAt(m, mm, Addr(start, 1)), pinned);
  EXPECT_MACHINE_OK(m);
  ASSERT_FALSE(m.Unpin(mm, Addr(start, 1)));
  ASSERT_FALSE(m.Pageout(mm, start, Addr(start, 4)));
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_MACHINE_OK(m);
  auto err = m.Unpin(mm, Addr(start, 1));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, EINVAL);
}

TEST(PinTest, PinIsAReferenceThatForcesCopyOnWrite) {
  Machine m(Config({4096}));
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 3, 0, false);
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 1));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  ASSERT_FALSE(WriteGen(m, parent, start, 2, 3));  // after the fork: the parent's own
  Page* shared = PageAt(m, parent, start);
  ASSERT_FALSE(m.Pin(parent, start));  // no FOLL_WRITE: nothing is unshared
  EXPECT_EQ(PageAt(m, parent, start), shared);
  EXPECT_EQ(PageAt(m, child, start), shared);
  EXPECT_EQ(shared->refcount(), 3);
  EXPECT_MACHINE_OK(m);
  // Both sides copy: the extra reference defeats do_wp_page's reuse.
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 10));
  ASSERT_FALSE(WriteGen(m, child, start, 0, 11));
  EXPECT_NE(PageAt(m, parent, start), shared);
  EXPECT_NE(PageAt(m, child, start), shared);
  EXPECT_EQ(shared->mapcount(), 0);
  EXPECT_EQ(shared->refcount(), 1);
  EXPECT_FALSE(shared->Test(PG_free));
  EXPECT_EQ(UsedPages(m), 4u);
  EXPECT_MACHINE_OK(m);
  ASSERT_FALSE(m.Unpin(parent, start));  // the reference is on the page that was pinned
  EXPECT_TRUE(shared->Test(PG_free));
  EXPECT_EQ(UsedPages(m), 3u);
  // An exclusive page with a pin is still reused in place, and fork shares it (FOLL_GET
  // is not a DMA pin: page_needs_cow_for_dma() is false).
  Page* own = PageAt(m, parent, Addr(start, 2));
  ASSERT_FALSE(m.Pin(parent, Addr(start, 2)));
  ASSERT_FALSE(WriteGen(m, parent, start, 2, 4));
  EXPECT_EQ(PageAt(m, parent, Addr(start, 2)), own);
  Mm* child2 = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child2, "child2"));
  EXPECT_EQ(PageAt(m, child2, Addr(start, 2)), own);
  EXPECT_TRUE(HoldsGen(m, child2, start, 2, 4));
  EXPECT_MACHINE_OK(m);
  // Pinning an untouched page maps the zero page and holds nothing.
  ASSERT_FALSE(m.Pin(parent, Addr(start, 1)));
  EXPECT_TRUE(PteAt(m, parent, Addr(start, 1)).special());
  ASSERT_FALSE(m.Unpin(parent, Addr(start, 1)));
  EXPECT_MACHINE_OK(m);
}

// do_exit() closes the process's files after its memory: the pipes holding its pins go,
// and a page that only they kept is freed.
TEST(PinTest, ExitDropsThePins) {
  Machine m(Config({4096}, 64));
  Mm* a = m.CreateMm("a", 0);
  uint64_t start = m.Mmap(a, "heap", 3, 0, false);
  for (uint64_t i = 0; i < 3; ++i) ASSERT_FALSE(WriteGen(m, a, start, i, i));
  ASSERT_FALSE(m.Pin(a, start));
  ASSERT_FALSE(m.Pin(a, start));  // twice: two references
  ASSERT_FALSE(m.Pin(a, Addr(start, 1)));
  ASSERT_FALSE(m.Pageout(a, Addr(start, 1), Addr(start, 2)));  // pinned, in the swapcache
  Mm* b = m.CreateMm("b", 0);
  uint64_t bs = m.Mmap(b, "heap", 1, 0, false);
  ASSERT_FALSE(WriteGen(m, b, bs, 0, 9));
  ASSERT_FALSE(m.Pin(b, bs));
  EXPECT_EQ(PageAt(m, a, start)->refcount(), 3);
  m.Exit(a);
  EXPECT_EQ(UsedPages(m), 1u);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_MACHINE_OK(m);
  EXPECT_EQ(m.page_pincount(PageAt(m, b, bs)), 1);  // another process's pin is untouched
  m.Exit(b);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_MACHINE_OK(m);
}

TEST(PinTest, PinPreventsMigration) {
  Machine m(Config({1024, 1024}));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 4, 0, false);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  ASSERT_FALSE(m.Pin(mm, Addr(start, 2)));
  Page* pinned = PageAt(m, mm, Addr(start, 2));
  EXPECT_EQ(m.migrate_page(pinned, 1), EBUSY);
  ASSERT_FALSE(m.Migrate(mm, start, Addr(start, 4), 1));
  EXPECT_EQ(PageAt(m, mm, Addr(start, 2)), pinned);
  EXPECT_EQ(m.page_to_nid(pinned), 0);
  EXPECT_EQ(m.page_to_nid(PageAt(m, mm, Addr(start, 1))), 1);
  EXPECT_EQ(m.phys().used_pages(0), 1u);
  EXPECT_EQ(m.phys().used_pages(1), 3u);
  EXPECT_MACHINE_OK(m);
  ASSERT_FALSE(m.Unpin(mm, Addr(start, 2)));
  ASSERT_FALSE(m.Migrate(mm, start, Addr(start, 4), 1));
  EXPECT_EQ(m.page_to_nid(PageAt(m, mm, Addr(start, 2))), 1);
  EXPECT_EQ(m.phys().used_pages(0), 0u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, i));
  EXPECT_MACHINE_OK(m);
}

TEST(MigrateTest, MovesPagesToAnotherNodeKeepingContentAndState) {
  Machine m(Config({1024, 1024}));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 32, 0, false);
  for (uint64_t i = 0; i < 32; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, 70 + i));
  ContentId z = 0;
  uint64_t zeros = m.Mmap(mm, "zeros", 2, 0, false);
  ASSERT_FALSE(m.ReadPage(mm, zeros, &z));
  EXPECT_EQ(m.phys().used_pages(0), 32u);
  ASSERT_FALSE(m.Migrate(mm, start, Addr(start, 32), 1));
  ASSERT_FALSE(m.Migrate(mm, zeros, Addr(zeros, 2), 1));  // the zero page stays
  EXPECT_EQ(m.phys().used_pages(0), 0u);
  EXPECT_EQ(m.phys().used_pages(1), 32u);
  EXPECT_TRUE(PteAt(m, mm, zeros).special());
  for (uint64_t i = 0; i < 32; ++i) {
    Pte pte = PteAt(m, mm, Addr(start, i));
    Page* p = m.pfn_to_page(pte.pfn());
    EXPECT_EQ(m.page_to_nid(p), 1);
    EXPECT_EQ(m.phys().pfn_to_nid(p->pfn()), 1);
    EXPECT_TRUE(pte.write());
    EXPECT_TRUE(p->Test(PG_anon_exclusive));
    EXPECT_EQ(p->mapcount(), 1);
    EXPECT_EQ(p->refcount(), 1);
    EXPECT_EQ(p->index(), Addr(start, i) >> kPageShift);
    EXPECT_TRUE(HoldsGen(m, mm, start, i, 70 + i));
  }
  EXPECT_EQ(mm->anon_rss, 32);
  EXPECT_MACHINE_OK(m);
  // Still writable in place after the move.
  Page* before = PageAt(m, mm, start);
  ASSERT_FALSE(WriteGen(m, mm, start, 0, 5));
  EXPECT_EQ(PageAt(m, mm, start), before);
  EXPECT_EQ(UsedPages(m), 32u);
  EXPECT_MACHINE_OK(m);
}

TEST(MigrateTest, SharedAndSwapcachePagesMoveWithEveryMapping) {
  Machine m(Config({1024, 1024}, 64));
  Mm* parent = m.CreateMm("parent", 0);
  uint64_t start = m.Mmap(parent, "heap", 2, 0, false);
  ASSERT_FALSE(WriteGen(m, parent, start, 0, 1));
  ASSERT_FALSE(WriteGen(m, parent, start, 1, 2));
  ASSERT_FALSE(m.Pageout(parent, Addr(start, 1), Addr(start, 2)));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  // move_pages(MPOL_MF_MOVE_ALL) moves a page mapped twice, fixing every PTE.
  Page* shared = PageAt(m, parent, start);
  ASSERT_FALSE(m.Migrate(parent, start, Addr(start, 1), 1));
  Page* moved = PageAt(m, parent, start);
  EXPECT_EQ(m.page_to_nid(moved), 1);
  EXPECT_EQ(PageAt(m, child, start), moved);
  EXPECT_EQ(moved->mapcount(), 2);
  EXPECT_EQ(moved->refcount(), 2);
  EXPECT_TRUE(shared->Test(PG_free));
  EXPECT_MACHINE_OK(m);
  // A page in the swapcache moves with its slot.
  EXPECT_TRUE(HoldsGen(m, parent, start, 1, 2));
  Page* cached = PageAt(m, parent, Addr(start, 1));
  ASSERT_TRUE(cached->PageSwapCache());
  uint32_t slot = m.page_private(cached);
  EXPECT_EQ(m.migrate_page(cached, 1), 0);
  Page* nc = PageAt(m, parent, Addr(start, 1));
  EXPECT_EQ(m.page_to_nid(nc), 1);
  EXPECT_TRUE(nc->PageSwapCache());
  EXPECT_EQ(m.page_private(nc), slot);
  EXPECT_EQ(m.swap().cache(slot), nc);
  EXPECT_MACHINE_OK(m);
  EXPECT_TRUE(HoldsGen(m, child, start, 1, 2));
  EXPECT_EQ(PageAt(m, child, Addr(start, 1)), nc);
  EXPECT_EQ(m.vmstat().pswpin, 1u);
  m.Exit(parent);
  m.Exit(child);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_MACHINE_OK(m);
}

TEST(MigrateTest, FullTargetNodeIsEnomem) {
  Machine m(Config({64, 4}));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 8, 0, false);
  for (uint64_t i = 0; i < 8; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  auto err = m.Migrate(mm, start, Addr(start, 8), 1);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, ENOMEM);
  EXPECT_EQ(m.phys().used_pages(1), 4u);
  EXPECT_EQ(m.phys().used_pages(0), 4u);
  for (uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, i));
  EXPECT_MACHINE_OK(m);
}

class HotplugTest : public ::testing::Test {
 protected:
  // Two nodes of 1024 pages, memory blocks of 256 pages; a process fills 300 pages of
  // node 0 (block 0 and part of block 1).
  HotplugTest() : m(Config({1024, 1024}, 0, 256)) {
    mm = m.CreateMm("p", 0);
    start = m.Mmap(mm, "heap", kPages, 0, false);
    for (uint64_t i = 0; i < kPages; ++i) EXPECT_FALSE(WriteGen(m, mm, start, i, 500 + i));
  }
  bool AllIntact() {
    for (uint64_t i = 0; i < kPages; ++i)
      if (!HoldsGen(m, mm, start, i, 500 + i)) return false;
    return true;
  }
  static constexpr uint64_t kPages = 300;
  Machine m;
  Mm* mm = nullptr;
  uint64_t start = 0;
};

TEST_F(HotplugTest, OfflineWithAPinnedPageIsEbusyAndLosesNothing) {
  ASSERT_FALSE(m.Pin(mm, Addr(start, 10)));
  Page* pinned = PageAt(m, mm, Addr(start, 10));
  ASSERT_EQ(pinned->pfn(), 10u);
  EXPECT_EQ(m.OfflineBlock(0, 0), EBUSY);
  EXPECT_FALSE(m.phys().IsIsolated(0));
  EXPECT_EQ(PageAt(m, mm, Addr(start, 10)), pinned);
  EXPECT_TRUE(AllIntact());
  // offline_pages() retries until only the pinned page is left: the block's 255 other
  // pages moved (to node 1: the block's own node is left out of the target nodemask) and
  // stay there; nothing moves back.
  EXPECT_EQ(m.phys().used_pages(0), kPages - 255);
  EXPECT_EQ(m.phys().used_pages(1), 255u);
  EXPECT_EQ(m.phys().free_pages(0), 1024 - kPages + 255);
  EXPECT_MACHINE_OK(m);
  // The block is usable again: the frames freed by the moves before the failure too.
  Mm* other = m.CreateMm("other", 0);
  uint64_t o = m.Mmap(other, "heap", 1024 - kPages + 255, 0, false);
  for (uint64_t i = 0; i < 1024 - kPages + 255; ++i) ASSERT_FALSE(WriteGen(m, other, o, i, i));
  EXPECT_EQ(m.phys().free_pages(0), 0u);
  EXPECT_EQ(m.phys().used_pages(1), 255u);
  EXPECT_MACHINE_OK(m);
}

TEST_F(HotplugTest, OfflineMovesEveryPageToAnotherNodeAndOnlineGivesTheBlockBack) {
  EXPECT_EQ(m.OfflineBlock(0, 0), 0);
  EXPECT_TRUE(m.phys().IsIsolated(0));
  EXPECT_TRUE(m.phys().IsIsolated(255));
  EXPECT_FALSE(m.phys().IsIsolated(256));
  // The block's 256 pages go to node 1: do_migrate_range() leaves their own node out of
  // the target nodemask. The 44 pages in block 1 stay.
  for (uint64_t i = 0; i < kPages; ++i)
    EXPECT_EQ(m.page_to_nid(PageAt(m, mm, Addr(start, i))), i < 256 ? 1 : 0) << i;
  EXPECT_TRUE(AllIntact());
  EXPECT_EQ(m.phys().used_pages(0), kPages - 256);
  EXPECT_EQ(m.phys().used_pages(1), 256u);
  EXPECT_EQ(m.phys().free_pages(0), 1024 - kPages);
  EXPECT_MACHINE_OK(m);
  // Offlining again is EINVAL (as the kernel's memory_block state check answers); every
  // node-0 allocation now avoids the block.
  EXPECT_EQ(m.OfflineBlock(0, 0), EINVAL);
  Mm* other = m.CreateMm("other", 0);
  uint64_t o = m.Mmap(other, "heap", 1024 - kPages + 1, 0, false);
  for (uint64_t i = 0; i < 1024 - kPages + 1; ++i) {
    ASSERT_FALSE(WriteGen(m, other, o, i, i));
    EXPECT_GE(PageAt(m, other, Addr(o, i))->pfn(), 256u);
  }
  EXPECT_EQ(m.phys().free_pages(0), 0u);
  EXPECT_EQ(m.phys().used_pages(1), 257u);  // the last one fell back to node 1
  EXPECT_MACHINE_OK(m);
  // Online: the block's 256 frames are allocatable again.
  EXPECT_EQ(m.OnlineBlock(0, 0), 0);
  EXPECT_FALSE(m.phys().IsIsolated(0));
  EXPECT_EQ(m.phys().free_pages(0), 256u);
  uint64_t more = m.Mmap(other, "more", 256, 0, false);
  for (uint64_t i = 0; i < 256; ++i) {
    ASSERT_FALSE(WriteGen(m, other, more, i, 9000 + i));
    EXPECT_LT(PageAt(m, other, Addr(more, i))->pfn(), 256u);
  }
  EXPECT_EQ(m.phys().free_pages(0), 0u);
  EXPECT_EQ(m.phys().used_pages(0), 1024u);
  EXPECT_TRUE(AllIntact());
  EXPECT_MACHINE_OK(m);
  m.Exit(mm);
  m.Exit(other);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.phys().free_pages(0), 1024u);
  EXPECT_EQ(m.phys().free_pages(1), 1024u);
  EXPECT_MACHINE_OK(m);
}

TEST(HotplugSingleNodeTest, OfflineMovesWithinTheOnlyNode) {
  // do_migrate_range(): the page's own node is the target when no other node has memory.
  Machine m(Config({1024}, 0, 256));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 100, 0, false);
  for (uint64_t i = 0; i < 100; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, 500 + i));
  EXPECT_EQ(m.OfflineBlock(0, 0), 0);
  for (uint64_t i = 0; i < 100; ++i) {
    EXPECT_GE(PageAt(m, mm, Addr(start, i))->pfn(), 256u) << i;
    EXPECT_TRUE(HoldsGen(m, mm, start, i, 500 + i)) << i;
  }
  EXPECT_MACHINE_OK(m);
}

TEST_F(HotplugTest, OfflineMovesToAnotherNodeWhenItsOwnIsFull) {
  Mm* other = m.CreateMm("other", 0);
  uint64_t o = m.Mmap(other, "heap", 1024 - kPages, 0, false);
  for (uint64_t i = 0; i < 1024 - kPages; ++i) ASSERT_FALSE(WriteGen(m, other, o, i, i));
  ASSERT_EQ(m.phys().free_pages(0), 0u);
  EXPECT_EQ(m.OfflineBlock(0, 1), 0);
  EXPECT_EQ(m.phys().used_pages(0), 768u);
  EXPECT_EQ(m.phys().used_pages(1), 256u);
  EXPECT_TRUE(AllIntact());
  EXPECT_MACHINE_OK(m);
}

TEST_F(HotplugTest, OfflineOfABadBlockIsEinval) {
  EXPECT_EQ(m.OfflineBlock(0, 4), EINVAL);
  EXPECT_EQ(m.OfflineBlock(2, 0), EINVAL);
  EXPECT_EQ(m.OnlineBlock(1, 9), EINVAL);
  EXPECT_EQ(m.OnlineBlock(1, 0), EINVAL);  // already online
}

TEST(OomTest, WithoutSwapWriteFailsWithEnomem) {
  Machine m(Config({64}));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 65, 0, false);
  for (uint64_t i = 0; i < 64; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  auto err = WriteGen(m, mm, start, 64, 64);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, ENOMEM);
  EXPECT_FALSE(err->message.empty());
  EXPECT_TRUE(PteAt(m, mm, Addr(start, 64)).none());
  for (uint64_t i = 0; i < 64; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, i));
  EXPECT_EQ(m.vmstat().pswpout, 0u);
  EXPECT_MACHINE_OK(m);
  // A read still works: it maps the zero page.
  ContentId got = 0;
  EXPECT_FALSE(m.ReadPage(mm, Addr(start, 64), &got));
}

TEST(OomTest, WithSwapReclaimInstead) {
  Machine m(Config({64}, 256));
  Mm* mm = m.CreateMm("p", 0);
  constexpr uint64_t n = 200;
  uint64_t start = m.Mmap(mm, "heap", n, 0, false);
  for (uint64_t i = 0; i < n; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, 10 + i)) << i;
  EXPECT_GE(m.vmstat().pswpout, n - 64);
  EXPECT_EQ(m.phys().used_pages(0) + m.swap().used(), n);
  EXPECT_MACHINE_OK(m);
  for (uint64_t i = 0; i < n; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, 10 + i)) << i;
  EXPECT_GT(m.vmstat().pswpin, 0u);
  EXPECT_MACHINE_OK(m);
  m.Exit(mm);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_MACHINE_OK(m);
}

TEST(OomTest, SwapFullIsEnomem) {
  Machine m(Config({32}, 32));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 100, 0, false);
  uint64_t i = 0;
  std::optional<MachineError> err;
  for (; i < 100 && !(err = WriteGen(m, mm, start, i, i)); ++i) {
  }
  ASSERT_TRUE(err);
  EXPECT_EQ(err->err, ENOMEM);
  EXPECT_EQ(i, 64u);  // memory plus swap
  EXPECT_TRUE(PteAt(m, mm, Addr(start, 64)).none());
  EXPECT_EQ(m.swap().used(), 32u);
  // Memory and swap are both full: resident pages read back, swapped ones cannot come in.
  for (uint64_t j = 0; j < i; ++j) {
    if (PteAt(m, mm, Addr(start, j)).present()) {
      EXPECT_TRUE(HoldsGen(m, mm, start, j, j)) << j;
    }
  }
  EXPECT_MACHINE_OK(m);
}

// Copy-on-write under memory pressure: the allocation in wp_page_copy() reclaims, and may
// pick the very page being copied. The fault must notice (pte_same) and retry.
TEST(OomTest, CopyOnWriteUnderMemoryPressure) {
  Machine m(Config({64}, 512));
  Mm* parent = m.CreateMm("parent", 0);
  constexpr uint64_t n = 60;
  uint64_t start = m.Mmap(parent, "heap", n, 0, false);
  for (uint64_t i = 0; i < n; ++i) ASSERT_FALSE(WriteGen(m, parent, start, i, i));
  Mm* child = nullptr;
  ASSERT_FALSE(m.Fork(parent, &child, "child"));
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_FALSE(WriteGen(m, child, start, i, 1000 + i)) << i;
    ASSERT_EQ(testing::Problems(m), "") << "after child write " << i;
  }
  for (uint64_t i = 0; i < n; ++i) {
    ASSERT_FALSE(WriteGen(m, parent, start, i, 2000 + i)) << i;
    ASSERT_EQ(testing::Problems(m), "") << "after parent write " << i;
  }
  for (uint64_t i = 0; i < n; ++i) {
    EXPECT_TRUE(HoldsGen(m, parent, start, i, 2000 + i)) << i;
    EXPECT_TRUE(HoldsGen(m, child, start, i, 1000 + i)) << i;
  }
  EXPECT_MACHINE_OK(m);
  m.Exit(parent);
  m.Exit(child);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_MACHINE_OK(m);
}

}  // namespace
}  // namespace ksmsim::mmu
