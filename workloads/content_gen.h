// Turns a step's `data` description into page contents, exactly as WORKLOAD-FORMAT.md's
// "Byte for byte" defines them (the kernel oracle writes the same bytes).
#pragma once

#include <cstdint>

#include "mmu/content_store.h"
#include "workloads/workload.h"

namespace ksmsim::workloads {

class ContentGenerator {
 public:
  ContentGenerator(mmu::ContentStore& store, uint64_t seed) : store_(store), seed_(seed) {}
  // The content of page `index_in_region` written with `data` over `current` (which only
  // `patch` reads). Returns a new reference.
  mmu::ContentId Next(const DataSpec& data, uint64_t index_in_region, mmu::ContentId current);

  static uint64_t KeySeed(std::string_view key);  // gen(fnv1a64(S))

 private:
  mmu::ContentStore& store_;
  uint64_t seed_;
  uint64_t pool_n_ = 0;    // pool pages written so far in the run
  uint64_t unique_n_ = 0;  // unique pages written so far in the run
};

}  // namespace ksmsim::workloads
