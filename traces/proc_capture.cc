// Sampling a live process from /proc (traces/proc_capture.h).
#include "traces/proc_capture.h"

#include <fcntl.h>
#include <unistd.h>
#define XXH_INLINE_ALL  // header-only: libxxhash is linked privately into the libraries
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "fmt/format.h"

namespace ksmsim::traces {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kPresent = uint64_t{1} << 63;
constexpr uint64_t kSwapped = uint64_t{1} << 62;
constexpr uint64_t kBatchPages = 512;

bool Gone(int err) { return err == ENOENT || err == ESRCH; }

[[noreturn]] void Fail(const std::string& file, int err) {
  ProcError e;
  e.permission = err == EACCES || err == EPERM;
  e.message = fmt::format("{}: {}", file, std::strerror(err));
  if (e.permission)
    e.message += fmt::format(
        "; ksmsim capture must run as root (reading another process's /proc/PID/mem and "
        "/proc/PID/pagemap needs CAP_SYS_PTRACE)");
  throw e;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads all of a small /proc file; returns false (errno set) on failure.
bool ReadAll(const std::string& file, std::string* out) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return false;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    out->append(buf, static_cast<size_t>(n));
  }
}

// Reads exactly n bytes at offset; returns the bytes read (short on EOF/EIO), -1 on error.
ssize_t PreadFull(int fd, void* buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, static_cast<char*>(buf) + got, n - got, static_cast<off_t>(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return got ? static_cast<ssize_t>(got) : -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

// One line of /proc/PID/maps, if it is an anonymous private readable VMA.
bool ParseMapsLine(const std::string& line, CapturedVma* v) {
  std::istringstream in(line);
  std::string range, perms, offset, dev, inode, path;
  if (!(in >> range >> perms >> offset >> dev >> inode)) return false;
  std::getline(in >> std::ws, path);
  if (perms.size() < 4 || perms[0] != 'r' || perms[3] != 'p' || inode != "0") return false;
  if (path.empty() || path.rfind("[anon:", 0) == 0) {
    v->kind = "anon";
  } else if (path == "[heap]") {
    v->kind = "heap";
  } else if (path == "[stack]") {
    v->kind = "stack";
  } else {
    return false;  // [vdso], [vvar], [vsyscall], files, deleted files, ...
  }
  size_t dash = range.find('-');
  if (dash == std::string::npos) return false;
  v->start = std::stoull(range.substr(0, dash), nullptr, 16);
  v->end = std::stoull(range.substr(dash + 1), nullptr, 16);
  return v->end > v->start;
}

bool IsZombie(int pid, bool* gone) {
  std::string stat;
  *gone = false;
  if (!ReadAll(fmt::format("/proc/{}/stat", pid), &stat)) {
    if (Gone(errno)) return *gone = true, false;
    Fail(fmt::format("/proc/{}/stat", pid), errno);
  }
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  char state = stat[close + 2];
  return state == 'Z' || state == 'X';
}

}  // namespace

ProcessSample SampleProcess(int pid) {
  ProcessSample s;
  s.pid = pid;
  bool gone = false;
  if (IsZombie(pid, &gone) || gone) {
    s.alive = false;
    return s;
  }
  const std::string maps_file = fmt::format("/proc/{}/maps", pid);
  const std::string pagemap_file = fmt::format("/proc/{}/pagemap", pid);
  const std::string mem_file = fmt::format("/proc/{}/mem", pid);
  std::string maps;
  if (!ReadAll(maps_file, &maps)) {
    if (Gone(errno)) return s.alive = false, s;
    Fail(maps_file, errno);
  }
  Fd pagemap(::open(pagemap_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (pagemap.get() < 0) {
    if (Gone(errno)) return s.alive = false, s;
    Fail(pagemap_file, errno);
  }
  Fd mem(::open(mem_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (mem.get() < 0) {
    if (Gone(errno)) return s.alive = false, s;
    Fail(mem_file, errno);
  }
  std::istringstream lines(maps);
  std::string line;
  std::vector<uint64_t> entries(kBatchPages);
  std::vector<unsigned char> buf(kBatchPages * kPage);
  while (std::getline(lines, line)) {
    CapturedVma v;
    if (!ParseMapsLine(line, &v)) continue;
    uint64_t npages = (v.end - v.start) / kPage;
    if (npages > traces::kMaxCapturedVmaPages) {
      s.skipped.push_back(fmt::format("{:x}-{:x}", v.start, v.end));
      continue;
    }
    v.pages.resize(npages);
    for (uint64_t first = 0; first < npages; first += kBatchPages) {
      uint64_t n = std::min(kBatchPages, npages - first);
      uint64_t vpn = v.start / kPage + first;
      ssize_t got = PreadFull(pagemap.get(), entries.data(), n * 8, vpn * 8);
      if (got < 0) {
        if (Gone(errno)) return ProcessSample{pid, false, {}, {}};
        Fail(pagemap_file, errno);
      }
      uint64_t have = static_cast<uint64_t>(got) / 8;
      // Runs of present pages are read from /proc/PID/mem in one pread each.
      for (uint64_t i = 0; i < have;) {
        if (!(entries[i] & kPresent)) {
          if (entries[i] & kSwapped) v.pages[first + i].state = CapturedPage::State::kSwapped;
          ++i;
          continue;
        }
        uint64_t j = i;
        while (j < have && (entries[j] & kPresent)) ++j;
        ssize_t r =
            PreadFull(mem.get(), buf.data(), (j - i) * kPage, v.start + (first + i) * kPage);
        if (r < 0 && (errno == EACCES || errno == EPERM)) Fail(mem_file, errno);
        uint64_t read_pages = r < 0 ? 0 : static_cast<uint64_t>(r) / kPage;
        for (uint64_t k = 0; k < read_pages; ++k) {
          const unsigned char* page = buf.data() + k * kPage;
          CapturedPage& p = v.pages[first + i + k];
          p.state = CapturedPage::State::kPresent;
          XXH128_hash_t h = XXH3_128bits(page, kPage);
          p.hash = {h.low64, h.high64};
          if (std::memcmp(page, page + 1, kPage - 1) == 0) p.fill = page[0];
        }
        i = j;  // pages that could not be read (unmapped meanwhile) stay absent
      }
    }
    s.vmas.push_back(std::move(v));
  }
  if (s.vmas.empty()) {
    // A process whose mm is gone (exiting) has an empty maps file.
    if (IsZombie(pid, &gone) || gone) s.alive = false;
  }
  return s;
}

}  // namespace ksmsim::traces
