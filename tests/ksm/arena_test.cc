// Tests for KSM's objects in the arena (sim/arena.h) and the 32-bit references they use:
// round trips, chunk reuse, and the layout rules the links rely on (null references:
// tests/sim/arena_test.cc).
#include "sim/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "ksm/ksm_types.h"
#include "ksm/slab.h"

namespace ksmsim::ksm {
namespace {

TEST(KsmArenaTest, ReferencesRoundTripAndStayDistinct) {
  KmemCache<RmapItem> cache;
  std::vector<RmapItem*> items;
  std::set<uint32_t> refs;
  for (int i = 0; i < 3000; ++i) {  // three chunks
    RmapItem* it = cache.alloc();
    ASSERT_EQ(reinterpret_cast<uintptr_t>(it) % Arena::kGranule, 0u) << "items are 8-byte aligned";
    Ref32<RmapItem> r{};
    r = it;
    ASSERT_NE(r.raw(), 0u);
    ASSERT_EQ(r.raw() & RB_BLACK, 0u) << "the top bit of a node's reference is free for the colour";
    ASSERT_EQ(r.get(), it);
    refs.insert(r.raw());
    items.push_back(it);
  }
  EXPECT_EQ(refs.size(), items.size());
  for (RmapItem* it : items) cache.free(it);
  EXPECT_EQ(cache.live(), 0u);
}

TEST(KsmArenaTest, FreedChunksAreHandedOutAgain) {
  const size_t before = Arena::bytes_reserved();
  for (int round = 0; round < 5; ++round) {
    KmemCache<StableNode> cache;
    for (int i = 0; i < 2000; ++i) cache.alloc();
  }
  // Five caches of two chunks each, one after another: the later ones reuse the first's.
  const size_t grown = Arena::bytes_reserved() - before;
  EXPECT_LE(grown, 2 * 1024 * sizeof(StableNode) + 128);
}

TEST(KsmArenaTest, ItemFieldsAreWhereTheLinksNeedThem) {
  EXPECT_EQ(sizeof(RmapItem), 40u);
  KmemCache<StableNode> nodes;
  StableNode* n = nodes.alloc();
  auto off = [n](const void* field) {
    return static_cast<size_t>(static_cast<const char*>(field) - reinterpret_cast<char*>(n));
  };
  // pprev (ksm/hlist.h) points at these: each must be an 8-byte multiple in the arena.
  EXPECT_EQ(off(&n->hlist_dup.next) % Arena::kGranule, 0u);
  EXPECT_EQ(off(&n->hlist.first) % Arena::kGranule, 0u);
  EXPECT_EQ(off(&n->dups.first) % Arena::kGranule, 0u);
  // An hlist of rmap_items threaded through stable nodes survives the encoding.
  KmemCache<RmapItem> items;
  RmapItem* a = items.alloc();
  RmapItem* b = items.alloc();
  n->hlist.add_head(a);
  n->hlist.add_head(b);
  EXPECT_EQ(n->hlist.first.get(), b);
  EXPECT_EQ(b->hlist.next.get(), a);
  decltype(n->hlist)::del(b);
  EXPECT_EQ(n->hlist.first.get(), a);
  EXPECT_EQ(a->hlist.pprev.get(), &n->hlist.first);
  decltype(n->hlist)::del(a);
  EXPECT_TRUE(n->hlist.empty());
}

}  // namespace
}  // namespace ksmsim::ksm
