// A node's reserve: frames outside its memory blocks (the oracle guest's boot memory),
// allocated only when the node's blocks have none free, never offlined, and where
// hotremove moves pages when the node is the only one (oracle case 12).
#include <gtest/gtest.h>

#include <cerrno>

#include "mmu/machine.h"
#include "mmu_test_util.h"

namespace ksmsim::mmu {
namespace {

using testing::Addr;
using testing::HoldsGen;
using testing::PageAt;
using testing::WriteGen;

MachineConfig WithReserve(std::vector<uint64_t> nodes, std::vector<uint64_t> reserve) {
  MachineConfig c;
  c.node_pages = std::move(nodes);
  c.block_pages = 256;
  c.reserve_pages = std::move(reserve);
  return c;
}

TEST(ReserveTest, UsedOnlyWhenTheNodesBlocksAreFull) {
  Machine m(WithReserve({512, 512}, {64, 0}));
  EXPECT_EQ(m.phys().num_nodes(), 2);
  EXPECT_EQ(m.phys().node_blocks(0), 2u);
  EXPECT_EQ(m.phys().reserve_pages(0), 64u);
  EXPECT_EQ(m.phys().reserve_pages(1), 0u);
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 540, 0, false);
  for (uint64_t i = 0; i < 540; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, i));
  // 512 in the blocks, then 28 in node 0's reserve before any on node 1.
  EXPECT_EQ(m.phys().used_pages(0), 512u);
  EXPECT_EQ(m.phys().reserve_used(0), 28u);
  EXPECT_EQ(m.phys().used_pages(1), 0u);
  Page* last = PageAt(m, mm, Addr(start, 539));
  EXPECT_EQ(m.page_to_nid(last), 0);
  EXPECT_GE(last->pfn(), 1024u);  // numbered after every node's declared frames
  EXPECT_MACHINE_OK(m);
  m.Exit(mm);
  EXPECT_EQ(m.phys().reserve_used(0), 0u);
  EXPECT_EQ(m.phys().used_pages(0), 0u);
  EXPECT_MACHINE_OK(m);
}

TEST(ReserveTest, OfflineOfTheOnlyNodesLastBlockMovesIntoTheReserve) {
  Machine m(WithReserve({512}, {64}));
  Mm* mm = m.CreateMm("p", 0);
  uint64_t start = m.Mmap(mm, "heap", 20, 0, false);
  for (uint64_t i = 0; i < 20; ++i) ASSERT_FALSE(WriteGen(m, mm, start, i, 100 + i));
  EXPECT_EQ(m.OfflineBlock(0, 0), 0);  // into block 1
  EXPECT_EQ(m.OfflineBlock(0, 1), 0);  // into the reserve: the blocks are all offline
  EXPECT_EQ(m.phys().reserve_used(0), 20u);
  for (uint64_t i = 0; i < 20; ++i) EXPECT_TRUE(HoldsGen(m, mm, start, i, 100 + i)) << i;
  EXPECT_MACHINE_OK(m);
  // Without a reserve there is nowhere to go.
  Machine bare(WithReserve({512}, {}));
  Mm* b = bare.CreateMm("p", 0);
  uint64_t bs = bare.Mmap(b, "heap", 20, 0, false);
  for (uint64_t i = 0; i < 20; ++i) ASSERT_FALSE(WriteGen(bare, b, bs, i, 100 + i));
  EXPECT_EQ(bare.OfflineBlock(0, 0), 0);
  EXPECT_EQ(bare.OfflineBlock(0, 1), EBUSY);
  EXPECT_MACHINE_OK(bare);
}

}  // namespace
}  // namespace ksmsim::mmu
