// Physical memory: the frame array (struct page per PFN, in chunks of kFramesPerChunk made
// on first use and found through a two-level directory that is itself filled on first use,
// so host memory follows the frames touched, not the machine's size), NUMA nodes laid out
// one after another, memory blocks, and the page allocator. A node may also have reserve
// frames (the kernel's own boot memory in the oracle's guest), numbered after every node's
// declared frames: in no memory block, never offlined, allocated last on their node.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "mmu/page.h"
#include "mmu/wide_counts.h"

namespace ksmsim::mmu {

class PhysMem {
 public:
  PhysMem(const std::vector<uint64_t>& node_pages, uint64_t block_pages,
          const std::vector<uint64_t>& reserve_pages = {});
  ~PhysMem();
  PhysMem(const PhysMem&) = delete;
  PhysMem& operator=(const PhysMem&) = delete;

  int num_nodes() const { return num_nodes_; }
  uint64_t total_pages() const { return total_pages_; }
  uint64_t node_start(int nid) const { return nodes_[nid].start; }
  uint64_t node_pages(int nid) const { return nodes_[nid].pages; }
  uint64_t block_pages() const { return block_pages_; }
  uint64_t node_blocks(int nid) const {
    return (nodes_[nid].pages + block_pages_ - 1) / block_pages_;
  }
  int pfn_to_nid(Pfn pfn) const { return owner_[NodeIndexOf(pfn)]; }
  bool valid_pfn(Pfn pfn) const { return pfn < total_pages_; }

  // The descriptor of pfn (created on first use).
  Page* page(Pfn pfn) {
    if (!valid_pfn(pfn)) return nullptr;
    const auto& dir = dirs_[pfn / kDirPages];
    if (dir) {
      Page* chunk = (*dir)[pfn / kChunk % kDirChunks];
      if (chunk) return chunk + pfn % kChunk;
    }
    return Init(pfn);
  }
  // True when the frame's descriptor exists (it has been allocated at least once).
  bool touched(Pfn pfn) const;
  // The first PFN in [pfn, end) whose descriptor exists, or end: walks of the frames skip
  // what was never touched in steps of a chunk or a directory.
  Pfn NextTouched(Pfn pfn, Pfn end) const;

  // The shared zero page's descriptor (in a block of its own: its pfn() is kZeroPfn).
  Page* zero_page() { return zero_page_; }
  // Pages whose reference or map count is kept outside the descriptor (page.h).
  size_t wide_counts() const { return wide_->size(); }

  // Allocates a free frame on exactly node `nid` (its declared memory first, then its
  // reserve); null when that node has none.
  Page* AllocOnNode(int nid);
  // Returns a frame to its node's free list (the caller has reset it).
  void Free(Page* page);
  uint64_t free_pages(int nid) const { return nodes_[nid].free_count; }
  uint64_t used_pages(int nid) const {
    return nodes_[nid].pages - nodes_[nid].free_count - nodes_[nid].offline_count;
  }
  // The node's reserve frames (0 when it has none) and how many are allocated.
  uint64_t reserve_pages(int nid) const {
    return reserve_of_[nid] ? nodes_[reserve_of_[nid]].pages : 0;
  }
  uint64_t reserve_used(int nid) const {
    return reserve_of_[nid] ? used_pages(reserve_of_[nid]) : 0;
  }

  // Memory hotplug support: take the free frames of [start, end) out of the allocator
  // (offline) or give them back (online).
  void IsolateRange(Pfn start, Pfn end);
  void UnisolateRange(Pfn start, Pfn end);
  bool IsIsolated(Pfn pfn) const;

 private:
  static constexpr uint64_t kChunk = kFramesPerChunk;  // frames per chunk (page.h: 1023)
  static constexpr uint64_t kDirChunks = 32768;        // chunks per directory
  static constexpr uint64_t kDirPages = kChunk * kDirChunks;
  // Each chunk's first descriptor (its block holds the chunk's first PFN before it).
  using Dir = std::array<Page*, kDirChunks>;
  struct Node {
    uint64_t start = 0, pages = 0;
    uint64_t bump = 0;  // frames [start, start+bump) have been handed out once
    // Recycled frames, most recently freed first: a list linked through the free frames'
    // descriptors (Page::free_link), so that the frames merging frees cost nothing more.
    // Each link is the next frame's offset from `start` plus one; 0 ends the list.
    uint64_t free_head = 0;
    uint64_t free_count = 0;
    uint64_t offline_count = 0;
  };
  Page* Init(Pfn pfn);
  Page* AllocFrom(Node& n);
  // Puts the free frame pfn (its descriptor: page) at the head of n's free list.
  void PushFree(Node& n, Page* page, Pfn pfn);
  // Into nodes_ (a declared node or a reserve): the last entry starting at or below pfn.
  size_t NodeIndexOf(Pfn pfn) const {
    if (starts_.size() == 1) return 0;
    const auto after = std::upper_bound(starts_.begin() + 1, starts_.end(), pfn);
    return static_cast<size_t>(after - starts_.begin()) - 1;
  }

  int num_nodes_ = 0;
  std::vector<Node> nodes_;         // the declared nodes, then the reserves
  std::vector<size_t> reserve_of_;  // per node: its reserve's index in nodes_, or 0
  std::vector<int> owner_;          // per entry of nodes_: the node it belongs to
  std::vector<Pfn> starts_;         // per entry of nodes_: its first PFN (ascending)
  uint64_t total_pages_ = 0;
  uint64_t block_pages_;
  Page* chunk_of(Pfn pfn) const {
    const auto& dir = dirs_[pfn / kDirPages];
    return dir ? (*dir)[pfn / kChunk % kDirChunks] : nullptr;
  }
  // A kFrameChunkBytes block aligned to its size, carved from kBlocksPerSlab-block slabs
  // taken from the system with mmap (aligned by trimming), which the destructor returns.
  void* NewChunkBlock();
  // A new block whose header names first_pfn and this PhysMem's wide counts: its
  // descriptors' place.
  Page* NewChunk(Pfn first_pfn);
  static constexpr size_t kBlocksPerSlab = 256;  // 4 MiB slabs

  std::vector<std::unique_ptr<Dir>> dirs_;
  std::vector<char*> slabs_;
  size_t slab_used_ = kBlocksPerSlab;   // blocks handed out of slabs_.back()
  std::set<uint64_t> isolated_blocks_;  // global block indexes (pfn / block_pages) isolated
  std::unique_ptr<WideCounts> wide_ = std::make_unique<WideCounts>();
  Page* zero_page_;  // set by the constructor
};

}  // namespace ksmsim::mmu
