// A 4-level radix page table (PGD/PUD/PMD/PTE, 512 entries each) holding PTEs: present,
// write, dirty, accessed, special bits and a PFN, or a swap entry. A table keeps them in
// 8 bytes, or in 4 (a narrow table) when every PFN and swap slot of its machine fits.
#pragma once

#include <array>
#include <cstddef>
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

// The 4-byte form of a Pte in a narrow table: the seven flag bits, then the PFN or swap
// slot in 25 bits; the zero page's PFN (kZeroPfn) is the field's highest value.
struct NarrowPte {
  static constexpr unsigned kFlagBits = 7;  // kPresent .. kSwpExclusive
  static constexpr uint32_t kFlagMask = (1u << kFlagBits) - 1;
  static constexpr uint64_t kFieldLimit = uint64_t{1} << (32 - kFlagBits);
  static constexpr uint32_t kZeroField = kFieldLimit - 1;
  // A table can be narrow when every PFN and every swap slot is below this.
  static constexpr uint64_t kMaxField = kZeroField;

  static Pte Decode(uint32_t n) {
    const uint64_t flags = n & kFlagMask;
    // Present (bit 0) with the field all ones: the zero page.
    if ((n | (kFlagMask & ~uint32_t{Pte::kPresent})) == ~0u) [[unlikely]]
      return Pte{kZeroPfn << kPageShift | flags};
    return Pte{uint64_t{n >> kFlagBits} << kPageShift | flags};
  }
  // False when pte has no 4-byte form (a bug: the table should not be narrow).
  static bool Encode(Pte pte, uint32_t* n) {
    const uint64_t field = pte.v >> kPageShift;
    const uint64_t flags = pte.v & ((uint64_t{1} << kPageShift) - 1);
    if (field < kZeroField && flags >> kFlagBits == 0) [[likely]] {
      *n = static_cast<uint32_t>(field << kFlagBits | flags);
      return true;
    }
    // The zero page's PFN, kept as the field's highest value; or no 4-byte form (a PFN at
    // or above that value would read back as the zero page).
    if (!pte.present() || field != kZeroPfn || flags >> kFlagBits) return false;
    *n = static_cast<uint32_t>(uint64_t{kZeroField} << kFlagBits | flags);
    return true;
  }
};

// Where one PTE is kept, as PageTable::Lookup() and Find() return it: an 8-byte slot, or a
// 4-byte one in a narrow table. Used like a pointer to a Pte that is read by value
// (`pte->present()`, `*pte`) and written with set(); null where no table covers the address.
class PteRef {
 public:
  PteRef() = default;
  PteRef(std::nullptr_t) {}  // NOLINT: null, as a Pte* would be
  PteRef(void* slot, bool narrow) : slot_(slot), narrow_(narrow) {}

  explicit operator bool() const { return slot_ != nullptr; }
  bool operator==(std::nullptr_t) const { return slot_ == nullptr; }

  Pte get() const {
    return narrow_ ? NarrowPte::Decode(*static_cast<const uint32_t*>(slot_))
                   : *static_cast<const Pte*>(slot_);
  }
  void set(Pte pte) const {
    if (!narrow_) {
      *static_cast<Pte*>(slot_) = pte;
    } else if (!NarrowPte::Encode(pte, static_cast<uint32_t*>(slot_))) {
      Unrepresentable(pte);
    }
  }
  Pte operator*() const { return get(); }
  // `pte->present()`: the value read now.
  struct Value {
    Pte pte;
    const Pte* operator->() const { return &pte; }
  };
  Value operator->() const { return {get()}; }
  // The slot's address: the same PTE gives the same address (for sets of PTEs).
  const void* slot() const { return slot_; }

 private:
  [[noreturn]] static void Unrepresentable(Pte pte);
  void* slot_ = nullptr;
  bool narrow_ = false;
};

class PageTable {
 public:
  PageTable();
  ~PageTable();
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // Keeps PTEs in 4 bytes (NarrowPte) instead of 8: for a machine whose PFNs and swap slots
  // are all below NarrowPte::kMaxField. Only before the first PTE table exists.
  void set_narrow(bool narrow);
  bool narrow() const { return narrow_; }

  // The PTE slot for addr; with alloc=false null where no table exists. Counts as a write
  // (see writes()): the caller may change the PTE.
  PteRef Lookup(uint64_t addr, bool alloc) {
    Wrote();
    if (alloc) return LookupAlloc(addr);
    return Find(addr);
  }
  // Lookup(addr, false) not counted in writes(): only for a caller that changes no PTE a
  // reader of writes() may still rely on (Machine::pte_of_merging says which).
  PteRef LookupUncounted(uint64_t addr) { return Find(addr); }
  // The PTE slot for addr, or null where no table exists (to read: not counted in writes()).
  PteRef Find(uint64_t addr) const {
    const Node* n = root_.get();
    for (int level = 0; level < 2; ++level) {
      n = n->next[Index(addr, level)].get();
      if (!n) return nullptr;
    }
    uint8_t* leaf = n->leaf[Index(addr, 2)].get();
    return leaf ? Slot(leaf, Index(addr, 3)) : nullptr;
  }
  // The PTE at addr (none where no table exists).
  Pte Value(uint64_t addr) const {
    const PteRef pte = Find(addr);
    return pte ? pte.get() : Pte{};
  }
  // addr when a PTE table (leaf) covers it, else the start of the next one below end, or end:
  // every PTE in between is none. A read (not counted in writes()).
  uint64_t SkipEmpty(uint64_t addr, uint64_t end) const {
    uint8_t* leaf = nullptr;
    uint64_t next = NextLeaf(addr, end, &leaf);
    return next > addr ? next : addr;
  }
  // Calls fn(addr, pte) for every non-none PTE in [start, end), in address order; what fn
  // leaves in pte is stored.
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
  // Levels 0..2 (PGD, PUD, PMD) are Nodes; a PMD entry points to a leaf of 512 PTEs, 8 or 4
  // bytes each (zeroed: every PTE none).
  struct Node {
    std::array<std::unique_ptr<Node>, 512> next;
    std::array<std::unique_ptr<uint8_t[]>, 512> leaf;  // used at the PMD level only
  };
  static constexpr unsigned Index(uint64_t addr, int level) {  // level 0 = PGD ... 3 = PTE
    return (addr >> (kPageShift + 9 * (3 - level))) & 511;
  }
  size_t PteBytes() const { return narrow_ ? sizeof(uint32_t) : sizeof(Pte); }
  PteRef Slot(uint8_t* leaf, unsigned i) const { return {leaf + i * PteBytes(), narrow_}; }
  PteRef LookupAlloc(uint64_t addr);
  uint64_t NextLeaf(uint64_t addr, uint64_t end, uint8_t** leaf) const;
  void Wrote() {
    ++writes_;
    if (counters_) counters_->page_table_written();
  }
  std::unique_ptr<Node> root_;
  size_t table_pages_ = 0;
  uint64_t writes_ = 0;
  ChangeCounters* counters_ = nullptr;
  bool narrow_ = false;
};

}  // namespace ksmsim::mmu
