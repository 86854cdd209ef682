// A deterministic pseudo-random stream (xoshiro256**), one per purpose, derived from the
// workload seed so that adding draws for one purpose never shifts another's sequence.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ksmsim::sim {

class RngStream {
 public:
  // The stream for `purpose` (e.g. "reclaim") under workload seed `seed`: its state is
  // four splitmix64 outputs starting from Fnv1a64(purpose) ^ seed. Same seed and
  // purpose, same sequence, on every machine.
  static RngStream Derive(uint64_t seed, std::string_view purpose);

  // The next 64 random bits.
  uint64_t Next();
  // A uniformly distributed integer in [0, n), without modulo bias (Lemire's method).
  // Throws std::invalid_argument when n is 0.
  uint64_t Below(uint64_t n);
  // A uniformly distributed double in [0, 1), with 53 random bits.
  double Uniform01();

 private:
  explicit RngStream(const std::array<uint64_t, 4>& state) : s_(state) {}

  std::array<uint64_t, 4> s_;
};

}  // namespace ksmsim::sim
