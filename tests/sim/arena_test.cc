// Tests for the object arena (sim/arena.h): references of arena objects, and ArenaPool,
// whose objects (with destructors) are made in arena chunks and destroyed with the pool.
#include "sim/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace ksmsim::sim {
namespace {

TEST(ArenaTest, NullIsZeroAndBackAgain) {
  EXPECT_EQ(ArenaRef(nullptr), 0u);
  EXPECT_EQ(ArenaPtr(0), nullptr);
  Ref32<int> r{};  // value-initialised: null
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(r.raw(), 0u);
}

struct Counted {
  explicit Counted(int* live) : live(live) { ++*live; }
  ~Counted() { --*live; }
  int* live;
  std::vector<int> v{1, 2, 3};  // not trivially destructible
};

TEST(ArenaTest, PoolObjectsAreInTheArenaAndDestroyedWithThePool) {
  int live = 0;
  {
    ArenaPool<Counted> pool;
    std::set<uint32_t> refs;
    for (int i = 0; i < 1000; ++i) {  // several chunks
      Counted* c = pool.New(&live);
      uint32_t ref = ArenaRef(c);
      ASSERT_NE(ref, 0u);
      ASSERT_EQ(ArenaPtr(ref), c);
      ASSERT_EQ(c->v.size(), 3u);
      refs.insert(ref);
    }
    EXPECT_EQ(refs.size(), 1000u);
    EXPECT_EQ(pool.size(), 1000u);
    EXPECT_EQ(live, 1000);
  }
  EXPECT_EQ(live, 0);
}

}  // namespace
}  // namespace ksmsim::sim
