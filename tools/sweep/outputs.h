// What a sweep writes from its points' results (docs/SWEEPS.md "Outputs"): the tidy CSV (a
// row per point and snapshot, the last snapshot of a point labelled "end"), the JSON
// document, the summary table for the terminal. Each depends only on the results in point
// order, so any executor, any number of workers and any order give the same bytes.
#pragma once

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tools/sweep/spec.h"

namespace ksmsim::tools::sweep {

std::string SweepCsv(const SweepSpec& spec, const std::vector<nlohmann::ordered_json>& points);
std::string SweepJson(const SweepSpec& spec, const std::vector<nlohmann::ordered_json>& points);
// One line per point with the Pareto fronts of the chart marked (S: saving against ksmd CPU
// time, T: time to 90% against ksmd CPU time); with more than `max_rows` points, the fronts
// only. With several policies, each policy's soonest and cheapest point among those that
// reached the saving, and the policy of each answer.
std::string SweepSummary(const SweepSpec& spec, const std::vector<nlohmann::ordered_json>& points,
                         size_t max_rows = 40);

}  // namespace ksmsim::tools::sweep
