// `ksmsim run --events-filter`: which event lines the log keeps (docs/EVENTS.md).
// A filter is terms separated by spaces (the option may be given several times: its terms
// add up); every term must hold, and a term holds when one of its comma-separated values
// does. An event without what a term asks about (a pass, a page, a process) fails it.
//   event=NAME,...        the event's name (ksm_merge_one_page, ksmsim_decision, ...)
//   func=NAME,...         a decision's kernel function (cmp_and_merge_page, ...)
//   what=CODE,...         a decision's outcome (merged_two, checksum_changed, ...)
//   proc=NAME,...         the process (mm) of the event
//   page=[PROC:]REGION[[A..B]],...  pages of a region (index A..B inclusive, or one index)
//   pass=A..B,...         ksmd's pass (1 = the first; A, A..B, A.., ..B)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/teach/event_log.h"
#include "tools/teach/explain.h"

namespace ksmsim::tools::teach {

// The names of every event the log can hold.
inline constexpr const char* kEventNames[] = {"ksm_start_scan",
                                              "ksm_stop_scan",
                                              "ksm_enter",
                                              "ksm_exit",
                                              "ksm_merge_one_page",
                                              "ksm_merge_with_ksm_page",
                                              "ksm_remove_ksm_page",
                                              "ksm_remove_rmap_item",
                                              "ksmsim_decision",
                                              "ksmsim_cow_ksm",
                                              "ksmsim_swapin",
                                              "ksmsim_migrate",
                                              "ksmsim_smart_scan_skip",
                                              "ksm_advisor"};

// A page selection: [PROC:]REGION[[A..B]], as `page=` and the stepper's `break page` take it.
struct PageSelector {
  std::string proc;  // empty: any process
  std::string region;
  Range index;
  bool Matches(const workloads::Driver::PageLocation& loc) const {
    return (proc.empty() || *loc.proc == proc) && *loc.region == region &&
           index.contains(loc.index);
  }
};
// Parses a page selection; nullopt (and *error) when malformed.
std::optional<PageSelector> ParsePageSelector(const std::string& s, std::string* error);

class EventFilter {
 public:
  // Parses the terms of every spec; nullopt and *error naming the bad term otherwise.
  static std::optional<EventFilter> Parse(const std::vector<std::string>& specs,
                                          std::string* error);
  bool Matches(const EventView& v) const;
  bool empty() const { return terms_.empty(); }

 private:
  enum class Key { kEvent, kFunc, kWhat, kProc, kPage, kPass };
  struct Term {
    Key key;
    std::vector<std::string> names;  // event, func, what, proc
    std::vector<PageSelector> pages;
    std::vector<Range> passes;
  };
  bool Holds(const Term& t, const EventView& v) const;
  std::vector<Term> terms_;
};

}  // namespace ksmsim::tools::teach
