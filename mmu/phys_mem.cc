#include "mmu/phys_mem.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <new>

namespace ksmsim::mmu {
namespace {

// From a machine's kHugeSlabsFrom-th descriptor slab on (128 MiB of descriptors, 8.4M
// frames), slabs ask for transparent huge pages (NewChunkBlock).
constexpr size_t kHugeSlabsFrom = 32;

}  // namespace

PhysMem::PhysMem(const std::vector<uint64_t>& node_pages, uint64_t block_pages,
                 const std::vector<uint64_t>& reserve_pages)
    : block_pages_(block_pages) {
  auto add = [&](uint64_t pages, int owner) {
    Node n;
    n.start = total_pages_;
    n.pages = pages;
    n.free_count = pages;
    total_pages_ += pages;
    starts_.push_back(n.start);
    nodes_.push_back(std::move(n));
    owner_.push_back(owner);
  };
  for (uint64_t pages : node_pages) add(pages, static_cast<int>(nodes_.size()));
  num_nodes_ = static_cast<int>(nodes_.size());
  reserve_of_.assign(nodes_.size(), 0);
  for (size_t i = 0; i < reserve_pages.size() && i < node_pages.size(); ++i) {
    if (reserve_pages[i] == 0) continue;
    reserve_of_[i] = nodes_.size();
    add(reserve_pages[i], static_cast<int>(i));
  }
  dirs_.resize((total_pages_ + kDirPages - 1) / kDirPages);
  zero_page_ = NewChunk(kZeroPfn);  // only its first descriptor is used
}

PhysMem::~PhysMem() {
  for (char* slab : slabs_) munmap(slab, kBlocksPerSlab * kFrameChunkBytes);
}

void* PhysMem::NewChunkBlock() {
  if (slab_used_ == kBlocksPerSlab) {
    // mmap aligns to host pages only: map 2 MiB more and trim to a 2 MiB boundary, so that
    // every block is aligned to its size and, once a machine has kHugeSlabsFrom slabs, a
    // slab is two whole transparent huge pages (asked for, as in sim/arena.cc).
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t want = kBlocksPerSlab * kFrameChunkBytes, map = want + kHuge;
    void* got = mmap(nullptr, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (got == MAP_FAILED) throw std::bad_alloc();
    char* raw = static_cast<char*>(got);
    char* slab = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + kHuge - 1) &
                                         ~uintptr_t{kHuge - 1});
    if (slab > raw) munmap(raw, static_cast<size_t>(slab - raw));
    if (slab + want < raw + map) munmap(slab + want, static_cast<size_t>(raw + map - slab - want));
    if (slabs_.size() >= kHugeSlabsFrom) madvise(slab, want, MADV_HUGEPAGE);
    slabs_.push_back(slab);
    slab_used_ = 0;
  }
  return slabs_.back() + slab_used_++ * kFrameChunkBytes;
}

Page* PhysMem::Init(Pfn pfn) {
  auto& dir = dirs_[pfn / kDirPages];
  if (!dir) dir = std::make_unique<Dir>();  // value-initialised: every chunk null
  Page*& chunk = (*dir)[pfn / kChunk % kDirChunks];
  if (!chunk) chunk = NewChunk(pfn / kChunk * kChunk);
  return chunk + pfn % kChunk;
}

Page* PhysMem::NewChunk(Pfn first_pfn) {
  char* block = static_cast<char*>(NewChunkBlock());
  new (block) FrameChunkHeader{first_pfn, wide_.get()};  // what Page::pfn() and counts read
  Page* chunk = reinterpret_cast<Page*>(block + kFrameChunkHeader);
  for (uint64_t i = 0; i < kChunk; ++i) new (chunk + i) Page();
  return chunk;
}

bool PhysMem::touched(Pfn pfn) const { return valid_pfn(pfn) && chunk_of(pfn) != nullptr; }

bool PhysMem::IsIsolated(Pfn pfn) const {
  return !isolated_blocks_.empty() && isolated_blocks_.count(pfn / block_pages_) != 0;
}

