// The oracle guest's workload processes: each simulated process is a real process (a
// "worker") that performs memory operations on its own address space when /init asks
// over a pair of pipes (or FIFOs, for forked children).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tools/oracle/guest/plan.h"

namespace ksmsim::oracle {

enum class WorkerOp : uint32_t {
  kMmap,
  kMunmap,
  kMadvise,
  kWrite,
  kRead,
  kVerify,
  kMigrate,
  kPin,
  kUnpin,
  kFork,
  kExit,
  kPrctl,
};

struct WorkerCmd {
  WorkerOp op;
  int32_t arg = 0;  // mmap: node (-1: none); madvise: advice; migrate: node; fork: child id;
                    // prctl: PR_SET_MEMORY_MERGE's argument
  int32_t arg2 = 0;  // mmap: locked
  uint32_t seq = 0;  // echoed in the response, so a lost or extra answer is caught
  uint64_t addr = 0;
  uint64_t pages = 0;
  // kWrite is followed by `pages` PageData records.
};

struct WorkerRsp {
  int32_t err = 0;     // errno of the failing call, 0 on success
  uint32_t seq = 0;    // the command's
  uint64_t count = 0;  // verify: differing pages; migrate: pages not moved
  uint64_t value = 0;  // fork: the child's pid
  char msg[256] = {};  // what went wrong, for people
};

// /init's handle on one worker.
class Worker {
 public:
  // Forks a fresh worker from /init, allocating on `node` (-1: the default policy).
  // `close_fds` are /init's descriptors the child must not keep (other workers' pipes).
  static Worker Spawn(int node, const std::vector<int>& close_fds);

  // Asks this worker to fork; the child is driven through FIFOs named after `child_id`.
  Worker Fork(int child_id);

  WorkerRsp Call(const WorkerCmd& cmd, const std::vector<PageData>& data = {});

  // Asks the worker to exit and reaps it.
  void Exit();

  pid_t pid() const { return pid_; }
  int cmd_fd() const { return cmd_fd_; }
  int rsp_fd() const { return rsp_fd_; }

 private:
  pid_t pid_ = -1;
  int cmd_fd_ = -1;
  int rsp_fd_ = -1;
  uint32_t seq_ = 0;
};

// Writes all of `len` bytes or throws; reads exactly `len` bytes or throws.
void WriteAll(int fd, const void* buf, size_t len);
void ReadAll(int fd, void* buf, size_t len);

// The FIFO paths for a forked worker.
std::string CmdFifo(int child_id);
std::string RspFifo(int child_id);

}  // namespace ksmsim::oracle
