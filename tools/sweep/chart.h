// The sweep's chart: an SVG of two scatter plots, memory saved against ksmd's CPU time and
// the time to 90% of the saving against ksmd's CPU time, with each Pareto front marked
// (more saving or sooner, for less CPU), written directly with no plotting runtime.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace ksmsim::tools::sweep {

// A point of a scatter plot: x and y, and whether larger y is better.
struct XY {
  double x = 0;
  double y = 0;
};

// The indexes of the points no other point beats: none has x <= and y better-or-equal with
// one of them strictly better. `maximize_y`: more y is better (else less).
std::vector<size_t> ParetoFront(const std::vector<XY>& pts, bool maximize_y);

// The end figures of a point result (ksmd_cpu_ns, saved_bytes, t90_ns; t90 unset when the
// saving stayed 0 or the point did not run).
struct EndFigures {
  bool ran = false;  // the point has figures (it loaded and ran)
  double cpu_ms = 0;
  double saved_mib = 0;
  std::optional<double> t90_s;
  // The saving at the end as a percentage of the best saving at the end among the points of
  // the same input (unset when none of them saved anything).
  std::optional<double> pct_of_best;
  // The saving reached kConvergedPercent of the best: its time to 90% of its own saving is
  // also its time to about 90% of what the input can save, so it enters the t90 front.
  bool converged = false;
};
inline constexpr double kConvergedPercent = 90;
EndFigures PointEnd(const nlohmann::ordered_json& point);
// PointEnd of every point, with pct_of_best and converged filled in.
std::vector<EndFigures> AllEnds(const std::vector<nlohmann::ordered_json>& points);

std::string SweepChartSvg(const std::vector<nlohmann::ordered_json>& points,
                          const std::string& title);

}  // namespace ksmsim::tools::sweep
