#include "tools/cli/run_summary.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "workloads/counters.h"

namespace ksmsim::tools {
namespace {

using Json = nlohmann::ordered_json;

enum class Tint { kNone, kBold, kRed, kGreen, kDim };

struct Cell {
  std::string text;
  Tint tint = Tint::kNone;
  bool right = false;  // right-aligned (numbers)
};
using Row = std::vector<Cell>;

std::string Paint(const std::string& s, Tint t, const SummaryStyle& style) {
  if (!style.color || t == Tint::kNone) return s;
  const char* code = t == Tint::kBold    ? "1"
                     : t == Tint::kRed   ? "31;1"
                     : t == Tint::kGreen ? "32"
                                         : "2";
  return fmt::format("\033[{}m{}\033[0m", code, s);
}

// Rows as aligned columns, each line indented by `indent` and without trailing blanks.
std::string Table(const std::vector<Row>& rows, const std::string& indent,
                  const SummaryStyle& style, size_t gap = 2) {
  std::vector<size_t> width;
  for (const Row& r : rows) {
    if (r.size() > width.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].text.size());
  }
  std::string out;
  for (const Row& r : rows) {
    std::string line = indent;
    size_t pending = 0;  // blanks owed before the next cell (not written at the line's end)
    for (size_t i = 0; i < r.size(); ++i) {
      const Cell& c = r[i];
      size_t pad = width[i] - c.text.size();
      if (c.text.empty()) {
        pending += width[i] + gap;
        continue;
      }
      line.append(pending + (c.right ? pad : 0), ' ');
      line += Paint(c.text, c.tint, style);
      pending = (c.right ? 0 : pad) + gap;
    }
    out += line + "\n";
  }
  return out;
}

Cell Text(std::string s, Tint t = Tint::kNone) { return Cell{std::move(s), t, false}; }

int64_t Get(const Json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_number_integer() ? obj[key].get<int64_t>() : 0;
}

// "ksm.pages_sharing" -> expected value, from an entry's mismatches.
std::map<std::string, Json> Expected(const Json& entry) {
  std::map<std::string, Json> m;
  if (!entry.contains("mismatches")) return m;
  for (const Json& x : entry["mismatches"]) m[x["counter"].get<std::string>()] = x["expected"];
  return m;
}

// One counter as name, value and (when an expect disagrees) what was expected.
void CounterRow(std::vector<Row>* rows, size_t col, const std::string& name, const Json& value,
                const std::map<std::string, Json>& expected, const std::string& key) {
  if (rows->size() <= 0) return;
  Row& r = rows->back();
  if (r.size() < col) r.resize(col);
  auto it = expected.find(key);
  bool bad = it != expected.end();
  r.push_back(Text(name, bad ? Tint::kRed : Tint::kNone));
  r.push_back(
      Cell{value.is_null() ? "(absent)" : value.dump(), bad ? Tint::kRed : Tint::kNone, true});
  r.push_back(bad ? Text(fmt::format("expected {}", it->second.dump()), Tint::kRed) : Text(""));
}

// A two-part column: `left` and `right` lists of rows laid side by side.
std::vector<Row> SideBySide(const std::vector<Row>& left, const std::vector<Row>& right,
                            size_t left_cols) {
  std::vector<Row> out;
  for (size_t i = 0; i < std::max(left.size(), right.size()); ++i) {
    Row r = i < left.size() ? left[i] : Row{};
    r.resize(left_cols);
    r.push_back(Text(""));  // the gutter between the two parts
    if (i < right.size()) r.insert(r.end(), right[i].begin(), right[i].end());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

SummaryStyle SummaryStyle::ForFd(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  SummaryStyle s;
  s.color = isatty(fd) != 0 && (no_color == nullptr || no_color[0] == '\0') &&
            !(term != nullptr && std::strcmp(term, "dumb") == 0);
  return s;
}

std::string HumanBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  uint64_t mag = bytes < 0 ? -static_cast<uint64_t>(bytes) : static_cast<uint64_t>(bytes);
  if (mag < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(mag);
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  return fmt::format("{}{:.2f} {}", bytes < 0 ? "-" : "", v, units[u]);
}

std::string FormatEntry(const Json& entry, const std::string& title, const SummaryStyle& style,
                        const Json* previous) {
  const Json empty = Json::object();
  const Json& ksm = entry.contains("ksm") ? entry["ksm"] : empty;
  const Json& vmstat = entry.contains("vmstat") ? entry["vmstat"] : empty;
  const Json& procs = entry.contains("procs") ? entry["procs"] : empty;
  std::map<std::string, Json> expected = Expected(entry);
  std::string out = Paint(title, Tint::kBold, style) + "\n";

  // The counters: sysfs in the kernel's order (then any other file), vmstat beside them.
  std::vector<std::string> counters;
  for (std::string_view n : workloads::KsmCounterNames())
    if (!workloads::IsKsmKnob(n) && ksm.contains(std::string(n))) counters.emplace_back(n);
  for (const auto& [n, v] : ksm.items())
    if (!workloads::IsKsmKnob(n) &&
        std::find(counters.begin(), counters.end(), n) == counters.end())
      counters.push_back(n);
  // Kernel "2009" has no sysfs: its figures are the /dev/ksm driver's (kpages).
  const bool dev_ksm_2009 = ksm.contains("max_kernel_pages");
  std::vector<Row> left{
      {Text(dev_ksm_2009 ? "/dev/ksm (2009): kpages" : "/sys/kernel/mm/ksm", Tint::kBold)}};
  for (const std::string& n : counters) {
    left.emplace_back();
    CounterRow(&left, 0, "  " + n, ksm[n], expected, "ksm." + n);
  }
  std::vector<Row> right{{Text("/proc/vmstat", Tint::kBold)}};
  for (const auto& [n, v] : vmstat.items()) {
    right.emplace_back();
    CounterRow(&right, 0, "  " + n, v, expected, "vmstat." + n);
  }
  out += Table(SideBySide(left, right, 3), "  ", style);

  // The knobs: in the first block, and again when one changed (or an expect names one).
  std::vector<std::string> knobs, changed;
  bool knob_mismatch = false;
  std::vector<std::string> knob_names;  // the kernel's order (run, pages_to_scan, ...)
  for (std::string_view n : workloads::KsmKnobNames())
    if (ksm.contains(std::string(n))) knob_names.emplace_back(n);
  for (const std::string& n : knob_names) {
    const Json& v = ksm[n];
    knob_mismatch |= expected.count("ksm." + n) != 0;
    bool differs = previous == nullptr || !previous->contains("ksm") ||
                   !(*previous)["ksm"].contains(n) || (*previous)["ksm"][n] != v;
    if (previous != nullptr && differs) changed.push_back(n);
    auto it = expected.find("ksm." + n);
    knobs.push_back(it == expected.end()
                        ? fmt::format("{}={}", n, v.dump())
                        : Paint(fmt::format("{}={} (expected {})", n, v.dump(), it->second.dump()),
                                Tint::kRed, style));
  }
  // (kernel "2009" has no sysfs knob among these: no line)
  if (!knobs.empty() && (previous == nullptr || !changed.empty() || knob_mismatch)) {
    std::string line = "  knobs:";
    size_t width = line.size();
    for (const std::string& k : knobs) {
      if (width + 1 + k.size() > 96 && width > 9) {
        out += line + "\n";
        line = "        ";
        width = line.size();
      }
      line += " " + k;
      width += 1 + k.size();
    }
    out += line + "\n";
    if (!changed.empty()) out += fmt::format("         (changed: {})\n", fmt::join(changed, ", "));
  }

  // The memory saved.
  const int64_t shared = Get(ksm, "pages_shared"), sharing = Get(ksm, "pages_sharing");
  const std::string zero_name(workloads::kKsmZeroPages);
  const bool has_zero = ksm.contains(zero_name);
  const int64_t zero = Get(ksm, zero_name.c_str());
  // mm/ksm.c pages_volatile_show: ksm_rmap_items - shared - sharing - unshared.
  const int64_t rmap_items =
      shared + sharing + Get(ksm, "pages_unshared") + Get(ksm, "pages_volatile");
  const int64_t saved = (sharing + zero) * kPageSize;
  const int64_t profit = saved - rmap_items * kSizeofKsmRmapItem;
  // The human-readable size beside the bytes, when it says more than the bytes do.
  auto human = [](int64_t b) {
    return Text(b > -1024 && b < 1024 ? std::string() : fmt::format("{:>10}", HumanBytes(b)));
  };
  std::vector<Row> mem;
  mem.push_back({Text("memory saved", Tint::kBold),
                 Cell{fmt::format("{} B", saved), Tint::kNone, true}, human(saved),
                 Text(fmt::format("= {}{} x {}",
                                  has_zero ? "(pages_sharing + ksm_zero_pages) " : "pages_sharing ",
                                  sharing + zero, kPageSize))});
  if (!dev_ksm_2009)  // (no rmap_item count to subtract in 2009's figures)
    mem.push_back({Text("general_profit", Tint::kBold),
                   Cell{fmt::format("{} B", profit), Tint::kNone, true}, human(profit),
                   Text(fmt::format("= {} x {} - {} x {}", sharing + zero, kPageSize, rmap_items,
                                    kSizeofKsmRmapItem))});
  if (previous == nullptr && !dev_ksm_2009)  // the formula once, in the first block
    mem.push_back(
        {Text(""), Text(""), Text(""),
         Text(fmt::format("  ({} x PAGE_SIZE - rmap_items x sizeof(struct ksm_rmap_item))",
                          has_zero ? "(pages_sharing + ksm_zero_pages)" : "pages_sharing"),
              Tint::kDim)});
  mem.push_back({Text("dedup ratio", Tint::kBold),
                 Cell{shared > 0 ? fmt::format("{:.2f}", double(shared + sharing) / double(shared))
                                 : std::string("-"),
                      Tint::kNone, true},
                 Text(""),
                 Text(shared > 0 ? fmt::format("= {} mappings / {} KSM page{}", shared + sharing,
                                               shared, shared == 1 ? "" : "s")
                                 : std::string("(no KSM page)"))});
  out += Table(mem, "  ", style);

  if (!procs.empty()) {
    std::vector<std::string> names;  // the per-process counters, in the order first seen
    for (const auto& [p, pc] : procs.items())
      for (const auto& [n, v] : pc.items())
        if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    std::vector<Row> rows;
    Row head{Text("/proc/PID", Tint::kBold)};
    for (const std::string& n : names) head.push_back(Cell{n, Tint::kBold, true});
    head.push_back(Cell{"profit", Tint::kBold, true});
    rows.push_back(head);
    for (const auto& [p, pc] : procs.items()) {
      Row r{Text("  " + p)};
      std::string bad;
      for (const std::string& n : names) {
        auto it = expected.find("procs." + p + "." + n);
        Json v = pc.contains(n) ? pc[n] : Json();
        r.push_back(Cell{v.is_null() ? "-" : v.dump(),
                         it != expected.end() ? Tint::kRed : Tint::kNone, true});
        if (it != expected.end())
          bad += fmt::format("{}{} expected {}", bad.empty() ? "" : ", ", n, it->second.dump());
      }
      // 6.4's ksm_process_profit: ksm_merging_pages * PAGE_SIZE - ksm_rmap_items * size.
      int64_t pp =
          Get(pc, "ksm_merging_pages") * kPageSize - Get(pc, "ksm_rmap_items") * kSizeofKsmRmapItem;
      r.push_back(Cell{HumanBytes(pp), Tint::kNone, true});
      if (!bad.empty()) r.push_back(Text(bad, Tint::kRed));
      rows.push_back(std::move(r));
    }
    out += Table(rows, "  ", style);
  }
  // Expected counters the entry does not have at all (a process that does not exist).
  for (const auto& [key, want] : expected) {
    bool shown = (key.rfind("ksm.", 0) == 0 && ksm.contains(key.substr(4))) ||
                 (key.rfind("vmstat.", 0) == 0 && vmstat.contains(key.substr(7)));
    if (key.rfind("procs.", 0) == 0) {
      size_t dot = key.find('.', 6);
      shown = dot != std::string::npos && procs.contains(key.substr(6, dot - 6));
    }
    if (!shown)
      out += Paint(fmt::format("  {}: expected {}, absent\n", key, want.dump()), Tint::kRed, style);
  }
  return out;
}

void PrintRunSummary(std::ostream& out, const Json& doc, const std::string& file,
                     const std::optional<FinalState>& final_state, bool ok,
                     const SummaryStyle& style) {
  out << fmt::format("{}: {} ({})\n", file, doc.value("workload", ""), doc.value("engine", ""));
  const Json* previous = nullptr;
  for (const Json& e : doc["results"]) {
    std::string label = e.value("label", "");
    std::string title =
        fmt::format("step {} {}{} at {:.3f} ms{}", e["step"].get<uint64_t>(), e.value("op", ""),
                    label.empty() ? "" : fmt::format(" \"{}\"", label),
                    static_cast<double>(e.value("time_ns", uint64_t{0})) / 1e6,
                    e.contains("mismatches") && !e["mismatches"].empty()
                        ? fmt::format(": {} MISMATCH{}", e["mismatches"].size(),
                                      e["mismatches"].size() == 1 ? "" : "ES")
                        : "");
    out << "\n" << FormatEntry(e, title, style, previous);
    previous = &e;
  }
  if (final_state) {
    Json e = final_state->counters;
    e["mismatches"] = Json::array();
    out << "\n"
        << FormatEntry(
               e,
               fmt::format("end of the run, after {} steps, at {:.3f} ms", final_state->steps,
                           static_cast<double>(final_state->time_ns) / 1e6),
               style, previous);
  }
  if (ok) out << "\n" << Paint("ok: every expect and verify held", Tint::kGreen, style) << "\n";
}

}  // namespace ksmsim::tools
