// The swap device and the swapcache: slots with a count of the swap PTEs that refer to
// them (swap_map), the content written to each slot, and the page cached for each slot.
// Modelled on zram: synchronous I/O (SWP_SYNCHRONOUS_IO), no readahead.
#pragma once

#include <cstdint>
#include <vector>

#include "mmu/page.h"

namespace ksmsim::mmu {

class SwapDevice {
 public:
  explicit SwapDevice(uint64_t slots);

  uint64_t slots() const { return count_.size(); }
  uint64_t used() const { return used_; }
  // get_swap_page(): lowest free slot, or kNoSwapSlot when the device is full (or absent).
  uint32_t Alloc();
  // __swap_count(): swap PTEs referring to the slot.
  uint32_t count(uint32_t slot) const { return count_[slot]; }
  void Duplicate(uint32_t slot) { ++count_[slot]; }  // swap_duplicate()
  // swap_free(): one swap PTE less; the slot is released when nothing refers to it.
  void Free(uint32_t slot, class ContentStore& contents);
  Page* cache(uint32_t slot) const { return cache_[slot]; }
  void set_cache(uint32_t slot, Page* page, ContentStore& contents);  // null removes
  ContentId content(uint32_t slot) const { return content_[slot]; }
  bool has_content(uint32_t slot) const { return has_content_[slot]; }
  void Write(uint32_t slot, ContentId content, ContentStore& contents);  // swap_writepage
  // vm_swap_full(): more than half of the swap space in use.
  bool vm_swap_full() const { return used_ * 2 > slots(); }

 private:
  void MaybeRelease(uint32_t slot, ContentStore& contents);
  std::vector<uint32_t> count_;
  std::vector<Page*> cache_;
  std::vector<ContentId> content_;
  std::vector<bool> has_content_;
  std::vector<bool> allocated_;
  uint64_t used_ = 0;
  uint32_t hint_ = 0;  // no free slot below this
};

}  // namespace ksmsim::mmu
