// The worker side of the oracle guest: a loop that performs memory operations as real
// system calls on the worker's own address space, and /init's handle on it.
#include "tools/oracle/guest/worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace ksmsim::oracle {
namespace {

constexpr int kMpolPreferred = 1;
constexpr int kMpolMfMoveAll = 1 << 2;
constexpr int kMadvMergeable = 12;
constexpr int kMadvUnmergeable = 13;
constexpr int kMadvPageout = 21;
constexpr int kPrSetMemoryMerge = 67;  // PR_SET_MEMORY_MERGE (Linux 6.4+ headers)
constexpr int kMlockOnfault = 1;

// What a page holds, as the process last wrote it; pages absent from the map read zero.
struct Shadow {
  PageKind base = PageKind::kFill;
  uint8_t fill = 0;
  uint64_t seed = 0;
  std::vector<std::pair<uint16_t, uint8_t>> patches;
};

void Expected(const Shadow* s, uint8_t* out) {
  if (s == nullptr) {
    memset(out, 0, kPageSize);
    return;
  }
  if (s->base == PageKind::kGen) {
    GenPage(s->seed, out);
  } else {
    memset(out, s->fill, kPageSize);
  }
  for (auto [off, val] : s->patches) out[off] = val;
}

int Advice(int a) {
  switch (static_cast<oracle::Advice>(a)) {
    case Advice::kMergeable:
      return kMadvMergeable;
    case Advice::kUnmergeable:
      return kMadvUnmergeable;
    case Advice::kDontneed:
      return MADV_DONTNEED;
    case Advice::kPageout:
      return kMadvPageout;
  }
  return -1;
}

long SetPreferred(int node) {
  unsigned long mask[2] = {0, 0};
  mask[node / 64] = 1UL << (node % 64);
  return syscall(SYS_set_mempolicy, kMpolPreferred, mask, 129);
}

class WorkerLoop {
 public:
  WorkerLoop(int cmd_fd, int rsp_fd) : cmd_fd_(cmd_fd), rsp_fd_(rsp_fd) {}

  [[noreturn]] void Run() {
    signal(SIGCHLD, SIG_IGN);  // forked children are reaped by the kernel
    for (;;) {
      WorkerCmd cmd;
      try {
        ReadAll(cmd_fd_, &cmd, sizeof cmd);
      } catch (const std::exception&) {
        _exit(0);  // /init is gone
      }
      if (cmd.op == WorkerOp::kExit) _exit(0);
      WorkerRsp rsp;
      rsp.seq = cmd.seq;
      Do(cmd, rsp);
      if (merge_any_) UnmarkOwnMappings();
      if (forked_child_) {
        forked_child_ = false;  // the parent answers the fork; the child waits for commands
        continue;
      }
      WriteAll(rsp_fd_, &rsp, sizeof rsp);
    }
  }

 private:
  static void Fail(WorkerRsp& rsp, int err, const std::string& what) {
    rsp.err = err;
    snprintf(rsp.msg, sizeof rsp.msg, "%s: %s", what.c_str(), strerror(err));
  }

