// Whether `ksmsim oracle` takes a workload: `ksmsim validate`'s checks first, then the
// oracle's planner, which refuses only what the kernel oracle cannot run (docs/ORACLE.md
// "Limitations").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/oracle/guest/plan.h"

namespace ksmsim::oracle {

struct Admission {
  std::optional<Plan> plan;         // set when the oracle can run the workload
  std::vector<std::string> errors;  // validate's lines, "FILE: steps[4].op: ..."
  std::string limitation;           // the planner's refusal: what the oracle cannot run
};

// Checks the text of a workload file named `file` (which only labels the messages).
Admission AdmitWorkload(std::string_view text, const std::string& file);

}  // namespace ksmsim::oracle
