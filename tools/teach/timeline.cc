// The counters sampled for `run --timeline` and the report's plot.
#include "tools/teach/timeline.h"

#include <string>

#include "fmt/format.h"

namespace ksmsim::tools::teach {

std::vector<std::string> TimelineColumns(workloads::Driver& d) {
  std::vector<std::string> cols;
  for (const auto& [name, v] : d.ksm().SysfsValues()) cols.push_back(name);
  for (const char* v : {"cow_ksm", "ksm_swpin_copy", "pswpin", "pswpout"})
    cols.push_back(std::string("vmstat.") + v);
  return cols;
}

std::vector<int64_t> TimelineRow(workloads::Driver& d) {
  std::vector<int64_t> row;
  for (const auto& [name, v] : d.ksm().SysfsValues()) row.push_back(v);
  const auto& vm = d.machine().vmstat();
  for (uint64_t v : {vm.cow_ksm, vm.ksm_swpin_copy, vm.pswpin, vm.pswpout})
    row.push_back(static_cast<int64_t>(v));
  return row;
}

void TimelineSampler::Observe(workloads::Driver& d) {
  uint64_t now = d.queue().now();
  std::vector<int64_t> row = TimelineRow(d);
  if (!rows.empty() && rows.back().second == row) return;
  if (!rows.empty() && rows.back().first == now) {
    rows.back().second = std::move(row);  // a later change at the same instant
    // Two rows at one instant collapse; drop this one if it now repeats the row before.
    if (rows.size() >= 2 && rows[rows.size() - 2].second == rows.back().second) rows.pop_back();
    return;
  }
  rows.emplace_back(now, std::move(row));
}

void TimelineSampler::Before(workloads::Driver& d, uint64_t time_ns) {
  if (columns.empty()) columns = TimelineColumns(d);
  if (every_ == 0) {
    Observe(d);
    return;
  }
  while (next_ < time_ns) {
    rows.emplace_back(next_, TimelineRow(d));
    next_ += every_;
  }
}

void TimelineSampler::Finish(workloads::Driver& d) {
  if (columns.empty()) columns = TimelineColumns(d);
  uint64_t now = d.queue().now();
  Before(d, now);
  if (rows.empty() || rows.back().first != now) rows.emplace_back(now, TimelineRow(d));
}

std::string TimelineSampler::Csv() const {
  std::string out = "time_ms";
  for (const auto& c : columns) out += "," + c;
  out += "\n";
  for (const auto& [t, vals] : rows) {
    out += fmt::format("{}", static_cast<double>(t) / 1e6);
    for (int64_t v : vals) out += fmt::format(",{}", v);
    out += "\n";
  }
  return out;
}

}  // namespace ksmsim::tools::teach
