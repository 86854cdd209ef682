// The content store's reads (the representation is in content_store_impl.h): a page's
// bytes, its checksum (calc_checksum's XXH64), and memcmp_pages block by block, stopping at
// the first difference.
#include "mmu/content_store_impl.h"
#include "mmu/gen_checksum.h"

namespace ksmsim::mmu {

void ContentStore::Impl::Materialize(ContentId id, uint8_t* out) const {
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

uint8_t ContentStore::Impl::ByteAt(ContentId id, uint32_t offset) const {
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

uint32_t ContentStore::Impl::Checksum(ContentId id) {
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

void ContentStore::Impl::PrepareChecksums(const ContentId* ids, size_t n) {
  constexpr size_t kBatch = 64;
  uint64_t xs[kBatch];
  ContentId todo[kBatch];
  uint32_t sums[kBatch];
  size_t k = 0;
  for (size_t i = 0; i < n && k < kBatch; ++i) {
    const Entry& e = Live(ids[i]);
    if (KindOf(e) != kGen || (e.meta & kChecksumValid)) continue;
    todo[k] = ids[i];
    xs[k++] = e.payload;
  }
  if (k < 2) return;  // one alone costs the same when Checksum() meets it
  GenChecksums(xs, sums, k);
  for (size_t j = 0; j < k; ++j) {
    entries[todo[j]].checksum = sums[j];
    entries[todo[j]].meta |= kChecksumValid;
  }
}

BlockCursor ContentStore::Impl::CursorOf(const Entry& e) const {
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
int ContentStore::Impl::MemcmpPages(ContentId a, ContentId b) const {
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

[[gnu::noinline]] int ContentStore::Impl::MemcmpSlow(ContentId a, ContentId b) const {
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
int ContentStore::Impl::CompareSameRoot(const Entry& root, const Entry& ea, const Entry& eb) {
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

size_t ContentStore::Impl::MemoryBytes() const {
  // A flat_hash_set slot is a 4-byte id plus one control byte.
  const size_t sets =
      (gen_set.capacity() + patch_set.capacity() + bytes_set.capacity()) * (sizeof(ContentId) + 1);
  return sizeof(Impl) + entries.capacity() * sizeof(Entry) + sets + patch_bytes +
         page_buffers * kPageSize + scratch.capacity() * sizeof(uint32_t);
}

uint32_t ContentStore::Checksum(ContentId id) { return impl_->Checksum(id); }
void ContentStore::PrepareChecksums(const ContentId* ids, size_t n) {
  impl_->PrepareChecksums(ids, n);
}
int ContentStore::MemcmpPages(ContentId a, ContentId b) { return impl_->MemcmpPages(a, b); }
uint8_t ContentStore::ByteAt(ContentId id, uint32_t offset) const {
  return impl_->ByteAt(id, offset);
}
void ContentStore::Materialize(ContentId id, uint8_t* out) const { impl_->Materialize(id, out); }
uint64_t ContentStore::Word0(ContentId id) const {
  return impl_->CursorOf(impl_->Live(id)).Word0();
}

size_t ContentStore::live_contents() const { return impl_->live; }
size_t ContentStore::MemoryBytes() const { return impl_->MemoryBytes(); }

}  // namespace ksmsim::mmu
