// The content store (DESIGN.md "Contents: fast and small"). Each content is a 16-byte
// entry in one vector, indexed by its ContentId:
//   Fill  payload = the byte; permanent once created (never freed, id never reused).
//   Gen   payload = x of gen(x).
//   Patch payload = pointer to {root, n, edits[n]}: a Fill or Gen root plus n (1..256)
//         sorted byte edits, none of which restores the root's byte.
//   Bytes payload = pointer to an owned, 64-byte aligned 4 KiB page.
// Interning keeps one id per description: a flat_hash_set of ids per kind, hashed and
// compared through the entries (4 bytes a slot), with heterogeneous lookup by description.
#include "mmu/content_store.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "mmu/gen_checksum.h"
#include "sim/hash.h"

namespace ksmsim::mmu {
namespace {

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

[[noreturn]] void Die(const char* what, ContentId id) {
  std::fprintf(stderr, "ksmsim ContentStore: %s (id %u)\n", what, id);
  std::abort();
}

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

uint32_t PageChecksum(const uint8_t* page) {
  return static_cast<uint32_t>(XXH64(page, kPageSize, 0));
}

}  // namespace

struct ContentStore::Impl {
  // Hash and equality over ids (through the entries) and over descriptions.
  struct GenHash {
    using is_transparent = void;
    const Impl* s;
    size_t operator()(GenKey k) const { return Mix64(k.x); }
    size_t operator()(ContentId id) const { return Mix64(s->entries[id].payload); }
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

  // A new entry with one reference; returns its id.
  ContentId NewEntry(Kind kind, uint64_t payload) {
    ContentId id;
    if (free_head != kNoId) {
      id = free_head;
      free_head = static_cast<ContentId>(entries[id].payload);
    } else {
      if (entries.size() >= kNoId) Die("too many contents", kNoId);
      id = static_cast<ContentId>(entries.size());
      entries.emplace_back();
    }
    entries[id] = Entry{payload, 0, kRefOne | kind};
    ++live;
    return id;
  }

  void AddRef(ContentId id) {
    Entry& e = entries[id];
    if (RefsOf(e) == kMaxRefs) Die("reference count overflow", id);
    if (RefsOf(e) == 0) ++live;  // a Fill coming back into use
    e.meta += kRefOne;
  }

  void Release(ContentId id) {
    Entry& e = entries[id];
    if (RefsOf(e) == 0) Die("Unref of an unreferenced content", id);
    e.meta -= kRefOne;
    if (RefsOf(e) != 0) return;
    --live;
    ContentId root = kNoId;
    switch (KindOf(e)) {
      case kFill:
        return;  // permanent
      case kGen:
        gen_set.erase(id);
        break;
      case kPatch: {
        patch_set.erase(id);
        const uint32_t* d = PatchData(entries[id]);
        root = d[0];
        patch_bytes -= 4 * (2 + size_t{d[1]});
        delete[] d;
        break;
      }
      case kBytes:
        bytes_set.erase(id);
        ::operator delete(PageOf(entries[id]), kPageAlign);
        --page_buffers;
        break;
    }
    entries[id] = Entry{free_head, 0, kGen};
    free_head = id;
    if (root != kNoId) Release(root);
  }

  ContentId Fill(uint8_t b) {
    ContentId& id = fill_ids[b];
    if (id == kNoId) {
      id = NewEntry(kFill, b);
    } else {
      AddRef(id);
    }
    return id;
  }

  ContentId Gen(uint64_t x) {
    bool created = false;  // one probe: the slot is filled only when x is new
    const ContentId id = *gen_set.lazy_emplace(GenKey{x}, [&](const auto& construct) {
      created = true;
      construct(NewEntry(kGen, x));
    });
    if (!created) AddRef(id);
    return id;
  }

