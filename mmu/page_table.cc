#include "mmu/page_table.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ksmsim::mmu {

namespace {
constexpr uint64_t kLeafSpan = uint64_t{512} << kPageShift;
}  // namespace

void PteRef::Unrepresentable(Pte pte) {
  std::fprintf(stderr, "ksmsim PageTable: PTE %#llx has no 4-byte form in a narrow table\n",
               static_cast<unsigned long long>(pte.v));
  std::abort();
}

PageTable::PageTable() : root_(std::make_unique<Node>()) { table_pages_ = 1; }
PageTable::~PageTable() = default;

void PageTable::set_narrow(bool narrow) {
  if (table_pages_ != 1) std::abort();  // only while no PTE table exists
  narrow_ = narrow;
}

PteRef PageTable::LookupAlloc(uint64_t addr) {
  Node* n = root_.get();
  for (int level = 0; level < 2; ++level) {
    auto& child = n->next[Index(addr, level)];
    if (!child) {
      child = std::make_unique<Node>();
      ++table_pages_;
    }
    n = child.get();
  }
  auto& leaf = n->leaf[Index(addr, 2)];
  if (!leaf) {
    leaf = std::make_unique<uint8_t[]>(512 * PteBytes());  // zeroed: none
    ++table_pages_;
  }
  return Slot(leaf.get(), Index(addr, 3));
}

// The first address at or after addr (below end) whose PMD-level leaf may exist: skips
// whole 512 GiB and 1 GiB spans where a PGD or PUD entry is empty. Sets *leaf0 to the
// leaf (null when it returns end).
uint64_t PageTable::NextLeaf(uint64_t addr, uint64_t end, uint8_t** leaf_out) const {
  *leaf_out = nullptr;
  while (addr < end) {
    const Node* n = root_.get();
    int level = 0;
    for (; level < 2; ++level) {
      const Node* next = n->next[Index(addr, level)].get();
      if (!next) break;
      n = next;
    }
    uint8_t* leaf = level == 2 ? n->leaf[Index(addr, 2)].get() : nullptr;
    if (leaf) {
      *leaf_out = leaf;
      return addr;
    }
    // Nothing below this entry: on to the next entry of the level that is missing.
    uint64_t span = uint64_t{1} << (kPageShift + 9 * (3 - level));
    uint64_t next = (addr & ~(span - 1)) + span;
    if (next <= addr) return end;  // past the top of the address space
    addr = next;
  }
  return end;
}

void PageTable::ForEach(uint64_t start, uint64_t end,
                        const std::function<void(uint64_t, Pte&)>& fn) {
  Wrote();
  if (start >= end) return;
  // One write for each leaf span of the range, as looking each one up counted (the count
  // is what the snapshots compare; skipping empty spans must not change it).
  uint64_t spans = ((end - 1) / kLeafSpan) - (start / kLeafSpan) + 1;
  writes_ += spans;
  if (counters_) counters_->page_table_written(spans);
  uint64_t addr = start;
  while (addr < end) {
    uint8_t* leaf = nullptr;
    addr = std::max(addr, NextLeaf(addr, end, &leaf));
    if (leaf == nullptr) break;
    uint64_t leaf_end = std::min(end, (addr & ~(kLeafSpan - 1)) + kLeafSpan);
    for (; addr < leaf_end; addr += uint64_t{1} << kPageShift) {
      if (!narrow_) {
        Pte& p = reinterpret_cast<Pte*>(leaf)[Index(addr, 3)];
        if (!p.none()) fn(addr, p);
        continue;
      }
      // A narrow PTE: fn works on its value, which is stored back if fn changed it.
      const PteRef slot = Slot(leaf, Index(addr, 3));
      const Pte old = slot.get();
      if (old.none()) continue;
      Pte p = old;
      fn(addr, p);
      if (!(p == old)) slot.set(p);
    }
  }
}

void PageTable::FreeEmpty(uint64_t start, uint64_t end) {
  Wrote();
  uint64_t base = start & ~(kLeafSpan - 1);
  while (base < end) {
    uint8_t* leaf0 = nullptr;
    base = NextLeaf(base, end, &leaf0);
    if (leaf0 == nullptr) break;
    Node* n = root_.get();
    for (int level = 0; level < 2; ++level) n = n->next[Index(base, level)].get();
    auto& leaf = n->leaf[Index(base, 2)];
    const uint8_t* bytes = leaf.get();
    const bool empty =
        std::all_of(bytes, bytes + 512 * PteBytes(), [](uint8_t b) { return b == 0; });
    if (empty) {
      leaf.reset();
      --table_pages_;
    }
    base = (base & ~(kLeafSpan - 1)) + kLeafSpan;
  }
}

}  // namespace ksmsim::mmu
