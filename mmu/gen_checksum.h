// calc_checksum() of a gen(x) page without materialising it (mmu/content_store.cc).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "mmu/content_store.h"
#include "sim/hash.h"

namespace ksmsim::mmu {

// XXH64's pieces for a 4096-byte input (xxhash.h XXH64_endian_align), shared by
// GenChecksum and the vector path in mmu/gen_checksum.cc.
namespace xxh64 {
inline constexpr uint64_t P1 = 0x9E3779B185EBCA87ULL, P2 = 0xC2B2AE3D27D4EB4FULL;
inline constexpr uint64_t P3 = 0x165667B19E3779F9ULL, P4 = 0x85EBCA77C2B2AE63ULL;
// The four accumulators' starting values (seed 0).
inline constexpr uint64_t kInit[4] = {P1 + P2, P2, 0, 0 - P1};
inline uint64_t Round(uint64_t acc, uint64_t input) { return std::rotl(acc + input * P2, 31) * P1; }
// The hash, truncated to 32 bits, from the four accumulators after the page's stripes.
inline uint32_t FinishPage(uint64_t v1, uint64_t v2, uint64_t v3, uint64_t v4) {
  auto merge = [](uint64_t acc, uint64_t v) { return (acc ^ Round(0, v)) * P1 + P4; };
  uint64_t h = std::rotl(v1, 1) + std::rotl(v2, 7) + std::rotl(v3, 12) + std::rotl(v4, 18);
  h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  h += kPageSize;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return static_cast<uint32_t>(h);
}
}  // namespace xxh64

// XXH64(gen(x), 4096, seed 0) truncated to 32 bits, without materialising the page: the
// reference algorithm for a length that is a multiple of the 32-byte stripe, fed with the
// words sim::Mix64(x + i) as it would read them (little-endian).
// ContentStoreTest.ChecksumIsTruncatedXxh64 compares it with libxxhash.
inline uint32_t GenChecksum(uint64_t x) {
  uint64_t v1 = xxh64::kInit[0], v2 = xxh64::kInit[1], v3 = xxh64::kInit[2], v4 = xxh64::kInit[3];
  for (uint32_t i = 0; i < kPageSize / 8; i += 4) {
    v1 = xxh64::Round(v1, sim::Mix64(x + i));
    v2 = xxh64::Round(v2, sim::Mix64(x + i + 1));
    v3 = xxh64::Round(v3, sim::Mix64(x + i + 2));
    v4 = xxh64::Round(v4, sim::Mix64(x + i + 3));
  }
  return xxh64::FinishPage(v1, v2, v3, v4);
}

// GenChecksum(xs[i]) into out[i] for i < n, several pages at once: with AVX-512 (checked at
// run time), eight pages in the eight lanes of each vector; otherwise one by one. The same
// values either way (tests/mmu/gen_checksum_test.cc).
void GenChecksums(const uint64_t* xs, uint32_t* out, size_t n);
// The vector path is used (the CPU has AVX-512F and DQ).
bool GenChecksumsVectorised();
// GenChecksums() without the vector path, for the tests.
void GenChecksumsScalar(const uint64_t* xs, uint32_t* out, size_t n);

}  // namespace ksmsim::mmu