  // Takes ownership of a kPageAlign-allocated page.
  ContentId InternPage(uint8_t* page) {
    if (std::all_of(page + 1, page + kPageSize, [&](uint8_t c) { return c == page[0]; })) {
      const uint8_t b = page[0];
      ::operator delete(page, kPageAlign);
      return Fill(b);
    }
    const uint32_t checksum = PageChecksum(page);
    const auto it = bytes_set.find(BytesKey{page, checksum});
    if (it != bytes_set.end()) {
      ::operator delete(page, kPageAlign);
      AddRef(*it);
      return *it;
    }
    const ContentId id = NewEntry(kBytes, reinterpret_cast<uintptr_t>(page));
    entries[id].checksum = checksum;
    entries[id].meta |= kChecksumValid;
    ++page_buffers;
    bytes_set.insert(id);
    return id;
  }

  static uint8_t* NewPage() { return static_cast<uint8_t*>(::operator new(kPageSize, kPageAlign)); }

  // Byte `offset` of a Fill or Gen entry.
  static uint8_t RootByte(const Entry& e, uint32_t offset) {
    if (KindOf(e) == kFill) return static_cast<uint8_t>(e.payload);
    return static_cast<uint8_t>(Mix64(e.payload + offset / 8) >> (8 * (offset % 8)));
  }

