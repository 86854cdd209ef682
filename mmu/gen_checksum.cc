// GenChecksums(): calc_checksum() of several gen(x) pages at once (mmu/gen_checksum.h).
#include "mmu/gen_checksum.h"

#include <immintrin.h>

#include <algorithm>

namespace ksmsim::mmu {

namespace {

using xxh64::P1;
using xxh64::P2;

// GCC 12 warns falsely inside its own AVX-512 headers (_mm512_undefined_epi32 initialises
// a vector from itself, on purpose).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__  // (a GCC-only warning; clang would warn about the pragma)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#define KSMSIM_AVX512 __attribute__((target("avx512f,avx512dq"), always_inline)) inline

// sim::Mix64 on eight lanes.
KSMSIM_AVX512 __m512i Mix8(__m512i z) {
  z = _mm512_add_epi64(z, _mm512_set1_epi64(static_cast<int64_t>(0x9e3779b97f4a7c15ULL)));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)),
                         _mm512_set1_epi64(static_cast<int64_t>(0xbf58476d1ce4e5b9ULL)));
  z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)),
                         _mm512_set1_epi64(static_cast<int64_t>(0x94d049bb133111ebULL)));
  return _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
}

// xxh64::Round on eight lanes.
KSMSIM_AVX512 __m512i Round8(__m512i acc, __m512i input) {
  acc =
      _mm512_add_epi64(acc, _mm512_mullo_epi64(input, _mm512_set1_epi64(static_cast<int64_t>(P2))));
  return _mm512_mullo_epi64(_mm512_rol_epi64(acc, 31), _mm512_set1_epi64(static_cast<int64_t>(P1)));
}

// Eight pages, one a lane: the stripes of GenChecksum with sim::Mix64 and XXH64's round
// done on eight 64-bit lanes at once.
__attribute__((target("avx512f,avx512dq"))) void GenChecksum8(const uint64_t* xs, uint32_t* out) {
  __m512i x = _mm512_loadu_si512(xs);
  __m512i v1 = _mm512_set1_epi64(static_cast<int64_t>(xxh64::kInit[0]));
  __m512i v2 = _mm512_set1_epi64(static_cast<int64_t>(xxh64::kInit[1]));
  __m512i v3 = _mm512_set1_epi64(static_cast<int64_t>(xxh64::kInit[2]));
  __m512i v4 = _mm512_set1_epi64(static_cast<int64_t>(xxh64::kInit[3]));
  const __m512i one = _mm512_set1_epi64(1);
  for (uint32_t i = 0; i < kPageSize / 8; i += 4) {
    v1 = Round8(v1, Mix8(x));
    x = _mm512_add_epi64(x, one);
    v2 = Round8(v2, Mix8(x));
    x = _mm512_add_epi64(x, one);
    v3 = Round8(v3, Mix8(x));
    x = _mm512_add_epi64(x, one);
    v4 = Round8(v4, Mix8(x));
    x = _mm512_add_epi64(x, one);
  }
  alignas(64) uint64_t a1[8], a2[8], a3[8], a4[8];
  _mm512_store_si512(a1, v1);
  _mm512_store_si512(a2, v2);
  _mm512_store_si512(a3, v3);
  _mm512_store_si512(a4, v4);
  for (int lane = 0; lane < 8; ++lane)
    out[lane] = xxh64::FinishPage(a1[lane], a2[lane], a3[lane], a4[lane]);
}

#undef KSMSIM_AVX512
#pragma GCC diagnostic pop

const bool kVector = [] {
  __builtin_cpu_init();  // (this runs among the static initialisers)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}();

}  // namespace

bool GenChecksumsVectorised() { return kVector; }

void GenChecksumsScalar(const uint64_t* xs, uint32_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = GenChecksum(xs[i]);
}

void GenChecksums(const uint64_t* xs, uint32_t* out, size_t n) {
  size_t i = 0;
  if (kVector) {
    for (; i + 8 <= n; i += 8) GenChecksum8(xs + i, out + i);
    if (n - i >= 2) {  // the rest, in a vector padded with copies of the last x
      uint64_t x8[8];
      uint32_t c8[8];
      const size_t base = i;
      for (size_t j = 0; j < 8; ++j) x8[j] = xs[base + std::min(j, n - base - 1)];
      GenChecksum8(x8, c8);
      for (; i < n; ++i) out[i] = c8[i - base];
    }
  }
  GenChecksumsScalar(xs + i, out + i, n - i);
}

}  // namespace ksmsim::mmu
