// The frame descriptor: what Linux keeps in struct page for an order-0 anonymous page,
// reduced to the fields that decide KSM, fault, swap and migration behaviour.
#pragma once

#include <cstdint>
#include <cstdlib>

#include "mmu/content_store.h"
#include "sim/arena.h"

namespace ksmsim::mmu {

using Pfn = uint64_t;
// The shared zero page lives outside the frame array, at a PFN no frame has.
inline constexpr Pfn kZeroPfn = ~0ULL >> 16;
inline constexpr uint32_t kNoSwapSlot = ~0U;

// Page flags (PG_*), the subset KSM and the fault paths look at.
enum PageFlag : uint32_t {
  PG_anon = 1u << 0,  // page->mapping is an anon_vma or a KSM stable node
  PG_ksm = 1u << 1,   // page->mapping is a KSM stable node (PAGE_MAPPING_KSM)
  PG_swapcache = 1u << 2,
  PG_dirty = 1u << 3,
  PG_locked = 1u << 4,
  PG_anon_exclusive = 1u << 5,
  PG_mlocked = 1u << 6,
  PG_referenced = 1u << 7,
  PG_free = 1u << 8,      // on the allocator's free list
  PG_isolated = 1u << 9,  // in an offlining memory block: not allocatable
  // Read into the swapcache by swap readahead and not yet looked up by a fault
  // (SetPageReadahead(); the kernel's bit is PG_reclaim's, reused).
  PG_readahead = 1u << 10,
  PG_active = 1u << 11,  // on the active LRU list (set when an activate batch drains)
  PG_zero = 1u << 12,    // (simulator) the shared zero page's descriptor
};
inline constexpr unsigned kPageFlagBits = 13;

class WideCounts;

// Frame descriptors live in chunks of kFramesPerChunk consecutive PFNs (PhysMem), each in
// a kFrameChunkBytes block aligned to its size that starts with this header, so that a
// descriptor finds its PFN (the kernel's page_to_pfn()) and its machine's wide counts
// from its own address. The zero page has a block of its own, whose first PFN is kZeroPfn.
struct FrameChunkHeader {
  Pfn first_pfn;
  WideCounts* wide;  // the PhysMem's counts too large for a descriptor's fields
};
inline constexpr uint64_t kFrameChunkBytes = 16384;
inline constexpr uint64_t kFrameChunkHeader = sizeof(FrameChunkHeader);

struct AnonVma;

// struct page. mapping() is the kernel's tagged pointer: an AnonVma* for PageAnon pages,
// the KSM stable node (opaque here: the mmu never looks inside) for PageKsm pages, the 2009
// driver's kpage tag for its kpages, or null.
//
// 16 bytes, one per simulated frame once its chunk is touched
// (docs/PERFORMANCE.md, "The 16-byte Page"): every object mapping names lives in the arena
// (sim/arena.h), so it is stored as a 32-bit reference; the PFN is not stored but computed
// from the descriptor's place in its chunk (pfn()); the index (35 bits: a user address has
// 47), the flags and the two counts share one word; a count of 255 or more, or below 0, is
// kept in the chunk's WideCounts (few pages: KSM pages near max_page_sharing, pages many
// forks map); the NUMA node is the frame's (PhysMem::pfn_to_nid, not stored); the pin
// count and the swap slot (page_private while PG_swapcache), rarely set, are kept beside
// the frames (Machine::page_pincount, Machine::page_private).
struct Page {
 private:
  static constexpr uint32_t kWide = 255;  // the count is in the chunk's WideCounts
  static constexpr unsigned kIndexBits = 35;
  uint32_t mapping_ref_ = 0;  // Page::mapping() as an arena reference (0: null)

 public:
  ContentId content = 0;  // the bytes this frame holds

 private:
  uint64_t index_ : kIndexBits = 0;

 public:
  uint64_t flags : kPageFlagBits = PG_free;  // PageFlag bits

 private:
  uint64_t refcount_ : 8 = 0;
  uint64_t mapcount_ : 8 = 0;

