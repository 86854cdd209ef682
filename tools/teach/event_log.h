// The event log of `ksmsim run --events` (docs/EVENTS.md): one self-contained JSON line per
// event. Every line has its simulated time, its name and full_scans (`seq`); an event of
// ksmd's scan has its pass (1 = the first); a ksmsim_decision names the kernel function
// (`func`), the outcome (`what`), the process (`mm`), the address, the page as the workload
// names it (`page`, PROC:REGION[i]) and its frame (`pfn`) -- whatever else it is about. The
// lines are written with fmt, not a JSON DOM: an event costs about a microsecond.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ksm/ksm.h"
#include "workloads/driver.h"

namespace ksmsim::tools::teach {

// An event and what the workload calls what it is about, resolved once for the filter and
// the line.
struct EventView {
  const ksm::KsmEvent* e = nullptr;
  uint64_t time_ns = 0;
  std::optional<uint64_t> pass;  // the ksmd pass it happened in (1 = the first), if any
  std::optional<workloads::Driver::PageLocation> page;  // e->mm/e->addr in the workload
};

// The view of `e` happening now, at `time_ns`, in the run of `d`.
EventView ViewEvent(const workloads::Driver& d, const ksm::KsmEvent& e, uint64_t time_ns);

// The pass an event of ksmd's scan belongs to: full_scans + 1 while ksmd scans (the
// wording of explain, step, the event log and the Perfetto timeline: "pass 1" is the
// first pass; once it ends, full_scans is 1).
inline uint64_t PassOf(uint64_t full_scans) { return full_scans + 1; }

// `s` as a JSON string literal (quotes included), appended to `out`.
void AppendJsonString(std::string& out, std::string_view s);

// The JSON line of an event, newline included.
std::string EventLine(const workloads::Driver& d, const EventView& v);

}  // namespace ksmsim::tools::teach
