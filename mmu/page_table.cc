#include "mmu/page_table.h"

#include <algorithm>

namespace ksmsim::mmu {

namespace {
constexpr uint64_t kLeafSpan = uint64_t{512} << kPageShift;
}  // namespace

PageTable::PageTable() : root_(std::make_unique<Node>()) { table_pages_ = 1; }
PageTable::~PageTable() = default;

Pte* PageTable::LookupAlloc(uint64_t addr) {
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
    leaf = std::make_unique<Leaf>();
    ++table_pages_;
  }
  return &leaf->e[Index(addr, 3)];
}

void PageTable::ForEach(uint64_t start, uint64_t end,
                        const std::function<void(uint64_t, Pte&)>& fn) {
  Wrote();
  uint64_t addr = start;
  while (addr < end) {
    uint64_t leaf_base = addr & ~(kLeafSpan - 1);
    Pte* leaf0 = Lookup(leaf_base, false);  // &e[0] of the leaf covering addr
    uint64_t leaf_end = std::min(end, leaf_base + kLeafSpan);
    if (leaf0 == nullptr) {
      addr = leaf_end;
      continue;
    }
    for (; addr < leaf_end; addr += uint64_t{1} << kPageShift) {
      Pte& p = leaf0[Index(addr, 3)];
      if (!p.none()) fn(addr, p);
    }
  }
}

void PageTable::FreeEmpty(uint64_t start, uint64_t end) {
  Wrote();
  for (uint64_t base = start & ~(kLeafSpan - 1); base < end; base += kLeafSpan) {
    Node* n = root_.get();
    for (int level = 0; level < 2 && n; ++level) n = n->next[Index(base, level)].get();
    if (!n) continue;
    auto& leaf = n->leaf[Index(base, 2)];
    if (!leaf) continue;
    bool empty = true;
    for (const Pte& p : leaf->e) empty = empty && p.none();
    if (empty) {
      leaf.reset();
      --table_pages_;
    }
  }
}

}  // namespace ksmsim::mmu
