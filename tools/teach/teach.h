// Teaching aids shared by `ksmsim explain`, `run --timeline/--dump-trees`, `plot` and
// `report`: decision lines in the kernel's terms, counter timelines, tree pictures.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ksm/ksm.h"
#include "nlohmann/json.hpp"
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
  uint64_t step = 0, scan = 0, time_ns = 0;
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

// The counters sampled for --timeline: every /sys/kernel/mm/ksm file and the KSM vmstat.
std::vector<std::string> TimelineColumns(workloads::Driver& d);
std::vector<int64_t> TimelineRow(workloads::Driver& d);

// Samples the counters every `every_ns` of simulated time (DriverOptions::before_time).
class TimelineSampler {
 public:
  explicit TimelineSampler(uint64_t every_ns) : every_(every_ns ? every_ns : 1) {}
  void Before(workloads::Driver& d, uint64_t time_ns);  // sample grid points < time_ns
  void Finish(workloads::Driver& d);                     // a last row at the end
  std::string Csv() const;
  std::vector<std::string> columns;
  std::vector<std::pair<uint64_t, std::vector<int64_t>>> rows;  // time_ns, values

 private:
  uint64_t every_;
  uint64_t next_ = 0;
};

// A CSV written by TimelineSampler (or any "time_ms,a,b,..." file) drawn as an SVG line
// chart: axes with ticks, labels, a legend. Columns that never change are left out unless
// named in `only`. Returns "" and sets `error` when the CSV is not usable.
std::string PlotSvg(const std::string& csv, const std::vector<std::string>& only,
                    const std::string& title, std::string* error);

// The stable trees (chains with their dups; kpfn, sharers = rmap_hlist_len) and
// migrate_nodes, and the unstable trees, as Graphviz DOT. `nodes` receives the number of
// graph nodes drawn.
std::string StableTreesDot(workloads::Driver& d, int* nodes = nullptr);
std::string UnstableTreesDot(workloads::Driver& d, int* nodes = nullptr);
// The same trees drawn directly as SVG (no Graphviz needed), for the report.
std::string StableTreesSvg(workloads::Driver& d);
std::string UnstableTreesSvg(workloads::Driver& d);
// The same trees as indented text (red-black children marked L/R, chains with their dups,
// each KSM page's sharers), for `ksmsim step` (tools/teach/tree_text.cc).
std::string StableTreesText(workloads::Driver& d);
std::string UnstableTreesText(workloads::Driver& d);
// Runs `dot -Tsvg` when Graphviz is installed; false otherwise.
bool DotToSvg(const std::string& dot_path, const std::string& svg_path);

std::string HtmlEscape(const std::string& s);

}  // namespace ksmsim::tools::teach
