// What each KSM decision (ksm/ksm_decision.h) means, in the kernel's terms: the text
// `ksmsim explain` and `report` print after the function's name.
#pragma once

#include <string>

#include "ksm/ksm.h"

namespace ksmsim::tools::teach {

// The meaning of decision event `e` (without the function name). `other` names the
// unstable tree's page concerned (e.other_mm, e.other_addr) as the workload does.
std::string DecisionText(const ksm::KsmEvent& e, const std::string& other);

}  // namespace ksmsim::tools::teach
