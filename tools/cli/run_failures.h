// What `run` and `replay` print on stderr, also under --quiet: every knob write or hotplug
// step that failed (knob, value, errno, and whether the workload expected it), every error
// of the result document (an expect's mismatches, a failed verify, a run that stopped), and
// the closing "FAILED" line. With --strict, a failed knob write the workload did not
// `expect_error` fails the run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "nlohmann/json.hpp"
#include "workloads/workload.h"

namespace ksmsim::tools {

// The expect_error of each ksm/offline/online step, by flattened step index (none: the
// step has no expect_error). Fill it from the steps as they run (Note).
class StepExpectations {
 public:
  void Note(const workloads::FlatStep& fs);
  // The step's expect_error by name ("EBUSY"), or "" when it has none.
  void Set(uint64_t step, const std::string& expected);
  // True when the step is known and has no expect_error.
  bool Unexpected(uint64_t step) const;
  // "EBUSY" when the step expects it; empty when it expects nothing or is unknown.
  std::string Expected(uint64_t step) const;
  bool Known(uint64_t step) const { return steps_.count(step) != 0; }

 private:
  std::map<uint64_t, std::optional<std::string>> steps_;
};

struct FailureReport {
  int knob_failures = 0;  // failed knob writes and hotplug steps
  int unexpected = 0;     // failed knob writes whose step has no expect_error
  int errors = 0;         // the result document's errors
};

// Prints the failures of `doc` to `err`, each line starting "FILE: ". With `strict`, each
// unexpected knob failure is an error too. Returns the counts; the caller turns a run that
// held into exit 1 when strict and report.unexpected > 0.
FailureReport ReportFailures(std::ostream& err, const nlohmann::ordered_json& doc,
                             const std::string& file, const StepExpectations& expect, bool strict,
                             bool color);

}  // namespace ksmsim::tools
