// Two kernel profiles side by side (`ksmsim run --profile 6.1 --profile 6.12`, docs/CLI.md):
// what one run under one profile leaves for the comparison (VersionsRecorder), and the
// comparison itself (CompareVersions): the counters of both runs at each expect/snapshot
// point, the first point where they differ, and why, from the runs' events.
//
// The runs' event logs are not kept: each run folds its events into records (a page visit
// of ksmd, reduced to the page and its last decision; or another event) and the records into
// hashes of kChunk records each, and keeps the rendered records of one index range only. The
// first chunk whose hashes differ holds the first record that differs; when it lies outside
// what was kept, the caller runs both profiles again keeping that chunk (RecordsToKeep).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ksm/ksm.h"
#include "nlohmann/json.hpp"
#include "workloads/driver.h"

namespace ksmsim::tools::teach {

// One thing a run did, as compared between runs: a page visit of ksmd (`page` and its last
// decision `func`/`what`; a page smart scan skipped has the one decision "skipped"), or an
// event of another kind (`event`).
struct VersionRecord {
  uint64_t index = 0;  // position in the run's records
  uint64_t step = 0;   // the flattened step it happened in
  uint64_t pass = 0;   // ksmd's pass (1 = the first); 0: outside ksmd's scan
  std::string event;   // "page visit", or the event's name
  std::string page;    // PROC:REGION[i] (or mm:address), if the record is about a page
  std::string func, what;
  std::string also;  // other events of the visit (ksm_merge_one_page, ...), comma-separated
  // A skip: the visits the page went without a merge (its age before this one).
  int skip_age = -1;
  // "pass 5, a:r[3]: should_skip_rmap_item skipped"
  std::string Text() const;
};

// A fork step and the child's per-process counters right after it.
struct VersionFork {
  uint64_t step = 0;
  std::string parent, child;
  nlohmann::ordered_json child_counters;  // the child's row of the result's "procs"
};

// A step (not a wait) after which the global ksm_zero_pages was lower than before it.
struct VersionZeroDrop {
  uint64_t step = 0;
  std::string op;
  uint64_t before = 0, after = 0;
};

// What one run under one profile leaves for the comparison.
struct VersionsRun {
  std::string profile;         // "6.12"
  nlohmann::ordered_json doc;  // the result document
  int exit_status = 0;
  // The counters at the end (ksm, procs, vmstat) when the last step run was no entry.
  std::optional<nlohmann::ordered_json> final_counters;
  uint64_t steps_run = 0;
  std::map<uint64_t, uint64_t> skipped_per_pass;  // smart scan's skips, by pass
  std::vector<VersionFork> forks;
  std::vector<VersionZeroDrop> zero_drops;
  std::vector<uint64_t> chunk_hashes;  // one per kChunk records (the last may be partial)
  uint64_t records = 0;
  std::vector<VersionRecord> kept;  // the records of the kept range, in order
};

inline constexpr uint64_t kChunk = 4096;

// Records the run of one driver for the comparison: give it every event and every step
// (DriverOptions::on_event and after_step), then Finish with the result document.
class VersionsRecorder {
 public:
  // Keeps the rendered records with indexes in [keep_first, keep_last).
  VersionsRecorder(std::string profile, uint64_t keep_first, uint64_t keep_last);
  void Bind(workloads::Driver* d) { d_ = d; }
  void OnEvent(const ksm::KsmEvent& e);
  void AfterStep(const workloads::FlatStep& fs);
  // The run is over: `doc` its result document, `status` its exit status.
  VersionsRun Finish(nlohmann::ordered_json doc, int status);

 private:
  struct Visit {
    bool open = false;
    uint64_t step = 0, pass = 0;
    uint64_t hash = 0;  // of the page
    std::string page;   // rendered only when kept
    std::string_view func, what;
    int skip_age = -1;
    std::vector<uint64_t> also;  // hashes of the visit's other events
    std::string also_text;
  };
  bool Keeping() const { return run_.records >= keep_first_ && run_.records < keep_last_; }
  void CloseVisit();
  void Add(uint64_t hash, VersionRecord r);
  workloads::Driver* d_ = nullptr;
  uint64_t keep_first_, keep_last_;
  VersionsRun run_;
  Visit visit_;
  uint64_t chunk_hash_ = 0;
  bool last_was_entry_ = false;
  unsigned long zero_pages_ = 0;
};

// Why two runs diverge: one cause, with the step (and pass) where it happened.
struct VersionsReason {
  std::string kind;  // smart_scan, checksum_before_stable_search, zero_page, fork_counters,
                     // ksm_zero_pages_unshared, events, counters
  uint64_t step = 0;
  uint64_t pass = 0;  // 0: not in a pass
  std::string text;
  std::optional<VersionRecord> first, second;  // the first records that differ, if any
};

// One expect/snapshot point (or the end of the runs) with every counter of either run.
struct VersionsPoint {
  uint64_t step = 0;
  std::string op, label;  // op "end": the end of the run
  struct Row {
    std::string counter;  // pages_shared, vmstat.cow_ksm, procs.a.ksm_merging_pages
    std::optional<nlohmann::ordered_json> first, second;  // absent: not in that profile
    bool differs() const { return first && second && *first != *second; }
  };
  std::vector<Row> rows;
  std::vector<std::string> differing;  // counters both profiles have, with other values
  // The counters that differ here but not at the previous point, and why they came to
  // differ: the steps since the previous point that had such counters (or the start).
  std::vector<std::string> new_differing;
  std::vector<VersionsReason> reasons;
};

struct VersionsComparison {
  std::string first_profile, second_profile;
  std::vector<VersionsPoint> points;
  std::optional<size_t> first_divergence;  // index in points; its reasons are the point's
  // The first record that differs, whether or not a counter shows it.
  std::optional<VersionsReason> first_event_difference;
};

// The chunk where the runs' records first differ (nullopt: they are the same throughout).
std::optional<uint64_t> FirstDifferentChunk(const VersionsRun& a, const VersionsRun& b);
// The record range the runs must keep for `chunk` to be compared record by record.
inline std::pair<uint64_t, uint64_t> RecordsToKeep(uint64_t chunk) {
  return {chunk * kChunk, (chunk + 1) * kChunk};
}

// Compares two runs of one workload. The first different records must be among the kept
// ones of both runs (see RecordsToKeep), or no record reason is given.
VersionsComparison CompareVersions(const VersionsRun& a, const VersionsRun& b);

// The reasons (versions_reason.cc): the first different record classified; and, for the
// steps from_step..until_step, the forks whose child started with other counters and the
// steps that unshared KSM zero pages in one run only; and smart scan's skips in passes
// from_pass..until_pass (each run's own) when the runs skipped different numbers of pages.
std::optional<VersionsReason> RecordReason(const VersionsRun& a, const VersionsRun& b);
std::vector<VersionsReason> StepReasons(const VersionsRun& a, const VersionsRun& b,
                                        uint64_t from_step, uint64_t until_step);
struct PassRange {
  uint64_t first = 1, last = 0;  // inclusive; empty when first > last
};
std::optional<VersionsReason> SkipReason(const VersionsRun& a, const VersionsRun& b, PassRange in_a,
                                         PassRange in_b, uint64_t step);

}  // namespace ksmsim::tools::teach
