// The oracle picks the kernel image of the workload's series by version (docs/ORACLE.md):
// 6.1 never boots a 6.12 image, the newest of a series wins, other flavours are left out.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tools/oracle/host/vm.h"

namespace ksmsim::tools {
namespace {

namespace fs = std::filesystem;

class FindKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ksmsim-find-kernel-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Add(const std::string& name) { std::ofstream(dir_ + "/" + name) << "x"; }
  std::string dir_;
};

TEST_F(FindKernelTest, EachSeriesGetsItsOwnNewestImage) {
  for (const char* n :
       {"vmlinuz-6.1.0-56-amd64", "vmlinuz-6.1.0-57-amd64", "vmlinuz-6.12.118+deb12-amd64",
        "vmlinuz-6.12.9+deb12-amd64", "vmlinuz-6.1.0-57-rt-amd64", "vmlinuz-6.1.0-58-cloud-amd64",
        "vmlinuz-6.10.1-amd64", "config-6.1.0-57-amd64"}) {
    Add(n);
  }
  EXPECT_EQ(FindKernel("6.1", dir_), dir_ + "/vmlinuz-6.1.0-57-amd64");
  EXPECT_EQ(FindKernel("6.12", dir_), dir_ + "/vmlinuz-6.12.118+deb12-amd64");
  EXPECT_EQ(FindKernel("6.2", dir_), "");
}

TEST_F(FindKernelTest, NoImageOfTheSeriesIsEmpty) {
  Add("vmlinuz-6.12.118+deb12-amd64");
  EXPECT_EQ(FindKernel("6.1", dir_), "");
}

TEST(ReleaseIsSeriesTest, TheSeriesIsFollowedByADotAndADigit) {
  EXPECT_TRUE(ReleaseIsSeries("6.1.0-57-amd64", "6.1"));
  EXPECT_FALSE(ReleaseIsSeries("6.12.118+deb12-amd64", "6.1"));
  EXPECT_TRUE(ReleaseIsSeries("6.12.118+deb12-amd64", "6.12"));
  EXPECT_FALSE(ReleaseIsSeries("6.1", "6.1"));
  EXPECT_FALSE(ReleaseIsSeries("6.1.x", "6.1"));
}

}  // namespace
}  // namespace ksmsim::tools
