// The swap device and the swapcache: slots with a count of the swap PTEs that refer to
// them (swap_map), the content written to each slot, and the page cached for each slot.
// Modelled on zram: synchronous I/O (SWP_SYNCHRONOUS_IO), non-rotational (VMA-based
// readahead: Machine::swap_vma_readahead in swap_readahead.cc). A slot's record
// is created the first time the slot is allocated (slots are handed out lowest first, so
// the records are those below the high-water mark): host memory follows the swap used,
// not the device's size.
#pragma once

#include <cstdint>
#include <vector>

#include "mmu/page.h"

namespace ksmsim::mmu {

class SwapDevice {
 public:
  explicit SwapDevice(uint64_t slots);

  uint64_t slots() const { return slots_; }
  uint64_t used() const { return used_; }
  // Slots that have ever been allocated: [0, created()) have records, the rest are free.
  uint64_t created() const { return slot_.size(); }
  // get_swap_page(): lowest free slot, or kNoSwapSlot when the device is full (or absent).
  uint32_t Alloc();
  // __swap_count(): swap PTEs referring to the slot.
  uint32_t count(uint32_t slot) const { return slot < slot_.size() ? slot_[slot].count : 0; }
  void Duplicate(uint32_t slot) { ++slot_[slot].count; }  // swap_duplicate()
  // swap_free(): one swap PTE less; the slot is released when nothing refers to it.
  void Free(uint32_t slot, class ContentStore& contents);
  Page* cache(uint32_t slot) const { return slot < slot_.size() ? slot_[slot].cache : nullptr; }
  void set_cache(uint32_t slot, Page* page, ContentStore& contents);  // null removes
  ContentId content(uint32_t slot) const { return slot_[slot].content; }
  bool has_content(uint32_t slot) const { return slot < slot_.size() && slot_[slot].has_content; }
  void Write(uint32_t slot, ContentId content, ContentStore& contents);  // swap_writepage
  // vm_swap_full(): more than half of the swap space in use.
  bool vm_swap_full() const { return used_ * 2 > slots(); }

 private:
  struct Slot {
    Page* cache = nullptr;
    uint32_t count = 0;
    ContentId content = 0;
    bool has_content = false;
    bool allocated = false;
  };
  void MaybeRelease(uint32_t slot, ContentStore& contents);
  uint64_t slots_;
  std::vector<Slot> slot_;  // records of slots [0, created())
  uint64_t used_ = 0;
  uint32_t hint_ = 0;  // no free slot below this
};

}  // namespace ksmsim::mmu
