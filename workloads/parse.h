// Reading and validating a workload file: JSON syntax, the fields and types of format
// version 1, value ranges, and the names the script uses (processes, regions, ranges).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/workload.h"

namespace ksmsim::workloads {

// One thing wrong with a workload. `json_path` names the offending value
// ("steps[4].data.fill"; "" for the document as a whole); `line`/`column` are set (1-based)
// only for JSON syntax errors.
struct ValidationError {
  std::string file;
  std::string json_path;
  std::string message;
  uint64_t line = 0;
  uint64_t column = 0;

  // "FILE: steps[4].data.fill: expected an integer 0..255, got 300", or
  // "FILE:3:17: JSON syntax error: ..." for syntax errors.
  std::string ToString() const;
  friend bool operator==(const ValidationError&, const ValidationError&) = default;
};

struct ParseOutcome {
  std::optional<Workload> workload;     // set exactly when `errors` is empty
  std::vector<ValidationError> errors;  // every problem found, in document order
  bool ok() const { return errors.empty(); }
};

// `kernel`, when set, replaces the workload's own `kernel` (`ksmsim run --profile`): the
// knobs, counters and ops are then checked against that profile.

// Parses and validates the text of a workload; `file_name` only labels the errors.
ParseOutcome ParseWorkloadText(std::string_view text, std::string_view file_name,
                               std::optional<KernelProfile> kernel = std::nullopt);

// Reads `path` and parses it; a file that cannot be read is one error naming it.
ParseOutcome ParseWorkloadFile(const std::string& path,
                               std::optional<KernelProfile> kernel = std::nullopt);

// Validates an already-parsed JSON document (key order matters for knob writes).
ParseOutcome ParseWorkloadJson(const nlohmann::ordered_json& document, std::string_view file_name,
                               std::optional<KernelProfile> kernel = std::nullopt);

}  // namespace ksmsim::workloads
