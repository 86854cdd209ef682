#include "mmu/phys_mem.h"

#include <algorithm>

namespace ksmsim::mmu {

PhysMem::PhysMem(const std::vector<uint64_t>& node_pages, uint64_t block_pages)
    : block_pages_(block_pages) {
  for (uint64_t pages : node_pages) {
    Node n;
    n.start = total_pages_;
    n.pages = pages;
    n.free_count = pages;
    total_pages_ += pages;
    nodes_.push_back(std::move(n));
  }
  chunks_.resize((total_pages_ + kChunk - 1) / kChunk);
  isolated_blocks_.assign((total_pages_ + block_pages_ - 1) / block_pages_, false);
}

int PhysMem::pfn_to_nid(Pfn pfn) const {
  for (int i = num_nodes() - 1; i > 0; --i)
    if (pfn >= nodes_[i].start) return i;
  return 0;
}

Page* PhysMem::Init(Pfn pfn) {
  auto& chunk = chunks_[pfn / kChunk];
  if (!chunk) {
    chunk = std::make_unique<std::array<Page, kChunk>>();
    Pfn base = pfn / kChunk * kChunk;
    for (uint64_t i = 0; i < kChunk; ++i) {
      Page& p = (*chunk)[i];
      p.pfn = base + i;
      p.nid = static_cast<uint16_t>(pfn_to_nid(std::min(base + i, total_pages_ - 1)));
    }
  }
  return &(*chunk)[pfn % kChunk];
}

bool PhysMem::touched(Pfn pfn) const { return valid_pfn(pfn) && chunks_[pfn / kChunk] != nullptr; }

bool PhysMem::IsIsolated(Pfn pfn) const { return isolated_blocks_[pfn / block_pages_]; }

Page* PhysMem::AllocOnNode(int nid) {
  Node& n = nodes_[nid];
  while (!n.free_stack.empty()) {
    Pfn pfn = n.free_stack.back();
    n.free_stack.pop_back();
    Page* p = Init(pfn);
    if (!p->Test(PG_free) || IsIsolated(pfn)) continue;  // stale entry: isolated meanwhile
    p->Clear(PG_free);
    --n.free_count;
    return p;
  }
  while (n.bump < n.pages) {
    Pfn pfn = n.start + n.bump++;
    if (IsIsolated(pfn)) continue;  // UnisolateRange pushes these back
    Page* p = Init(pfn);
    p->Clear(PG_free);
    --n.free_count;
    return p;
  }
  return nullptr;
}

void PhysMem::Free(Page* page) {
  Node& n = nodes_[page->nid];
  page->Set(PG_free);
  if (IsIsolated(page->pfn)) {
    // A frame freed into an isolated pageblock goes to the MIGRATE_ISOLATE free list and is
    // not counted as free memory (__free_one_page skips __mod_zone_freepage_state for it);
    // UnisolateRange gives it back.
    ++n.offline_count;
    return;
  }
  ++n.free_count;
  n.free_stack.push_back(page->pfn);
}

void PhysMem::IsolateRange(Pfn start, Pfn end) {
  for (Pfn b = start / block_pages_; b * block_pages_ < end; ++b) isolated_blocks_[b] = true;
  // Free frames in the range stop counting as free; their stack entries go stale.
  for (Pfn pfn = start; pfn < end; ++pfn) {
    Node& n = nodes_[pfn_to_nid(pfn)];
    bool free = !touched(pfn) ? (pfn - n.start >= n.bump) || Init(pfn)->Test(PG_free)
                              : Init(pfn)->Test(PG_free);
    if (free) {
      --n.free_count;
      ++n.offline_count;
    }
  }
}

void PhysMem::UnisolateRange(Pfn start, Pfn end) {
  for (Pfn b = start / block_pages_; b * block_pages_ < end; ++b) isolated_blocks_[b] = false;
  for (Pfn pfn = end; pfn-- > start;) {
    Node& n = nodes_[pfn_to_nid(pfn)];
    bool below_bump = pfn - n.start < n.bump;
    bool free = below_bump ? Init(pfn)->Test(PG_free) : true;
    if (!free) continue;
    ++n.free_count;
    --n.offline_count;
    if (below_bump) n.free_stack.push_back(pfn);
  }
}

}  // namespace ksmsim::mmu
