// `ksmsim oracle`'s gate: the workload must pass `ksmsim validate` (its messages, word for
// word), then the planner, whose only refusals are the kernel oracle's limitations.
#include "tools/oracle/host/admit.h"

#include "workloads/parse.h"

namespace ksmsim::oracle {

Admission AdmitWorkload(std::string_view text, const std::string& file) {
  Admission a;
  workloads::ParseOutcome parsed = workloads::ParseWorkloadText(text, file);
  if (!parsed.ok()) {
    for (const workloads::ValidationError& e : parsed.errors) a.errors.push_back(e.ToString());
    return a;
  }
  try {
    a.plan = MakePlan(*parsed.workload);
  } catch (const PlanError& e) {
    a.limitation = e.what();
  }
  return a;
}

}  // namespace ksmsim::oracle