  void Do(const WorkerCmd& c, WorkerRsp& rsp) {
    auto* base = reinterpret_cast<uint8_t*>(c.addr);
    size_t len = c.pages * kPageSize;
    switch (c.op) {
      case WorkerOp::kMmap: {
        void* p = mmap(base, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p == MAP_FAILED) return Fail(rsp, errno, "mmap");
        if (p != base) {
          munmap(p, len);
          return Fail(rsp, EEXIST, "mmap did not honour MAP_FIXED_NOREPLACE");
        }
        regions_.emplace_back(c.addr, c.addr + len);
        if (madvise(base, len, MADV_NOHUGEPAGE) != 0) return Fail(rsp, errno, "MADV_NOHUGEPAGE");
        if (c.arg >= 0) {
          unsigned long mask[2] = {0, 0};
          mask[c.arg / 64] = 1UL << (c.arg % 64);
          if (syscall(SYS_mbind, base, len, kMpolPreferred, mask, 129, 0) != 0) {
            return Fail(rsp, errno, "mbind MPOL_PREFERRED");
          }
        }
        if (c.arg2 != 0 && syscall(SYS_mlock2, base, len, kMlockOnfault) != 0) {
          return Fail(rsp, errno, "mlock2 MLOCK_ONFAULT");
        }
        return;
      }
      case WorkerOp::kMunmap:
        if (munmap(base, len) != 0) return Fail(rsp, errno, "munmap");
        for (uint64_t i = 0; i < c.pages; ++i) shadow_.erase(c.addr + i * kPageSize);
        return;
      case WorkerOp::kMadvise:
        if (madvise(base, len, Advice(c.arg)) != 0) return Fail(rsp, errno, "madvise");
        if (static_cast<oracle::Advice>(c.arg) == Advice::kDontneed) {
          for (uint64_t i = 0; i < c.pages; ++i) shadow_.erase(c.addr + i * kPageSize);
        }
        return;
      case WorkerOp::kWrite:
        return Write(c, base);
      case WorkerOp::kRead: {
        uint64_t sum = 0;
        for (uint64_t i = 0; i < c.pages; ++i) {
          sum += *reinterpret_cast<volatile uint8_t*>(base + i * kPageSize);
        }
        rsp.value = sum;
        return;
      }
      case WorkerOp::kVerify:
        return Verify(c, base, rsp);
      case WorkerOp::kMigrate:
        return Migrate(c, rsp);
      case WorkerOp::kPin:
        return Pin(c, rsp);
      case WorkerOp::kUnpin:
        for (uint64_t i = 0; i < c.pages; ++i) {
          auto it = pins_.find(c.addr + i * kPageSize);
          if (it == pins_.end() || it->second.empty()) {
            return Fail(rsp, EINVAL, "unpin of page " + std::to_string(i) + " which is not pinned");
          }
          close(it->second.back());
          it->second.pop_back();
          if (it->second.empty()) pins_.erase(it);
        }
        return;
      case WorkerOp::kFork:
        return Fork(c.arg, rsp);
      case WorkerOp::kExit:
        _exit(0);
      case WorkerOp::kPrctl:
        if (prctl(kPrSetMemoryMerge, static_cast<unsigned long>(c.arg), 0UL, 0UL, 0UL) != 0)
          return Fail(rsp, errno, "prctl(PR_SET_MEMORY_MERGE)");
        merge_any_ = c.arg != 0;
        return;
    }
  }

  // PR_SET_MEMORY_MERGE makes every VMA of the worker mergeable, but the simulated process
  // has only its workload regions: the worker's own mappings (binary, heap, stack, malloc's
  // mmaps) are set MADV_UNMERGEABLE again after each command, before ksmd may run (ksmd
  // runs only inside waits). docs/ORACLE.md "prctl".
  void UnmarkOwnMappings() {
    std::vector<std::pair<uint64_t, uint64_t>> vmas;
    if (FILE* f = fopen("/proc/self/maps", "re")) {
      unsigned long s = 0, e = 0;
      char line[512];
      while (fgets(line, sizeof line, f) != nullptr) {
        if (sscanf(line, "%lx-%lx", &s, &e) == 2) vmas.emplace_back(s, e);
      }
      fclose(f);
    }
    for (auto [s, e] : vmas) {
      bool region = false;
      for (auto [rs, re] : regions_) region = region || (s >= rs && e <= re);
      if (!region) madvise(reinterpret_cast<void*>(s), e - s, MADV_UNMERGEABLE);  // may fail
    }
  }

  void Write(const WorkerCmd& c, uint8_t* base) {
    std::vector<PageData> data(c.pages);
    ReadAll(cmd_fd_, data.data(), data.size() * sizeof(PageData));
    for (uint64_t i = 0; i < c.pages; ++i) {
      uint8_t* page = base + i * kPageSize;
      uint64_t addr = c.addr + i * kPageSize;
      const PageData& d = data[i];
      switch (d.kind) {
        case PageKind::kFill:
          memset(page, d.byte, kPageSize);
          shadow_[addr] = Shadow{PageKind::kFill, d.byte, 0, {}};
          break;
        case PageKind::kGen:
          GenPage(d.seed, buf_);
          memcpy(page, buf_, kPageSize);
          shadow_[addr] = Shadow{PageKind::kGen, 0, d.seed, {}};
          break;
        case PageKind::kPatch: {
          *reinterpret_cast<volatile uint8_t*>(page + d.offset) = d.byte;
          Shadow& s = shadow_[addr];  // an untouched page is zero-filled
          bool found = false;
          for (auto& [off, val] : s.patches) {
            if (off == d.offset) {
              val = d.byte;
              found = true;
            }
          }
          if (!found) s.patches.emplace_back(d.offset, d.byte);
          break;
        }
      }
    }
  }

