#include "workloads/content_gen.h"

#include <string>

#include "sim/hash.h"

namespace ksmsim::workloads {

using sim::Fnv1a64;
using sim::Mix64;

uint64_t ContentGenerator::KeySeed(std::string_view key) { return Fnv1a64(key); }

mmu::ContentId ContentGenerator::Next(const DataSpec& data, uint64_t index_in_region,
                                      mmu::ContentId current) {
  switch (data.kind) {
    case DataSpec::Kind::kFill:
      return store_.Fill(data.fill);
    case DataSpec::Kind::kKey:
      return store_.Gen(KeySeed(data.key));
    case DataSpec::Kind::kCycle:
      return store_.Gen(KeySeed("cycle/" + std::to_string(data.k) + "/" +
                                std::to_string(index_in_region % data.k)));
    case DataSpec::Kind::kPool: {
      uint64_t j = Mix64(Mix64(seed_ ^ Fnv1a64("pool")) + pool_n_++) % data.k;
      return store_.Gen(KeySeed("pool/" + std::to_string(data.k) + "/" + std::to_string(j)));
    }
    case DataSpec::Kind::kUnique:
      return store_.Gen(Mix64(Mix64(seed_ ^ Fnv1a64("unique")) ^ Mix64(unique_n_++)));
    case DataSpec::Kind::kPatch:
      return store_.Patch(current, data.patch_offset, data.patch_value);
  }
  return store_.Fill(0);
}

}  // namespace ksmsim::workloads
