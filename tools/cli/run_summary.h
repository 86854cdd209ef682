// The terminal summary of `run` and `replay`: at each expect and snapshot entry of a result
// document (and at the end of the run), every counter under its kernel name, aligned:
// /sys/kernel/mm/ksm (counters, then knobs), /proc/vmstat, one row per process of
// /proc/PID/ksm_stat and ksm_merging_pages, and the memory KSM saves: pages_sharing pages,
// the dedup ratio and the kernel's general_profit arithmetic. Colour is for terminals only.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "nlohmann/json.hpp"

namespace ksmsim::tools {

// x86_64 Linux 6.1: sizeof(struct ksm_rmap_item) (mm/ksm.c: rmap_list, anon_vma/nid, mm,
// address, oldchecksum + padding, and a union of rb_node / head + hlist_node: 8 words).
inline constexpr int64_t kSizeofKsmRmapItem = 64;
inline constexpr int64_t kPageSize = 4096;

struct SummaryStyle {
  bool color = false;
  // Colour when `fd` is a terminal, NO_COLOR is unset or empty and TERM is not "dumb".
  static SummaryStyle ForFd(int fd);
};

// The state at the end of a run when it is not an entry already: the driver's Counters()
// with the step it ran last and the simulated time.
struct FinalState {
  nlohmann::ordered_json counters;  // ksm, procs, vmstat (as in a result entry)
  uint64_t steps = 0;               // flattened steps run
  uint64_t time_ns = 0;
};

// One entry (or the final state) as a block of aligned lines. The knobs are shown when
// there is no `previous` entry, or when one differs from it.
std::string FormatEntry(const nlohmann::ordered_json& entry, const std::string& title,
                        const SummaryStyle& style, const nlohmann::ordered_json* previous);

// The whole summary: a header naming the file, workload and engine, each entry, the final
// state when given, and "ok: ..." when the run held (failures go to stderr, see
// run_failures.h).
void PrintRunSummary(std::ostream& out, const nlohmann::ordered_json& doc, const std::string& file,
                     const std::optional<FinalState>& final_state, bool ok,
                     const SummaryStyle& style);

// "3.98 MiB", "512 B", "-1.20 KiB".
std::string HumanBytes(int64_t bytes);

}  // namespace ksmsim::tools