  void Verify(const WorkerCmd& c, uint8_t* base, WorkerRsp& rsp) {
    for (uint64_t i = 0; i < c.pages; ++i) {
      auto it = shadow_.find(c.addr + i * kPageSize);
      Expected(it == shadow_.end() ? nullptr : &it->second, buf_);
      const uint8_t* page = base + i * kPageSize;
      if (memcmp(page, buf_, kPageSize) == 0) continue;
      if (rsp.count++ == 0) {
        size_t off = 0;
        while (page[off] == buf_[off]) ++off;
        snprintf(rsp.msg, sizeof rsp.msg,
                 "page %llu of the range differs at byte %zu: 0x%02x, expected 0x%02x",
                 static_cast<unsigned long long>(i), off, page[off], buf_[off]);
      }
    }
  }

  void Migrate(const WorkerCmd& c, WorkerRsp& rsp) {
    std::vector<void*> pages(c.pages);
    std::vector<int> nodes(c.pages, c.arg);
    std::vector<int> status(c.pages, 0);
    for (uint64_t i = 0; i < c.pages; ++i) {
      pages[i] = reinterpret_cast<void*>(c.addr + i * kPageSize);
    }
    long r = syscall(SYS_move_pages, 0, c.pages, pages.data(), nodes.data(), status.data(),
                     kMpolMfMoveAll);
    if (r < 0) return Fail(rsp, errno, "move_pages");
    for (uint64_t i = 0; i < c.pages; ++i) {
      if (status[i] == c.arg) continue;
      if (rsp.count++ == 0) {
        snprintf(rsp.msg, sizeof rsp.msg, "page %llu of the range not moved: %s",
                 static_cast<unsigned long long>(i),
                 status[i] < 0 ? strerror(-status[i])
                               : ("on node " + std::to_string(status[i])).c_str());
      }
    }
  }

  // A pin is a page reference held by a pipe: vmsplice() takes it with get_user_pages
  // (FOLL_GET, without FOLL_PIN, so a KSM page is not unshared) and the pipe keeps it until
  // its last descriptor is closed.
  void Pin(const WorkerCmd& c, WorkerRsp& rsp) {
    for (uint64_t i = 0; i < c.pages; ++i) {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC) != 0) return Fail(rsp, errno, "pipe for pin");
      iovec iov{reinterpret_cast<void*>(c.addr + i * kPageSize), kPageSize};
      ssize_t n = vmsplice(fds[1], &iov, 1, 0);
      int err = errno;
      close(fds[1]);
      if (n != static_cast<ssize_t>(kPageSize)) {
        close(fds[0]);
        return Fail(rsp, n < 0 ? err : EIO, "vmsplice for pin");
      }
      pins_[c.addr + i * kPageSize].push_back(fds[0]);
    }
  }

  void Fork(int child_id, WorkerRsp& rsp) {
    pid_t pid = fork();
    if (pid < 0) return Fail(rsp, errno, "fork");
    if (pid > 0) {
      rsp.value = static_cast<uint64_t>(pid);
      return;
    }
    // The child: its own command channel, and none of its parent's pins.
    close(cmd_fd_);
    close(rsp_fd_);
    for (auto& [addr, fds] : pins_) {
      for (int fd : fds) close(fd);
    }
    pins_.clear();
    cmd_fd_ = open(CmdFifo(child_id).c_str(), O_RDONLY | O_CLOEXEC);
    rsp_fd_ = open(RspFifo(child_id).c_str(), O_WRONLY | O_CLOEXEC);
    if (cmd_fd_ < 0 || rsp_fd_ < 0) _exit(111);
    forked_child_ = true;
  }

  int cmd_fd_;
  int rsp_fd_;
  bool forked_child_ = false;
  bool merge_any_ = false;  // PR_SET_MEMORY_MERGE is on (inherited on fork, as the flag is)
  std::vector<std::pair<uint64_t, uint64_t>> regions_;  // every workload mmap, [start, end)
  std::unordered_map<uint64_t, Shadow> shadow_;
  std::unordered_map<uint64_t, std::vector<int>> pins_;
  alignas(64) uint8_t buf_[kPageSize];
};

}  // namespace

