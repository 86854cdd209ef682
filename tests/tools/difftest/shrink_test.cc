// The shrinker's failure signature: the differing counters without step numbers and
// process names, so that one bug found by many seeds is counted once.
#include "tools/difftest/shrink.h"

#include <gtest/gtest.h>

namespace ksmsim::tools::difftest {
namespace {

TEST(SignatureTest, DropsStepsAndProcessNamesSortsAndDeduplicates) {
  EXPECT_EQ(Signature({"step 12 (snapshot \"a\"): ksm.pages_sharing 4 vs 5",
                       "step 3 (expect): procs.p3.ksm_merging_pages 1 vs 2",
                       "step 9 (snapshot \"b\"): procs.p1.ksm_merging_pages 0 vs 2",
                       "step 14 (snapshot \"c\"): ksm.pages_sharing 6 vs 7"}),
            "ksm.pages_sharing procs.*.ksm_merging_pages");
}

TEST(SignatureTest, ErrorsAndUnknownLines) {
  EXPECT_EQ(Signature({"errors: the simulator reported none, the kernel 1", "garbage"}),
            "errors other");
  EXPECT_EQ(Signature({}), "");
}

}  // namespace
}  // namespace ksmsim::tools::difftest
