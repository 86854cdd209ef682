// A 4-level radix page table (PGD/PUD/PMD/PTE, 512 entries each) holding 64-bit PTEs:
// present, write, dirty, accessed, special bits and a PFN, or a swap entry.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "mmu/change_counters.h"
#include "mmu/page.h"

namespace ksmsim::mmu {

inline constexpr uint64_t kPageShift = 12;

// A page table entry, encoded like x86-64 in spirit: flag bits low, frame number high.
struct Pte {
  static constexpr uint64_t kPresent = 1 << 0;
  static constexpr uint64_t kWrite = 1 << 1;
  static constexpr uint64_t kDirty = 1 << 2;
  static constexpr uint64_t kAccessed = 1 << 3;
  static constexpr uint64_t kSpecial = 1 << 4;       // pte_special: the zero page
  static constexpr uint64_t kSwap = 1 << 5;          // not present; slot in the high bits
  static constexpr uint64_t kSwpExclusive = 1 << 6;  // pte_swp_exclusive()

  uint64_t v = 0;

  bool none() const { return v == 0; }
  bool present() const { return v & kPresent; }
  bool is_swap() const { return !present() && (v & kSwap); }
  bool write() const { return v & kWrite; }
  bool dirty() const { return v & kDirty; }
  bool special() const { return v & kSpecial; }
  Pfn pfn() const { return v >> kPageShift; }
  uint32_t swap_slot() const { return static_cast<uint32_t>(v >> kPageShift); }
  bool operator==(const Pte&) const = default;

  static Pte Make(Pfn pfn, uint64_t bits) { return Pte{(pfn << kPageShift) | bits | kPresent}; }
  static Pte Swap(uint32_t slot) { return Pte{(uint64_t{slot} << kPageShift) | kSwap}; }
};

class PageTable {
 public:
  PageTable();
  ~PageTable();
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // The PTE slot for addr; with alloc=false returns null where no table exists. Counts as
  // a write (see writes()): the caller may change the PTE.
  Pte* Lookup(uint64_t addr, bool alloc) {
    Wrote();
    if (alloc) return LookupAlloc(addr);
    return const_cast<Pte*>(Find(addr));
  }
  // Lookup(addr, false) not counted in writes(): only for a caller that changes no PTE a
  // reader of writes() may still rely on (Machine::pte_of_merging says which).
  Pte* LookupUncounted(uint64_t addr) { return const_cast<Pte*>(Find(addr)); }
  // The PTE slot for addr, or null where no table exists (read only).
  const Pte* Find(uint64_t addr) const {
    const Node* n = root_.get();
    for (int level = 0; level < 2; ++level) {
      n = n->next[Index(addr, level)].get();
      if (!n) return nullptr;
    }
    const Leaf* leaf = n->leaf[Index(addr, 2)].get();
    return leaf ? &leaf->e[Index(addr, 3)] : nullptr;
  }
  // addr when a PTE table (leaf) covers it, else the start of the next one below end, or end:
  // every PTE in between is none. A read (not counted in writes()).
  uint64_t SkipEmpty(uint64_t addr, uint64_t end) const {
    Pte* leaf0 = nullptr;
    uint64_t next = NextLeaf(addr, end, &leaf0);
    return next > addr ? next : addr;
  }
  // Calls fn(addr, pte) for every non-none PTE in [start, end), in address order.
  void ForEach(uint64_t start, uint64_t end, const std::function<void(uint64_t, Pte&)>& fn);
  // Frees page-table pages with no entries left in [start, end).
  void FreeEmpty(uint64_t start, uint64_t end);
  size_t table_pages() const { return table_pages_; }
  // How many accesses that may change a PTE (Lookup, ForEach, FreeEmpty) there have been:
  // the same count read twice proves no PTE of this table changed in between (KSM's
  // unstable-tree snapshots). Each one also counts in the machine's counters, if set.
  uint64_t writes() const { return writes_; }
  void set_change_counters(ChangeCounters* counters) { counters_ = counters; }

 private:
  struct Leaf {
    std::array<Pte, 512> e{};
  };
  // Levels 0..2 (PGD, PUD, PMD) are Nodes; a PMD entry points to a Leaf of 512 PTEs.
  struct Node {
    std::array<std::unique_ptr<Node>, 512> next;
    std::array<std::unique_ptr<Leaf>, 512> leaf;  // used at the PMD level only
  };
  static constexpr unsigned Index(uint64_t addr, int level) {  // level 0 = PGD ... 3 = PTE
    return (addr >> (kPageShift + 9 * (3 - level))) & 511;
  }
  Pte* LookupAlloc(uint64_t addr);
  uint64_t NextLeaf(uint64_t addr, uint64_t end, Pte** leaf0) const;
  void Wrote() {
    ++writes_;
    if (counters_) counters_->page_table_written();
  }
  std::unique_ptr<Node> root_;
  size_t table_pages_ = 0;
  uint64_t writes_ = 0;
  ChangeCounters* counters_ = nullptr;
};

}  // namespace ksmsim::mmu
