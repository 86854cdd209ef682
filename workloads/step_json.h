// A typed step written back as a workload step (WORKLOAD-FORMAT.md "Steps"): the inverse of
// the parser, generic over the fields step.h binds to each payload. Traces (traces/) write
// their records with it; tools show a step's fields through it.
#pragma once

#include "nlohmann/json.hpp"
#include "workloads/step.h"

namespace ksmsim::workloads {

// {"op": NAME, fields..., "label": L}: a required field always; an optional one when given
// (set, true, or non-empty); the label when non-empty. A repeat includes its body; `path`
// is not written. Parsing the result gives the step back (tests/workloads/step_test.cc).
nlohmann::ordered_json StepToJson(const Step& step);

}  // namespace ksmsim::workloads
