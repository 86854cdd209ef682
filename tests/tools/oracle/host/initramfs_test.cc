// The oracle's initramfs: the cpio "newc" bytes the kernel unpacks into rootfs.
#include "tools/oracle/host/initramfs.h"

#include <gtest/gtest.h>

#include <string>

namespace ksmsim::tools {
namespace {

TEST(CpioArchiveTest, FileEntryHeaderBytes) {
  CpioArchive cpio;
  cpio.AddFile("init", "abc", 0755);
  std::string a = cpio.Finish();
  // magic, ino 1, mode 0100755, uid, gid, nlink 1, mtime, filesize 3, dev major/minor,
  // rdev major/minor, namesize 5 ("init" and its NUL), check: 13 fields of 8 hex digits.
  std::string header = std::string("070701") + "00000001" + "000081ED" + "00000000" + "00000000" +
                       "00000001" + "00000000" + "00000003" + "00000000" + "00000000" + "00000000" +
                       "00000000" + "00000005" + "00000000";
  ASSERT_GE(a.size(), 110u);
  EXPECT_EQ(a.substr(0, 110), header);
  // The name and NUL pad the 110-byte header to 116 (a multiple of 4), then the data,
  // padded to 120.
  EXPECT_EQ(a.substr(110, 8), std::string("init\0\0ab", 8));
  EXPECT_EQ(a.substr(116, 4), std::string("abc\0", 4));
  // The trailer closes the archive, and the whole archive is 4-byte aligned.
  EXPECT_NE(a.find("TRAILER!!!"), std::string::npos);
  EXPECT_EQ(a.size() % 4, 0u);
}

TEST(CpioArchiveTest, DirectoriesAndDevicesGetTheirModeAndRdev) {
  CpioArchive cpio;
  cpio.AddDirectory("dev");
  cpio.AddCharDevice("dev/console", 5, 1);
  std::string a = cpio.Finish();
  EXPECT_EQ(a.substr(14, 8), "000041ED");  // S_IFDIR | 0755
  size_t second = a.find("070701", 6);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(a.substr(second + 6, 8), "00000002");  // inode numbers count up
  EXPECT_EQ(a.substr(second + 14, 4), "0000");
  EXPECT_EQ(a.substr(second + 18, 2), "21");                 // S_IFCHR
  EXPECT_EQ(a.substr(second + 78, 16), "0000000500000001");  // rdev 5:1
}

TEST(ModuleLoadOrderTest, AMissingModulesDirectoryIsAReadableError) {
  try {
    ModuleLoadOrder("/nonexistent/lib/modules/x", {"zram"});
    FAIL() << "no exception";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/lib/modules/x"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace ksmsim::tools
