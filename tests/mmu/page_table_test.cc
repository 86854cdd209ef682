// PageTable: the 4-level radix table (Lookup, ForEach, FreeEmpty) and PhysMem: the frame
// allocator's order, node layout and accounting.
#include "mmu/page_table.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "mmu/phys_mem.h"

namespace ksmsim::mmu {
namespace {

constexpr uint64_t kBase = 0x200000000000ULL;
constexpr uint64_t k2M = 2ULL << 20;

// Every table test runs on both forms of the table: 8-byte PTEs and narrow 4-byte ones.
class PageTableTest : public ::testing::TestWithParam<bool> {
 protected:
  PageTableTest() { pt.set_narrow(GetParam()); }
  size_t PteBytes() const { return GetParam() ? 4 : 8; }
  PageTable pt;
};

INSTANTIATE_TEST_SUITE_P(Forms, PageTableTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Narrow" : "Wide";
                         });

// writes() is what KSM's unstable-tree snapshots rely on: every access that may change a
// PTE counts (in the table and in the change counter), a read-only Find never does.
TEST_P(PageTableTest, WritesCountEveryAccessThatMayChangeAPte) {
  ChangeCounters changes;
  pt.set_change_counters(&changes);
  EXPECT_EQ(pt.writes(), 0u);
  PteRef p = pt.Lookup(kBase, true);
  p.set(Pte::Make(7, Pte::kWrite));
  EXPECT_EQ(pt.writes(), 1u);
  const PageTable& cpt = pt;
  EXPECT_EQ(cpt.Find(kBase)->pfn(), 7u);
  EXPECT_EQ(cpt.Find(kBase + k2M), nullptr);
  EXPECT_EQ(cpt.Value(kBase).pfn(), 7u);
  EXPECT_TRUE(cpt.Value(kBase + k2M).none());
  EXPECT_EQ(pt.writes(), 1u);  // reads do not count
  uint64_t before = pt.writes();
  pt.Lookup(kBase, false);
  EXPECT_GT(pt.writes(), before);
  before = pt.writes();
  pt.ForEach(kBase, kBase + k2M, [](uint64_t, Pte&) {});
  EXPECT_GT(pt.writes(), before);
  before = pt.writes();
  pt.FreeEmpty(kBase + k2M, kBase + 2 * k2M);
  EXPECT_GT(pt.writes(), before);
  EXPECT_EQ(changes.change_count(), pt.writes());
  before = pt.writes();
  pt.LookupUncounted(kBase).set(Pte{});  // KSM's merge accessor (Machine::pte_of_merging)
  EXPECT_EQ(pt.writes(), before);
}

TEST_P(PageTableTest, LookupWithoutAllocReturnsNullOnEmptyTable) {
  EXPECT_EQ(pt.Lookup(kBase, false), nullptr);
  EXPECT_EQ(pt.table_pages(), 1u);  // the PGD only
}

TEST_P(PageTableTest, LookupAllocatesEveryLevelOnce) {
  PteRef a = pt.Lookup(kBase, true);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->none());
  EXPECT_EQ(pt.table_pages(), 4u);  // PGD + PUD + PMD + PTE page
  // The same leaf serves the whole 2 MiB: neighbours are adjacent slots.
  auto offset = [&](PteRef r) {
    return static_cast<const char*>(r.slot()) - static_cast<const char*>(a.slot());
  };
  EXPECT_EQ(offset(pt.Lookup(kBase + kPageSize, true)), static_cast<ptrdiff_t>(PteBytes()));
  EXPECT_EQ(offset(pt.Lookup(kBase + k2M - kPageSize, true)),
            static_cast<ptrdiff_t>(511 * PteBytes()));
  EXPECT_EQ(pt.table_pages(), 4u);
  // The next 2 MiB needs a new leaf, the next 1 GiB a new PMD page too.
  pt.Lookup(kBase + k2M, true);
  EXPECT_EQ(pt.table_pages(), 5u);
  pt.Lookup(kBase + (1ULL << 30), true);
  EXPECT_EQ(pt.table_pages(), 7u);
  // An entry written through one lookup is seen by the next.
  a.set(Pte::Make(42, Pte::kWrite));
  EXPECT_EQ(pt.Lookup(kBase, false)->pfn(), 42u);
  EXPECT_TRUE(pt.Lookup(kBase, false)->write());
}

