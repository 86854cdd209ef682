// KSM's objects (rmap_items, stable nodes, the 2009 driver's tree items) live in one
// process-wide reserved address range, so that the links between them are 32-bit
// references (Ref32) instead of 64-bit pointers: the simulator's layout, not the kernel's
// (docs/PERFORMANCE.md, "The 48-byte rmap_item"). Only the referents must be in the arena;
// a Ref32 itself may be stored anywhere (an rb_root, an mm_slot).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ksmsim::ksm {

class KsmArena {
 public:
  // A reference counts kGranule-byte units from the arena's base; 0 is null (the first
  // granules are never handed out), so 2^32 units reach kReserve bytes.
  static constexpr size_t kGranule = 8;
  static constexpr size_t kReserve = size_t{1} << 35;  // 32 GiB of address space

  // A chunk of `bytes` (a multiple of 64), 64-byte aligned, from the arena: a chunk freed
  // earlier with the same size, else fresh address space. Throws std::bad_alloc when the
  // arena is used up. Thread-safe.
  static void* AllocChunk(size_t bytes);
  // Gives a chunk back for reuse (it stays mapped).
  static void FreeChunk(void* chunk, size_t bytes);
  // Bytes of the arena handed out so far (in use or free for reuse).
  static size_t bytes_reserved();

  static char* base() { return base_; }

 private:
  static inline char* base_ = nullptr;  // set on the first AllocChunk, never changes after
};

// Encodes p (null, or an address in the arena aligned to kGranule) as a reference.
inline uint32_t ArenaRef(const void* p) {
  return p ? static_cast<uint32_t>((static_cast<const char*>(p) - KsmArena::base()) /
                                   KsmArena::kGranule)
           : 0;
}
// The address a reference names (null for 0).
inline void* ArenaPtr(uint32_t ref) {
  return ref ? KsmArena::base() + size_t{ref} * KsmArena::kGranule : nullptr;
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

}  // namespace ksmsim::ksm
