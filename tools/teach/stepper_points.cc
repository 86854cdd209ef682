// The stepper's breakpoints and watches (stepper_points.h).
#include "tools/teach/stepper_points.h"

#include <algorithm>
#include <map>
#include <set>

#include "fmt/format.h"

namespace ksmsim::tools {
namespace {

std::string Join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::optional<int64_t> JsonValue(const nlohmann::ordered_json& j) {
  if (!j.is_number_integer()) return std::nullopt;
  return j.get<int64_t>();
}

}  // namespace

std::string StopPoints::Break(const std::vector<std::string>& args) {
  if (args.size() != 2 || args[0] != "page")
    return "error: break page PROC:REGION[i] (a page of the workload, e.g. a:heap[3]; "
           "an index range [A..B] works too)";
  std::string error;
  std::optional<teach::PageSelector> sel = teach::ParsePageSelector(args[1], &error);
  if (!sel) return "error: break page " + error;
  if (sel->proc.empty() || args[1].find('[') == std::string::npos)
    return "error: break page needs PROC:REGION[i], e.g. a:heap[3]";
  // The script's names: processes spawned or forked, regions mapped (and their sizes).
  std::set<std::string> procs, regions;
  uint64_t pages = 0;
  for (const workloads::FlatStep& fs : steps_) {
    const workloads::Step& s = *fs.step;
    if (const auto* spawn = s.get_if<workloads::SpawnStep>()) procs.insert(spawn->proc);
    if (const auto* fork = s.get_if<workloads::ForkStep>()) procs.insert(fork->child);
    if (const auto* mmap = s.get_if<workloads::MmapStep>()) {
      regions.insert(mmap->region);
      if (mmap->region == sel->region) pages = std::max(pages, mmap->pages.value_or(0));
    }
  }
  if (!procs.count(sel->proc))
    return fmt::format("error: no process '{}' in the workload (processes: {})", sel->proc,
                       Join(procs));
  if (!regions.count(sel->region))
    return fmt::format("error: no region '{}' in the workload (regions: {})", sel->region,
                       Join(regions));
  if (sel->index.first >= pages)
    return fmt::format("error: region '{}' has {} pages at most: index {} is past its end",
                       sel->region, pages, sel->index.first);
  int id = next_id_++;
  std::string text = fmt::format("page {}", args[1]);
  breaks_.push_back({id, *sel, text});
  return fmt::format("breakpoint {}: stop when ksmd scans {}", id, args[1]);
}

std::optional<int64_t> StopPoints::Value(workloads::Driver& d, const std::string& name) {
  if (name.rfind("ksm.", 0) == 0) {
    auto values = d.ksm().SysfsValues();
    auto it = values.find(name.substr(4));
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  nlohmann::ordered_json c = d.Counters();
  if (name.rfind("vmstat.", 0) == 0) {
    std::string key = name.substr(7);
    if (!c["vmstat"].contains(key)) return std::nullopt;
    return JsonValue(c["vmstat"][key]);
  }
  // procs.P.key (P may hold dots: the key is after the last one)
  size_t dot = name.rfind('.');
  std::string proc = name.substr(6, dot - 6), key = name.substr(dot + 1);
  if (!c["procs"].contains(proc) || !c["procs"][proc].contains(key)) return std::nullopt;
  return JsonValue(c["procs"][proc][key]);
}

std::string StopPoints::Watch(workloads::Driver& d, const std::vector<std::string>& args) {
  if (args.size() != 1)
    return "error: watch COUNTER (a name `counters` prints: pages_sharing, ksm.full_scans, "
           "vmstat.cow_ksm, procs.a.ksm_merging_pages)";
  std::string name = args[0];
  nlohmann::ordered_json c = d.Counters();
  if (name.find('.') == std::string::npos) {
    if (c["ksm"].contains(name))
      name = "ksm." + name;
    else if (c["vmstat"].contains(name))
      name = "vmstat." + name;
  }
  bool known = false;
  if (name.rfind("ksm.", 0) == 0) known = c["ksm"].contains(name.substr(4));
  if (name.rfind("vmstat.", 0) == 0) known = c["vmstat"].contains(name.substr(7));
  if (name.rfind("procs.", 0) == 0) {
    size_t dot = name.rfind('.');
    std::string proc = name.substr(6, dot > 6 ? dot - 6 : 0), key = name.substr(dot + 1);
    bool proc_known = false;
    for (const workloads::FlatStep& fs : steps_)
    {
      const auto* spawn = fs.step->get_if<workloads::SpawnStep>();
      const auto* fork = fs.step->get_if<workloads::ForkStep>();
      if ((spawn && spawn->proc == proc) || (fork && fork->child == proc)) proc_known = true;
    }
    known = dot > 6 && proc_known && (key == "ksm_merging_pages" || key == "ksm_rmap_items");
  }
  if (!known) {
    std::string names;
    for (auto it = c["ksm"].begin(); it != c["ksm"].end(); ++it) names += " " + it.key();
    for (auto it = c["vmstat"].begin(); it != c["vmstat"].end(); ++it)
      names += " vmstat." + it.key();
    return fmt::format(
        "error: no counter '{}'; the counters are:{} and "
        "procs.PROC.ksm_merging_pages, procs.PROC.ksm_rmap_items",
        args[0], names);
  }
  int id = next_id_++;
  std::optional<int64_t> now = Value(d, name);
  watches_.push_back({id, name, now});
  return fmt::format("watch {}: stop when {} changes (now {})", id, name,
                     now ? std::to_string(*now) : "none: no such process now");
}

std::string StopPoints::Delete(const std::vector<std::string>& args) {
  if (args.empty()) {
    size_t n = breaks_.size() + watches_.size();
    breaks_.clear();
    watches_.clear();
    return fmt::format("deleted {} breakpoints and watches", n);
  }
  std::string out;
  for (const std::string& a : args) {
    int id = 0;
    try {
      size_t used = 0;
      id = std::stoi(a, &used);
      if (used != a.size() || a[0] == '-' || a[0] == '+') id = 0;
    } catch (...) {
    }
    auto b = std::find_if(breaks_.begin(), breaks_.end(), [&](auto& p) { return p.id == id; });
    auto w = std::find_if(watches_.begin(), watches_.end(), [&](auto& p) { return p.id == id; });
    if (b != breaks_.end()) {
      breaks_.erase(b);
      out += fmt::format("{}deleted breakpoint {}", out.empty() ? "" : "\n", id);
    } else if (w != watches_.end()) {
      watches_.erase(w);
      out += fmt::format("{}deleted watch {}", out.empty() ? "" : "\n", id);
    } else {
      out += fmt::format("{}error: no breakpoint or watch '{}'", out.empty() ? "" : "\n", a);
    }
  }
  return out;
}

std::string StopPoints::List() const {
  if (breaks_.empty() && watches_.empty()) return "no breakpoints or watches";
  std::map<int, std::string> lines;
  for (const auto& b : breaks_) lines[b.id] = fmt::format("{}  break {}", b.id, b.text);
  for (const auto& w : watches_)
    lines[w.id] = fmt::format("{}  watch {} (last seen {})", w.id, w.name,
                              w.last ? std::to_string(*w.last) : "none");
  std::string out;
  for (const auto& [id, line] : lines) out += (out.empty() ? "" : "\n") + line;
  return out;
}

std::vector<std::string> StopPoints::Hits(const workloads::Driver::PageLocation& loc) const {
  std::vector<std::string> hits;
  for (const auto& b : breaks_)
    if (b.page.Matches(loc)) hits.push_back(fmt::format("breakpoint {} ({})", b.id, b.text));
  return hits;
}

std::vector<std::string> StopPoints::Changes(workloads::Driver& d) {
  std::vector<std::string> changes;
  for (auto& w : watches_) {
    std::optional<int64_t> now = Value(d, w.name);
    if (now == w.last) continue;
    auto text = [](const std::optional<int64_t>& v) {
      return v ? std::to_string(*v) : std::string("none");
    };
    changes.push_back(fmt::format("watch {}: {} {} -> {}", w.id, w.name, text(w.last), text(now)));
    w.last = now;
  }
  return changes;
}

}  // namespace ksmsim::tools