// Every PTE a table can hold reads back as written: present with each flag, the zero page
// (special, dirty for KSM's zero pages), swap entries with and without exclusive.
TEST_P(PageTableTest, EveryKindOfPteReadsBackAsWritten) {
  const uint64_t max_field = NarrowPte::kMaxField - 1;
  const std::vector<Pte> ptes = {
      Pte::Make(0, 0),
      Pte::Make(1, Pte::kWrite | Pte::kDirty | Pte::kAccessed),
      Pte::Make(max_field, Pte::kAccessed),
      Pte::Make(kZeroPfn, Pte::kSpecial | Pte::kAccessed),
      Pte::Make(kZeroPfn, Pte::kSpecial | Pte::kDirty | Pte::kAccessed),
      Pte::Swap(0),
      Pte::Swap(static_cast<uint32_t>(max_field)),
      Pte{Pte::Swap(5).v | Pte::kSwpExclusive},
  };
  for (size_t i = 0; i < ptes.size(); ++i) pt.Lookup(kBase + i * kPageSize, true).set(ptes[i]);
  for (size_t i = 0; i < ptes.size(); ++i) {
    EXPECT_EQ(pt.Value(kBase + i * kPageSize), ptes[i]) << i;
    EXPECT_EQ(*pt.Find(kBase + i * kPageSize), ptes[i]) << i;
  }
  EXPECT_EQ(pt.Value(kBase + 3 * kPageSize).pfn(), kZeroPfn);
  EXPECT_TRUE(pt.Value(kBase + 3 * kPageSize).special());
  EXPECT_EQ(pt.Value(kBase + 6 * kPageSize).swap_slot(), max_field);
}

TEST(NarrowPteTest, OnlyValuesWithAFourByteFormAreEncoded) {
  uint32_t n = 0;
  EXPECT_TRUE(NarrowPte::Encode(Pte{}, &n));
  EXPECT_EQ(n, 0u);  // none is all zero bytes, as a new leaf is
  EXPECT_TRUE(NarrowPte::Encode(Pte::Make(NarrowPte::kMaxField - 1, Pte::kWrite), &n));
  EXPECT_FALSE(NarrowPte::Encode(Pte::Make(NarrowPte::kMaxField, 0), &n));  // the zero page's
  EXPECT_FALSE(NarrowPte::Encode(Pte::Make(uint64_t{1} << 32, 0), &n));
  EXPECT_FALSE(NarrowPte::Encode(Pte::Swap(static_cast<uint32_t>(NarrowPte::kFieldLimit)), &n));
  EXPECT_FALSE(NarrowPte::Encode(Pte{Pte::Make(3, 0).v | 0x80}, &n));  // an unknown flag
}

TEST(NarrowPteTest, ASetThatHasNoFourByteFormStops) {
  PageTable pt;
  pt.set_narrow(true);
  PteRef p = pt.Lookup(kBase, true);
  EXPECT_DEATH(p.set(Pte::Make(uint64_t{1} << 30, 0)), "no 4-byte form");
}

TEST(PageTableTest, PteEncoding) {
  Pte p = Pte::Make(0x12345, Pte::kWrite | Pte::kDirty);
  EXPECT_TRUE(p.present());
  EXPECT_TRUE(p.write());
  EXPECT_TRUE(p.dirty());
  EXPECT_FALSE(p.special());
  EXPECT_FALSE(p.is_swap());
  EXPECT_EQ(p.pfn(), 0x12345u);
  Pte s = Pte::Swap(77);
  EXPECT_FALSE(s.present());
  EXPECT_TRUE(s.is_swap());
  EXPECT_FALSE(s.none());
  EXPECT_EQ(s.swap_slot(), 77u);
  Pte z = Pte::Make(kZeroPfn, Pte::kSpecial);
  EXPECT_EQ(z.pfn(), kZeroPfn);
  EXPECT_TRUE(z.special());
}

