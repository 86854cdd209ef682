// The reference and map counts that do not fit a Page's 8-bit fields (mmu/page.h): one
// table per PhysMem, reached from a descriptor through its chunk's header. Only looked up
// and changed, never iterated, so its order cannot reach an output.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "mmu/page.h"

namespace ksmsim::mmu {

class WideCounts {
 public:
  // Count `which` (0: refcount, 1: mapcount) of page; it must have been Set.
  int32_t Get(const Page* page, unsigned which) const { return counts_.at(Key(page, which)); }
  void Set(const Page* page, unsigned which, int32_t v) { counts_[Key(page, which)] = v; }
  void Erase(const Page* page, unsigned which) { counts_.erase(Key(page, which)); }
  size_t size() const { return counts_.size(); }

 private:
  // Descriptors are 16-byte aligned: the low bit names the count.
  static uintptr_t Key(const Page* page, unsigned which) {
    return reinterpret_cast<uintptr_t>(page) | which;
  }
  absl::flat_hash_map<uintptr_t, int32_t> counts_;
};

}  // namespace ksmsim::mmu
