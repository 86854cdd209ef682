#include "mmu/swap.h"

#include "mmu/content_store.h"

namespace ksmsim::mmu {

SwapDevice::SwapDevice(uint64_t slots)
    : count_(slots, 0),
      cache_(slots, nullptr),
      content_(slots, 0),
      has_content_(slots, false),
      allocated_(slots, false) {}

uint32_t SwapDevice::Alloc() {
  for (uint32_t s = hint_; s < slots(); ++s) {
    if (!allocated_[s]) {
      allocated_[s] = true;
      ++used_;
      hint_ = s + 1;
      return s;
    }
  }
  return kNoSwapSlot;
}

void SwapDevice::MaybeRelease(uint32_t slot, ContentStore& contents) {
  if (!allocated_[slot] || count_[slot] != 0 || cache_[slot] != nullptr) return;
  allocated_[slot] = false;
  --used_;
  if (has_content_[slot]) contents.Unref(content_[slot]);
  has_content_[slot] = false;
  if (slot < hint_) hint_ = slot;
}

void SwapDevice::Free(uint32_t slot, ContentStore& contents) {
  if (count_[slot] > 0) --count_[slot];
  MaybeRelease(slot, contents);
}

void SwapDevice::set_cache(uint32_t slot, Page* page, ContentStore& contents) {
  cache_[slot] = page;
  MaybeRelease(slot, contents);
}

void SwapDevice::Write(uint32_t slot, ContentId content, ContentStore& contents) {
  contents.Ref(content);
  if (has_content_[slot]) contents.Unref(content_[slot]);
  content_[slot] = content;
  has_content_[slot] = true;
}

}  // namespace ksmsim::mmu
