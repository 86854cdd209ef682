// The interactive stepper behind `ksmsim step`: pauses a running Driver at a workload
// step, a ksmd batch, a scanned page, a KSM event, a breakpoint on a page or a watched
// counter's change, and reads commands (counters, trees, DOT, where to stop next) until
// told to go on; on a terminal with line editing and history (line_editor.h). It runs inside the
// driver's hooks (DriverOptions::on_progress, before_batch, on_event), so the simulation is exactly
// the one `ksmsim run` does.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "ksm/ksm.h"
#include "tools/teach/line_editor.h"
#include "tools/teach/stepper_points.h"
#include "workloads/driver.h"

namespace ksmsim::tools {

class Stepper {
 public:
  // Thrown from a hook at a safe point (between steps or before a batch) once the user
  // quit (or the input ended): Driver::Run unwinds without leaving KSM half-way.
  struct Quit {};

  // `steps` is Flatten() of the driver's workload; `interactive` prints a prompt, and
  // edits lines when `in_fd` is a terminal (then read from in_fd, not `in`).
  Stepper(workloads::Driver& driver, std::vector<workloads::FlatStep> steps, std::istream& in,
          std::ostream& out, bool interactive, int in_fd = -1);

  // The hooks (wire them into DriverOptions).
  void BeforeStep(uint64_t index);
  void BeforeBatch();
  void OnEvent(const ksm::KsmEvent& e);
  // After Driver::Run returned: a last stop, for commands until quit or end of input.
  void AtEnd();

  bool quitting() const { return quitting_; }

 private:
  enum class Until { kStep, kBatch, kPage, kEvent, kContinue, kEnd };
  struct Target {
    Until until = Until::kStep;
    std::string event;       // for kEvent
    uint64_t remaining = 1;  // stops to skip + 1
  };

  bool Reached(Until kind, const std::string& event = "");
  // Adds the watches that changed to `reasons` (not while running to the end).
  void CheckWatches(std::vector<std::string>& reasons);
  void Stop(const std::string& reason);
  void StopIf(const std::vector<std::string>& reasons);
  void CommandLoop();
  // One command line; true when it lets the simulation go on.
  bool Execute(const std::vector<std::string>& words);
  std::string Where() const;
  std::string StepText(uint64_t index) const;
  std::string EventText(const ksm::KsmEvent& e) const;
  void PrintCounters();
  void WriteDot(const std::string& base);

  workloads::Driver& d_;
  std::vector<workloads::FlatStep> steps_;
  std::istream& in_;
  std::ostream& out_;
  bool interactive_;
  int in_fd_;
  teach::LineEditor editor_;
  StopPoints points_;
  Target target_;
  bool quitting_ = false;
  bool at_end_ = false;
  uint64_t step_ = 0;     // the step running (or about to run)
  bool in_step_ = false;  // step_ has started
  uint64_t batch_ = 0;    // ksmd batches started so far
  std::string page_;      // the page ksmd is scanning (the last cmp_and_merge_page)
  size_t errors_shown_ = 0;
};

}  // namespace ksmsim::tools
