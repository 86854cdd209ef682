// RNG streams: see rng.h. xoshiro256** is by David Blackman and Sebastiano Vigna (public
// domain, https://prng.di.unimi.it/); Below() is Lemire's nearly-divisionless method.
#include "sim/rng.h"

#include <stdexcept>

#include "sim/hash.h"

namespace ksmsim::sim {
namespace {

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

RngStream RngStream::Derive(uint64_t seed, std::string_view purpose) {
  // splitmix64 from x: its i-th output is Mix64(x + i * gamma). Mix64 is a bijection and
  // the four inputs differ, so at most one word is zero and the state is never all-zero.
  uint64_t x = Fnv1a64(purpose) ^ seed;
  std::array<uint64_t, 4> s;
  for (int i = 0; i < 4; ++i) s[i] = Mix64(x + static_cast<uint64_t>(i) * kGoldenGamma);
  return RngStream(s);
}

uint64_t RngStream::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

uint64_t RngStream::Below(uint64_t n) {
  if (n == 0) {
    throw std::invalid_argument("RngStream::Below(0): the range [0, 0) is empty");
  }
  __extension__ typedef unsigned __int128 U128;
  U128 m = static_cast<U128>(Next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      m = static_cast<U128>(Next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

double RngStream::Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

}  // namespace ksmsim::sim
