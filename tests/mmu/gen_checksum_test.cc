// calc_checksum() of gen(x) pages in batches (mmu/gen_checksum.h): the vector path (AVX-512,
// where the CPU has it) and the store's batch fill must give GenChecksum's values, which
// ContentStoreTest.ChecksumIsTruncatedXxh64 ties to libxxhash.
#include "mmu/gen_checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "mmu/content_store.h"
#include "sim/hash.h"

namespace ksmsim::mmu {
namespace {

TEST(GenChecksumTest, BatchesOfEverySizeGiveTheSingleValues) {
  for (size_t n = 0; n <= 27; ++n) {
    std::vector<uint64_t> xs(n);
    for (size_t i = 0; i < n; ++i) xs[i] = sim::Mix64(n * 100 + i) >> (i % 3 == 0 ? 20 : 0);
    std::vector<uint32_t> batch(n, 0), scalar(n, 0);
    GenChecksums(xs.data(), batch.data(), n);
    GenChecksumsScalar(xs.data(), scalar.data(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(batch[i], GenChecksum(xs[i])) << "n " << n << " i " << i;
      EXPECT_EQ(scalar[i], GenChecksum(xs[i])) << "n " << n << " i " << i;
    }
  }
  // Which path ran: the figures in docs/PERFORMANCE.md are for the vector one.
  RecordProperty("vectorised", GenChecksumsVectorised() ? "yes" : "no");
}

TEST(GenChecksumTest, PreparedChecksumsAreTheOnesChecksumComputes) {
  ContentStore prepared, fresh;
  std::vector<ContentId> ids, fresh_ids;
  for (uint64_t x = 500; x < 520; ++x) {
    ids.push_back(prepared.Gen(x));
    fresh_ids.push_back(fresh.Gen(x));
  }
  ids.push_back(prepared.Fill(0x41));  // not gen(x): left to Checksum()
  fresh_ids.push_back(fresh.Fill(0x41));
  ids.push_back(ids[3]);  // the same id twice
  fresh_ids.push_back(fresh_ids[3]);
  prepared.PrepareChecksums(ids.data(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(prepared.Checksum(ids[i]), fresh.Checksum(fresh_ids[i])) << i;
}

}  // namespace
}  // namespace ksmsim::mmu
