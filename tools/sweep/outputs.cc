#include "tools/sweep/outputs.h"

#include <optional>
#include <set>

#include "fmt/format.h"
#include "tools/sweep/chart.h"
#include "tools/sweep/run_point.h"

namespace ksmsim::tools::sweep {
namespace {

using Json = nlohmann::ordered_json;

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string Num(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return CsvField(v.get<std::string>());
  return v.dump();
}

// Appends ",value" (GCC 12 warns falsely on "," + std::string under -O3).
void Cell(std::string& out, const std::string& v) {
  out.push_back(',');
  out.append(v);
}

// The input's file name, for the table.
std::string Base(const Json& input) {
  std::string s = input.get<std::string>();
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

std::string Seconds(const Json& ns) {
  if (ns.is_null()) return "-";
  return fmt::format("{:.1f}", static_cast<double>(ns.get<uint64_t>()) / 1e9);
}

std::string KnobsText(const Json& p) {
  std::string knobs;
  for (const auto& [k, v] : p["knobs"].items()) knobs += fmt::format(" {}={}", k, v.get<int64_t>());
  return knobs;
}

// With several policies: for each, its point that reached the saving (90% of the best)
// soonest and its point that did so for the least ksmd CPU; then the policy of each
// answer over all points. Ties go to the first point.
std::string PolicyComparison(const SweepSpec& spec, const std::vector<Json>& points,
                             const std::vector<EndFigures>& ends) {
  std::string out = fmt::format(
      "by policy, among the points that saved {:.0f}% of the best:\n", kConvergedPercent);
  std::optional<size_t> soonest_all, cheapest_all;
  auto sooner = [&](size_t a, size_t b) { return *ends[a].t90_s < *ends[b].t90_s; };
  auto cheaper = [&](size_t a, size_t b) { return ends[a].cpu_ms < ends[b].cpu_ms; };
  auto describe = [&](size_t i) {
    const Json& p = points[i];
    return fmt::format("point {} ({}{}): 90% at {} s, {:.3f} ms of ksmd CPU",
                       p["point"].get<uint64_t>(), Base(p["input"]), KnobsText(p),
                       Seconds(p["time_to_saving"]["t90_ns"]), ends[i].cpu_ms);
  };
  for (const std::string& policy : spec.policies) {
    std::optional<size_t> soonest, cheapest;
    for (size_t i = 0; i < points.size(); ++i) {
      if (points[i]["policy"] != policy || !ends[i].converged || !ends[i].t90_s) continue;
      if (!soonest || sooner(i, *soonest)) soonest = i;
      if (!cheapest || cheaper(i, *cheapest)) cheapest = i;
    }
    if (!soonest) {
      out += fmt::format("  {:<8} none\n", policy);
      continue;
    }
    out += fmt::format("  {:<8} soonest: {}\n  {:<8} least CPU: {}\n", policy,
                       describe(*soonest), "", describe(*cheapest));
    if (!soonest_all || sooner(*soonest, *soonest_all)) soonest_all = soonest;
    if (!cheapest_all || cheaper(*cheapest, *cheapest_all)) cheapest_all = cheapest;
  }
  if (soonest_all) {
    out += fmt::format(
        "the saving soonest: {} (point {}); for the least ksmd CPU: {} (point {})\n",
        points[*soonest_all]["policy"].get<std::string>(),
        points[*soonest_all]["point"].get<uint64_t>(),
        points[*cheapest_all]["policy"].get<std::string>(),
        points[*cheapest_all]["point"].get<uint64_t>());
  }
  return out;
}

}  // namespace

std::string SweepCsv(const SweepSpec& spec, const std::vector<Json>& points) {
  std::set<std::string> ksm_names, vm_names;
  for (const Json& p : points)
    if (p.contains("snapshots"))
      for (const Json& s : p["snapshots"]) {
        for (const auto& [k, v] : s["ksm"].items()) ksm_names.insert(k);
        for (const auto& [k, v] : s["vmstat"].items()) vm_names.insert(k);
      }
  std::string out = "point,input,policy";
  for (const auto& [k, v] : spec.knobs) Cell(out, k);
  out += ",exit_status,snapshot,step,time_ns,saved_bytes,ksmd_cpu_ns,pages_scanned";
  for (int pct : kSavingLevels) out += fmt::format(",t{}_ns", pct);
  out += ",end_saved_pct_of_best";
  for (const auto& n : ksm_names) Cell(out, fmt::format("ksm.{}", n));
  for (const auto& n : vm_names) Cell(out, fmt::format("vmstat.{}", n));
  out += "\n";
  std::vector<EndFigures> ends = AllEnds(points);
  for (size_t pi = 0; pi < points.size(); ++pi) {
    const Json& p = points[pi];
    std::string head =
        fmt::format("{},{},{}", p["point"].get<uint64_t>(), CsvField(p["input"].get<std::string>()),
                    p["policy"].get<std::string>());
    for (const auto& [k, v] : spec.knobs) Cell(head, Num(p["knobs"][k]));
    Cell(head, Num(p["exit_status"]));
    if (!p.contains("snapshots")) {
      out += head + ",,,,,,";
      // The time-to columns, end_saved_pct_of_best and the counters, empty.
      for (size_t i = 0; i < std::size(kSavingLevels) + 1 + ksm_names.size() + vm_names.size(); ++i)
        out += ",";
      out += "\n";
      continue;
    }
    for (const Json& s : p["snapshots"]) {
      out += head;
      Cell(out, CsvField(s["label"].get<std::string>()));
      Cell(out, Num(s["step"]));
      Cell(out, Num(s["time_ns"]));
      Cell(out, Num(s.value("saved_bytes", Json())));
      Cell(out, Num(s.value("ksmd_cpu_ns", Json())));
      Cell(out, Num(s.value("pages_scanned", Json())));
      for (int pct : kSavingLevels) Cell(out, Num(p["time_to_saving"][fmt::format("t{}_ns", pct)]));
      Cell(out, ends[pi].pct_of_best ? fmt::format("{:.2f}", *ends[pi].pct_of_best) : "");
      for (const auto& n : ksm_names) Cell(out, Num(s["ksm"].value(n, Json())));
      for (const auto& n : vm_names) Cell(out, Num(s["vmstat"].value(n, Json())));
      out += "\n";
    }
  }
  return out;
}

std::string SweepJson(const SweepSpec& spec, const std::vector<Json>& points) {
  Json doc;
  doc["ksmsim_sweep"] = 1;
  Json grid = SpecToJson(spec);
  for (auto& in : grid["inputs"]) in.erase("path");
  doc["grid"] = grid;
  doc["points"] = points;
  return doc.dump(2) + "\n";
}

std::string SweepSummary(const SweepSpec& spec, const std::vector<Json>& points, size_t max_rows) {
  // The two Pareto fronts of the chart: saving (more) and time to 90% (less) against CPU,
  // the latter among the points that saved 90% of the best.
  std::vector<EndFigures> ends = AllEnds(points);
  std::vector<XY> saving, t90;
  std::vector<size_t> ran, ran_t90;
  for (size_t i = 0; i < points.size(); ++i) {
    const EndFigures& f = ends[i];
    if (!f.ran) continue;
    saving.push_back({f.cpu_ms, f.saved_mib});
    ran.push_back(i);
    if (f.t90_s && f.converged) {
      t90.push_back({f.cpu_ms, *f.t90_s});
      ran_t90.push_back(i);
    }
  }
  std::set<size_t> front, front_t90;
  for (size_t k : ParetoFront(saving, true)) front.insert(ran[k]);
  for (size_t k : ParetoFront(t90, false)) front_t90.insert(ran_t90[k]);
  // The answer to "which setting reaches 90% of the saving for the least ksmd CPU": the
  // cheapest point that saved 90% of the best (ties: the first).
  std::optional<size_t> cheapest;
  for (size_t i : ran_t90)
    if (!cheapest || ends[i].cpu_ms < ends[*cheapest].cpu_ms) cheapest = i;
  std::set<size_t> either = front;
  either.insert(front_t90.begin(), front_t90.end());
  std::vector<size_t> order;
  if (points.size() > max_rows) {
    for (size_t i : either) order.push_back(i);
  } else {
    for (size_t i = 0; i < points.size(); ++i) order.push_back(i);
  }
  std::string knobs_head;
  for (const auto& [k, v] : spec.knobs)
    knobs_head += fmt::format(" {:>{}}", k, std::max<size_t>(k.size(), 6));
  std::string out =
      fmt::format("{:>6} {:<24.24} {:<8}{} {:>11} {:>6} {:>8} {:>8} {:>8} {:>13} {:>13} {}\n",
                  "point", "input", "policy", knobs_head, "saved_MiB", "%best", "t50_s", "t90_s",
                  "t99_s", "ksmd_cpu_ms", "pages_scanned", "front");
  size_t shown = 0;
  for (size_t i : order) {
    if (shown++ == max_rows) break;
    const Json& p = points[i];
    std::string knobs;
    for (const auto& [k, v] : spec.knobs)
      knobs += fmt::format(" {:>{}}", p["knobs"][k].get<int64_t>(), std::max<size_t>(k.size(), 6));
    if (!p.contains("snapshots")) {
      out += fmt::format("{:>6} {:<24.24} {:<8}{}  could not run (exit {})\n",
                         p["point"].get<uint64_t>(), Base(p["input"]),
                         p["policy"].get<std::string>(), knobs, p["exit_status"].get<int>());
      continue;
    }
    const Json& end = p["snapshots"].back();
    const Json& t = p["time_to_saving"];
    out += fmt::format(
        "{:>6} {:<24.24} {:<8}{} {:>11.2f} {:>6} {:>8} {:>8} {:>8} {:>13.3f} {:>13} {}{}{}\n",
        p["point"].get<uint64_t>(), Base(p["input"]), p["policy"].get<std::string>(), knobs,
        static_cast<double>(end["saved_bytes"].get<int64_t>()) / 1048576.0,
        ends[i].pct_of_best ? fmt::format("{:.1f}", *ends[i].pct_of_best) : std::string("-"),
        Seconds(t["t50_ns"]), Seconds(t["t90_ns"]), Seconds(t["t99_ns"]),
        static_cast<double>(end["ksmd_cpu_ns"].get<uint64_t>()) / 1e6,
        end["pages_scanned"].get<uint64_t>(), front.count(i) ? "S" : "",
        front_t90.count(i) ? "T" : "",
        p["exit_status"].get<int>() != 0 ? fmt::format("  (exit {})", p["exit_status"].get<int>())
                                         : "");
  }
  out += fmt::format(
      "{} points; front: S = the Pareto front of saving against ksmd CPU time ({} points), T = "
      "of time to 90% against ksmd CPU time ({} points){}\n",
      points.size(), front.size(), front_t90.size(),
      points.size() > max_rows ? "; only the fronts are listed, every point is in --csv/--json"
                               : "");
  if (cheapest) {
    const Json& p = points[*cheapest];
    std::string knobs;
    for (const auto& [k, v] : p["knobs"].items())
      knobs += fmt::format(" {}={}", k, v.get<int64_t>());
    out += fmt::format(
        "least ksmd CPU among the points that saved {:.0f}% of the best: point {} ({} {}{}): "
        "{:.3f} ms of ksmd CPU, 90% of its saving at {} s\n",
        kConvergedPercent, p["point"].get<uint64_t>(), Base(p["input"]),
        p["policy"].get<std::string>(), knobs, ends[*cheapest].cpu_ms,
        Seconds(p["time_to_saving"]["t90_ns"]));
  }
  if (spec.policies.size() > 1) out += PolicyComparison(spec, points, ends);
  return out;
}

}  // namespace ksmsim::tools::sweep
