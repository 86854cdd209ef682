// The report's event log, kept small over a whole run of a million pages: every decision
// and tracepoint counted by pass and kind, and rows sampled so that each pass and each kind
// of event keeps its first rows, whatever the run's length.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ksmsim::tools::teach {

// One row of the log as the page shows it.
struct EventRow {
  uint64_t seq = 0;  // order in the run
  uint64_t step = 0, pass = 0, time_ns = 0;
  std::string page, kind, text;
};

// Passes are numbered as everywhere in ksmsim: pass N is ksmd's N-th pass over the mm list,
// so while full_scans is F the pass under way is F + 1.
class EventLog {
 public:
  // At most `max_rows` rows in all; each (pass, kind) keeps its first `per_group` rows.
  EventLog(uint64_t max_rows, uint64_t per_group) : max_rows_(max_rows), per_group_(per_group) {}
  // Counts one event of `kind` in `pass`.
  void Count(uint64_t pass, std::string_view kind);
  // True when (pass, kind) already keeps its rows: a row offered now would be dropped.
  bool Full(uint64_t pass, std::string_view kind) const;
  // Keeps the row that `make` builds unless (pass, kind) is full (`make` is then not called).
  void Keep(uint64_t pass, std::string_view kind, const std::function<EventRow()>& make);
  // The rows kept, in run order, thinned evenly within each group down to max_rows.
  std::vector<EventRow> Rows() const;
  using Counts = std::map<uint64_t, std::map<std::string, uint64_t, std::less<>>>;
  const Counts& counts() const { return counts_; }
  uint64_t total() const { return total_; }  // events counted

 private:
  uint64_t max_rows_, per_group_;
  uint64_t seq_ = 0, total_ = 0;
  Counts counts_;  // pass -> kind -> count
  std::map<uint64_t, std::map<std::string, std::vector<EventRow>, std::less<>>> kept_;
};

}  // namespace ksmsim::tools::teach
