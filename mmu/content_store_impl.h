// Internal to mmu/: the representation of the content store (content_store.h) that its two
// files share. Each content is a 16-byte entry in one vector, indexed by its ContentId:
//   Fill  payload = the byte; permanent once created (never freed, id never reused).
//   Gen   payload = x of gen(x).
//   Patch payload = pointer to {root, n, edits[n]}: a Fill or Gen root plus n (1..256)
//         sorted byte edits, none of which restores the root's byte.
//   Bytes payload = pointer to an owned, 64-byte aligned 4 KiB page.
// Interning keeps one id per description: a flat_hash_set of ids per kind, hashed and
// compared through the entries (4 bytes a slot), with heterogeneous lookup by description.
// content_store.cc makes, interns and frees contents; content_read.cc reads and compares
// them (memcmp_pages, checksums).
#pragma once

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <new>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "mmu/content_store.h"
#include "sim/hash.h"

namespace ksmsim::mmu {
namespace content_internal {

static_assert(std::endian::native == std::endian::little,
              "page words are little-endian; a big-endian host needs byte swaps here");

using sim::Mix64;

constexpr uint32_t kWords = kPageSize / 8;
constexpr uint32_t kMaxEdits = 256;  // more edits than this: materialise to Bytes
constexpr ContentId kNoId = 0xFFFFFFFFu;
constexpr std::align_val_t kPageAlign{64};

enum Kind : uint32_t { kFill = 0, kGen = 1, kPatch = 2, kBytes = 3 };

// meta: bits 0-1 kind, bit 2 checksum valid, bits 3-31 reference count.
constexpr uint32_t kKindMask = 3;
constexpr uint32_t kChecksumValid = 4;
constexpr uint32_t kRefShift = 3;
constexpr uint32_t kRefOne = 1u << kRefShift;
constexpr uint32_t kMaxRefs = (1u << (32 - kRefShift)) - 1;

struct Entry {
  uint64_t payload;   // see the file comment; for a free entry, the next free id
  uint32_t checksum;  // valid when meta & kChecksumValid
  uint32_t meta;
};
static_assert(sizeof(Entry) == 16);

// Reports a misuse of the store (a freed id, a reference count overflow) and aborts.
[[noreturn]] void Die(const char* what, ContentId id);

inline Kind KindOf(const Entry& e) { return static_cast<Kind>(e.meta & kKindMask); }
inline uint32_t RefsOf(const Entry& e) { return e.meta >> kRefShift; }

// Edits are packed as offset << 8 | value, so numeric order is offset order.
inline uint32_t EditOffset(uint32_t edit) { return edit >> 8; }
inline uint8_t EditValue(uint32_t edit) { return static_cast<uint8_t>(edit); }
inline uint32_t MakeEdit(uint32_t offset, uint8_t value) { return offset << 8 | value; }

// Patch data: [0] root id, [1] edit count, [2..] edits.
inline const uint32_t* PatchData(const Entry& e) {
  return reinterpret_cast<const uint32_t*>(static_cast<uintptr_t>(e.payload));
}
inline uint8_t* PageOf(const Entry& e) {
  return reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(e.payload));
}

inline uint64_t FillWord(uint8_t b) { return b * 0x0101010101010101ULL; }

inline uint64_t Load64(const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// memcmp sign of two different little-endian words: their lowest differing byte decides.
inline int CompareWords(uint64_t a, uint64_t b) {
  const int shift = std::countr_zero(a ^ b) & ~7;
  return ((a >> shift) & 0xFF) < ((b >> shift) & 0xFF) ? -1 : 1;
}

inline uint64_t ApplyEdit(uint64_t word, uint32_t edit) {
  const uint32_t shift = (EditOffset(edit) & 7) * 8;
  return (word & ~(0xFFULL << shift)) | (uint64_t{EditValue(edit)} << shift);
}

// Produces the 64-byte blocks of one page, as 8 little-endian words, in ascending order (a
// patch's edits are consumed as the blocks they fall in are produced).
struct BlockCursor {
  static constexpr uint32_t kBlockWords = 8;
  Kind kind;                       // kFill, kGen or kBytes
  uint64_t value = 0;              // fill word or gen x
  const uint8_t* bytes = nullptr;  // kBytes
  const uint32_t* edit = nullptr;
  const uint32_t* edit_end = nullptr;

  // Word 0 without consuming edits: different pages nearly always differ there already.
  uint64_t Word0() const {
    uint64_t w = kind == kFill ? value : kind == kGen ? Mix64(value) : Load64(bytes);
    for (const uint32_t* e = edit; e != edit_end && EditOffset(*e) < 8; ++e) w = ApplyEdit(w, *e);
    return w;
  }

  void Block(uint32_t k, uint64_t* w) {
    switch (kind) {
      case kFill:
        for (uint32_t j = 0; j < kBlockWords; ++j) w[j] = value;
        break;
      case kGen:
        for (uint32_t j = 0; j < kBlockWords; ++j) w[j] = Mix64(value + kBlockWords * k + j);
        break;
      default:
        std::memcpy(w, bytes + 64 * k, 64);
        break;
    }
    const uint32_t limit = (k + 1) << 14;  // edits at offsets < 64 * (k + 1)
    for (; edit != edit_end && *edit < limit; ++edit) {
      uint64_t& word = w[EditOffset(*edit) / 8 % kBlockWords];
      word = ApplyEdit(word, *edit);
    }
  }
};

struct GenKey {
  uint64_t x;
};
struct PatchKey {
  ContentId root;
  uint32_t n;
  const uint32_t* edits;
};
struct BytesKey {
  const uint8_t* page;
  uint32_t checksum;
};

inline uint32_t PageChecksum(const uint8_t* page) {
  return static_cast<uint32_t>(XXH64(page, kPageSize, 0));
}

}  // namespace content_internal

// Only content_store.cc and content_read.cc include this header.
using namespace content_internal;

struct ContentStore::Impl {
  // gen(x) contents are mostly made and looked up in runs of consecutive x (a workload's
  // or a guest's pages in order): the hash keeps each aligned run of 16 x on 16 adjacent
  // slots (absl takes the slot from the bits above the low 7, and its per-table salt
  // permutes within aligned blocks), so a run's probes share one control group and one line
  // of slots, while the blocks themselves are spread by Mix64. The low 7 bits (absl's
  // fingerprint) are Mix64(x)'s, different across a block.
  static size_t GenSetHash(uint64_t x) {
    return (Mix64(x >> 4) & ~uint64_t{0x7FF}) | (x & 15) << 7 | (Mix64(x) & 0x7F);
  }
  // Hash and equality over ids (through the entries) and over descriptions.
  struct GenHash {
    using is_transparent = void;
    const Impl* s;
    size_t operator()(GenKey k) const { return GenSetHash(k.x); }
    size_t operator()(ContentId id) const { return GenSetHash(s->entries[id].payload); }
  };
  struct GenEq {
    using is_transparent = void;
    const Impl* s;
    uint64_t X(GenKey k) const { return k.x; }
    uint64_t X(ContentId id) const { return s->entries[id].payload; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return X(a) == X(b);
    }
  };
  struct PatchHash {
    using is_transparent = void;
    const Impl* s;
    size_t operator()(PatchKey k) const { return XXH64(k.edits, 4 * size_t{k.n}, k.root); }
    size_t operator()(ContentId id) const { return (*this)(s->KeyOfPatch(id)); }
  };
  struct PatchEq {
    using is_transparent = void;
    const Impl* s;
    PatchKey K(PatchKey k) const { return k; }
    PatchKey K(ContentId id) const { return s->KeyOfPatch(id); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const PatchKey ka = K(a), kb = K(b);
      return ka.root == kb.root && ka.n == kb.n &&
             std::memcmp(ka.edits, kb.edits, 4 * size_t{ka.n}) == 0;
    }
  };
  struct BytesHash {
    using is_transparent = void;
    const Impl* s;
    size_t operator()(BytesKey k) const { return Mix64(k.checksum); }
    size_t operator()(ContentId id) const { return Mix64(s->entries[id].checksum); }
  };
  struct BytesEq {
    using is_transparent = void;
    const Impl* s;
    BytesKey K(BytesKey k) const { return k; }
    BytesKey K(ContentId id) const { return {PageOf(s->entries[id]), s->entries[id].checksum}; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const BytesKey ka = K(a), kb = K(b);
      return ka.checksum == kb.checksum && std::memcmp(ka.page, kb.page, kPageSize) == 0;
    }
  };

