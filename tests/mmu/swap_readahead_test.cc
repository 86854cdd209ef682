// Swap readahead (mm/swap_state.c's swap_vma_readahead): the windows, hits and clamps that
// Linux 6.1 showed on the oracle (tools/oracle/cases/24-swap-readahead.json and the probes
// behind it), readahead pages in the swapcache, and what becomes of them.
#include "mmu/swap_readahead.h"

#include <gtest/gtest.h>

#include <cstdint>
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

// A process with `pages` pages of gen(i) in one region, paged out, then forked so that
// every swap entry is shared (the parent's swap-ins go through the swapcache).
struct Forked {
  Mm* parent = nullptr;
  Mm* child = nullptr;
  uint64_t start = 0;
};

Forked PageoutAndFork(Machine& m, uint64_t pages, const char* name = "p") {
  Forked f;
  f.parent = m.CreateMm(name, 0);
  f.start = m.Mmap(f.parent, "r", pages, 0, false);
  for (uint64_t i = 0; i < pages; ++i) EXPECT_FALSE(WriteGen(m, f.parent, f.start, i, i));
  EXPECT_FALSE(m.Pageout(f.parent, f.start, Addr(f.start, pages)));
  EXPECT_FALSE(m.Fork(f.parent, &f.child, std::string(name) + "-child"));
  return f;
}

bool Read(Machine& m, Mm* mm, uint64_t start, uint64_t i) { return HoldsGen(m, mm, start, i, i); }

TEST(SwapReadaheadTest, SwapinNrPages) {
  // No hits: one page unless the fault is next to the previous one.
  EXPECT_EQ(__swapin_nr_pages(100, 300, 0, 8, 0), 1u);
  EXPECT_EQ(__swapin_nr_pages(100, 101, 0, 8, 0), 2u);
  EXPECT_EQ(__swapin_nr_pages(100, 99, 0, 8, 0), 2u);
  // hits + 2 rounded up to a power of two from 4, at most max_pages.
  EXPECT_EQ(__swapin_nr_pages(100, 300, 1, 8, 0), 4u);
  EXPECT_EQ(__swapin_nr_pages(100, 300, 4, 8, 0), 8u);  // the initial 4 hits
  EXPECT_EQ(__swapin_nr_pages(100, 300, 7, 8, 0), 8u);
  EXPECT_EQ(__swapin_nr_pages(100, 300, 7, 32, 0), 16u);
  // "Don't shrink readahead too fast": at least half the previous window.
  EXPECT_EQ(__swapin_nr_pages(100, 300, 0, 8, 8), 4u);
  EXPECT_EQ(__swapin_nr_pages(100, 300, 0, 8, 2), 1u);
  Vma fresh;  // never swapped in: "Initial readahead hits is 4"
  EXPECT_EQ(SWAP_RA_HITS(GET_SWAP_RA_VAL(&fresh)), 4u);
  EXPECT_EQ(SWAP_RA_WIN(GET_SWAP_RA_VAL(&fresh)), 0u);
}

// The oracle's figures: sequential writes in the parent read 5 (the first window, 8 pages
// around page 0 clamped to the VMA), then 8 each time the window is used up.
TEST(SwapReadaheadTest, SequentialFaultsGrowTheWindow) {
  Machine m(Config({4096}, 1024));
  Forked f = PageoutAndFork(m, 64);
  std::vector<uint64_t> expect = {5, 5, 5, 5, 5, 13, 13, 13, 13, 13, 13, 13, 13, 21};
  for (uint64_t i = 0; i < expect.size(); ++i) {
    ASSERT_FALSE(WriteGen(m, f.parent, f.start, i, 1000 + i));
    EXPECT_EQ(m.vmstat().pswpin, expect[i]) << "after writing page " << i;
  }
  EXPECT_EQ(m.vmstat().swap_ra, 21u - 3u);  // every page read but the three faulting ones
  EXPECT_EQ(m.vmstat().swap_ra_hit, 14u - 3u);
  // Pages 14..20 wait in the swapcache, unmapped, still marked.
  Pte pte = PteAt(m, f.parent, Addr(f.start, 15));
  ASSERT_TRUE(pte.is_swap());
  Page* cached = m.swap().cache(pte.swap_slot());
  ASSERT_NE(cached, nullptr);
  EXPECT_TRUE(cached->Test(PG_readahead));
  EXPECT_EQ(cached->mapcount(), 0);
  EXPECT_EQ(cached->refcount(), 1);
  EXPECT_FALSE(cached->PageAnon());
  Vma* vma = f.parent->vma_lookup(f.start);
  EXPECT_EQ(SWAP_RA_ADDR(vma->swap_readahead_info), Addr(f.start, 13));
  EXPECT_EQ(SWAP_RA_WIN(vma->swap_readahead_info), 8u);
  EXPECT_EQ(SWAP_RA_HITS(vma->swap_readahead_info), 0u);
  for (uint64_t i = 0; i < 14; ++i) EXPECT_TRUE(HoldsGen(m, f.parent, f.start, i, 1000 + i));
  for (uint64_t i = 0; i < 64; ++i) EXPECT_TRUE(Read(m, f.child, f.start, i)) << i;
  EXPECT_MACHINE_OK(m);
  m.Exit(f.child);
  m.Exit(f.parent);
  EXPECT_EQ(UsedPages(m), 0u);
  EXPECT_EQ(m.swap().used(), 0u);
  EXPECT_MACHINE_OK(m);
}

