// Physical memory: the frame array (struct page per PFN, allocated in chunks on first
// use), NUMA nodes laid out one after another, memory blocks, and the page allocator.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "mmu/page.h"

namespace ksmsim::mmu {

class PhysMem {
 public:
  PhysMem(const std::vector<uint64_t>& node_pages, uint64_t block_pages);

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  uint64_t total_pages() const { return total_pages_; }
  uint64_t node_start(int nid) const { return nodes_[nid].start; }
  uint64_t node_pages(int nid) const { return nodes_[nid].pages; }
  uint64_t block_pages() const { return block_pages_; }
  uint64_t node_blocks(int nid) const {
    return (nodes_[nid].pages + block_pages_ - 1) / block_pages_;
  }
  int pfn_to_nid(Pfn pfn) const;
  bool valid_pfn(Pfn pfn) const { return pfn < total_pages_; }

  // The descriptor of pfn (created on first use).
  Page* page(Pfn pfn) {
    if (!valid_pfn(pfn)) return nullptr;
    const auto& chunk = chunks_[pfn / kChunk];
    return chunk ? &(*chunk)[pfn % kChunk] : Init(pfn);
  }
  // True when the frame's descriptor exists (it has been allocated at least once).
  bool touched(Pfn pfn) const;

  // Allocates a free frame on exactly node `nid`; null when that node has none.
  Page* AllocOnNode(int nid);
  // Returns a frame to its node's free list (the caller has reset it).
  void Free(Page* page);
  uint64_t free_pages(int nid) const { return nodes_[nid].free_count; }
  uint64_t used_pages(int nid) const {
    return nodes_[nid].pages - nodes_[nid].free_count - nodes_[nid].offline_count;
  }

  // Memory hotplug support: take the free frames of [start, end) out of the allocator
  // (offline) or give them back (online).
  void IsolateRange(Pfn start, Pfn end);
  void UnisolateRange(Pfn start, Pfn end);
  bool IsIsolated(Pfn pfn) const;

 private:
  static constexpr uint64_t kChunk = 512;
  struct Node {
    uint64_t start = 0, pages = 0;
    uint64_t bump = 0;            // frames [start, start+bump) have been handed out once
    std::vector<Pfn> free_stack;  // recycled frames, most recently freed on top
    uint64_t free_count = 0;
    uint64_t offline_count = 0;
  };
  Page* Init(Pfn pfn);

  std::vector<Node> nodes_;
  uint64_t total_pages_ = 0;
  uint64_t block_pages_;
  std::vector<std::unique_ptr<std::array<Page, kChunk>>> chunks_;
  std::vector<bool> isolated_blocks_;  // by global block index (pfn / block_pages)
};

}  // namespace ksmsim::mmu
