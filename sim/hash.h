// The 64-bit mixing functions that WORKLOAD-FORMAT.md uses to define page contents and
// pseudo-random draws: FNV-1a over strings and splitmix64's finaliser.
#pragma once

#include <cstdint>
#include <string_view>

namespace ksmsim::sim {

// FNV-1a 64 over the bytes of s (offset 0xcbf29ce484222325, prime 0x100000001b3).
constexpr uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// splitmix64: z += golden gamma, then two xor-shift-multiply rounds.
constexpr uint64_t Mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace ksmsim::sim
