// Running one point of a sweep as `ksmsim run` (a workload) or `ksmsim replay` (a trace)
// would, in-process and deterministically, and measuring it (docs/SWEEPS.md "Metrics"):
// every counter at each snapshot/expect step and at the end, the memory saved, the
// simulated time to reach 50/90/99% of the final saving (from the saving sampled at every
// change), ksmd's simulated CPU time (its cost model) and the pages it scanned.
#pragma once

#include "nlohmann/json.hpp"
#include "tools/sweep/spec.h"

namespace ksmsim::tools::sweep {

// The percentages of the final saving whose first time is reported.
inline constexpr int kSavingLevels[] = {50, 90, 99};

// The point's result document (the file DIR/points/NNNNNN.json of a results directory).
// An input that fails to load (changed since validation) gives a result with exit_status 2.
nlohmann::ordered_json RunPoint(const SweepSpec& spec, const Point& point);

}  // namespace ksmsim::tools::sweep
