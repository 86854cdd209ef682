// explain's view of ksmd: one line per decision about one page, in the kernel's terms and
// naming the deciding function (`ksmsim explain`, the report's event log); and the ranges
// and page names its filters use.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ksm/ksm.h"
#include "workloads/driver.h"

namespace ksmsim::tools::teach {

// An inclusive range "A..B" (or a single "A").
struct Range {
  uint64_t first = 0, last = UINT64_MAX;
  bool contains(uint64_t v) const { return v >= first && v <= last; }
};
std::optional<Range> ParseRange(const std::string& s);

// A page named as the workload names it: proc:region[index].
struct PageRef {
  std::string proc, region;
  std::optional<uint64_t> index;  // absent when no region of the workload holds the address
  std::string text;
};
PageRef ResolvePage(const workloads::Driver& d, const mmu::Mm* mm, uint64_t addr);

// One ksmd decision about one page, as explain prints it.
struct Decision {
  // pass: ksmd's pass (1 = the first; the wording of explain, step, the event log and the
  // Perfetto timeline); scan: full_scans at the time, pass - 1.
  uint64_t step = 0, pass = 0, scan = 0, time_ns = 0;
  PageRef page;
  std::string func, what, text;  // text: "func: what it means"
};

// Turns the ksmsim_decision events into Decision lines: a search's "match" is joined with
// the merge that follows it ("identical to b:heap[3] -> try_to_merge_two_pages -> new KSM
// page pfn 1042 (stable node 5)"). Feed every event; `out` receives finished lines.
class DecisionBuilder {
 public:
  DecisionBuilder(const workloads::Driver& d, std::function<void(const Decision&)> out)
      : d_(d), out_(std::move(out)) {}
  void OnEvent(const ksm::KsmEvent& e, uint64_t time_ns, uint64_t step);
  void Flush();

 private:
  const workloads::Driver& d_;
  std::function<void(const Decision&)> out_;
  std::optional<Decision> pending_;  // a "match" waiting for its merge
  PageRef current_;
};

}  // namespace ksmsim::tools::teach
