// The page allocator's free list (mmu/phys_mem.h), linked through the free frames'
// descriptors: it must hand frames out in the order the earlier stack of PFNs did (most
// recently freed first, stale entries of isolated frames passed by, a frame that
// UnisolateRange gives back moved to the top), since PFNs reach results and event logs.
#include "mmu/phys_mem.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <set>
#include <vector>

#include "sim/rng.h"

namespace ksmsim::mmu {
namespace {

// The earlier allocator of one node, kept here as the reference: a stack of PFNs that may
// hold stale and repeated entries, over a bump pointer.
class StackModel {
 public:
  StackModel(uint64_t pages, uint64_t block) : pages_(pages), block_(block) {}

  // The PFN handed out, or -1 when none is free.
  int64_t Alloc() {
    while (!stack_.empty()) {
      const Pfn pfn = stack_.back();
      stack_.pop_back();
      if (allocated_.count(pfn) || Isolated(pfn)) continue;
      allocated_.insert(pfn);
      return static_cast<int64_t>(pfn);
    }
    while (bump_ < pages_) {
      const Pfn pfn = bump_++;
      if (Isolated(pfn)) {
        bump_ = std::min(pages_, (pfn / block_ + 1) * block_);
        continue;
      }
      allocated_.insert(pfn);
      return static_cast<int64_t>(pfn);
    }
    return -1;
  }
  void Free(Pfn pfn) {
    allocated_.erase(pfn);
    if (!Isolated(pfn)) stack_.push_back(pfn);
  }
  void Isolate(Pfn s, Pfn e) {
    for (Pfn b = s / block_; b * block_ < e; ++b) isolated_.insert(b);
  }
  void Unisolate(Pfn s, Pfn e) {
    for (Pfn b = s / block_; b * block_ < e; ++b) isolated_.erase(b);
    for (Pfn pfn = std::min(e, bump_); pfn-- > s;)
      if (!allocated_.count(pfn)) stack_.push_back(pfn);
  }
  const std::set<Pfn>& allocated() const { return allocated_; }

 private:
  bool Isolated(Pfn pfn) const { return isolated_.count(pfn / block_) != 0; }
  uint64_t pages_, block_, bump_ = 0;
  std::vector<Pfn> stack_;
  std::set<Pfn> allocated_;
  std::set<uint64_t> isolated_;
};

// Frees a frame as Machine::free_frame does: the descriptor reset, then PhysMem::Free.
void FreeFrame(PhysMem& pm, Pfn pfn) {
  Page* p = pm.page(pfn);
  p->flags = 0;
  p->content = 0;
  pm.Free(p);
}

TEST(PhysMemTest, FreeListHandsFramesOutInTheStacksOrder) {
  constexpr uint64_t kBlock = 64, kPages = 6 * kBlock;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    sim::RngStream rng = sim::RngStream::Derive(seed, "phys_mem_test");
    PhysMem pm({kPages}, kBlock);
    StackModel model(kPages, kBlock);
    for (int op = 0; op < 3000; ++op) {
      const uint64_t r = rng.Below(100);
      if (r < 50) {
        Page* p = pm.AllocOnNode(0);
        const int64_t want = model.Alloc();
        ASSERT_EQ(p ? static_cast<int64_t>(p->pfn()) : -1, want) << "op " << op;
        if (p) {
          EXPECT_EQ(p->content, 0u);  // the link is gone once handed out
          EXPECT_EQ(p->index(), 0u);
          p->content = 7;  // as a fault would write it
        }
      } else if (r < 90 && !model.allocated().empty()) {
        auto it = model.allocated().begin();
        std::advance(it, rng.Below(model.allocated().size()));
        const Pfn pfn = *it;
        FreeFrame(pm, pfn);
        model.Free(pfn);
      } else {
        const Pfn b = rng.Below(kPages / kBlock), n = 1 + rng.Below(2);
        const Pfn s = b * kBlock, e = std::min(kPages, (b + n) * kBlock);
        if (r < 95) {
          pm.IsolateRange(s, e);
          model.Isolate(s, e);
        } else {
          pm.UnisolateRange(s, e);
          model.Unisolate(s, e);
        }
      }
    }
  }
}

TEST(PhysMemTest, FreeListLinksReachPast32Bits) {
  // A node of 2^34 frames whose first 2^32 are isolated: the bump allocator hands out
  // frames past 2^32, whose links need the descriptor's index bits too.
  const uint64_t block = uint64_t{1} << 30;
  PhysMem pm({uint64_t{1} << 34}, block);
  pm.IsolateRange(0, uint64_t{1} << 32);
  std::vector<Pfn> got;
  for (int i = 0; i < 3; ++i) got.push_back(pm.AllocOnNode(0)->pfn());
  EXPECT_EQ(got, (std::vector<Pfn>{Pfn{1} << 32, (Pfn{1} << 32) + 1, (Pfn{1} << 32) + 2}));
  for (Pfn pfn : got) FreeFrame(pm, pfn);
  for (int i = 2; i >= 0; --i) EXPECT_EQ(pm.AllocOnNode(0)->pfn(), got[i]);
}

}  // namespace
}  // namespace ksmsim::mmu