// Backward: the window ends at the fault (swap_ra_info's pfn == fpfn + 1 case).
TEST(SwapReadaheadTest, BackwardFaults) {
  Machine m(Config({4096}, 1024));
  Forked f = PageoutAndFork(m, 64);
  std::vector<uint64_t> expect = {8, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16};
  for (uint64_t k = 0; k < expect.size(); ++k) {
    ASSERT_TRUE(Read(m, f.parent, f.start, 40 - k));
    EXPECT_EQ(m.vmstat().pswpin, expect[k]) << "after reading page " << 40 - k;
  }
  // The second window was [29, 37).
  EXPECT_NE(m.swap().cache(PteAt(m, f.parent, Addr(f.start, 29)).swap_slot()), nullptr);
  EXPECT_TRUE(PteAt(m, f.parent, Addr(f.start, 28)).is_swap());
  EXPECT_EQ(m.swap().cache(PteAt(m, f.parent, Addr(f.start, 28)).swap_slot()), nullptr);
  EXPECT_MACHINE_OK(m);
}

// Faults far apart: no hits, so the window halves each time ("don't shrink too fast").
TEST(SwapReadaheadTest, FarFaultsShrinkTheWindow) {
  Machine m(Config({4096}, 1024));
  Forked f = PageoutAndFork(m, 512);
  std::vector<uint64_t> expect = {5, 9, 11, 12, 13};
  for (uint64_t k = 0; k < expect.size(); ++k) {
    ASSERT_TRUE(Read(m, f.parent, f.start, 100 * k));
    EXPECT_EQ(m.vmstat().pswpin, expect[k]) << "after reading page " << 100 * k;
  }
  EXPECT_MACHINE_OK(m);
}

// Readahead reads every swap PTE of the window, a slot the fork child no longer shares
// too; a later fault finds it in the swapcache, and the child's faults find the parent's
// readahead pages (a hit in the child's VMA).
TEST(SwapReadaheadTest, UnsharedNeighboursAndTheChild) {
  Machine m(Config({4096}, 1024));
  Forked f = PageoutAndFork(m, 64);
  ASSERT_FALSE(m.Madvise(f.child, Addr(f.start, 8), Addr(f.start, 16), Advice::kDontneed));
  ASSERT_TRUE(Read(m, f.parent, f.start, 12));  // one user: no swapcache, no readahead
  EXPECT_EQ(m.vmstat().pswpin, 1u);
  ASSERT_TRUE(Read(m, f.parent, f.start, 16));  // shared: the window [13, 21)
  EXPECT_EQ(m.vmstat().pswpin, 9u);
  ASSERT_TRUE(Read(m, f.parent, f.start, 14));  // one user, but cached
  EXPECT_EQ(m.vmstat().pswpin, 9u);
  ASSERT_TRUE(Read(m, f.child, f.start, 18));
  EXPECT_EQ(m.vmstat().pswpin, 9u);
  Vma* cvma = f.child->vma_lookup(f.start);
  EXPECT_EQ(SWAP_RA_HITS(cvma->swap_readahead_info), 5u);  // the initial 4, plus one
  ASSERT_TRUE(Read(m, f.child, f.start, 40));              // 5 hits: 8 pages around 40
  EXPECT_EQ(m.vmstat().pswpin, 17u);
  EXPECT_MACHINE_OK(m);
}