  ContentId Patch(ContentId base, uint32_t offset, uint8_t value) {
    const Entry& e = Live(base);
    if (offset >= kPageSize) Die("patch offset beyond the page", base);
    if (KindOf(e) == kBytes) {
      const uint8_t* old = PageOf(e);
      if (old[offset] == value) {
        AddRef(base);
        return base;
      }
      uint8_t* page = NewPage();
      std::memcpy(page, old, kPageSize);
      page[offset] = value;
      return InternPage(page);
    }
    ContentId root = base;
    const uint32_t* edits = nullptr;
    uint32_t n = 0;
    if (KindOf(e) == kPatch) {
      const PatchKey k = KeyOfPatch(base);
      root = k.root;
      edits = k.edits;
      n = k.n;
    }
    const uint8_t root_byte = RootByte(entries[root], offset);
    const uint32_t* pos = std::lower_bound(edits, edits + n, MakeEdit(offset, 0));
    const bool edited = pos != edits + n && EditOffset(*pos) == offset;
    if ((edited ? EditValue(*pos) : root_byte) == value) {
      AddRef(base);
      return base;
    }
    scratch.assign(edits, pos);
    if (value != root_byte) scratch.push_back(MakeEdit(offset, value));
    scratch.insert(scratch.end(), edited ? pos + 1 : pos, edits + n);
    if (scratch.empty()) {
      AddRef(root);
      return root;
    }
    if (scratch.size() > kMaxEdits) {
      uint8_t* page = NewPage();
      MaterializeRoot(entries[root], page);
      for (uint32_t edit : scratch) page[EditOffset(edit)] = EditValue(edit);
      return InternPage(page);
    }
    const PatchKey key{root, static_cast<uint32_t>(scratch.size()), scratch.data()};
    bool created = false;
    const ContentId id = *patch_set.lazy_emplace(key, [&](const auto& construct) {
      created = true;
      uint32_t* d = new uint32_t[2 + key.n];
      d[0] = root;
      d[1] = key.n;
      std::copy(scratch.begin(), scratch.end(), d + 2);
      patch_bytes += 4 * (2 + size_t{key.n});
      construct(NewEntry(kPatch, reinterpret_cast<uintptr_t>(d)));
    });
    AddRef(created ? root : id);  // a new patch holds its root
    return id;
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

  void Materialize(ContentId id, uint8_t* out) const {
    const Entry& e = Live(id);
    switch (KindOf(e)) {
      case kFill:
      case kGen:
        MaterializeRoot(e, out);
        return;
      case kBytes:
        std::memcpy(out, PageOf(e), kPageSize);
        return;
      case kPatch: {
        const PatchKey k = KeyOfPatch(id);
        MaterializeRoot(entries[k.root], out);
        for (uint32_t i = 0; i < k.n; ++i) out[EditOffset(k.edits[i])] = EditValue(k.edits[i]);
        return;
      }
    }
  }

  uint8_t ByteAt(ContentId id, uint32_t offset) const {
    const Entry& e = Live(id);
    if (offset >= kPageSize) Die("ByteAt offset beyond the page", id);
    switch (KindOf(e)) {
      case kFill:
      case kGen:
        return RootByte(e, offset);
      case kBytes:
        return PageOf(e)[offset];
      case kPatch:
        break;
    }
    const PatchKey k = KeyOfPatch(id);
    const uint32_t* pos = std::lower_bound(k.edits, k.edits + k.n, MakeEdit(offset, 0));
    if (pos != k.edits + k.n && EditOffset(*pos) == offset) return EditValue(*pos);
    return RootByte(entries[k.root], offset);
  }

  uint32_t Checksum(ContentId id) {
    const Entry& e = Live(id);
    if (e.meta & kChecksumValid) return e.checksum;
    Entry& m = entries[id];
    if (KindOf(e) == kGen) {
      m.checksum = GenChecksum(e.payload);
    } else {
      alignas(64) uint8_t page[kPageSize];
      Materialize(id, page);
      m.checksum = PageChecksum(page);
    }
    m.meta |= kChecksumValid;
    return m.checksum;
  }

  BlockCursor CursorOf(const Entry& e) const {
    BlockCursor c{KindOf(e)};
    switch (c.kind) {
      case kFill:
        c.value = FillWord(static_cast<uint8_t>(e.payload));
        break;
      case kGen:
        c.value = e.payload;
        break;
      case kBytes:
        c.bytes = PageOf(e);
        break;
      case kPatch: {
        const uint32_t* d = PatchData(e);
        c = CursorOf(entries[d[0]]);
        c.edit = d + 2;
        c.edit_end = d + 2 + d[1];
        break;
      }
    }
    return c;
  }

  // The common case inline: two live gen pages (Mix64 is a bijection, so different x
  // differ already in word 0); anything else goes to MemcmpSlow.
  int MemcmpPages(ContentId a, ContentId b) const {
    if (a != b && a < entries.size() && b < entries.size()) {
      const Entry& ea = entries[a];
      const Entry& eb = entries[b];
      if (KindOf(ea) == kGen && KindOf(eb) == kGen && RefsOf(ea) != 0 && RefsOf(eb) != 0) {
        const uint64_t wa = Mix64(ea.payload), wb = Mix64(eb.payload);
        if (wa != wb) return CompareWords(wa, wb);
      }
    }
    return MemcmpSlow(a, b);
  }

  [[gnu::noinline]] int MemcmpSlow(ContentId a, ContentId b) const {
    if (a == b) {
      Live(a);
      return 0;
    }
    const Entry& ea = Live(a);
    const Entry& eb = Live(b);
    const Kind ka = KindOf(ea), kb = KindOf(eb);
    if (ka == kGen && kb == kGen) {
      // Mix64 is a bijection: different x differ already in word 0.
      const uint64_t wa = Mix64(ea.payload), wb = Mix64(eb.payload);
      if (wa != wb) return CompareWords(wa, wb);
    } else if (ka == kFill && kb == kFill) {
      const uint8_t ba = static_cast<uint8_t>(ea.payload), bb = static_cast<uint8_t>(eb.payload);
      return ba == bb ? 0 : ba < bb ? -1 : 1;
    } else if (ka == kBytes && kb == kBytes) {
      const int r = std::memcmp(PageOf(ea), PageOf(eb), kPageSize);
      return (r > 0) - (r < 0);
    } else if (ka != kBytes && kb != kBytes) {
      const ContentId ra = ka == kPatch ? PatchData(ea)[0] : a;
      const ContentId rb = kb == kPatch ? PatchData(eb)[0] : b;
      if (ra == rb) return CompareSameRoot(entries[ra], ea, eb);
    }
    BlockCursor ca = CursorOf(ea), cb = CursorOf(eb);
    if (const uint64_t a0 = ca.Word0(), b0 = cb.Word0(); a0 != b0) return CompareWords(a0, b0);
    uint64_t wa[BlockCursor::kBlockWords], wb[BlockCursor::kBlockWords];
    for (uint32_t k = 0; k < kPageSize / 64; ++k) {
      ca.Block(k, wa);
      cb.Block(k, wb);
      if (std::memcmp(wa, wb, 64) == 0) continue;
      for (uint32_t j = 0;; ++j) {
        if (wa[j] != wb[j]) return CompareWords(wa[j], wb[j]);
      }
    }
    return 0;
  }

  // Two pages over one root differ only where one of them has an edit.
  static int CompareSameRoot(const Entry& root, const Entry& ea, const Entry& eb) {
    const uint32_t *ia = nullptr, *end_a = nullptr, *ib = nullptr, *end_b = nullptr;
    if (KindOf(ea) == kPatch) {
      ia = PatchData(ea) + 2;
      end_a = ia + PatchData(ea)[1];
    }
    if (KindOf(eb) == kPatch) {
      ib = PatchData(eb) + 2;
      end_b = ib + PatchData(eb)[1];
    }
    while (ia != end_a || ib != end_b) {
      const uint32_t oa = ia != end_a ? EditOffset(*ia) : kPageSize;
      const uint32_t ob = ib != end_b ? EditOffset(*ib) : kPageSize;
      const uint32_t offset = std::min(oa, ob);
      const uint8_t base = RootByte(root, offset);
      const uint8_t va = oa == offset ? EditValue(*ia++) : base;
      const uint8_t vb = ob == offset ? EditValue(*ib++) : base;
      if (va != vb) return va < vb ? -1 : 1;
    }
    return 0;
  }

  size_t MemoryBytes() const {
    // A flat_hash_set slot is a 4-byte id plus one control byte.
    const size_t sets = (gen_set.capacity() + patch_set.capacity() + bytes_set.capacity()) *
                        (sizeof(ContentId) + 1);
    return sizeof(Impl) + entries.capacity() * sizeof(Entry) + sets + patch_bytes +
           page_buffers * kPageSize + scratch.capacity() * sizeof(uint32_t);
  }
};

ContentStore::ContentStore() : impl_(std::make_unique<Impl>()) {}
ContentStore::~ContentStore() = default;

ContentId ContentStore::Fill(uint8_t b) { return impl_->Fill(b); }
ContentId ContentStore::Gen(uint64_t x) { return impl_->Gen(x); }
ContentId ContentStore::Patch(ContentId base, uint32_t offset, uint8_t value) {
  return impl_->Patch(base, offset, value);
}
ContentId ContentStore::FromBytes(const uint8_t* page) {
  uint8_t* copy = Impl::NewPage();
  std::memcpy(copy, page, kPageSize);
  return impl_->InternPage(copy);
}

void ContentStore::Ref(ContentId id) {
  impl_->Live(id);
  if (RefsOf(impl_->entries[id]) == 0) Die("Ref of an unreferenced content", id);
  impl_->AddRef(id);
}
void ContentStore::Unref(ContentId id) {
  impl_->Live(id);
  impl_->Release(id);
}

uint32_t ContentStore::Checksum(ContentId id) { return impl_->Checksum(id); }
int ContentStore::MemcmpPages(ContentId a, ContentId b) { return impl_->MemcmpPages(a, b); }
uint8_t ContentStore::ByteAt(ContentId id, uint32_t offset) const {
  return impl_->ByteAt(id, offset);
}
void ContentStore::Materialize(ContentId id, uint8_t* out) const { impl_->Materialize(id, out); }
uint64_t ContentStore::Word0(ContentId id) const {
  return impl_->CursorOf(impl_->Live(id)).Word0();
}
int ContentStore::CompareWord0(uint64_t a, uint64_t b) { return CompareWords(a, b); }

size_t ContentStore::live_contents() const { return impl_->live; }
size_t ContentStore::MemoryBytes() const { return impl_->MemoryBytes(); }

}  // namespace ksmsim::mmu
