// Executes an oracle plan on the running kernel: drives the workers, writes the KSM knobs
// (keeping ksmd stopped outside waits), and reports counters as "@@KSMSIM" JSON lines.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tools/oracle/guest/plan.h"
#include "tools/oracle/guest/worker.h"

namespace ksmsim::oracle {

// The prefix of every line the guest reports; the host ignores all other console output.
inline constexpr const char* kLinePrefix = "@@KSMSIM ";

// Writes one report line per call to a file descriptor (the second serial port).
class Emitter {
 public:
  explicit Emitter(int fd) : fd_(fd) {}
  void Emit(const Json& record);
  void Error(const std::string& message);
  void Note(const std::string& message);
  int fd() const { return fd_; }

 private:
  int fd_;
};

class Executor {
 public:
  Executor(const Plan& plan, Emitter& out, unsigned wait_limit_s);

  // Runs every action; returns true when an expect, verify or expect_error failed.
  // Throws std::runtime_error when the program cannot be realised on this kernel.
  bool Run();

 private:
  void Do(const Action& a);
  void RegionOp(const Action& a);
  void Knobs(const Action& a);
  int WriteKnob(const std::string& name, const Json& value);
  void WaitFullScans(const Action& a);
  void WaitMs(const Action& a);
  void Counters(const Action& a);
  void Hotplug(const Action& a);
  std::vector<int> OpenFds() const;
  std::string Where(const Action& a) const;

  const Plan& plan_;
  Emitter& out_;
  unsigned wait_limit_s_;
  std::vector<std::optional<Worker>> workers_;  // by process id
  std::map<std::string, int> live_;             // name -> process id
  std::set<int> ksm_mm_;  // processes whose mm is on KSM's list (madvised, or forked from one)
  int64_t desired_run_ = 0;
  uint64_t desired_sleep_ms_ = 20;
  std::vector<std::vector<int>> blocks_;
  bool failed_ = false;
};

}  // namespace ksmsim::oracle
