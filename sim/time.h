// Simulated time: a count of nanoseconds since the start of the run, with helpers that
// convert milliseconds, microseconds and seconds and refuse to overflow.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace ksmsim::sim {

// Nanoseconds of simulated time. Never read from a wall clock.
using SimTime = uint64_t;

inline constexpr SimTime kNsPerUs = 1'000;
inline constexpr SimTime kNsPerMs = 1'000'000;
inline constexpr SimTime kNsPerSec = 1'000'000'000;

namespace internal {
constexpr SimTime Scale(uint64_t count, SimTime unit_ns, const char* unit) {
  if (count > std::numeric_limits<SimTime>::max() / unit_ns) {
    throw std::overflow_error(std::to_string(count) + " " + unit +
                              " does not fit in simulated time (at most about 584 years "
                              "of nanoseconds)");
  }
  return count * unit_ns;
}
}  // namespace internal

constexpr SimTime Ns(uint64_t ns) { return ns; }
constexpr SimTime Us(uint64_t us) { return internal::Scale(us, kNsPerUs, "microseconds"); }
constexpr SimTime Ms(uint64_t ms) { return internal::Scale(ms, kNsPerMs, "milliseconds"); }
constexpr SimTime Sec(uint64_t s) { return internal::Scale(s, kNsPerSec, "seconds"); }

// t + delta, or std::overflow_error when the sum passes the end of simulated time.
constexpr SimTime AddTime(SimTime t, SimTime delta) {
  if (delta > std::numeric_limits<SimTime>::max() - t) {
    throw std::overflow_error("simulated time overflow: " + std::to_string(t) + " ns + " +
                              std::to_string(delta) + " ns passes the end of simulated time");
  }
  return t + delta;
}

}  // namespace ksmsim::sim
