// What a process last wrote to each page of one region (for `verify`), kept only for the
// pages it has written: a page never written (or dropped by MADV_DONTNEED) holds zeros.
// Host memory follows the pages written, not the region's size, so an untouched mapping of
// 2^35 pages costs nothing.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>

#include "mmu/content_store.h"

namespace ksmsim::workloads {

class ExpectedPages {
 public:
  ExpectedPages() = default;
  ExpectedPages(mmu::ContentStore& contents, uint64_t pages);
  ExpectedPages(ExpectedPages&&) = default;
  ExpectedPages& operator=(ExpectedPages&&) = default;
  ExpectedPages(const ExpectedPages&) = delete;
  ExpectedPages& operator=(const ExpectedPages&) = delete;

  // A copy taking its own references (fork: the child remembers what the parent wrote).
  ExpectedPages Clone() const;
  // Drops every reference held (call before the content store goes away).
  void Release();

  // The content page i should hold (borrowed).
  mmu::ContentId Get(uint64_t i) const {
    const Chunk* c = Find(i / kChunk);
    return c ? (*c)[i % kChunk] : zero_;
  }
  // Page i now holds `content`; takes the caller's reference.
  void Set(uint64_t i, mmu::ContentId content);
  // Pages [first, end) hold zeros again (MADV_DONTNEED).
  void Reset(uint64_t first, uint64_t end);

 private:
  static constexpr uint64_t kChunk = 512;
  using Chunk = std::array<mmu::ContentId, kChunk>;  // a reference per entry
  const Chunk* Find(uint64_t chunk) const {
    auto it = chunks_.find(chunk);
    return it == chunks_.end() ? nullptr : it->second.get();
  }
  mmu::ContentStore* contents_ = nullptr;
  uint64_t pages_ = 0;
  mmu::ContentId zero_ = 0;  // Fill(0), one reference held by this object
  // By chunk index; ordered so that references are dropped in page order, as before.
  std::map<uint64_t, std::unique_ptr<Chunk>> chunks_;
};

}  // namespace ksmsim::workloads
