// A kmem_cache stand-in for KSM's rmap_items and stable nodes: objects live in chunks of
// kChunk slots taken from the arena (sim/arena.h: so that Ref32 can name them) and
// freed slots are kept on a LIFO free list, so an object costs its own size (no malloc
// header, no ownership hash map) and a new one costs no malloc.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <vector>

#include "sim/arena.h"

namespace ksmsim::ksm {

template <class T>
class KmemCache {
 public:
  // Live objects are not destroyed with the cache: they must need no destructor.
  static_assert(std::is_trivially_destructible_v<T>);

  KmemCache() = default;
  ~KmemCache() {
    for (Slot* c : chunks_) sim::Arena::FreeChunk(c, kChunkBytes);
  }
  KmemCache(const KmemCache&) = delete;
  KmemCache& operator=(const KmemCache&) = delete;

  // kmem_cache_zalloc(): a value-initialised T.
  T* alloc() {
    Slot* s = free_;
    if (s) {
      free_ = s->next;
    } else {
      if (used_ == kChunk || chunks_.empty()) {
        chunks_.push_back(static_cast<Slot*>(sim::Arena::AllocChunk(kChunkBytes)));
        used_ = 0;
      }
      s = &chunks_.back()[used_++];
    }
    ++live_;
    return new (s->storage) T();
  }

  // kmem_cache_free()
  void free(T* obj) {
    obj->~T();
    Slot* s = reinterpret_cast<Slot*>(obj);
    s->next = free_;
    free_ = s;
    --live_;
  }

  size_t live() const { return live_; }
  size_t bytes() const { return chunks_.size() * kChunk * sizeof(Slot); }

 private:
  static constexpr size_t kChunk = 1024;
  union Slot {
    Slot* next;
    alignas(T) unsigned char storage[sizeof(T)];
  };
  static constexpr size_t kChunkBytes = kChunk * sizeof(Slot);
  static_assert(alignof(Slot) <= 64, "arena chunks are 64-byte aligned");

  std::vector<Slot*> chunks_;
  size_t used_ = 0;  // slots handed out from the last chunk
  Slot* free_ = nullptr;
  size_t live_ = 0;
};

}  // namespace ksmsim::ksm