TEST_P(PageTableTest, ForEachVisitsNonNoneEntriesInOrderWithinRange) {
  std::vector<uint64_t> addrs = {kBase + 3 * kPageSize, kBase + k2M - kPageSize, kBase + 5 * k2M,
                                 kBase + 5 * k2M + 7 * kPageSize};
  for (uint64_t a : addrs) pt.Lookup(a, true).set(Pte::Make(a >> kPageShift & 0xFFFFF, 0));
  pt.Lookup(kBase + 4 * kPageSize, true);  // allocated but none: not visited
  std::vector<uint64_t> seen;
  pt.ForEach(kBase, kBase + 6 * k2M, [&](uint64_t addr, Pte& pte) {
    EXPECT_EQ(pte.pfn(), addr >> kPageShift & 0xFFFFF);
    seen.push_back(addr);
  });
  EXPECT_EQ(seen, addrs);
  // Sub-ranges: [start, end) is half-open and may start or end mid-leaf.
  seen.clear();
  pt.ForEach(kBase + 4 * kPageSize, kBase + 5 * k2M + 7 * kPageSize,
             [&](uint64_t addr, Pte&) { seen.push_back(addr); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{kBase + k2M - kPageSize, kBase + 5 * k2M}));
  // The callback may change the entry it is given, and the table keeps what it left.
  pt.ForEach(kBase, kBase + k2M, [](uint64_t, Pte& pte) { pte = Pte{}; });
  pt.ForEach(kBase + 5 * k2M, kBase + 5 * k2M + kPageSize,
             [](uint64_t, Pte& pte) { pte = Pte::Swap(9); });
  EXPECT_EQ(pt.Value(kBase + 5 * k2M), Pte::Swap(9));
  seen.clear();
  pt.ForEach(kBase, kBase + 6 * k2M, [&](uint64_t addr, Pte&) { seen.push_back(addr); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{kBase + 5 * k2M, kBase + 5 * k2M + 7 * kPageSize}));
}

TEST_P(PageTableTest, FreeEmptyReleasesOnlyEmptyLeaves) {
  pt.Lookup(kBase, true).set(Pte::Make(1, 0));
  pt.Lookup(kBase + k2M, true);  // an empty leaf
  pt.Lookup(kBase + 2 * k2M, true).set(Pte::Make(2, 0));
  EXPECT_EQ(pt.table_pages(), 6u);
  pt.FreeEmpty(kBase, kBase + 3 * k2M);
  EXPECT_EQ(pt.table_pages(), 5u);
  EXPECT_EQ(pt.Lookup(kBase + k2M, false), nullptr);
  ASSERT_TRUE(pt.Lookup(kBase, false));
  EXPECT_EQ(pt.Lookup(kBase, false)->pfn(), 1u);
  // Emptying a leaf and freeing a range that only overlaps it still frees it.
  pt.Lookup(kBase, false).set(Pte{});
  pt.FreeEmpty(kBase + 100 * kPageSize, kBase + 101 * kPageSize);
  EXPECT_EQ(pt.Lookup(kBase, false), nullptr);
  EXPECT_EQ(pt.table_pages(), 4u);
  // A range with no tables at all is harmless.
  pt.FreeEmpty(kBase + (7ULL << 39), kBase + (7ULL << 39) + k2M);
  EXPECT_EQ(pt.table_pages(), 4u);
}

TEST(PhysMemTest, NodesAreLaidOutOneAfterAnother) {
  PhysMem pm({1000, 600}, 256);
  EXPECT_EQ(pm.num_nodes(), 2);
  EXPECT_EQ(pm.total_pages(), 1600u);
  EXPECT_EQ(pm.node_start(0), 0u);
  EXPECT_EQ(pm.node_start(1), 1000u);
  EXPECT_EQ(pm.pfn_to_nid(999), 0);
  EXPECT_EQ(pm.pfn_to_nid(1000), 1);
  EXPECT_EQ(pm.node_blocks(0), 4u);  // 1000 / 256 rounded up
  EXPECT_EQ(pm.node_blocks(1), 3u);
  EXPECT_EQ(pm.free_pages(0), 1000u);
  EXPECT_EQ(pm.used_pages(1), 0u);
  EXPECT_FALSE(pm.valid_pfn(1600));
  EXPECT_EQ(pm.page(1600), nullptr);
}