Page* PhysMem::AllocFrom(Node& n) {
  while (n.free_head != 0) {
    const Pfn pfn = n.start + n.free_head - 1;
    Page* p = Init(pfn);
    n.free_head = p->free_link();
    p->set_free_link(0);
    if (IsIsolated(pfn)) continue;  // isolated after it was freed: UnisolateRange relinks it
    p->Clear(PG_free);
    --n.free_count;
    return p;
  }
  while (n.bump < n.pages) {
    Pfn pfn = n.start + n.bump++;
    if (IsIsolated(pfn)) {  // UnisolateRange pushes these back; skip the rest of the block
      n.bump = std::min(n.pages, (pfn / block_pages_ + 1) * block_pages_ - n.start);
      continue;
    }
    Page* p = Init(pfn);
    p->Clear(PG_free);
    --n.free_count;
    return p;
  }
  return nullptr;
}

Page* PhysMem::AllocOnNode(int nid) {
  if (Page* p = AllocFrom(nodes_[nid])) return p;
  return reserve_of_[nid] ? AllocFrom(nodes_[reserve_of_[nid]]) : nullptr;
}

void PhysMem::Free(Page* page) {
  const Pfn pfn = page->pfn();
  Node& n = nodes_[NodeIndexOf(pfn)];
  page->Set(PG_free);
  if (IsIsolated(pfn)) {
    // A frame freed into an isolated pageblock goes to the MIGRATE_ISOLATE free list and is
    // not counted as free memory (__free_one_page skips __mod_zone_freepage_state for it);
    // UnisolateRange gives it back.
    ++n.offline_count;
    return;
  }
  ++n.free_count;
  PushFree(n, page, pfn);
}

void PhysMem::PushFree(Node& n, Page* page, Pfn pfn) {
  page->set_free_link(n.free_head);
  n.free_head = pfn - n.start + 1;
}

Pfn PhysMem::NextTouched(Pfn pfn, Pfn end) const {
  while (pfn < end) {
    if (!dirs_[pfn / kDirPages]) {
      pfn = (pfn / kDirPages + 1) * kDirPages;
    } else if (!chunk_of(pfn)) {
      pfn = (pfn / kChunk + 1) * kChunk;
    } else {
      return pfn;
    }
  }
  return end;
}

// A frame never touched is free (the bump allocator touches every frame it hands out).
void PhysMem::IsolateRange(Pfn start, Pfn end) {
  for (Pfn b = start / block_pages_; b * block_pages_ < end; ++b) isolated_blocks_.insert(b);
  // Free frames in the range stop counting as free; they stay on their free list until
  // AllocFrom passes them by or UnisolateRange moves them to its head.
  for (Node& n : nodes_) {
    Pfn s = std::max(start, n.start), e = std::min(end, n.start + n.pages);
    if (s >= e) continue;
    uint64_t free = e - s;
    for (Pfn pfn = NextTouched(s, e); pfn < e; pfn = NextTouched(pfn + 1, e))
      if (!Init(pfn)->Test(PG_free)) --free;
    n.free_count -= free;
    n.offline_count += free;
  }
}

void PhysMem::UnisolateRange(Pfn start, Pfn end) {
  for (Pfn b = start / block_pages_; b * block_pages_ < end; ++b) isolated_blocks_.erase(b);
  for (Node& n : nodes_) {
    Pfn s = std::max(start, n.start), e = std::min(end, n.start + n.pages);
    if (s >= e) continue;
    Pfn bump_end = n.start + n.bump;
    // Above the bump pointer: free and never handed out, so not on the free list.
    uint64_t free = e > bump_end ? e - std::max(s, bump_end) : 0;
    // Below it every free frame goes to the head of the list, highest first: those still
    // on it (freed before the range was isolated) move there, found by one walk of the
    // node's list (memory hotplug is rare; the walk is the price of the list's 0 bytes).
    const Pfn relink_end = std::min(e, bump_end);
    Page* prev = nullptr;  // the frame whose link names the current one (null: the head)
    for (uint64_t cur = n.free_head; cur != 0;) {
      const Pfn pfn = n.start + cur - 1;
      Page* p = Init(pfn);
      const uint64_t next = p->free_link();
      if (pfn >= s && pfn < relink_end) {
        p->set_free_link(0);
        if (prev) {
          prev->set_free_link(next);
        } else {
          n.free_head = next;
        }
      } else {
        prev = p;
      }
      cur = next;
    }
    // A frame never touched was skipped by the bump while its block was isolated, so it is
    // free like any other.
    for (Pfn pfn = relink_end; pfn-- > s;) {
      if (touched(pfn) && !Init(pfn)->Test(PG_free)) continue;
      ++free;
      PushFree(n, Init(pfn), pfn);
    }
    n.free_count += free;
    n.offline_count -= free;
  }
}

}  // namespace ksmsim::mmu
