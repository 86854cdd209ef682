// The object arena: one process-wide reserved address range, so that links to the objects
// in it are 32-bit references (Ref32) instead of 64-bit pointers: the simulator's layout,
// not the kernel's (docs/PERFORMANCE.md, "The 48-byte rmap_item" and "The 32-byte Page").
// KSM's objects (rmap_items, stable nodes, the 2009 driver's tree items, ksm/slab.h) and the
// mmu's anon_vmas (ArenaPool) live here, so that Page::mapping, which names either, fits in
// 32 bits. Only the referents must be in the arena; a Ref32 itself may be stored anywhere
// (an rb_root, an mm_slot, a Page).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace ksmsim::sim {

class Arena {
 public:
  // A reference counts kGranule-byte units from the arena's base; 0 is null (the first
  // granules are never handed out), so 2^31 units reach kReserve bytes (a reference's top
  // bit stays free: ksm/rbtree.h keeps the colour there).
  static constexpr size_t kGranule = 8;
  static constexpr size_t kReserve = size_t{1} << 34;  // 16 GiB of address space

  // A chunk of `bytes` (a multiple of 64), 64-byte aligned, from the arena: a chunk freed
  // earlier with the same size, else fresh address space. Throws std::bad_alloc when the
  // arena is used up. Thread-safe.
  static void* AllocChunk(size_t bytes);
  // Gives a chunk back for reuse (it stays mapped).
  static void FreeChunk(void* chunk, size_t bytes);
  // Bytes of the arena handed out so far (in use or free for reuse).
  static size_t bytes_reserved();

  static char* base() { return base_; }
  // Whether p is an address a reference can name: in the arena and kGranule-aligned.
  static bool Contains(const void* p) {
    const char* c = static_cast<const char*>(p);
    return base_ != nullptr && c >= base_ && c < base_ + size_ && (c - base_) % kGranule == 0;
  }

 private:
  static inline char* base_ = nullptr;  // set on the first AllocChunk, never changes after
  static inline size_t size_ = 0;       // bytes reserved, set with base_
};

// Encodes p (null, or an address in the arena aligned to kGranule) as a reference.
inline uint32_t ArenaRef(const void* p) {
  return p ? static_cast<uint32_t>((static_cast<const char*>(p) - Arena::base()) / Arena::kGranule)
           : 0;
}
// The address a reference names (null for 0).
inline void* ArenaPtr(uint32_t ref) {
  return ref ? Arena::base() + size_t{ref} * Arena::kGranule : nullptr;
}

// A 32-bit reference to a T in the arena that reads and writes like a T*. It has no
// constructors, so that it can sit in an anonymous struct of a union (RmapItem's);
// value-initialised it is null, and it is set by assignment.
template <class T>
class Ref32 {
 public:
  Ref32& operator=(T* p) {
    ref_ = ArenaRef(p);
    return *this;
  }
  operator T*() const { return static_cast<T*>(ArenaPtr(ref_)); }  // NOLINT
  T* operator->() const { return static_cast<T*>(ArenaPtr(ref_)); }
  T& operator*() const { return *static_cast<T*>(ArenaPtr(ref_)); }
  T* get() const { return static_cast<T*>(ArenaPtr(ref_)); }
  uint32_t raw() const { return ref_; }

 private:
  uint32_t ref_;
};
static_assert(sizeof(Ref32<int>) == 4);

// Objects of any type (a destructor is fine) constructed in arena chunks and destroyed, in
// the order they were made, when the pool goes away; there is no freeing one by one. The
// mmu's anon_vmas, kept until the machine goes away, live in one.
template <class T>
class ArenaPool {
 public:
  ArenaPool() = default;
  ~ArenaPool() {
    for (size_t i = 0; i < count_; ++i) std::launder(slot(i))->~T();
    for (char* c : chunks_) Arena::FreeChunk(c, kChunkBytes);
  }
  ArenaPool(const ArenaPool&) = delete;
  ArenaPool& operator=(const ArenaPool&) = delete;

  template <class... Args>
  T* New(Args&&... args) {
    if (count_ == chunks_.size() * kChunk)
      chunks_.push_back(static_cast<char*>(Arena::AllocChunk(kChunkBytes)));
    T* obj = new (slot(count_)) T(std::forward<Args>(args)...);
    ++count_;
    return obj;
  }
  size_t size() const { return count_; }

 private:
  static constexpr size_t kChunk = 256;
  static constexpr size_t kSlot = (sizeof(T) + Arena::kGranule - 1) & ~(Arena::kGranule - 1);
  static constexpr size_t kChunkBytes = kChunk * kSlot;
  static_assert(alignof(T) <= Arena::kGranule, "slots are kGranule-aligned");

  T* slot(size_t i) const {
    return reinterpret_cast<T*>(chunks_[i / kChunk] + (i % kChunk) * kSlot);
  }

  std::vector<char*> chunks_;
  size_t count_ = 0;
};

}  // namespace ksmsim::sim
