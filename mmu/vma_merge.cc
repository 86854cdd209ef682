// VMA merging: mm/mmap.c's vma_merge() and find_mergeable_anon_vma(), and madvise's
// madvise_update_vma(), which merges a changed range with its neighbours before it splits.
//
// Simplification: an anonymous VMA's vm_pgoff is its address >> PAGE_SHIFT at mmap time,
// so pieces of one mapping are always pgoff-contiguous; two mappings are never adjacent
// (Mmap leaves a 2 MiB gap, as the oracle's planner does), so the pgoff test is "same
// mapping", which adjacency already implies. No VMA has a file, uffd context or name.
#include <algorithm>
#include <iterator>

#include "mmu/machine.h"

namespace ksmsim::mmu {

namespace {

constexpr uint64_t kVmSpecial = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;  // VM_SPECIAL
constexpr uint64_t kVmAccessFlags = VM_READ | VM_WRITE;  // VM_ACCESS_FLAGS (no VM_EXEC here)

// is_mergeable_anon_vma(): list_is_singular() keeps VMAs cloned by fork apart.
bool is_mergeable_anon_vma(AnonVma* anon_vma1, AnonVma* anon_vma2, const Vma* vma) {
  if ((!anon_vma1 || !anon_vma2) && (!vma || vma->chain.size() == 1)) return true;
  return anon_vma1 == anon_vma2;
}

// can_vma_merge_after() / can_vma_merge_before(): is_mergeable_vma() (flags equal) and the
// anon_vma test; the pgoff test holds for neighbours (see the head of this file).
bool can_vma_merge(const Vma* vma, uint64_t vm_flags, AnonVma* anon_vma) {
  return vma->flags == vm_flags && is_mergeable_anon_vma(anon_vma, vma->anon_vma, vma);
}

// anon_vma_compatible(): adjacent, same policy, flags equal but for the access bits.
bool anon_vma_compatible(const Vma* a, const Vma* b) {
  return a->end == b->start && a->policy_node == b->policy_node &&
         ((a->flags ^ b->flags) & ~kVmAccessFlags) == 0;
}

// reusable_anon_vma()
AnonVma* reusable_anon_vma(const Vma* old, const Vma* a, const Vma* b) {
  if (anon_vma_compatible(a, b) && old->anon_vma && old->chain.size() == 1) return old->anon_vma;
  return nullptr;
}

}  // namespace

Vma* Machine::vma_prev(Mm* mm, const Vma* vma) {
  auto it = mm->vmas.find(vma->start);
  return it == mm->vmas.begin() ? nullptr : std::prev(it)->second.get();
}

AnonVma* Machine::find_mergeable_anon_vma(Vma* vma) {
  Mm* mm = vma->mm;
  auto it = mm->vmas.find(vma->start);
  auto next_it = std::next(it);
  if (next_it != mm->vmas.end()) {  // try next first
    if (AnonVma* av = reusable_anon_vma(next_it->second.get(), vma, next_it->second.get()))
      return av;
  }
  if (it != mm->vmas.begin()) {
    Vma* prev = std::prev(it)->second.get();
    return reusable_anon_vma(prev, prev, vma);
  }
  return nullptr;
}

void Machine::set_vma_start(Vma* vma, uint64_t start) {
  Mm* mm = vma->mm;
  auto node = mm->vmas.extract(vma->start);
  vma->start = start;
  node.key() = start;
  mm->vmas.insert(std::move(node));
}

void Machine::remove_merged_vma(Vma* vma) {
  unlink_vma(vma);
  vma->mm->vmas.erase(vma->start);
}

// __vma_adjust()'s anon_vma import: a VMA without an anon_vma that takes over another's
// range links into the other's anon_vmas (anon_vma_clone()).
void Machine::import_anon_vma(Vma* importer, const Vma* exporter) {
  if (!exporter || !exporter->anon_vma || importer->anon_vma) return;
  importer->anon_vma = exporter->anon_vma;
  importer->chain = exporter->chain;
  for (AnonVma* av : importer->chain) {
    auto& list = av->vmas;
    list.insert(std::find(list.begin(), list.end(), exporter) + 1, importer);
  }
}

Vma* Machine::vma_merge(Mm* mm, Vma* prev, uint64_t addr, uint64_t end, uint64_t vm_flags,
                        AnonVma* anon_vma, int policy) {
  if (vm_flags & kVmSpecial) return nullptr;
  Vma* next = mm->find_vma(prev ? prev->end : 0);
  Vma* mid = next;
  if (next && next->end == end) next = mm->find_vma(next->end);  // cases 6, 7, 8

  bool merge_prev = prev && prev->end == addr && prev->policy_node == policy &&
                    can_vma_merge(prev, vm_flags, anon_vma);
  bool merge_next = next && end == next->start && policy == next->policy_node &&
                    can_vma_merge(next, vm_flags, anon_vma);
  if (!merge_prev && !merge_next) return nullptr;
  changes_.vma_changed();

  if (merge_prev && merge_next && is_mergeable_anon_vma(prev->anon_vma, next->anon_vma, nullptr)) {
    // Cases 1, 6: prev grows over mid and next. The exporter is mid, or the VMA after it
    // when mid has no anon_vma.
    import_anon_vma(prev, mid->anon_vma ? mid : next);
    uint64_t new_end = next->end;
    if (mid != next) remove_merged_vma(mid);
    remove_merged_vma(next);
    prev->end = new_end;
    return prev;
  }
  if (merge_prev) {  // cases 2, 5, 7: prev grows to end; mid shrinks or goes
    Vma* after = mm->find_vma(prev->end);
    import_anon_vma(prev, after);
    if (after && after->end <= end) {
      remove_merged_vma(after);
    } else if (after && after->start < end) {
      set_vma_start(after, end);
    }
    prev->end = end;
    return prev;
  }
  if (prev && addr < prev->end) {  // case 4: prev shrinks, next grows down to addr
    import_anon_vma(next, prev);
    prev->end = addr;
    set_vma_start(next, addr);
    return next;
  }
  // Cases 3, 8: next grows down over mid, which goes.
  import_anon_vma(next, mid);
  if (mid != next) remove_merged_vma(mid);
  set_vma_start(next, addr);
  return next;
}

Vma* Machine::madvise_update_vma(Vma* vma, Vma** prev, uint64_t start, uint64_t end,
                                 uint64_t new_flags) {
  if (new_flags == vma->flags) {
    *prev = vma;
    return vma;
  }
  Mm* mm = vma->mm;
  if (Vma* merged = vma_merge(mm, *prev, start, end, new_flags, vma->anon_vma, vma->policy_node)) {
    merged->flags = new_flags;
    *prev = merged;
    return merged;
  }
  // No neighbour takes it: split so that only [start, end) changes.
  std::vector<Vma*> parts = SplitRange(mm, start, end);
  changes_.vma_changed();
  Vma* changed = parts.front();
  changed->flags = new_flags;
  *prev = changed;
  return changed;
}

}  // namespace ksmsim::mmu