 public:
  // page_to_pfn(): the chunk's first PFN plus the descriptor's place in the chunk.
  Pfn pfn() const {
    const uintptr_t at = reinterpret_cast<uintptr_t>(this);
    const uintptr_t block = at & ~uintptr_t{kFrameChunkBytes - 1};
    return reinterpret_cast<const FrameChunkHeader*>(block)->first_pfn +
           (at - block - kFrameChunkHeader) / 16;
  }

  // page->index: the linear page index (address >> 12) where the page was first mapped.
  uint64_t index() const { return index_; }
  void set_index(uint64_t index) {
    if (index >> kIndexBits) IndexTooLarge(index);
    index_ = index;
  }

  // While PG_free: the allocator's link to the next free frame of its node (PhysMem's
  // free list, as the kernel links free pages through page->lru), kept in `content` and,
  // past 32 bits, `index`; both read 0 again once the frame is handed out.
  uint64_t free_link() const { return uint64_t{content} | uint64_t{index_} << 32; }
  void set_free_link(uint64_t link) {
    content = static_cast<ContentId>(link);
    index_ = link >> 32;  // a node has at most 2^40 frames: 8 bits
  }

  // page_count() and page_mapcount() (the PTEs that map this frame).
  int32_t refcount() const {
    return refcount_ != kWide ? static_cast<int32_t>(refcount_) : WideCount(0);
  }
  int32_t mapcount() const {
    return mapcount_ != kWide ? static_cast<int32_t>(mapcount_) : WideCount(1);
  }
  void set_refcount(int32_t v) {
    if (static_cast<uint32_t>(v) < kWide && refcount_ != kWide)
      refcount_ = static_cast<uint32_t>(v);
    else
      SetWide(0, v);
  }
  void set_mapcount(int32_t v) {
    if (static_cast<uint32_t>(v) < kWide && mapcount_ != kWide)
      mapcount_ = static_cast<uint32_t>(v);
    else
      SetWide(1, v);
  }
  // Adds d and returns the new count.
  int32_t add_refcount(int32_t d) {
    const int32_t v = refcount() + d;
    set_refcount(v);
    return v;
  }
  int32_t add_mapcount(int32_t d) {
    const int32_t v = mapcount() + d;
    set_mapcount(v);
    return v;
  }

  // page->mapping: AnonVma* or stable node (see flags); null or an object in the arena.
  void* mapping() const { return sim::ArenaPtr(mapping_ref_); }
  void set_mapping(const void* m) {
#ifdef KSMSIM_PARANOID
    if (m != nullptr && !sim::Arena::Contains(m)) std::abort();  // not nameable in 32 bits
#endif
    mapping_ref_ = sim::ArenaRef(m);
  }

  bool Test(uint32_t f) const { return (flags & f) != 0; }
  void Set(uint32_t f) { flags = flags | f; }
  void Clear(uint32_t f) { flags = flags & ~uint64_t{f}; }
  bool PageAnon() const { return Test(PG_anon); }
  bool PageKsm() const { return Test(PG_ksm); }
  bool PageSwapCache() const { return Test(PG_swapcache); }
  AnonVma* anon_vma() const {
    return PageAnon() && !PageKsm() ? static_cast<AnonVma*>(mapping()) : nullptr;
  }

 private:
  // The chunk's WideCounts (mmu/page.cc): count 0 is refcount, 1 is mapcount.
  int32_t WideCount(unsigned which) const;
  void SetWide(unsigned which, int32_t v);
  [[noreturn]] static void IndexTooLarge(uint64_t index);
};
static_assert(sizeof(Page) == 16, "one frame descriptor per simulated frame: keep it small");
inline constexpr uint64_t kFramesPerChunk = (kFrameChunkBytes - kFrameChunkHeader) / sizeof(Page);
static_assert(kFramesPerChunk == 1023, "a chunk's descriptors fill its block");

}  // namespace ksmsim::mmu