void WriteAll(int fd, const void* buf, size_t len) {
  const auto* p = static_cast<const uint8_t*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("pipe write: ") + strerror(errno));
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void ReadAll(int fd, void* buf, size_t len) {
  auto* p = static_cast<uint8_t*>(buf);
  while (len > 0) {
    ssize_t n = read(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) throw std::runtime_error("pipe read: the other end is gone");
    if (n < 0) throw std::runtime_error(std::string("pipe read: ") + strerror(errno));
    p += n;
    len -= static_cast<size_t>(n);
  }
}

std::string CmdFifo(int child_id) { return "/run/ksmsim-w" + std::to_string(child_id) + ".cmd"; }
std::string RspFifo(int child_id) { return "/run/ksmsim-w" + std::to_string(child_id) + ".rsp"; }

Worker Worker::Spawn(int node, const std::vector<int>& close_fds) {
  int cmd[2], rsp[2];
  if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(rsp, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    close(cmd[1]);
    close(rsp[0]);
    for (int fd : close_fds) close(fd);
    if (node >= 0 && SetPreferred(node) != 0) _exit(112);
    WorkerLoop(cmd[0], rsp[1]).Run();
  }
  close(cmd[0]);
  close(rsp[1]);
  Worker w;
  w.pid_ = pid;
  w.cmd_fd_ = cmd[1];
  w.rsp_fd_ = rsp[0];
  return w;
}

Worker Worker::Fork(int child_id) {
  std::string cmd_path = CmdFifo(child_id), rsp_path = RspFifo(child_id);
  mkdir("/run", 0755);
  if (mkfifo(cmd_path.c_str(), 0600) != 0 || mkfifo(rsp_path.c_str(), 0600) != 0) {
    throw std::runtime_error("mkfifo " + cmd_path + ": " + strerror(errno));
  }
  WorkerCmd c{WorkerOp::kFork};
  c.arg = child_id;
  WorkerRsp r = Call(c);
  if (r.err != 0) throw std::runtime_error(std::string("fork in the worker: ") + r.msg);
  Worker w;
  w.pid_ = static_cast<pid_t>(r.value);
  w.cmd_fd_ = open(cmd_path.c_str(), O_WRONLY | O_CLOEXEC);
  w.rsp_fd_ = open(rsp_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (w.cmd_fd_ < 0 || w.rsp_fd_ < 0) {
    throw std::runtime_error("open " + cmd_path + ": " + strerror(errno));
  }
  unlink(cmd_path.c_str());
  unlink(rsp_path.c_str());
  return w;
}

WorkerRsp Worker::Call(const WorkerCmd& command, const std::vector<PageData>& data) {
  WorkerCmd cmd = command;
  cmd.seq = ++seq_;
  WriteAll(cmd_fd_, &cmd, sizeof cmd);
  if (!data.empty()) WriteAll(cmd_fd_, data.data(), data.size() * sizeof(PageData));
  WorkerRsp rsp;
  ReadAll(rsp_fd_, &rsp, sizeof rsp);
  if (rsp.seq != cmd.seq) {
    throw std::runtime_error("worker " + std::to_string(pid_) + " answered command " +
                             std::to_string(rsp.seq) + " instead of " + std::to_string(cmd.seq));
  }
  return rsp;
}

void Worker::Exit() {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  WorkerCmd c{WorkerOp::kExit};
  WriteAll(cmd_fd_, &c, sizeof c);
  close(cmd_fd_);
  close(rsp_fd_);
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    while (poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
    close(pidfd);
  }
  // Reaps it when it is /init's child (spawned, or orphaned and re-parented).
  waitpid(pid_, nullptr, pidfd >= 0 ? WNOHANG : 0);
}

}  // namespace ksmsim::oracle
