#include "mmu/swap.h"

#include "mmu/content_store.h"

namespace ksmsim::mmu {

SwapDevice::SwapDevice(uint64_t slots) : slots_(slots) {}

uint32_t SwapDevice::Alloc() {
  for (uint32_t s = hint_; s < slot_.size(); ++s) {
    if (!slot_[s].allocated) {
      slot_[s].allocated = true;
      ++used_;
      hint_ = s + 1;
      return s;
    }
  }
  if (slot_.size() >= slots_) return kNoSwapSlot;
  uint32_t s = static_cast<uint32_t>(slot_.size());
  slot_.push_back(Slot{.allocated = true});
  ++used_;
  hint_ = s + 1;
  return s;
}

void SwapDevice::MaybeRelease(uint32_t slot, ContentStore& contents) {
  Slot& s = slot_[slot];
  if (!s.allocated || s.count != 0 || s.cache != nullptr) return;
  s.allocated = false;
  --used_;
  if (s.has_content) contents.Unref(s.content);
  s.has_content = false;
  if (slot < hint_) hint_ = slot;
}

void SwapDevice::Free(uint32_t slot, ContentStore& contents) {
  if (slot_[slot].count > 0) --slot_[slot].count;
  MaybeRelease(slot, contents);
}

void SwapDevice::set_cache(uint32_t slot, Page* page, ContentStore& contents) {
  slot_[slot].cache = page;
  MaybeRelease(slot, contents);
}

void SwapDevice::Write(uint32_t slot, ContentId content, ContentStore& contents) {
  Slot& s = slot_[slot];
  contents.Ref(content);
  if (s.has_content) contents.Unref(s.content);
  s.content = content;
  s.has_content = true;
}

}  // namespace ksmsim::mmu
