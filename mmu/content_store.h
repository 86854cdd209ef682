// The content store: every distinct page content the run has seen, interned and immutable,
// so a frame holds a 32-bit handle instead of 4096 bytes (DESIGN.md "Contents").
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ksmsim::mmu {

inline constexpr uint32_t kPageSize = 4096;

// A handle to an interned content. Equal handles mean byte-identical pages; different
// handles usually (not always) mean different pages: compare with MemcmpPages.
using ContentId = uint32_t;

class ContentStore {
 public:
  ContentStore();
  ~ContentStore();
  ContentStore(const ContentStore&) = delete;
  ContentStore& operator=(const ContentStore&) = delete;

  // 4096 bytes of value b. Fill(0) is the zero page's content.
  ContentId Fill(uint8_t b);
  // gen(x) of WORKLOAD-FORMAT.md: 64-bit little-endian word i (0..511) is Mix64(x + i).
  ContentId Gen(uint64_t x);
  // base with byte `offset` replaced by `value` (returns base itself when unchanged).
  ContentId Patch(ContentId base, uint32_t offset, uint8_t value);
  // Any 4096 bytes, interned by value (a uniform page becomes Fill). Does not try to
  // recognise gen(x) or patches: the result may be a new id for bytes another id holds.
  ContentId FromBytes(const uint8_t* page /* kPageSize bytes */);

  // Reference counting: every Fill/Gen/Patch result carries one reference for the caller.
  void Ref(ContentId id);
  void Unref(ContentId id);

  // calc_checksum(): XXH64(page, 4096, seed 0) truncated to 32 bits; cached per content.
  uint32_t Checksum(ContentId id);
  // Fills the checksum cache for those of ids[0..n) that are gen(x) pages without one, all
  // at once (mmu/gen_checksum.h): a later Checksum() of them is then a lookup. Changes no
  // value Checksum() gives; KSM's walk lookahead calls it for the pages it will scan.
  void PrepareChecksums(const ContentId* ids, size_t n);
  // memcmp(a, b, 4096) sign (-1, 0, 1), stopping at the first differing 64-byte block.
  int MemcmpPages(ContentId a, ContentId b);
  uint8_t ByteAt(ContentId id, uint32_t offset) const;
  // The first 8 bytes as a little-endian word: two pages whose Word0 differ compare (in
  // memcmp order) as CompareWord0 of the two says, without looking further.
  uint64_t Word0(ContentId id) const;
  // memcmp sign (-1 or 1) of two pages whose first 8 bytes are the different words a, b
  // (the first differing byte decides; inline: the tree walks call it at every level).
  static int CompareWord0(uint64_t a, uint64_t b) {
    const int shift = std::countr_zero(a ^ b) & ~7;
    return ((a >> shift) & 0xFF) < ((b >> shift) & 0xFF) ? -1 : 1;
  }
  void Materialize(ContentId id, uint8_t* out /* kPageSize bytes */) const;

  // Contents currently referenced (for the invariant checker and memory figures).
  size_t live_contents() const;
  // Host bytes the store holds: entry table, intern tables, patch edits, page buffers.
  size_t MemoryBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ksmsim::mmu
