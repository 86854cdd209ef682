// The HTML report (`ksmsim report`): one self-contained page (no network) with the
// workload, the final counters, the counter plot, the trees at each snapshot and expect
// step, and a filterable log of ksmd's decisions and the KSM events.
#include "tools/teach/html_report.h"

#include <memory>
#include <string>

#include "fmt/format.h"
#include "tools/teach/explain.h"
#include "tools/teach/html.h"
#include "tools/teach/plot.h"
#include "tools/teach/timeline.h"
#include "tools/teach/trees.h"

namespace ksmsim::tools::teach {
namespace {

std::string Inline(std::string svg) {
  // HTML5 needs no namespace on inline SVG; keep the page free of any URL.
  const std::string ns = " xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t p; (p = svg.find(ns)) != std::string::npos;) svg.erase(p, ns.size());
  return svg;
}

}  // namespace

HtmlReport RunHtmlReport(const workloads::Workload& w, const std::string& file,
                         const std::string& source, const HtmlReportOptions& o) {
  uint64_t step = 0;
  workloads::Driver* dp = nullptr;
  std::unique_ptr<DecisionBuilder> builder;
  TimelineSampler sampler(o.timeline_ms * 1000000);
  std::string rows, trees;
  uint64_t nrows = 0, dropped = 0;
  auto add_row = [&](uint64_t st, uint64_t scan, uint64_t t, const std::string& page,
                     const std::string& func, const std::string& text) {
    if (nrows >= o.max_events) {
      ++dropped;
      return;
    }
    ++nrows;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.3f}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        st, scan, t / 1e6, HtmlEscape(page), HtmlEscape(func),
                        HtmlEscape(text));
  };
  workloads::DriverOptions opt;
  opt.on_progress = [&](uint64_t s, uint64_t) { step = s; };
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t t) {
    if (e.name == ksm::kDecisionEvent) {
      builder->OnEvent(e, t, step);
      return;
    }
    std::string page = e.mm ? dp->DescribeAddress(e.mm, e.addr) : "";
    std::string text = std::string(e.name);
    if (e.pfn >= 0) text += fmt::format(" pfn {}", e.pfn);
    if (e.other_pfn >= 0) text += fmt::format(" kpfn {}", e.other_pfn);
    if (e.name == "ksm_start_scan" || e.name == "ksm_stop_scan")
      text += fmt::format(" rmap_num {}", e.rmap_num);
    add_row(step, e.seq, t, page, "tracepoint", text);
  };
  opt.before_time = [&](uint64_t t) { sampler.Before(*dp, t); };
  opt.after_step = [&](const workloads::FlatStep& fs) {
    if (fs.step->op() != workloads::Op::kSnapshot && fs.step->op() != workloads::Op::kExpect)
      return;
    // (" " + label built in two steps: GCC 12 warns falsely on operator+ here.)
    std::string label = fs.step->label.empty() ? "" : HtmlEscape(fs.step->label);
    if (!label.empty()) label.insert(0, 1, ' ');
    trees += fmt::format(
        "<h3>step {} ({}{})</h3>\n<div class=\"trees\"><div><h4>stable "
        "tree</h4>{}</div><div><h4>unstable tree</h4>{}</div></div>\n",
        fs.index, workloads::OpName(fs.step->op()), label, Inline(StableTreesSvg(*dp)),
        Inline(UnstableTreesSvg(*dp)));
  };
  workloads::Driver driver(w, opt);
  dp = &driver;
  builder = std::make_unique<DecisionBuilder>(driver, [&](const Decision& d) {
    add_row(d.step, d.scan, d.time_ns, d.page.text, d.func, d.text);
  });
  nlohmann::ordered_json doc = driver.Run();
  builder->Flush();
  sampler.Finish(driver);
  std::string err;
  std::string plot = Inline(PlotSvg(sampler.Csv(), {}, "KSM counters", &err));
  nlohmann::ordered_json c = driver.Counters();

  std::string html = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>ksmsim report</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:1400px}
pre{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px}
.trees{display:flex;gap:2em;overflow:auto}.ok{color:#070}.bad{color:#b00}
</style></head><body>
)";
  html += fmt::format("<h1>ksmsim report: {}</h1>\n<p>{}; file {}</p>\n",
                      HtmlEscape(doc["workload"].get<std::string>()),
                      HtmlEscape(doc["engine"].get<std::string>()),
                      HtmlEscape(file));
  html += doc["errors"].empty()
              ? "<p class=\"ok\">every expect and verify held</p>\n"
              : "<p class=\"bad\">FAILED:</p><ul>\n";
  for (const auto& e : doc["errors"])
    html += "<li>" + HtmlEscape(e.get<std::string>()) + "</li>\n";
  if (!doc["errors"].empty()) html += "</ul>\n";
  html += "<h2>Workload</h2>\n<pre>" + HtmlEscape(source) + "</pre>\n";
  html += "<h2>Final counters</h2>\n<table><tr><th>counter</th><th>value</th></tr>\n";
  for (const char* group : {"ksm", "vmstat"})
    for (auto it = c[group].begin(); it != c[group].end(); ++it)
      html += fmt::format("<tr><td>{}.{}</td><td>{}</td></tr>\n", group, it.key(),
                          it.value().dump());
  for (auto p = c["procs"].begin(); p != c["procs"].end(); ++p)
    for (auto it = p.value().begin(); it != p.value().end(); ++it)
      html += fmt::format("<tr><td>procs.{}.{}</td><td>{}</td></tr>\n",
                          HtmlEscape(p.key()), it.key(), it.value().dump());
  html += "</table>\n";
  html += fmt::format("<h2>Counters over simulated time</h2>\n<p>sampled every {} ms</p>\n{}\n",
                      o.timeline_ms, plot);
  html += "<h2>Trees at each snapshot</h2>\n" +
          (trees.empty() ? std::string("<p>(the workload has no snapshot or expect step)</p>")
                         : trees);
  html += fmt::format(
      "<h2>Event log</h2>\n<p>ksmd's decisions (explain) and the KSM tracepoints{}. Filter: "
      "<input id=\"filter\" size=\"40\" placeholder=\"e.g. a:heap[3] or "
      "stable_tree_search\"> <span id=\"count\"></span></p>\n"
      "<table id=\"log\"><thead><tr><th>step</th><th>scan</th><th>time ms</th><th>page</th>"
      "<th>function</th><th>decision / event</th></tr></thead><tbody>\n",
      dropped ? fmt::format(" (the first {}; {} more left out)", nrows, dropped) : "");
  html += rows;
  html += R"(</tbody></table>
<script>
(function(){
  var f=document.getElementById('filter'), rows=document.querySelectorAll('#log tbody tr'),
      count=document.getElementById('count');
  function apply(){
    var q=f.value.toLowerCase(), n=0;
    for (var i=0;i<rows.length;i++){
      var show=!q||rows[i].textContent.toLowerCase().indexOf(q)>=0;
      rows[i].style.display=show?'':'none'; if(show)n++;
    }
    count.textContent=n+' of '+rows.length+' rows';
  }
  f.addEventListener('input',apply); apply();
})();
</script>
</body></html>
)";
  return HtmlReport{html, driver.exit_status()};
}

}  // namespace ksmsim::tools::teach
