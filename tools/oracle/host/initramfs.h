// Building the kernel oracle's initramfs: a cpio "newc" archive holding the static guest as
// /init, the workload, and the kernel modules the guest loads itself (no modprobe there).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ksmsim::tools {

// An in-memory cpio newc archive (the format the kernel unpacks into rootfs).
class CpioArchive {
 public:
  void AddDirectory(const std::string& path);
  void AddFile(const std::string& path, const std::string& contents, uint32_t mode = 0644);
  void AddCharDevice(const std::string& path, uint32_t major, uint32_t minor);
  // Appends the trailer and returns the archive's bytes.
  std::string Finish();

 private:
  void Entry(const std::string& path, uint32_t mode, const std::string& data, uint32_t rmajor,
             uint32_t rminor);
  std::string out_;
  uint32_t ino_ = 1;
};

// The modules (absolute paths, dependencies first) that must be loaded for `names` (e.g.
// "zram"), from <modules_dir>/modules.dep. Throws with a readable message.
std::vector<std::string> ModuleLoadOrder(const std::string& modules_dir,
                                         const std::vector<std::string>& names);

// A module's ELF bytes, decompressing .ko.xz, .ko.zst and .ko.gz with the system tools.
std::string ReadModule(const std::string& path);

std::string ReadWholeFile(const std::string& path);

}  // namespace ksmsim::tools