TEST(PhysMemTest, AllocationOrderIsAscendingThenMostRecentlyFreedFirst) {
  PhysMem pm({1000, 600}, 256);
  std::vector<Pfn> got;
  for (int i = 0; i < 5; ++i) {
    Page* p = pm.AllocOnNode(0);
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(p->Test(PG_free));
    EXPECT_EQ(pm.pfn_to_nid(p->pfn()), 0);
    got.push_back(p->pfn());
  }
  EXPECT_EQ(got, (std::vector<Pfn>{0, 1, 2, 3, 4}));
  EXPECT_EQ(pm.used_pages(0), 5u);
  EXPECT_EQ(pm.free_pages(0), 995u);
  pm.Free(pm.page(1));
  pm.Free(pm.page(3));
  EXPECT_TRUE(pm.page(3)->Test(PG_free));
  EXPECT_EQ(pm.used_pages(0), 3u);
  EXPECT_EQ(pm.AllocOnNode(0)->pfn(), 3u);
  EXPECT_EQ(pm.AllocOnNode(0)->pfn(), 1u);
  EXPECT_EQ(pm.AllocOnNode(0)->pfn(), 5u);
  Page* n1 = pm.AllocOnNode(1);
  EXPECT_EQ(n1->pfn(), 1000u);
  EXPECT_EQ(pm.pfn_to_nid(n1->pfn()), 1);
  EXPECT_EQ(pm.used_pages(1), 1u);
}

TEST(PhysMemTest, AllocOnNodeReturnsNullWhenTheNodeIsFull) {
  PhysMem pm({4, 4}, 4);
  for (int i = 0; i < 4; ++i) ASSERT_NE(pm.AllocOnNode(0), nullptr);
  EXPECT_EQ(pm.AllocOnNode(0), nullptr);
  EXPECT_EQ(pm.free_pages(0), 0u);
  EXPECT_EQ(pm.free_pages(1), 4u);  // no fallback at this level
}

TEST(PhysMemTest, IsolatedBlocksAreNotAllocatedAndFreedFramesStayOffline) {
  PhysMem pm({1024}, 256);
  std::vector<Page*> held;
  for (int i = 0; i < 300; ++i) held.push_back(pm.AllocOnNode(0));
  // Block 1 ([256, 512)) holds 44 allocated frames; isolate it.
  pm.IsolateRange(256, 512);
  EXPECT_TRUE(pm.IsIsolated(300));
  EXPECT_EQ(pm.free_pages(0), 1024u - 300 - (256 - 44));
  // Frames freed inside the isolated block go to the isolated free list: they are not
  // free memory (as the kernel's MIGRATE_ISOLATE free lists are not).
  for (int i = 256; i < 300; ++i) pm.Free(held[i]);
  EXPECT_EQ(pm.free_pages(0), 1024u - 256 - 256);
  EXPECT_EQ(pm.used_pages(0), 256u);
  for (uint64_t i = 0; i < 512; ++i) {
    Page* p = pm.AllocOnNode(0);
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(p->pfn() >= 256 && p->pfn() < 512) << p->pfn();
  }
  EXPECT_EQ(pm.AllocOnNode(0), nullptr);
  pm.UnisolateRange(256, 512);
  EXPECT_EQ(pm.free_pages(0), 256u);
  EXPECT_EQ(pm.used_pages(0), 768u);
  for (int i = 0; i < 256; ++i) {
    Page* p = pm.AllocOnNode(0);
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(p->pfn() >= 256 && p->pfn() < 512) << p->pfn();
  }
  EXPECT_EQ(pm.AllocOnNode(0), nullptr);
  EXPECT_EQ(pm.free_pages(0), 0u);
  EXPECT_EQ(pm.used_pages(0), 1024u);
}

}  // namespace
}  // namespace ksmsim::mmu
