#include "mmu/page.h"

#include <cstdio>
#include <cstdlib>

#include "mmu/wide_counts.h"

namespace ksmsim::mmu {
namespace {

WideCounts& WideOf(const Page* page) {
  const uintptr_t block = reinterpret_cast<uintptr_t>(page) & ~uintptr_t{kFrameChunkBytes - 1};
  return *reinterpret_cast<const FrameChunkHeader*>(block)->wide;
}

}  // namespace

int32_t Page::WideCount(unsigned which) const { return WideOf(this).Get(this, which); }

void Page::SetWide(unsigned which, int32_t v) {
  WideCounts& wide = WideOf(this);
  const bool narrow = static_cast<uint32_t>(v) < kWide;
  if (narrow)
    wide.Erase(this, which);
  else
    wide.Set(this, which, v);
  const uint32_t field = narrow ? static_cast<uint32_t>(v) : kWide;
  if (which == 0)
    refcount_ = field;
  else
    mapcount_ = field;
}

void Page::IndexTooLarge(uint64_t index) {
  // A user address has 47 bits (TASK_SIZE), so its page index has 35: the workload parser
  // refuses larger addresses, and the mmu is never given one.
  std::fprintf(stderr, "ksmsim: internal error: page index %#llx has more than 35 bits\n",
               static_cast<unsigned long long>(index));
  std::abort();
}

}  // namespace ksmsim::mmu
