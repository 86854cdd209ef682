// ErrnoName (workloads/field_values.h): the one table of errno names that the simulator's
// result documents and the oracle guest's both use, so the two name an error alike.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "workloads/field_values.h"

namespace ksmsim::workloads {
namespace {

TEST(ErrnoNameTest, NamesWhatEitherSideMeetsAndNumbersTheRest) {
  EXPECT_EQ(ErrnoName(0), "none");
  EXPECT_EQ(ErrnoName(EBUSY), "EBUSY");
  EXPECT_EQ(ErrnoName(ERANGE), "ERANGE");  // kstrtouint() above UINT_MAX, a knob write
  EXPECT_EQ(ErrnoName(EBADF), "EBADF");    // /dev/ksm on an fd never opened
  EXPECT_EQ(ErrnoName(EINTR), "EINTR");    // what the guest meets when offlining
  EXPECT_EQ(ErrnoName(EACCES), "EACCES");
  EXPECT_EQ(ErrnoName(ENOTTY), "errno " + std::to_string(ENOTTY));
}

}  // namespace
}  // namespace ksmsim::workloads
