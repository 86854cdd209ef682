// What `run`, `replay`, `report`, `explain` and `step` share about long or large work: the
// host budget (--max-memory, checked before anything is allocated), the work limits
// (--max-steps, --max-batches) and the progress line on stderr (--progress/--no-progress).
// Wall clock is read here, for the progress line only; nothing it shows reaches an output
// file, and nothing is shown when stderr is not a terminal unless --progress asks for it.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "workloads/driver.h"
#include "workloads/workload.h"

namespace ksmsim::tools {

// Exit status 3: a valid workload that cannot be carried out (docs: README "Exit status").
inline constexpr int kExitCannotRun = 3;

struct RunLimits {
  uint64_t max_memory_mib = 0;  // 0: MemAvailable only
  uint64_t max_steps = 0;
  uint64_t max_batches = 0;
  std::optional<bool> progress;  // unset: when stderr is a terminal
  bool quiet = false;            // no notices, and no progress unless --progress

  // Adds --max-memory (and, with work_limits, --max-steps, --max-batches, --progress,
  // --no-progress) to a subcommand.
  void AddOptions(CLI::App* sub, bool work_limits);
  // The budget check: prints "FILE: message" and returns false when the workload does not
  // fit in host memory (the caller exits kExitCannotRun).
  bool CheckBudget(const workloads::Workload& w, const std::string& file) const;
  // Work limits, notices and the progress display, chained after any callbacks already set.
  // `driver` is read by the progress display once it is set.
  void Install(workloads::DriverOptions& opt, workloads::Driver* const* driver);
  // Clears the progress line (a terminal) before the summary is printed.
  void Finish();

 private:
  void Tick(bool force);
  bool Show() const;
  workloads::Driver* const* driver_ = nullptr;
  bool shown_ = false;
  bool tty_ = false;
  std::chrono::steady_clock::time_point start_{}, last_{}, step_start_{};
  uint64_t step_ = 0, total_ = 0;
  uint64_t step_start_ns_ = 0, step_start_scans_ = 0;
  uint64_t last_batches_ = 0;
  double pages_per_s_ = 0;
  uint64_t ticks_ = 0;
};

}  // namespace ksmsim::tools