// The window stays inside the faulting address's PTE table (2 MiB) and its VMA.
TEST(SwapReadaheadTest, WindowClampedToPmdAndVma) {
  Machine m(Config({8192}, 4096));
  Forked f = PageoutAndFork(m, 1100);
  ASSERT_TRUE(Read(m, f.parent, f.start, 510));
  EXPECT_EQ(m.vmstat().pswpin, 5u);  // [507, 512)
  ASSERT_TRUE(Read(m, f.parent, f.start, 511));
  EXPECT_EQ(m.vmstat().pswpin, 5u);
  ASSERT_TRUE(Read(m, f.parent, f.start, 512));
  EXPECT_EQ(m.vmstat().pswpin, 9u);  // [512, 516)

  Mm* q = m.CreateMm("q", 0);
  uint64_t s = m.Mmap(q, "r2", 300, 0, false);
  ASSERT_FALSE(m.Madvise(q, Addr(s, 100), Addr(s, 200), Advice::kMergeable));  // 3 VMAs
  for (uint64_t i = 0; i < 300; ++i) ASSERT_FALSE(WriteGen(m, q, s, i, i));
  ASSERT_FALSE(m.Pageout(q, s, Addr(s, 300)));
  Mm* qc = nullptr;
  ASSERT_FALSE(m.Fork(q, &qc, "q-child"));
  uint64_t before = m.vmstat().pswpin;
  ASSERT_TRUE(Read(m, q, s, 198));
  EXPECT_EQ(m.vmstat().pswpin, before + 5);  // [195, 200)
  ASSERT_TRUE(Read(m, q, s, 201));
  EXPECT_EQ(m.vmstat().pswpin, before + 11);  // [200, 206): another VMA, its first fault
  EXPECT_MACHINE_OK(m);
}

// vm.page-cluster 0: no readahead, one page per fault.
TEST(SwapReadaheadTest, PageClusterZeroReadsOnePage) {
  MachineConfig c = Config({4096}, 1024);
  c.page_cluster = 0;
  Machine m(c);
  Forked f = PageoutAndFork(m, 64);
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(Read(m, f.parent, f.start, i));
  EXPECT_EQ(m.vmstat().pswpin, 10u);
  EXPECT_EQ(m.vmstat().swap_ra, 0u);
  EXPECT_MACHINE_OK(m);
}

// Readahead pages are ordinary swapcache pages: reclaim frees them (clean: no write), and
// offlining their block moves them.
TEST(SwapReadaheadTest, ReadaheadPagesReclaimAndMigrate) {
  Machine m(Config({32768, 32768}, 1024, 32768));
  Forked f = PageoutAndFork(m, 64);
  ASSERT_TRUE(Read(m, f.parent, f.start, 0));  // pages 1..4 read ahead
  Page* cached = m.swap().cache(PteAt(m, f.parent, Addr(f.start, 3)).swap_slot());
  ASSERT_NE(cached, nullptr);
  ASSERT_EQ(m.page_to_nid(cached), 0);
  EXPECT_EQ(m.OfflineBlock(0, 0), 0);
  Page* moved = m.swap().cache(PteAt(m, f.parent, Addr(f.start, 3)).swap_slot());
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(m.page_to_nid(moved), 1);
  EXPECT_TRUE(moved->Test(PG_readahead));  // folio_migrate_flags() keeps it
  EXPECT_MACHINE_OK(m);
  uint64_t pswpout = m.vmstat().pswpout;
  EXPECT_TRUE(m.reclaim_page(moved));
  EXPECT_EQ(m.vmstat().pswpout, pswpout);  // clean: dropped, not written
  EXPECT_EQ(m.swap().cache(PteAt(m, f.parent, Addr(f.start, 3)).swap_slot()), nullptr);
  EXPECT_MACHINE_OK(m);
  uint64_t pswpin = m.vmstat().pswpin;
  ASSERT_TRUE(Read(m, f.parent, f.start, 3));  // cached no more: read again
  EXPECT_GT(m.vmstat().pswpin, pswpin);
  EXPECT_MACHINE_OK(m);
}

// vm_area_dup() copies swap_readahead_info: a fork child starts with its parent's window.
TEST(SwapReadaheadTest, ForkCopiesTheReadaheadState) {
  Machine m(Config({4096}, 1024));
  Forked f = PageoutAndFork(m, 64);
  ASSERT_TRUE(Read(m, f.parent, f.start, 20));
  Mm* grandchild = nullptr;
  ASSERT_FALSE(m.Fork(f.parent, &grandchild, "grandchild"));
  EXPECT_EQ(grandchild->vma_lookup(f.start)->swap_readahead_info,
            f.parent->vma_lookup(f.start)->swap_readahead_info);
  EXPECT_EQ(SWAP_RA_WIN(grandchild->vma_lookup(f.start)->swap_readahead_info), 8u);
  EXPECT_EQ(f.child->vma_lookup(f.start)->swap_readahead_info, 0u);  // forked before
  EXPECT_MACHINE_OK(m);
}

}  // namespace
}  // namespace ksmsim::mmu
