// Counter timelines drawn (`ksmsim plot`, the report): the CSV read back, the knobs told
// apart from the counters, round tick values, and an SVG of step lines written directly
// with no plotting runtime, one panel per column so that counters of different size all
// stay legible.
#pragma once

#include <string>
#include <vector>

namespace ksmsim::tools::teach {

// A timeline CSV ("time_ms,a,b,...", as TimelineSampler writes it) read back.
struct TimelineTable {
  std::vector<std::string> header;        // header[0] is the time column
  std::vector<double> xs;                 // times
  std::vector<std::vector<double>> cols;  // cols[i] is column header[i + 1]
};
bool ParseTimelineCsv(const std::string& csv, TimelineTable* t, std::string* error);

// True for a column that is a KSM knob (a sysfs file the user writes: run, pages_to_scan,
// sleep_millisecs, ...) rather than a counter; knobs get their own panel.
bool IsKnobColumn(const std::string& name);

// About `target` round tick values (1, 2 or 5 times a power of ten apart), the first at or
// below lo and the last at or above hi; and a tick's label ("250k", "1.5M", "0.25").
std::vector<double> NiceTicks(double lo, double hi, int target);
std::string TickLabel(double v);

// The timeline as an SVG: counters first, then knobs, one panel each with its own y axis,
// step lines that change at the exact time of each row (a value holds until the next row),
// a dot at each change when there are few. Columns that never change are left out unless
// named in `only`. Returns "" and sets `error` when the CSV is not usable.
std::string PlotSvg(const std::string& csv, const std::vector<std::string>& only,
                    const std::string& title, std::string* error);

}  // namespace ksmsim::tools::teach
