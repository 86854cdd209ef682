#include "workloads/expected_pages.h"

#include <algorithm>

namespace ksmsim::workloads {

ExpectedPages::ExpectedPages(mmu::ContentStore& contents, uint64_t pages)
    : contents_(&contents), pages_(pages), zero_(contents.Fill(0)) {}

ExpectedPages ExpectedPages::Clone() const {
  ExpectedPages copy;
  copy.contents_ = contents_;
  copy.pages_ = pages_;
  copy.zero_ = zero_;
  if (!contents_) return copy;
  contents_->Ref(zero_);
  for (const auto& [index, chunk] : chunks_) {
    for (mmu::ContentId id : *chunk) contents_->Ref(id);
    copy.chunks_[index] = std::make_unique<Chunk>(*chunk);
  }
  return copy;
}

void ExpectedPages::Release() {
  if (!contents_) return;
  for (auto& [index, chunk] : chunks_)
    for (mmu::ContentId id : *chunk) contents_->Unref(id);
  chunks_.clear();
  contents_->Unref(zero_);
  contents_ = nullptr;
}

void ExpectedPages::Set(uint64_t i, mmu::ContentId content) {
  auto& chunk = chunks_[i / kChunk];
  if (!chunk) {
    chunk = std::make_unique<Chunk>();
    chunk->fill(zero_);
    for (uint64_t k = 0; k < kChunk; ++k) contents_->Ref(zero_);
  }
  mmu::ContentId& slot = (*chunk)[i % kChunk];
  contents_->Unref(slot);
  slot = content;
}

void ExpectedPages::Reset(uint64_t first, uint64_t end) {
  for (auto it = chunks_.lower_bound(first / kChunk);
       it != chunks_.end() && it->first * kChunk < end;) {
    uint64_t base = it->first * kChunk;
    uint64_t from = std::max(first, base) - base, to = std::min(end, base + kChunk) - base;
    Chunk& chunk = *it->second;
    for (uint64_t k = from; k < to; ++k) {
      contents_->Unref(chunk[k]);
      chunk[k] = zero_;
      contents_->Ref(zero_);
    }
    bool all_zero =
        std::all_of(chunk.begin(), chunk.end(), [this](mmu::ContentId id) { return id == zero_; });
    if (all_zero) {
      for (uint64_t k = 0; k < kChunk; ++k) contents_->Unref(zero_);
      it = chunks_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ksmsim::workloads
