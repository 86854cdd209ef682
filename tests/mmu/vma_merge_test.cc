// VMA merging (mm/mmap.c's vma_merge(), reached from madvise_update_vma()): what Linux 6.1
// did on the oracle (tests/difftest/cases/vma-merge-readahead.json) and the cases of
// vma_merge()'s comment that madvise can reach.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "mmu/machine.h"
#include "mmu_test_util.h"

namespace ksmsim::mmu {
namespace {

using testing::Addr;
using testing::Config;
using testing::WriteGen;

struct Span {
  uint64_t first, last;  // page indexes, inclusive
  bool mergeable;
  bool operator==(const Span&) const = default;
};

std::vector<Span> Layout(const Mm* mm, uint64_t start) {
  std::vector<Span> out;
  for (auto& [s, v] : mm->vmas)
    out.push_back({(v->start - start) >> kPageShift, ((v->end - start) >> kPageShift) - 1,
                   (v->flags & VM_MERGEABLE) != 0});
  return out;
}

struct Fixture {
  Machine m{Config({4096})};
  Mm* mm = nullptr;
  uint64_t start = 0;
  explicit Fixture(bool fault_first) {
    mm = m.CreateMm("p", 0);
    start = m.Mmap(mm, "r", 300, 0, false);
    if (fault_first) {
      for (uint64_t i = 0; i < 300; ++i) EXPECT_FALSE(WriteGen(m, mm, start, i, i));
    }
  }
  void Advise(uint64_t first, uint64_t end, Advice a) {
    EXPECT_FALSE(m.Madvise(mm, Addr(start, first), Addr(start, end), a));
  }
};

TEST(VmaMergeTest, UnmergeableMiddleMergesBackIntoOne) {
  Fixture f(/*fault_first=*/true);
  f.Advise(100, 200, Advice::kMergeable);
  EXPECT_EQ(Layout(f.mm, f.start),
            (std::vector<Span>{{0, 99, false}, {100, 199, true}, {200, 299, false}}));
  f.Advise(100, 200, Advice::kUnmergeable);  // cases 1/6: prev, mid and next become one
  EXPECT_EQ(Layout(f.mm, f.start), (std::vector<Span>{{0, 299, false}}));
  // The one anon_vma lists the one VMA once.
  Vma* v = f.mm->vmas.begin()->second.get();
  EXPECT_EQ(v->anon_vma->vmas, (std::vector<Vma*>{v}));
}

TEST(VmaMergeTest, GrowingARangeMergesWithTheNeighbour) {
  Fixture f(/*fault_first=*/true);
  f.Advise(100, 200, Advice::kMergeable);
  f.Advise(50, 100, Advice::kMergeable);  // case 4: prev shrinks, next grows down
  EXPECT_EQ(Layout(f.mm, f.start),
            (std::vector<Span>{{0, 49, false}, {50, 199, true}, {200, 299, false}}));
  f.Advise(200, 250, Advice::kMergeable);  // case 5: prev grows into part of next
  EXPECT_EQ(Layout(f.mm, f.start),
            (std::vector<Span>{{0, 49, false}, {50, 249, true}, {250, 299, false}}));
  f.Advise(250, 300, Advice::kMergeable);  // case 7: prev grows over all of next
  EXPECT_EQ(Layout(f.mm, f.start), (std::vector<Span>{{0, 49, false}, {50, 299, true}}));
  f.Advise(0, 50, Advice::kMergeable);  // case 8: next grows down over all of mid
  EXPECT_EQ(Layout(f.mm, f.start), (std::vector<Span>{{0, 299, true}}));
}

TEST(VmaMergeTest, PiecesWithTheirOwnAnonVmasStaySplit) {
  // Split before any fault: the mergeable piece is not anon_vma_compatible with its
  // neighbours (the flags differ), so each faults in its own anon_vma, and
  // is_mergeable_anon_vma() then refuses to merge them back.
  Fixture f(/*fault_first=*/false);
  f.Advise(100, 200, Advice::kMergeable);
  for (uint64_t i = 0; i < 300; ++i) {
    EXPECT_FALSE(WriteGen(f.m, f.mm, f.start, i, i));
  }
  f.Advise(100, 200, Advice::kUnmergeable);
  EXPECT_EQ(Layout(f.mm, f.start),
            (std::vector<Span>{{0, 99, false}, {100, 199, false}, {200, 299, false}}));
}

TEST(VmaMergeTest, NeverFaultedPiecesMergeBack) {
  Fixture f(/*fault_first=*/false);
  f.Advise(100, 200, Advice::kMergeable);
  f.Advise(100, 200, Advice::kUnmergeable);
  EXPECT_EQ(Layout(f.mm, f.start), (std::vector<Span>{{0, 299, false}}));
}

TEST(VmaMergeTest, ForkedPiecesDoNotMerge) {
  // A fork's VMAs each get an anon_vma of their own (anon_vma_fork()).
  Fixture f(/*fault_first=*/true);
  f.Advise(100, 200, Advice::kMergeable);
  Mm* child = nullptr;
  ASSERT_FALSE(f.m.Fork(f.mm, &child, "c"));
  EXPECT_FALSE(f.m.Madvise(child, Addr(f.start, 100), Addr(f.start, 200), Advice::kUnmergeable));
  EXPECT_EQ(Layout(child, f.start),
            (std::vector<Span>{{0, 99, false}, {100, 199, false}, {200, 299, false}}));
}

}  // namespace
}  // namespace ksmsim::mmu