  std::vector<Entry> entries;
  ContentId free_head = kNoId;
  size_t live = 0;
  size_t patch_bytes = 0;  // heap bytes of patch data
  size_t page_buffers = 0;
  std::array<ContentId, 256> fill_ids;
  absl::flat_hash_set<ContentId, GenHash, GenEq> gen_set{0, GenHash{this}, GenEq{this}};
  absl::flat_hash_set<ContentId, PatchHash, PatchEq> patch_set{0, PatchHash{this}, PatchEq{this}};
  absl::flat_hash_set<ContentId, BytesHash, BytesEq> bytes_set{0, BytesHash{this}, BytesEq{this}};
  std::vector<uint32_t> scratch;  // edits under construction in Patch()

  Impl() { fill_ids.fill(kNoId); }

  ~Impl() {
    for (Entry& e : entries) {
      if (RefsOf(e) == 0) continue;
      if (KindOf(e) == kPatch) delete[] PatchData(e);
      if (KindOf(e) == kBytes) ::operator delete(PageOf(e), kPageAlign);
    }
  }

  PatchKey KeyOfPatch(ContentId id) const {
    const uint32_t* d = PatchData(entries[id]);
    return {d[0], d[1], d + 2};
  }

  // The entry of an id the caller may use: in range, and referenced (or a Fill).
  const Entry& Live(ContentId id) const {
    if (id >= entries.size()) Die("id out of range", id);
    const Entry& e = entries[id];
    if (RefsOf(e) == 0 && KindOf(e) != kFill) Die("id of a freed content", id);
    return e;
  }

