// The content store (DESIGN.md "Contents: fast and small"; the representation is in
// content_store_impl.h): making contents (fill, gen, patch, bytes), interning them,
// counting their references and freeing them. Reading and comparing: content_read.cc.
#include <cstdio>
#include <cstdlib>

#include "mmu/content_store_impl.h"

namespace ksmsim::mmu {

namespace content_internal {

void Die(const char* what, ContentId id) {
  std::fprintf(stderr, "ksmsim ContentStore: %s (id %u)\n", what, id);
  std::abort();
}

}  // namespace content_internal

// A new entry with one reference; returns its id.
ContentId ContentStore::Impl::NewEntry(Kind kind, uint64_t payload) {
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

void ContentStore::Impl::AddRef(ContentId id) {
  Entry& e = entries[id];
  if (RefsOf(e) == kMaxRefs) Die("reference count overflow", id);
  if (RefsOf(e) == 0) ++live;  // a Fill coming back into use
  e.meta += kRefOne;
}

void ContentStore::Impl::Release(ContentId id) {
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

ContentId ContentStore::Impl::Fill(uint8_t b) {
  ContentId& id = fill_ids[b];
  if (id == kNoId) {
    id = NewEntry(kFill, b);
  } else {
    AddRef(id);
  }
  return id;
}

ContentId ContentStore::Impl::Gen(uint64_t x) {
  bool created = false;  // one probe: the slot is filled only when x is new
  const ContentId id = *gen_set.lazy_emplace(GenKey{x}, [&](const auto& construct) {
    created = true;
    construct(NewEntry(kGen, x));
  });
  if (!created) AddRef(id);
  return id;
}

// Takes ownership of a kPageAlign-allocated page.
ContentId ContentStore::Impl::InternPage(uint8_t* page) {
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

ContentId ContentStore::Impl::Patch(ContentId base, uint32_t offset, uint8_t value) {
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

}  // namespace ksmsim::mmu
