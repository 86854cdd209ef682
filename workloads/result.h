// The result document of a run (WORKLOAD-FORMAT.md "The result"): counters recorded at
// each snapshot and expect step, written by `ksmsim run` and by the kernel oracle alike,
// and read back by `ksmsim compare`.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "workloads/workload.h"

namespace ksmsim::workloads {

// One failed comparison of an expect step; `counter` is qualified: "ksm.pages_shared",
// "procs.a.ksm_merging_pages", "vmstat.cow_ksm".
struct Mismatch {
  std::string counter;
  int64_t expected = 0;
  int64_t actual = 0;
  friend bool operator==(const Mismatch&, const Mismatch&) = default;
};

struct ResultEntry {
  uint64_t step = 0;  // index in the flattened script
  Op op = Op::kSnapshot;
  std::string label;
  int64_t time_ns = 0;  // simulated time (the oracle's own clock is not comparable)
  CounterMap ksm;
  std::map<std::string, CounterMap> procs;
  CounterMap vmstat;
  // The simulator's own figures (not comparable with the kernel); omitted when null.
  nlohmann::ordered_json machine;
  std::vector<Mismatch> mismatches;
  // The outcome of a ksm/offline/online step ("EBUSY", ...); omitted when unset.
  std::optional<std::string> error;
  friend bool operator==(const ResultEntry&, const ResultEntry&) = default;
};

struct ResultDocument {
  std::string workload;  // the workload's name
  std::string engine;    // e.g. "ksmsim 0.1.0 (kernel profile 6.1)"
  uint64_t seed = 0;
  std::vector<ResultEntry> results;
  std::vector<std::string> errors;  // run-level failures (failed verify, impossible wait, ...)
  // Extensions (null when absent): each ksm/offline/online step's outcome, and the oracle's
  // notes on what it could not compare.
  nlohmann::ordered_json outcomes;
  nlohmann::ordered_json notes;
  friend bool operator==(const ResultDocument&, const ResultDocument&) = default;
};

// The document, keys in the order of WORKLOAD-FORMAT.md.
nlohmann::ordered_json ToJson(const ResultDocument& document);

// Thrown by ResultFromJson: what is wrong and where ("results[3].ksm.pages_shared: ...").
class ResultFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads a result document back; throws ResultFormatError naming the JSON path of the first
// problem. Unknown fields are errors, as in workloads.
ResultDocument ResultFromJson(const nlohmann::ordered_json& json);
ResultDocument ResultFromJson(const nlohmann::json& json);

// Reads and parses a result file; throws ResultFormatError (the message names the file).
ResultDocument ReadResultFile(const std::string& path);

}  // namespace ksmsim::workloads
