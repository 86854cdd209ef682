// The object arena (sim/arena.h): one MAP_NORESERVE range reserved on first use, handed
// out in chunks by a bump pointer; freed chunks are kept per size and handed out again.
#include "sim/arena.h"

#include <sys/mman.h>

#include <map>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define KSMSIM_LSAN_ROOTS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSMSIM_LSAN_ROOTS 1
#endif
#endif
#ifdef KSMSIM_LSAN_ROOTS
#include <sanitizer/lsan_interface.h>
#endif

namespace ksmsim::sim {
namespace {

// Beyond this many bytes handed out, the rest of the range asks for transparent huge pages
// (AllocChunk).
constexpr size_t kHugeFrom = size_t{128} << 20;

struct ArenaState {
  std::mutex mu;
  size_t reserved = 0;                               // bytes of address space reserved (0: not yet)
  size_t used = 0;                                   // bytes handed out from the bump pointer
  bool huge = false;                                 // the rest advised MADV_HUGEPAGE
  std::map<size_t, std::vector<void*>> free_chunks;  // by size
};

ArenaState& State() {
  static ArenaState* state = new ArenaState;  // never destroyed: chunks outlive statics
  return *state;
}

// Reserves the range: the full kReserve when the kernel allows it, else the largest power
// of two it does (a 32-bit build or a tight RLIMIT_AS); pages are touched only when used.
char* Reserve(size_t* got) {
  for (size_t size = Arena::kReserve; size >= (size_t{1} << 26); size /= 2) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) {
      *got = size;
      return static_cast<char*>(p);
    }
  }
  return nullptr;
}

}  // namespace

void* Arena::AllocChunk(size_t bytes) {
  bytes = (bytes + 63) & ~size_t{63};
  ArenaState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  auto it = st.free_chunks.find(bytes);
  if (it != st.free_chunks.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    return p;
  }
  if (st.reserved == 0) {
    char* base = Reserve(&st.reserved);
    if (base == nullptr) throw std::bad_alloc();
    base_ = base;
    size_ = st.reserved;
    st.used = 64;  // reference 0 is null: nothing starts at the base
  }
  if (bytes > st.reserved - st.used) throw std::bad_alloc();
  void* p = base_ + st.used;
  st.used += bytes;
  if (!st.huge && st.used >= kHugeFrom) {
    // Past kHugeFrom, ask for transparent huge pages (where the host gives them only on
    // request, its "madvise" setting): the tree walks' random reads over GiBs of
    // rmap_items then cost one TLB entry per 2 MiB instead of per 4 KiB. Objects are
    // carved in order, so little of a huge page goes unused; below kHugeFrom a small run
    // keeps 4 KiB pages (a 2 MiB page would be a visible share of its memory). Advice
    // only: nothing depends on it being taken.
    const uintptr_t from = (reinterpret_cast<uintptr_t>(p) + (size_t{2} << 20) - 1) &
                           ~uintptr_t{(size_t{2} << 20) - 1};
    char* start = reinterpret_cast<char*>(from);
    if (start < base_ + st.reserved)
      madvise(start, static_cast<size_t>(base_ + st.reserved - start), MADV_HUGEPAGE);
    st.huge = true;
  }
#ifdef KSMSIM_LSAN_ROOTS
  // LeakSanitizer does not look inside mmap'd memory: a heap block that only an arena object
  // points to would be reported as leaked. Each chunk handed out is a root region.
  __lsan_register_root_region(p, bytes);
#endif
  return p;
}

void Arena::FreeChunk(void* chunk, size_t bytes) {
  bytes = (bytes + 63) & ~size_t{63};
  ArenaState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  st.free_chunks[bytes].push_back(chunk);
}

size_t Arena::bytes_reserved() {
  ArenaState& st = State();
  std::lock_guard<std::mutex> lock(st.mu);
  return st.used;
}

}  // namespace ksmsim::sim
