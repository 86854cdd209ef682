// SVG line charts of counter timelines (`ksmsim plot`, the report), written directly with
// no plotting runtime.
#pragma once

#include <string>
#include <vector>

namespace ksmsim::tools::teach {

// A CSV written by TimelineSampler (or any "time_ms,a,b,..." file) drawn as an SVG line
// chart: axes with ticks, labels, a legend. Columns that never change are left out unless
// named in `only`. Returns "" and sets `error` when the CSV is not usable.
std::string PlotSvg(const std::string& csv, const std::vector<std::string>& only,
                    const std::string& title, std::string* error);

}  // namespace ksmsim::tools::teach
