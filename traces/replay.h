// Recording a run as a trace, and replaying a trace on a fresh machine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "traces/trace.h"
#include "workloads/driver.h"
#include "workloads/workload.h"

namespace ksmsim::traces {

// Records the ops a Driver executes. Install the hooks into the options before building the
// driver (hooks already there are kept and still called), then Bind the driver.
class Recorder {
 public:
  explicit Recorder(const workloads::Workload& w);
  void Install(workloads::DriverOptions& opt);
  void Bind(workloads::Driver* driver) { driver_ = driver; }
  const Trace& trace() const { return trace_; }

 private:
  mmu::ContentId Resolve(const workloads::FlatStep& fs, uint64_t index, mmu::ContentId current);
  Trace trace_;
  workloads::Driver* driver_ = nullptr;
  uint64_t seed_ = 0;
  uint64_t pool_n_ = 0;
  uint64_t unique_n_ = 0;
  std::vector<ContentRun> pending_;
  uint64_t starts_ = 0, stops_ = 0;
};

// The workload a trace replays: the ops as flattened steps (paths kept), validated with the
// workload validator; problems name the op's line or byte offset. Throws TraceError.
// `set` overrides initial knobs (ksm.<knob>=N without the prefix).
workloads::Workload TraceWorkload(const Trace& t, const workloads::KnobList& set = {});

struct ReplayOutcome {
  nlohmann::ordered_json document;     // the result document (WORKLOAD-FORMAT "The result")
  int exit_status = 0;                 // the driver's: 0 every expect/verify held, 1 not
  std::vector<std::string> divergences;  // waits whose ksmd scans differ from the recording
  uint64_t waits_compared = 0;  // waits the trace recorded ksmd's scans for (a capture: none)
  uint64_t full_scans = 0;      // full_scans at the end of the replay
  nlohmann::ordered_json final_counters;  // Driver::Counters() at the end of the replay
  uint64_t steps_run = 0;                 // flattened steps run
  bool last_was_entry = false;            // the last step run was an expect or snapshot
  uint64_t time_ns = 0;                   // simulated time at the end
  // The expect_error of each ksm/offline/online step by index ("" = none), for reports.
  std::map<uint64_t, std::string> expect_errors;
};

// What a caller adds to a replay's driver (a sweep's metrics): `install` gets the options
// once the replay's own hooks are set (it must chain them), `bind` the driver once built,
// `done` the driver after its run.
struct ReplayHooks {
  std::function<void(workloads::DriverOptions&)> install{};
  std::function<void(workloads::Driver&)> bind{};
  std::function<void(workloads::Driver&)> done{};
};

// Replays a trace (throws TraceError when it is invalid).
ReplayOutcome Replay(const Trace& t, const workloads::KnobList& set = {}, bool check = false,
                     const ReplayHooks& hooks = {});

}  // namespace ksmsim::traces
