// sysfs/procfs access, modules, zram swap and memory blocks for the oracle guest.
#include "tools/oracle/guest/kernel_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace ksmsim::oracle {
namespace {

std::runtime_error Errno(const std::string& what) {
  return std::runtime_error(what + ": " + strerror(errno));
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) throw Errno("opendir " + path);
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool ParseU64(const std::string& text, uint64_t* out) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return false;
  for (char c : t) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::stoull(t);
  return true;
}

// A decimal integer, signed (6.12's general_profit and ksm_process_profit can be negative).
bool ParseI64(const std::string& text, int64_t* out) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  size_t digits = !t.empty() && t[0] == '-' ? 1 : 0;
  if (t.size() == digits) return false;
  for (size_t i = digits; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  *out = std::stoll(t);
  return true;
}

}  // namespace

std::string ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Errno("open " + path);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      errno = err;
      throw Errno("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

int WriteFile(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = write(fd, value.data(), value.size());
  int err = n < 0 ? errno : 0;
  close(fd);
  return err;
}

int PinToCpuZero() {
  cpu_set_t cpu0;
  CPU_ZERO(&cpu0);
  CPU_SET(0, &cpu0);
  if (sched_setaffinity(0, sizeof cpu0, &cpu0) != 0) throw Errno("sched_setaffinity(init)");
  for (const std::string& name : ListDir("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string comm;
    try {
      comm = ReadFile("/proc/" + name + "/comm");
    } catch (const std::exception&) {
      continue;  // gone already
    }
    if (comm != "ksmd\n" && comm != "ksmd") continue;
    int pid = std::stoi(name);
    if (sched_setaffinity(pid, sizeof cpu0, &cpu0) != 0) throw Errno("sched_setaffinity(ksmd)");
    return pid;
  }
  throw std::runtime_error("no ksmd kernel thread in /proc (is CONFIG_KSM on?)");
}

void MountBasics() {
  struct M {
    const char* src;
    const char* dst;
    const char* type;
  };
  for (M m : {M{"proc", "/proc", "proc"}, M{"sysfs", "/sys", "sysfs"},
              M{"devtmpfs", "/dev", "devtmpfs"}, M{"tmpfs", "/run", "tmpfs"}}) {
    mkdir(m.dst, 0755);
    if (mount(m.src, m.dst, m.type, 0, nullptr) != 0 && errno != EBUSY) {
      throw Errno(std::string("mount ") + m.dst);
    }
  }
}

void LoadModules(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return;
  for (const std::string& name : ListDir(dir)) {
    std::string path = dir + "/" + name;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Errno("open " + path);
    long r = syscall(SYS_finit_module, fd, "", 0);
    int err = errno;
    close(fd);
    if (r != 0 && err != EEXIST) {
      errno = err;
      throw Errno("finit_module " + path);
    }
  }
}

void SetupZramSwap(uint64_t mib) {
  if (access("/sys/block/zram0", F_OK) != 0) {
    throw std::runtime_error("no /sys/block/zram0: the zram module did not load");
  }
  int err = WriteFile("/sys/block/zram0/disksize", std::to_string(mib) + "M");
  if (err != 0) throw std::runtime_error("zram0 disksize: " + std::string(strerror(err)));
  // The swap header (include/linux/swap.h union swap_header): version 1, last_page, no bad
  // pages, and the "SWAPSPACE2" magic at the end of the first page.
  uint8_t page[kPageSize] = {};
  uint32_t version = 1;
  uint32_t last_page = static_cast<uint32_t>(mib * (1 << 20) / kPageSize - 1);
  memcpy(page + 1024, &version, 4);
  memcpy(page + 1028, &last_page, 4);
  memcpy(page + kPageSize - 10, "SWAPSPACE2", 10);
  int fd = open("/dev/zram0", O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw Errno("open /dev/zram0");
  if (pwrite(fd, page, sizeof page, 0) != static_cast<ssize_t>(sizeof page)) {
    close(fd);
    throw Errno("write the swap header on /dev/zram0");
  }
  fsync(fd);
  close(fd);
  if (swapon("/dev/zram0", 0) != 0) throw Errno("swapon /dev/zram0");
}

Json ReadKsmCounters(int64_t desired_run, uint64_t desired_sleep_ms) {
  Json out = Json::object();
  const std::string dir = "/sys/kernel/mm/ksm";
  for (const std::string& name : ListDir(dir)) {
    std::string text = ReadFile(dir + "/" + name);
    uint64_t v = 0;
    int64_t s = 0;
    if (ParseU64(text, &v)) {
      out[name] = v;
    } else if (ParseI64(text, &s)) {
      out[name] = s;  // general_profit below 0
    }
    // advisor_mode ("[none] scan-time") is not a number: not recorded.
  }
  out["run"] = desired_run;
  out["sleep_millisecs"] = desired_sleep_ms;
  return out;
}

Json ReadProcCounters(pid_t pid) {
  std::string base = "/proc/" + std::to_string(pid);
  Json out = Json::object();
  uint64_t v = 0;
  if (ParseU64(ReadFile(base + "/ksm_merging_pages"), &v)) out["ksm_merging_pages"] = v;
  // 6.1: ksm_rmap_items; 6.12 also ksm_zero_pages, ksm_merging_pages (the same as the
  // file above) and ksm_process_profit (signed).
  std::istringstream stat(ReadFile(base + "/ksm_stat"));
  std::string key;
  int64_t s = 0;
  while (stat >> key >> s) {
    if (key == "ksm_rmap_items" || key == "ksm_zero_pages" || key == "ksm_process_profit")
      out[key] = s;
  }
  return out;
}

Json ReadVmstat() {
  std::istringstream in(ReadFile("/proc/vmstat"));
  std::map<std::string, uint64_t> all;
  std::string key;
  uint64_t v;
  while (in >> key >> v) all[key] = v;
  Json out = Json::object();
  for (const std::string& name : VmstatCounters()) {
    auto it = all.find(name);
    if (it == all.end()) throw std::runtime_error("/proc/vmstat has no " + name);
    out[name] = it->second;
  }
  return out;
}

uint64_t ReadKsmValue(const std::string& name) {
  uint64_t v = 0;
  std::string path = "/sys/kernel/mm/ksm/" + name;
  if (!ParseU64(ReadFile(path), &v)) throw std::runtime_error(path + " is not a number");
  return v;
}

std::optional<uint64_t> ReadKsmValueIfAny(const std::string& name) {
  std::string path = "/sys/kernel/mm/ksm/" + name;
  if (access(path.c_str(), F_OK) != 0) return std::nullopt;
  return ReadKsmValue(name);
}

std::vector<std::vector<int>> MovableMemoryBlocks(size_t nodes) {
  std::vector<std::vector<int>> blocks(nodes);
  for (size_t n = 0; n < nodes; ++n) {
    std::string dir = "/sys/devices/system/node/node" + std::to_string(n);
    if (access(dir.c_str(), F_OK) != 0) continue;
    for (const std::string& name : ListDir(dir)) {
      if (name.rfind("memory", 0) != 0 || name.size() <= 6 ||
          name.find_first_not_of("0123456789", 6) != std::string::npos) {
        continue;
      }
      std::string zones;
      try {
        zones = ReadFile("/sys/devices/system/memory/" + name + "/valid_zones");
      } catch (const std::exception&) {
        continue;
      }
      if (zones.rfind("Movable", 0) == 0) blocks[n].push_back(std::stoi(name.substr(6)));
    }
    std::sort(blocks[n].begin(), blocks[n].end());
  }
  return blocks;
}

}  // namespace ksmsim::oracle
