// `ksmsim run --perfetto T.json`: the run as a timeline in the Trace Event Format (JSON),
// which Perfetto (ui.perfetto.dev) and chrome://tracing open (docs/EVENTS.md). In simulated
// time (microseconds, to the nanosecond):
//   - process "ksmd": thread "passes" has one slice per pass ("pass 1" is the first; a
//     pass the run ended in is "pass N (unfinished)"), thread "batches" one per ksm_do_scan
//     with its work (pages, checksums, compares, merges, faults);
//   - one process per simulated process (named as the workload names it): instant events
//     "merge" (ksm_merge_one_page that succeeded), "cow break" (a write copied a KSM page),
//     "swap-in" and "migration", and counter tracks ksm_merging_pages and ksm_rmap_items;
//   - processes "/sys/kernel/mm/ksm" and "/proc/vmstat": a counter track per file, sampled
//     after every batch and every step, written when it changed.
// The file is written as the run goes (events in the order they happen).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>

#include "ksm/ksm.h"
#include "workloads/driver.h"

namespace ksmsim::tools::teach {

class PerfettoTrace {
 public:
  explicit PerfettoTrace(std::ostream& out);
  // Chains its hooks into opt (on_event, after_batch, after_step), keeping what was there.
  void Install(workloads::DriverOptions& opt);
  // The driver the hooks report on (call before Driver::Run).
  void Bind(workloads::Driver* d) { d_ = d; }
  // After the run: the pass left unfinished, the last counters, the closing brackets.
  void Finish();

 private:
  void OnEvent(const ksm::KsmEvent& e, uint64_t t);
  void AfterBatch(uint64_t start, uint64_t end);
  void SampleCounters(uint64_t t);
  // The pid of a simulated process, its metadata written the first time.
  uint64_t ProcessPid(const mmu::Mm* mm);
  void Instant(const ksm::KsmEvent& e, uint64_t t, std::string_view name);
  void Counter(uint64_t pid, const std::string& name, int64_t value, uint64_t t);
  void Metadata(uint64_t pid, std::optional<uint64_t> tid, std::string_view what,
                std::string_view name);
  void Emit(const std::string& json);
  void Seen(uint64_t t) { last_t_ = std::max(last_t_, t); }

  std::ostream& out_;
  workloads::Driver* d_ = nullptr;
  bool first_ = true;
  uint64_t last_t_ = 0;
  std::optional<uint64_t> pass_start_;  // the time of the open pass's ksm_start_scan
  uint64_t pass_seq_ = 0;
  uint64_t batch_ = 0;
  std::set<uint64_t> pids_;                  // processes whose metadata is written
  std::map<std::string, int64_t> counters_;  // last value written, by "pid/name"
};

}  // namespace ksmsim::tools::teach