  static uint8_t* NewPage() { return static_cast<uint8_t*>(::operator new(kPageSize, kPageAlign)); }

  // Byte `offset` of a Fill or Gen entry.
  static uint8_t RootByte(const Entry& e, uint32_t offset) {
    if (KindOf(e) == kFill) return static_cast<uint8_t>(e.payload);
    return static_cast<uint8_t>(Mix64(e.payload + offset / 8) >> (8 * (offset % 8)));
  }

  static void MaterializeRoot(const Entry& e, uint8_t* out) {
    if (KindOf(e) == kFill) {
      std::memset(out, static_cast<uint8_t>(e.payload), kPageSize);
      return;
    }
    const uint64_t x = e.payload;
    for (uint32_t i = 0; i < kWords; ++i) {
      const uint64_t w = Mix64(x + i);
      std::memcpy(out + 8 * i, &w, 8);
    }
  }

  // ---- making, interning and freeing contents (content_store.cc) ----------------------------

  // A new entry with one reference; returns its id.
  ContentId NewEntry(Kind kind, uint64_t payload);
  void AddRef(ContentId id);
  void Release(ContentId id);
  ContentId Fill(uint8_t b);
  ContentId Gen(uint64_t x);
  // Takes ownership of a kPageAlign-allocated page.
  ContentId InternPage(uint8_t* page);
  ContentId Patch(ContentId base, uint32_t offset, uint8_t value);

  // ---- reading and comparing contents (content_read.cc) ------------------------------------

  void Materialize(ContentId id, uint8_t* out) const;
  uint8_t ByteAt(ContentId id, uint32_t offset) const;
  uint32_t Checksum(ContentId id);
  void PrepareChecksums(const ContentId* ids, size_t n);
  BlockCursor CursorOf(const Entry& e) const;
  // The common case inline: two live gen pages (Mix64 is a bijection, so different x
  // differ already in word 0); anything else goes to MemcmpSlow.
  int MemcmpPages(ContentId a, ContentId b) const;
  [[gnu::noinline]] int MemcmpSlow(ContentId a, ContentId b) const;
  // Two pages over one root differ only where one of them has an edit.
  static int CompareSameRoot(const Entry& root, const Entry& ea, const Entry& eb);
  size_t MemoryBytes() const;
};

}  // namespace ksmsim::mmu
