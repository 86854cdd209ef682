// The HTML report (`ksmsim report`): runs the workload with hooks that collect what the
// page shows (counter changes, tree summaries at each snapshot and expect step, the event
// log sampled), then writes one self-contained page: static HTML tables for what needs no
// script, and one JSON block that report/report.js draws (plots with uPlot, the tree view,
// the search by page, the log filter).
#include "tools/teach/html_report.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "tools/teach/explain.h"
#include "tools/teach/html.h"
#include "tools/teach/plot.h"
#include "tools/teach/report_events.h"
#include "tools/teach/report_trees.h"
#include "tools/teach/timeline.h"

namespace ksmsim::tools::teach {
namespace assets {
extern const char kReportJs[];
extern const char kReportCss[];
extern const char kUplotJs[];
extern const char kUplotCss[];
}  // namespace assets

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Leaves of a result entry as "group.name" -> value, in document order.
void Flatten(const ordered_json& j, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>* out) {
  if (j.is_object() || j.is_array()) {
    size_t i = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++i) {
      std::string key = j.is_object() ? it.key() : std::to_string(i);
      Flatten(*it, prefix.empty() ? key : prefix + "." + key, out);
    }
    return;
  }
  out->push_back({prefix, j.is_string() ? j.get<std::string>() : j.dump()});
}

// The counters at each snapshot and expect step: one column per entry of the result
// document's "results" (what `run --out` writes), one row per counter; a value that differs
// from the column before is marked.
std::string SnapshotTable(const ordered_json& results) {
  if (results.empty()) return "<p>(the workload has no snapshot or expect step)</p>\n";
  std::vector<std::string> keys;
  std::vector<std::map<std::string, std::string>> cols;
  for (const auto& e : results) {
    std::vector<std::pair<std::string, std::string>> flat;
    for (const char* group : {"ksm", "vmstat", "procs", "machine"})
      if (e.contains(group)) Flatten(e[group], group, &flat);
    std::map<std::string, std::string> col;
    for (auto& [k, v] : flat) {
      if (!col.count(k) && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      col[k] = v;
    }
    cols.push_back(std::move(col));
  }
  std::string s = "<div class=\"scroll\"><table id=\"snapshots\"><thead><tr><th>counter</th>";
  for (const auto& e : results)
    s += fmt::format(
        "<th data-step=\"{}\">step {} {}<br><span class=\"label\">{}</span><br>"
        "<span class=\"label\">{:.3f} ms</span></th>",
        e["step"].get<uint64_t>(), e["step"].get<uint64_t>(),
        HtmlEscape(e["op"].get<std::string>()), HtmlEscape(e.value("label", std::string())),
        e["time_ns"].get<uint64_t>() / 1e6);
  s += "</tr></thead><tbody>\n";
  for (const auto& k : keys) {
    s += fmt::format("<tr data-key=\"{0}\"><th>{0}</th>", HtmlEscape(k));
    for (size_t c = 0; c < cols.size(); ++c) {
      auto it = cols[c].find(k);
      std::string v = it == cols[c].end() ? "" : it->second;
      bool changed = c > 0 && cols[c - 1].count(k) && cols[c - 1].at(k) != v;
      s += fmt::format("<td{}>{}</td>", changed ? " class=\"chg\"" : "", HtmlEscape(v));
    }
    s += "</tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

std::string TreeSummaryHtml(const json& t) {
  std::string s =
      "<table class=\"summary\"><tr><th>tree</th><th>nodes</th><th>depth</th>"
      "<th>chains</th><th>dups</th></tr>\n";
  for (size_t nid = 0; nid < t["stable"].size(); ++nid) {
    const json& st = t["stable"][nid];
    s += fmt::format(
        "<tr><td>root_stable_tree[{}]</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>\n",
        nid, st["nodes"].get<uint64_t>(), st["depth"].get<int>(), st["chains"].get<uint64_t>(),
        st["dups"].get<uint64_t>());
  }
  for (size_t nid = 0; nid < t["unstable"].size(); ++nid) {
    const json& ut = t["unstable"][nid];
    s += fmt::format(
        "<tr><td>root_unstable_tree[{}]</td><td>{}</td><td>{}</td><td></td>"
        "<td></td></tr>\n",
        nid, ut["nodes"].get<uint64_t>(), ut["depth"].get<int>());
  }
  s += "</table>\n";
  s += fmt::format(
      "<p>{} KSM pages (stable nodes that are not chains, dups included; {} on "
      "migrate_nodes).</p>\n",
      t["ksm_pages"].get<uint64_t>(), t["migrate"].get<uint64_t>());
  s += "<div class=\"row\"><div><h4>sharers per KSM page</h4><table class=\"hist\"><tr><th>"
       "sharers</th><th>KSM pages</th><th></th></tr>\n";
  uint64_t most = 1;
  for (const auto& h : t["hist"]) most = std::max(most, h[1].get<uint64_t>());
  for (const auto& h : t["hist"])
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td><div class=\"bar\" style=\"width:{}px\">"
        "</div></td></tr>\n",
        h[0].get<std::string>(), h[1].get<uint64_t>(), 1 + h[1].get<uint64_t>() * 200 / most);
  s += "</table></div><div><h4>top KSM pages by sharers</h4><table class=\"top\"><tr><th>"
       "stable node</th><th>kpfn</th><th>sharers</th><th>one sharer</th><th>where</th></tr>\n";
  for (const auto& r : t["top"])
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                     r[0].get<uint64_t>(), r[1].get<uint64_t>(), r[2].get<int>(),
                     HtmlEscape(r[3].get<std::string>()), r[4].get<std::string>());
  return s + "</table></div></div>\n";
}

std::string EventCountsHtml(const EventLog& log) {
  std::vector<std::string> kinds;
  for (const auto& [pass, m] : log.counts())
    for (const auto& [kind, n] : m)
      if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  std::sort(kinds.begin(), kinds.end());
  std::string s = "<div class=\"scroll tall\"><table id=\"event-counts\"><thead><tr><th>pass</th>";
  for (const auto& k : kinds) s += "<th class=\"kind\">" + HtmlEscape(k) + "</th>";
  s += "</tr></thead><tbody>\n";
  for (const auto& [pass, m] : log.counts()) {
    s += fmt::format("<tr><th>{}</th>", pass);
    for (const auto& k : kinds) {
      auto it = m.find(k);
      s += it == m.end() ? "<td></td>" : fmt::format("<td>{}</td>", it->second);
    }
    s += "</tr>\n";
  }
  return s + "</tbody></table></div>\n";
}

// JSON inside <script>: "</" would end the element.
std::string ScriptSafe(std::string s) {
  for (size_t p = 0; (p = s.find("</", p)) != std::string::npos; p += 3) s.replace(p, 2, "<\\/");
  return s;
}

}  // namespace

