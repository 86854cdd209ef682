// Host memory follows what is touched (issue 15): the frame directory, page-table walks that
// step over what was never populated, and swap slot records created on first use.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "mmu/content_store.h"
#include "mmu/page_table.h"
#include "mmu/phys_mem.h"
#include "mmu/swap.h"

namespace ksmsim::mmu {
namespace {

TEST(LazyTest, PhysMemOf4PiBTouchesOnlyWhatIsAllocated) {
  PhysMem pm({uint64_t{1} << 40}, 32768);  // 2^40 frames: 4 PiB
  EXPECT_EQ(pm.NextTouched(0, pm.total_pages()), pm.total_pages());
  Page* p = pm.AllocOnNode(0);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pfn(), 0u);
  Page* far = pm.page((uint64_t{1} << 39) + 7);
  ASSERT_NE(far, nullptr);
  EXPECT_EQ(far->pfn(), (uint64_t{1} << 39) + 7);
  // The walk finds the two chunks (kFramesPerChunk frames each) and steps over everything
  // else; the far chunk starts at the chunk boundary at or below 2^39 + 7.
  std::vector<Pfn> seen;
  for (Pfn pfn = pm.NextTouched(0, pm.total_pages()); pfn < pm.total_pages();
       pfn = pm.NextTouched(pfn + 1, pm.total_pages()))
    seen.push_back(pfn);
  ASSERT_EQ(seen.size(), 2 * kFramesPerChunk);
  EXPECT_EQ(seen[kFramesPerChunk - 1], kFramesPerChunk - 1);
  EXPECT_EQ(seen[kFramesPerChunk], ((uint64_t{1} << 39) + 7) / kFramesPerChunk * kFramesPerChunk);
  // Every descriptor finds its own PFN from its address (Page::pfn()).
  for (Pfn pfn : seen) EXPECT_EQ(pm.page(pfn)->pfn(), pfn);
  EXPECT_FALSE(pm.touched(1 << 20));
}

TEST(LazyTest, IsolatingAHugeUntouchedRangeCountsItWithoutTouchingIt) {
  PhysMem pm({uint64_t{1} << 36}, uint64_t{1} << 30);
  ASSERT_NE(pm.AllocOnNode(0), nullptr);
  uint64_t block = uint64_t{1} << 30;
  pm.IsolateRange(block, 2 * block);
  EXPECT_EQ(pm.free_pages(0), (uint64_t{1} << 36) - 1 - block);
  EXPECT_TRUE(pm.IsIsolated(block + 5));
  EXPECT_FALSE(pm.touched(block + 5));
  pm.UnisolateRange(block, 2 * block);
  EXPECT_EQ(pm.free_pages(0), (uint64_t{1} << 36) - 1);
}

TEST(LazyTest, AllocationSkipsAnIsolatedBlockInOneStep) {
  PhysMem pm({4 * 8192}, 8192);
  pm.IsolateRange(0, 8192);
  Page* p = pm.AllocOnNode(0);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pfn(), 8192u);
  // Online again: the skipped frames are free and handed out, lowest first.
  pm.UnisolateRange(0, 8192);
  EXPECT_EQ(pm.free_pages(0), 4u * 8192 - 1);
  EXPECT_EQ(pm.AllocOnNode(0)->pfn(), 0u);
  EXPECT_EQ(pm.AllocOnNode(0)->pfn(), 1u);
}

TEST(LazyTest, PageTableWalksStepOverEmptyLevelsAndKeepTheWriteCount) {
  PageTable pt;
  uint64_t a = 0x200000000000ULL, b = a + (uint64_t{100} << 30) + 12 * 4096;
  pt.Lookup(a, true).set(Pte::Make(1, 0));
  pt.Lookup(b, true).set(Pte::Make(2, 0));
  uint64_t end = a + (uint64_t{1} << 46);  // 64 TiB: 2^25 leaf spans
  uint64_t before = pt.writes();
  std::vector<uint64_t> seen;
  pt.ForEach(a, end, [&](uint64_t addr, Pte&) { seen.push_back(addr); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{a, b}));
  // One for the walk and one per 2 MiB leaf span, as when each span was looked up.
  EXPECT_EQ(pt.writes() - before, 1 + (uint64_t{1} << 25));
  EXPECT_EQ(pt.SkipEmpty(a + 4096, end), a + 4096);  // a leaf covers it
  EXPECT_EQ(pt.SkipEmpty(a + (2 << 20), end), b & ~((uint64_t{2} << 20) - 1));
  EXPECT_EQ(pt.SkipEmpty(b + (2 << 20), end), end);
  pt.Lookup(a, false).set(Pte{});
  pt.FreeEmpty(a, end);
  EXPECT_EQ(pt.Find(a), nullptr);
  EXPECT_NE(pt.Find(b), nullptr);
}

TEST(LazyTest, SwapSlotsAreCreatedAsUsedLowestFirst) {
  ContentStore cs;
  SwapDevice swap(uint64_t{0xffffffff} - 1);
  EXPECT_EQ(swap.created(), 0u);
  uint32_t s0 = swap.Alloc(), s1 = swap.Alloc();
  EXPECT_EQ(s0, 0u);
  EXPECT_EQ(s1, 1u);
  EXPECT_EQ(swap.created(), 2u);
  swap.Duplicate(s0);
  swap.Free(s0, cs);  // count back to 0, no cache: released
  EXPECT_EQ(swap.used(), 1u);
  EXPECT_EQ(swap.Alloc(), 0u);  // lowest free slot again, no new record
  EXPECT_EQ(swap.created(), 2u);
  EXPECT_EQ(swap.count(1000), 0u);  // never allocated
  SwapDevice none(1);
  EXPECT_EQ(none.Alloc(), 0u);
  EXPECT_EQ(none.Alloc(), kNoSwapSlot);
}

}  // namespace
}  // namespace ksmsim::mmu
