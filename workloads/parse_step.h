// Parsing the `steps` array of a workload: each op's fields, their types and value ranges
// (names are checked afterwards, in execution order, by parse_names.h).
#pragma once

#include <string_view>
#include <vector>

#include "workloads/parse_reader.h"
#include "workloads/workload.h"

namespace ksmsim::workloads {

struct StepContext {
  const MachineSpec* machine = nullptr;  // null when the machine itself is invalid
  KernelProfile kernel = KernelProfile::k61;
};

// Parses the steps of `array` (path `path`, e.g. "steps" or "steps[3].steps"). Errors go
// to `reader`; steps whose op is missing or unknown are left out, other steps are kept
// with the fields that parsed, so that their names can still be checked.
std::vector<Step> ParseSteps(Reader& reader, const nlohmann::ordered_json& array,
                             std::string_view path, const StepContext& context);

// advisor_mode's value (initial knobs and ksm steps): "none" or "scan-time", as its number
// (workloads/counters.h); anything else is an error at `path`.
std::optional<int64_t> ParseAdvisorMode(Reader& reader, const nlohmann::ordered_json& value,
                                        const std::string& path);

}  // namespace ksmsim::workloads
