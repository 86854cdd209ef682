#include "mmu/content_store.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <array>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ksmsim::mmu {
namespace {

using Page = std::array<uint8_t, kPageSize>;

// Straight from WORKLOAD-FORMAT.md "Byte for byte", independent of sim/hash.h.
uint64_t RefMix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Page RefGen(uint64_t x) {
  Page p;
  for (uint32_t i = 0; i < kPageSize / 8; ++i) {
    const uint64_t w = RefMix64(x + i);
    for (uint32_t j = 0; j < 8; ++j) p[8 * i + j] = static_cast<uint8_t>(w >> (8 * j));
  }
  return p;
}

Page RefFill(uint8_t b) {
  Page p;
  p.fill(b);
  return p;
}

Page Bytes(const ContentStore& s, ContentId id) {
  Page p;
  s.Materialize(id, p.data());
  return p;
}

int Sign(int r) { return (r > 0) - (r < 0); }

TEST(ContentStoreTest, GenMatchesReferenceBytes) {
  ContentStore s;
  // splitmix64's first output from state 0 is 0xe220a8397b1dcdaf, stored little-endian.
  const ContentId zero = s.Gen(0);
  const Page p0 = Bytes(s, zero);
  const uint8_t expect0[8] = {0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2};
  EXPECT_EQ(std::memcmp(p0.data(), expect0, 8), 0);
  const uint64_t xs[] = {
      0, 1, 42, 0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFF00ULL, 0x123456789abcdef0ULL};
  for (uint64_t x : xs) {
    const ContentId id = s.Gen(x);
    const Page ref = RefGen(x);
    EXPECT_EQ(Bytes(s, id), ref) << x;
    for (uint32_t off = 0; off < kPageSize; off += 37) EXPECT_EQ(s.ByteAt(id, off), ref[off]);
    EXPECT_EQ(s.ByteAt(id, kPageSize - 1), ref[kPageSize - 1]);
  }
}

TEST(ContentStoreTest, FillBytesAndInterning) {
  ContentStore s;
  for (int b : {0, 1, 0x5a, 255}) {
    const ContentId id = s.Fill(static_cast<uint8_t>(b));
    EXPECT_EQ(Bytes(s, id), RefFill(static_cast<uint8_t>(b)));
    EXPECT_EQ(s.ByteAt(id, 4095), b);
    EXPECT_EQ(s.Fill(static_cast<uint8_t>(b)), id);
  }
  EXPECT_NE(s.Fill(1), s.Fill(2));
  EXPECT_EQ(s.Gen(7), s.Gen(7));
  EXPECT_NE(s.Gen(7), s.Gen(8));
  EXPECT_EQ(s.live_contents(), 5u + 2u);  // fills 0, 1, 0x5a, 255, 2; gens 7, 8
}

TEST(ContentStoreTest, PatchSemantics) {
  ContentStore s;
  const ContentId g = s.Gen(99);
  const Page ref = RefGen(99);
  const uint8_t orig = ref[10];
  const uint8_t other = static_cast<uint8_t>(orig + 1);

  const ContentId p = s.Patch(g, 10, other);
  EXPECT_NE(p, g);
  Page want = ref;
  want[10] = other;
  EXPECT_EQ(Bytes(s, p), want);
  EXPECT_EQ(s.ByteAt(p, 10), other);
  EXPECT_EQ(s.ByteAt(p, 11), ref[11]);

  // Unchanged byte: the base itself; restoring the root's byte: the root itself.
  EXPECT_EQ(s.Patch(g, 10, orig), g);
  EXPECT_EQ(s.Patch(p, 10, other), p);
  EXPECT_EQ(s.Patch(p, 10, orig), g);

  // Flattening: edits in either order give one content; re-patching an edit replaces it.
  const uint8_t v100 = ref[100] ^ 1, v4095 = ref[4095] ^ 1, w100 = ref[100] ^ 2;
  const ContentId a = s.Patch(s.Patch(g, 100, v100), 4095, v4095);
  const ContentId b = s.Patch(s.Patch(g, 4095, v4095), 100, v100);
  EXPECT_EQ(a, b);
  const ContentId c = s.Patch(a, 100, w100);
  want = ref;
  want[100] = w100;
  want[4095] = v4095;
  EXPECT_EQ(Bytes(s, c), want);
  EXPECT_EQ(s.Patch(s.Patch(c, 100, ref[100]), 4095, ref[4095]), g);

  // Patch of a fill.
  const ContentId f = s.Fill(5);
  EXPECT_EQ(s.Patch(f, 7, 5), f);
  const ContentId pf = s.Patch(f, 7, 6);
  want = RefFill(5);
  want[7] = 6;
  EXPECT_EQ(Bytes(s, pf), want);
  EXPECT_EQ(s.Patch(s.Patch(f, 4095, 9), 7, 6), s.Patch(pf, 4095, 9));
  EXPECT_EQ(s.Patch(pf, 7, 5), f);
}

TEST(ContentStoreTest, ManyEditsMaterialiseToBytes) {
  ContentStore s;
  const ContentId g = s.Gen(12345);
  const Page ref = RefGen(12345);
  Page want = ref;
  ContentId cur = g;
  s.Ref(cur);
  for (uint32_t k = 0; k < 600; ++k) {
    const uint32_t off = (k * 613) % kPageSize;
    const uint8_t v = static_cast<uint8_t>(ref[off] ^ 0x80);
    const ContentId next = s.Patch(cur, off, v);
    s.Unref(cur);
    cur = next;
    want[off] = v;
    if (k % 50 == 0 || k == 255 || k == 256 || k == 257) {
      EXPECT_EQ(Bytes(s, cur), want) << k;
    }
  }
  EXPECT_EQ(Bytes(s, cur), want);
  EXPECT_EQ(s.Checksum(cur), static_cast<uint32_t>(XXH64(want.data(), kPageSize, 0)));
  // Restore every byte: same bytes as the Gen page, reached through another description.
  for (uint32_t k = 0; k < 600; ++k) {
    const uint32_t off = (k * 613) % kPageSize;
    const ContentId next = s.Patch(cur, off, ref[off]);
    s.Unref(cur);
    cur = next;
  }
  EXPECT_EQ(Bytes(s, cur), ref);
  ASSERT_NE(cur, g);  // materialised: a Bytes content keeps no root to fall back to
  EXPECT_EQ(s.MemcmpPages(cur, g), 0);
  EXPECT_EQ(s.MemcmpPages(g, cur), 0);
  EXPECT_EQ(s.Checksum(cur), s.Checksum(g));
  // Equal bytes intern to the same Bytes content.
  EXPECT_EQ(s.FromBytes(ref.data()), cur);
  s.Unref(cur);
  s.Unref(cur);
  s.Unref(g);
  EXPECT_EQ(s.live_contents(), 0u);
}

TEST(ContentStoreTest, UniformPagesBecomeFill) {
  ContentStore s;
  ContentId cur = s.Fill(0);
  for (uint32_t off = 0; off < kPageSize; ++off) {
    const ContentId next = s.Patch(cur, off, 1);
    s.Unref(cur);
    cur = next;
  }
  EXPECT_EQ(cur, s.Fill(1));
  const Page sevens = RefFill(7);
  EXPECT_EQ(s.FromBytes(sevens.data()), s.Fill(7));
}

TEST(ContentStoreTest, ChecksumIsTruncatedXxh64) {
  ContentStore s;
  const Page zeros{};
  const uint32_t zero_sum = static_cast<uint32_t>(XXH64(zeros.data(), kPageSize, 0));
  EXPECT_EQ(s.Checksum(s.Fill(0)), zero_sum);
  EXPECT_EQ(s.Checksum(s.Fill(0)), zero_sum);  // cached
  std::mt19937_64 rng(1);
  for (int k = 0; k < 50; ++k) {
    const uint64_t x = rng();
    const ContentId g = s.Gen(x);
    const Page ref = RefGen(x);
    EXPECT_EQ(s.Checksum(g), static_cast<uint32_t>(XXH64(ref.data(), kPageSize, 0)));
    const ContentId p = s.Patch(g, static_cast<uint32_t>(rng() % kPageSize), 0xAB);
    const Page pb = Bytes(s, p);
    EXPECT_EQ(s.Checksum(p), static_cast<uint32_t>(XXH64(pb.data(), kPageSize, 0)));
    EXPECT_EQ(s.Checksum(p), s.Checksum(p));
  }
  for (uint64_t x : {uint64_t{0}, ~uint64_t{0} - 2}) {  // x + i wraps in the second
    const ContentId g = s.Gen(x);
    const Page ref = RefGen(x);
    EXPECT_EQ(s.Checksum(g), static_cast<uint32_t>(XXH64(ref.data(), kPageSize, 0)));
  }
}

TEST(ContentStoreTest, MemcmpSignInsideOneWordFollowsByteOrder) {
  ContentStore s;
  // Word 0 differs at bytes 1 and 6, in opposite directions: byte 1 must decide.
  Page a = RefGen(3);
  a[1] = 0x10;
  a[6] = 0x90;
  Page b = a;
  b[1] = 0x20;
  b[6] = 0x01;
  const ContentId ia = s.FromBytes(a.data());
  const ContentId ib = s.FromBytes(b.data());
  EXPECT_EQ(s.MemcmpPages(ia, ib), -1);
  EXPECT_EQ(s.MemcmpPages(ib, ia), 1);
  // The same through patches of one root, and of different roots.
  const ContentId g = s.Gen(3);
  const ContentId pa = s.Patch(s.Patch(g, 1, 0x10), 6, 0x90);
  const ContentId pb = s.Patch(s.Patch(g, 1, 0x20), 6, 0x01);
  EXPECT_EQ(s.MemcmpPages(pa, pb), -1);
  EXPECT_EQ(s.MemcmpPages(pb, pa), 1);
  EXPECT_EQ(s.MemcmpPages(pa, ib), -1);
  EXPECT_EQ(s.MemcmpPages(ib, pa), 1);
  EXPECT_EQ(s.MemcmpPages(pa, ia), 0);
}

// A pool of contents of every kind, with near-equal pairs, checked pairwise against memcmp.
TEST(ContentStoreTest, MemcmpAgreesWithMaterialisedBytes) {
  ContentStore s;
  std::mt19937_64 rng(20240601);
  std::vector<ContentId> pool;
  auto patched = [&](ContentId base, std::vector<std::pair<uint32_t, uint8_t>> edits) {
    ContentId cur = base;
    s.Ref(cur);
    for (auto [off, v] : edits) {
      const ContentId next = s.Patch(cur, off, v);
      s.Unref(cur);
      cur = next;
    }
    return cur;
  };
  for (uint8_t b : {0, 1, 5, 6, 0x7f, 0x80, 0xff}) pool.push_back(s.Fill(b));
  std::vector<ContentId> roots = pool;
  for (int k = 0; k < 8; ++k) {
    roots.push_back(s.Gen(rng()));
    pool.push_back(roots.back());
  }
  roots.push_back(s.Gen(1000));
  roots.push_back(s.Gen(1001));  // word i of gen(1001) is word i+1 of gen(1000)
  pool.insert(pool.end(), roots.end() - 2, roots.end());
  for (ContentId r : roots) {
    const uint8_t b0 = s.ByteAt(r, 0), last = s.ByteAt(r, 4095);
    pool.push_back(patched(r, {{4095, static_cast<uint8_t>(last + 1)}}));
    pool.push_back(patched(r, {{4095, static_cast<uint8_t>(last - 1)}}));
    pool.push_back(patched(r, {{0, static_cast<uint8_t>(b0 + 1)}}));
    pool.push_back(patched(r, {{4000, 0}, {4001, 0xff}}));
    pool.push_back(patched(r, {{4001, 0xff}, {4000, 1}}));
    std::vector<std::pair<uint32_t, uint8_t>> random_edits;
    for (int k = 0; k < 5; ++k) {
      random_edits.push_back(
          {static_cast<uint32_t>(rng() % kPageSize), static_cast<uint8_t>(rng())});
    }
    pool.push_back(patched(r, random_edits));
    // Bytes: the root with its last byte changed, materialised (different representation).
    Page p = Bytes(s, r);
    p[4095] ^= 1;
    pool.push_back(s.FromBytes(p.data()));
    p[4095] ^= 1;
    pool.push_back(s.FromBytes(p.data()));  // equal to the root itself
    p[2048] ^= 0x40;
    pool.push_back(s.FromBytes(p.data()));
    // The last byte of word 0, as a patch and as Bytes: equal pages, different roots.
    p[2048] ^= 0x40;
    p[7] ^= 0x11;
    pool.push_back(s.FromBytes(p.data()));
    pool.push_back(patched(r, {{7, p[7]}}));
  }
  // Equal content through different descriptions: Fill(5) patched, twice, in either order.
  pool.push_back(patched(s.Fill(5), {{10, 9}, {3000, 9}}));
  pool.push_back(patched(s.Fill(5), {{3000, 9}, {10, 9}}));
  EXPECT_EQ(pool[pool.size() - 1], pool[pool.size() - 2]);
  // Many edits: materialised as Bytes, compared with the same edits as a patch of 200.
  {
    std::vector<std::pair<uint32_t, uint8_t>> edits;
    for (uint32_t k = 0; k < 300; ++k) edits.push_back({k * 13 % kPageSize, 0x33});
    pool.push_back(patched(s.Fill(5), edits));
    edits.resize(200);
    pool.push_back(patched(s.Fill(5), edits));
  }

  std::vector<Page> bytes;
  for (ContentId id : pool) bytes.push_back(Bytes(s, id));
  size_t equal = 0, compared = 0;
  for (size_t i = 0; i < pool.size(); ++i) {
    for (size_t j = 0; j < pool.size(); ++j) {
      const int want = Sign(std::memcmp(bytes[i].data(), bytes[j].data(), kPageSize));
      ASSERT_EQ(s.MemcmpPages(pool[i], pool[j]), want) << i << " vs " << j;
      equal += want == 0 && pool[i] != pool[j];
      ++compared;
    }
  }
  EXPECT_GT(equal, 10u);  // the pool does hold equal pages under different ids
  EXPECT_GT(compared, 10000u);
}

TEST(ContentStoreTest, RefcountFreesAndRecyclesIds) {
  ContentStore s;
  EXPECT_EQ(s.live_contents(), 0u);
  const ContentId g = s.Gen(77);
  EXPECT_EQ(s.Gen(77), g);
  s.Ref(g);
  EXPECT_EQ(s.live_contents(), 1u);
  s.Unref(g);
  s.Unref(g);
  EXPECT_EQ(s.live_contents(), 1u);
  s.Unref(g);
  EXPECT_EQ(s.live_contents(), 0u);
  // The freed id is reused, and the old description is no longer interned to it.
  const ContentId h = s.Gen(78);
  EXPECT_EQ(h, g);
  EXPECT_EQ(Bytes(s, h), RefGen(78));
  const ContentId g2 = s.Gen(77);
  EXPECT_NE(g2, h);
  EXPECT_EQ(Bytes(s, g2), RefGen(77));

  // A patch keeps its root alive.
  const uint8_t v = static_cast<uint8_t>(s.ByteAt(g2, 5) + 1);
  const ContentId p = s.Patch(g2, 5, v);
  EXPECT_EQ(s.live_contents(), 3u);
  s.Unref(g2);
  EXPECT_EQ(s.live_contents(), 3u);
  EXPECT_EQ(s.ByteAt(p, 5), v);
  EXPECT_EQ(s.ByteAt(p, 6), RefGen(77)[6]);
  s.Unref(p);
  EXPECT_EQ(s.live_contents(), 1u);
  s.Unref(h);
  EXPECT_EQ(s.live_contents(), 0u);

  // Fills are permanent: same id after dropping to zero references.
  const ContentId f = s.Fill(3);
  s.Unref(f);
  EXPECT_EQ(s.live_contents(), 0u);
  EXPECT_EQ(s.Fill(3), f);
  EXPECT_EQ(s.live_contents(), 1u);
  EXPECT_EQ(s.ByteAt(f, 0), 3);
}

TEST(ContentStoreDeathTest, UseAfterFreeAborts) {
  ContentStore s;
  const ContentId g = s.Gen(1);
  s.Unref(g);
  EXPECT_DEATH(s.ByteAt(g, 0), "freed");
  EXPECT_DEATH(s.Unref(g), "freed");
  EXPECT_DEATH(s.ByteAt(12345, 0), "out of range");
}

TEST(ContentStoreTest, DeterministicIds) {
  auto run = [] {
    ContentStore s;
    std::mt19937_64 rng(5);
    std::vector<ContentId> held, trace;
    for (int k = 0; k < 5000; ++k) {
      const uint64_t r = rng();
      ContentId id;
      if (r % 4 == 0 && !held.empty()) {
        const size_t i = r / 4 % held.size();
        s.Unref(held[i]);
        held.erase(held.begin() + static_cast<ptrdiff_t>(i));
        continue;
      } else if (r % 4 == 1 && !held.empty()) {
        id = s.Patch(held[r / 4 % held.size()], static_cast<uint32_t>(r >> 20) % kPageSize,
                     static_cast<uint8_t>(r >> 40));
      } else if (r % 4 == 2) {
        id = s.Fill(static_cast<uint8_t>(r >> 8));
      } else {
        id = s.Gen(r % 64);
      }
      held.push_back(id);
      trace.push_back(id);
    }
    trace.push_back(static_cast<ContentId>(s.live_contents()));
    return trace;
  };
  EXPECT_EQ(run(), run());
}

// gen(x) interning against a model, over the key patterns the intern set's hash treats
// apart (mmu/content_store_impl.h, GenSetHash): runs of consecutive x across the aligned
// blocks of 16, x that differ only above the low 4 bits, and scattered x; with frees and
// re-interning in the middle of runs, through several growths of the set.
TEST(ContentStoreTest, GenInterningAgreesWithAModel) {
  ContentStore s;
  std::map<uint64_t, ContentId> model;
  std::mt19937_64 rng(11);
  std::vector<uint64_t> keys;
  for (uint64_t x = 1000; x < 1000 + 20000; ++x) keys.push_back(x);    // runs
  for (uint64_t k = 0; k < 5000; ++k) keys.push_back((k << 4) | 7);    // low bits equal
  for (uint64_t k = 0; k < 5000; ++k) keys.push_back(rng());           // scattered
  for (uint64_t k = 0; k < 64; ++k) keys.push_back(~uint64_t{0} - k);  // the top end
  for (int round = 0; round < 3; ++round) {
    for (uint64_t x : keys) {
      const ContentId id = s.Gen(x);
      const auto [it, fresh] = model.emplace(x, id);
      if (!fresh) {
        EXPECT_EQ(id, it->second) << "x " << x;
        s.Unref(id);  // keep one reference per live x
      }
    }
    // Free every third key (by position), so later rounds re-intern inside runs.
    for (size_t k = static_cast<size_t>(round); k < keys.size(); k += 3) {
      const auto it = model.find(keys[k]);
      if (it == model.end()) continue;
      s.Unref(it->second);
      model.erase(it);
    }
    EXPECT_EQ(s.live_contents(), model.size());
  }
  std::set<ContentId> ids;
  for (const auto& [x, id] : model) {
    EXPECT_TRUE(ids.insert(id).second) << "two live x share id " << id;
    EXPECT_EQ(s.Word0(id), RefMix64(x));
  }
}

TEST(ContentStoreTest, GenContentsAreSmall) {
  ContentStore s;
  const size_t before = s.MemoryBytes();
  constexpr size_t kN = 200000;
  for (size_t k = 0; k < kN; ++k) s.Gen(k * 0x9e3779b97f4a7c15ULL);
  EXPECT_EQ(s.live_contents(), kN);
  const double per = static_cast<double>(s.MemoryBytes() - before) / kN;
  EXPECT_LT(per, 48.0);
  EXPECT_GT(per, 16.0);  // at least the entry itself is counted
}

}  // namespace
}  // namespace ksmsim::mmu
