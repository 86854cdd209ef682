// Where `ksmsim oracle` finds its guest program: --guest, $KSMSIM_GUEST, beside ksmsim in
// the build tree, then where `cmake --install` put it beside the installed ksmsim.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tools/oracle/host/run.h"

namespace ksmsim::tools {
namespace {

namespace fs = std::filesystem;

class GuestLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("ksmsim-guest-lookup-" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "usr" / "bin");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "guest";
  }
  fs::path root_;
};

TEST_F(GuestLookupTest, FlagThenEnvironmentWin) {
  fs::path self = root_ / "usr" / "bin" / "ksmsim";
  Touch(InstalledGuestPath(self));
  EXPECT_EQ(FindGuestBinary("/x/guest", "/y/guest", self), "/x/guest");
  EXPECT_EQ(FindGuestBinary("", "/y/guest", self), "/y/guest");
}

TEST_F(GuestLookupTest, InstalledLayoutIsLibexecBesideBin) {
  fs::path self = root_ / "usr" / "bin" / "ksmsim";
  // GNUInstallDirs' defaults: bin/ and libexec/ under one prefix.
  EXPECT_EQ(InstalledGuestPath(self), root_ / "usr" / "libexec" / "ksmsim" / "ksmsim-guest");
  Touch(InstalledGuestPath(self));
  EXPECT_EQ(FindGuestBinary("", nullptr, self), InstalledGuestPath(self).string());
}

TEST_F(GuestLookupTest, BuildTreeGuestBesideKsmsimComesFirst) {
  fs::path self = root_ / "usr" / "bin" / "ksmsim";
  Touch(InstalledGuestPath(self));
  Touch(root_ / "usr" / "bin" / "oracle" / "ksmsim-guest");
  EXPECT_EQ(FindGuestBinary("", nullptr, self),
            (root_ / "usr" / "bin" / "oracle" / "ksmsim-guest").string());
}

TEST_F(GuestLookupTest, NothingFoundFallsBackToTheBuildsOwnGuest) {
  fs::path self = root_ / "usr" / "bin" / "ksmsim";
  std::string found = FindGuestBinary("", nullptr, self);
  EXPECT_NE(found.find("ksmsim-guest"), std::string::npos);
  EXPECT_EQ(found.find(root_.string()), std::string::npos);
}

}  // namespace
}  // namespace ksmsim::tools
