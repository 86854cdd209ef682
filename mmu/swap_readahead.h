// Swap readahead's per-VMA state and window size (mm/swap_state.c of Linux 6.1): the
// packing of vma->swap_readahead_info and __swapin_nr_pages(). The readahead itself is in
// swap_readahead.cc (Machine::swap_vma_readahead and the swapcache lookups).
#pragma once

#include <cstdint>

#include "mmu/mm.h"

namespace ksmsim::mmu {

// vma->swap_readahead_info: the page address of the last swap fault in the VMA, the
// readahead window it got and the readahead hits since, in one word (SWAP_RA_VAL()).
inline constexpr unsigned SWAP_RA_WIN_SHIFT = kPageShift / 2;
inline constexpr uint64_t SWAP_RA_HITS_MASK = (uint64_t{1} << SWAP_RA_WIN_SHIFT) - 1;
inline constexpr uint64_t SWAP_RA_HITS_MAX = SWAP_RA_HITS_MASK;
inline constexpr uint64_t kPageMask = ~((uint64_t{1} << kPageShift) - 1);
inline constexpr uint64_t SWAP_RA_WIN_MASK = ~kPageMask & ~SWAP_RA_HITS_MASK;
// The window's largest order on 64-bit (SWAP_RA_ORDER_CEILING), above page-cluster's 3.
inline constexpr unsigned SWAP_RA_ORDER_CEILING = 5;

inline constexpr unsigned SWAP_RA_HITS(uint64_t v) {
  return static_cast<unsigned>(v & SWAP_RA_HITS_MASK);
}
inline constexpr unsigned SWAP_RA_WIN(uint64_t v) {
  return static_cast<unsigned>((v & SWAP_RA_WIN_MASK) >> SWAP_RA_WIN_SHIFT);
}
inline constexpr uint64_t SWAP_RA_ADDR(uint64_t v) { return v & kPageMask; }
inline constexpr uint64_t SWAP_RA_VAL(uint64_t addr, uint64_t win, uint64_t hits) {
  return (addr & kPageMask) | ((win << SWAP_RA_WIN_SHIFT) & SWAP_RA_WIN_MASK) |
         (hits & SWAP_RA_HITS_MASK);
}
// GET_SWAP_RA_VAL(): "Initial readahead hits is 4 to start up with a small window".
inline uint64_t GET_SWAP_RA_VAL(const Vma* vma) {
  return vma->swap_readahead_info ? vma->swap_readahead_info : 4;
}

// __swapin_nr_pages(): the readahead window after a miss at `offset` (a page number here),
// from the previous fault's `prev_offset`, the hits since and the previous window.
inline unsigned __swapin_nr_pages(uint64_t prev_offset, uint64_t offset, int hits, int max_pages,
                                  int prev_win) {
  unsigned pages, last_ra;
  // "please don't ask what the "+ 2" means, it just happens to work well, that's all."
  pages = static_cast<unsigned>(hits + 2);
  if (pages == 2) {
    // No readahead hits to judge by: check for an adjacent offset instead.
    if (offset != prev_offset + 1 && offset != prev_offset - 1) pages = 1;
  } else {
    unsigned roundup = 4;
    while (roundup < pages) roundup <<= 1;
    pages = roundup;
  }
  if (pages > static_cast<unsigned>(max_pages)) pages = static_cast<unsigned>(max_pages);
  // "Don't shrink readahead too fast"
  last_ra = static_cast<unsigned>(prev_win / 2);
  if (pages < last_ra) pages = last_ra;
  return pages;
}

}  // namespace ksmsim::mmu
