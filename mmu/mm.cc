#include "mmu/mm.h"

namespace ksmsim::mmu {

Vma* Mm::vma_lookup(uint64_t addr) const {
  Vma* v = find_vma(addr);
  return v && v->contains(addr) ? v : nullptr;
}

Vma* Mm::find_vma(uint64_t addr) const {
  auto it = vmas.upper_bound(addr);
  if (it != vmas.begin()) {
    auto prev = std::prev(it);
    if (prev->second->end > addr) return prev->second.get();
  }
  return it == vmas.end() ? nullptr : it->second.get();
}

}  // namespace ksmsim::mmu
