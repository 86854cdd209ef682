// An allocator for the simulator's big flat tables (the content store's entries and intern
// sets): an allocation of kHugeMin bytes or more is 2 MiB-aligned and advised
// MADV_HUGEPAGE, so that random reads over it cost one TLB entry per 2 MiB instead of per
// 4 KiB (docs/PERFORMANCE.md, "Transparent huge pages"); smaller ones are plain heap
// memory. Advice only: nothing depends on it being taken.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace ksmsim::sim {

inline constexpr size_t kHugePage = size_t{2} << 20;
// From this size on an allocation asks for huge pages. Below it the 2 MiB rounding and
// the huge pages of a table's growth showed: at 8 MiB, unique's 1M pages cost 4 bytes a
// page more (docs/PERFORMANCE.md); from 64 MiB on only the big runs' tables ask.
inline constexpr size_t kHugeMin = size_t{64} << 20;

template <class T>
struct HugeAllocator {
  using value_type = T;

  HugeAllocator() = default;
  template <class U>
  HugeAllocator(const HugeAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator does

  T* allocate(size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    const size_t bytes = n * sizeof(T);
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    if (bytes < kHugeMin) return static_cast<T*>(::operator new(bytes));
    const size_t rounded = (bytes + kHugePage - 1) & ~(kHugePage - 1);
    void* p = std::aligned_alloc(kHugePage, rounded);  // heap memory: sanitizers see it
    if (p == nullptr) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugeMin) {
      ::operator delete(p);
    } else {
      std::free(p);
    }
  }
  template <class U>
  bool operator==(const HugeAllocator<U>&) const {
    return true;
  }
};

}  // namespace ksmsim::sim