HtmlReport RunHtmlReport(const workloads::Workload& w, const std::string& file,
                         const std::string& source, const HtmlReportOptions& o) {
  uint64_t step = 0, pass = 1;
  workloads::Driver* dp = nullptr;
  std::unique_ptr<DecisionBuilder> builder;
  TimelineSampler sampler(0);
  EventLog log(o.max_events, o.rows_per_group);
  json snapshots = json::array();
  std::string trees_html;
  size_t budget = o.search_runs;
  TreeSummaryOptions to;
  to.view_depth = o.tree_levels;

  workloads::DriverOptions opt;
  opt.on_progress = [&](uint64_t s, uint64_t) { step = s; };
  // A page's decisions (from its "scan" to the next) are buffered, and handed to the
  // DecisionBuilder, whose lines cost a few string formats each, only when one of their
  // kinds still wants rows in this pass: at a million pages nearly all are only counted.
  std::vector<std::pair<ksm::KsmEvent, uint64_t>> page_events;
  auto flush_page = [&] {
    bool want = false;
    for (const auto& [e, t] : page_events)
      want = want || (e.what != "scan" && !log.Full(pass, e.func));
    if (want) {
      for (const auto& [e, t] : page_events) builder->OnEvent(e, t, step);
      builder->Flush();
    }
    page_events.clear();
  };
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t t) {
    if (e.name == ksm::kDecisionEvent) {
      if (e.what == "scan") {
        flush_page();
        pass = dp->ksm().full_scans() + 1;
      }
      if (e.what != "scan") log.Count(pass, e.func);  // "scan" opens a page's decisions
      page_events.emplace_back(e, t);
      return;
    }
    pass = dp->ksm().full_scans() + 1;
    log.Count(pass, e.name);
    log.Keep(pass, e.name, [&] {
      EventRow r;
      r.step = step;
      r.time_ns = t;
      r.page = e.mm ? dp->DescribeAddress(e.mm, e.addr) : "";
      r.text = std::string(e.name);
      if (e.pfn >= 0) r.text += fmt::format(" pfn {}", e.pfn);
      if (e.other_pfn >= 0) r.text += fmt::format(" kpfn {}", e.other_pfn);
      if (e.name == "ksm_start_scan" || e.name == "ksm_stop_scan")
        r.text += fmt::format(" rmap_num {}", e.rmap_num);
      if (e.name == ksm::kSmartScanSkipEvent) r.text += fmt::format(" skipped {}", e.skipped);
      if (e.name == "ksm_advisor")
        r.text += fmt::format(" scan_time {} pages_to_scan {} cpu_percent {}", e.scan_time,
                              e.pages_to_scan, e.cpu_percent);
      return r;
    });
  };
  opt.before_time = [&](uint64_t t) { sampler.Before(*dp, t); };
  opt.after_step = [&](const workloads::FlatStep& fs) {
    if (fs.step->op() != workloads::Op::kSnapshot && fs.step->op() != workloads::Op::kExpect) return;
    json t = TreeSummaryJson(*dp, to, &budget);
    std::string title =
        fmt::format("step {} ({}{}{}), {:.3f} ms", fs.index, workloads::OpName(fs.step->op()),
                    fs.step->label.empty() ? "" : ": ", fs.step->label, dp->queue().now() / 1e6);
    trees_html += fmt::format(
        "<details class=\"snap\" id=\"snap-{}\"><summary>{}</summary>\n{}"
        "</details>\n",
        snapshots.size(), HtmlEscape(title), TreeSummaryHtml(t));
    t["title"] = title;
    snapshots.push_back(std::move(t));
  };
  workloads::Driver driver(w, opt);
  dp = &driver;
  builder = std::make_unique<DecisionBuilder>(driver, [&](const Decision& d) {
    log.Keep(pass, d.func, [&] {
      EventRow r;
      r.step = d.step;
      r.time_ns = d.time_ns;
      r.page = d.page.text;
      r.text = d.text;
      return r;
    });
  });
  ordered_json doc = driver.Run();
  flush_page();
  sampler.Finish(driver);

  // Each series as its own change points (and the end of the run), so that a panel marks
  // the changes of its counter only.
  json plot = {{"end", driver.queue().now() / 1e6}, {"series", json::array()}};
  for (size_t c = 0; c < sampler.columns.size(); ++c) {
    json xs = json::array(), ys = json::array();
    for (size_t r = 0; r < sampler.rows.size(); ++r) {
      int64_t v = sampler.rows[r].second[c];
      if (r > 0 && v == sampler.rows[r - 1].second[c] && r + 1 < sampler.rows.size()) continue;
      xs.push_back(sampler.rows[r].first / 1e6);
      ys.push_back(v);
    }
    bool changes = false;
    for (const auto& y : ys) changes = changes || y != ys.front();
    if (changes)
      plot["series"].push_back({{"name", sampler.columns[c]},
                                {"knob", IsKnobColumn(sampler.columns[c])},
                                {"x", xs},
                                {"y", ys}});
  }
  json data = {{"plot", plot}, {"snapshots", snapshots}};

  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>ksmsim report: " +
      HtmlEscape(doc["workload"].get<std::string>()) + "</title>\n<style>\n" + assets::kUplotCss +
      "\n" + assets::kReportCss + "</style></head><body>\n";
  html += fmt::format("<h1>ksmsim report: {}</h1>\n<p>{}; file {}</p>\n",
                      HtmlEscape(doc["workload"].get<std::string>()),
                      HtmlEscape(doc["engine"].get<std::string>()), HtmlEscape(file));
  html += doc["errors"].empty() ? "<p class=\"ok\">every expect and verify held</p>\n"
                                : "<p class=\"bad\">FAILED:</p><ul>\n";
  for (const auto& e : doc["errors"]) html += "<li>" + HtmlEscape(e.get<std::string>()) + "</li>\n";
  if (!doc["errors"].empty()) html += "</ul>\n";
  html +=
      "<nav><a href=\"#counters\">counters</a> <a href=\"#plots\">plots</a> <a "
      "href=\"#trees\">trees</a> <a href=\"#events\">event log</a> <a "
      "href=\"#workload\">workload</a></nav>\n";
  html +=
      "<h2 id=\"counters\">Counters at each snapshot</h2>\n<p>The entries of the result "
      "document (<code>run --out</code>), one column per snapshot and expect step; a value "
      "that changed since the column before is <span class=\"chg\">marked</span>.</p>\n" +
      SnapshotTable(doc["results"]);
  html +=
      "<h2 id=\"plots\">Counters over simulated time</h2>\n<p>Each value is drawn from the "
      "simulated time it changed (the ksmd batch or the step that changed it) until the "
      "next change; one panel per counter, each with its own scale, and the knobs apart. "
      "Drag across a panel to zoom (all panels follow), double-click to zoom out; hover "
      "to read the values.</p>\n<div id=\"plots-counters\" class=\"plots\"></div>\n"
      "<h3>knobs (sysfs settings)</h3>\n<div id=\"plots-knobs\" class=\"plots\"></div>\n";
  html += "<h2 id=\"trees\">Trees at each snapshot</h2>\n";
  if (snapshots.empty()) {
    html += "<p>(the workload has no snapshot or expect step)</p>\n";
  } else {
    html +=
        "<p>Click a node to open its children (the top levels of each red-black tree are "
        "kept). Search a page by its name in the workload, e.g. <code>a:heap[3]</code>: "
        "the search tells which stable node or tree holds it at that snapshot and opens "
        "the path to it when the node is among the levels kept.</p>\n"
        "<p><label>snapshot <select id=\"tree-snap\"></select></label> <label>page "
        "<input id=\"tree-search\" size=\"24\" placeholder=\"proc:region[index]\">"
        "</label> <span id=\"search-result\"></span></p>\n"
        "<div class=\"row\"><div class=\"treebox\"><h4>stable tree</h4><div "
        "id=\"view-stable\" class=\"tree\"></div></div><div class=\"treebox\"><h4>unstable "
        "tree</h4><div id=\"view-unstable\" class=\"tree\"></div></div></div>\n" +
        trees_html;
  }
  std::vector<EventRow> rows = log.Rows();
  html += fmt::format(
      "<h2 id=\"events\">Event log</h2>\n<p>ksmd's decisions (the functions that decided, as "
      "explain names them) and the KSM tracepoints of the whole run: {} events, counted by "
      "pass (pass N is ksmd's N-th pass over the mm list; full_scans counts the passes "
      "completed) and kind. Below, {} rows sampled so that each pass keeps the first rows of "
      "each kind.</p>\n",
      log.total(), rows.size());
  html += EventCountsHtml(log);
  html +=
      "<p>Filter: <input id=\"filter\" size=\"40\" placeholder=\"e.g. a:heap[3], "
      "stable_tree_search or pass 2\"> <span id=\"count\"></span></p>\n"
      "<div class=\"scroll tall\"><table id=\"log\"><thead><tr><th>step</th><th>pass</th>"
      "<th>time ms</th><th>page</th><th>kind</th><th>decision / event</th></tr></thead>"
      "<tbody>\n";
  for (const EventRow& r : rows)
    html += fmt::format(
        "<tr data-pass=\"{1}\"><td>{0}</td><td>{1}</td><td>{2:.3f}</td><td>{3}"
        "</td><td>{4}</td><td>{5}</td></tr>\n",
        r.step, r.pass, r.time_ns / 1e6, HtmlEscape(r.page), HtmlEscape(r.kind),
        HtmlEscape(r.text));
  html += "</tbody></table></div>\n";
  html += "<h2 id=\"workload\">Workload</h2>\n<pre>" + HtmlEscape(source) + "</pre>\n";
  html += "<script type=\"application/json\" id=\"report-data\">" + ScriptSafe(data.dump()) +
          "</script>\n<script>\n" + assets::kUplotJs + "\n</script>\n<script>\n" +
          assets::kReportJs + "</script>\n</body></html>\n";
  return HtmlReport{html, driver.exit_status()};
}

}  // namespace ksmsim::tools::teach
