// A counter timeline CSV drawn as SVG step lines, one panel per column (`ksmsim plot`);
// the CSV reader, knob names and round ticks that the report's interactive plot shares.
#include "tools/teach/plot.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "fmt/format.h"
#include "tools/teach/html.h"

namespace ksmsim::tools::teach {

namespace {
std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  return out;
}

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// Panel geometry (px).
constexpr double kW = 900, kL = 80, kR = 30, kPanelH = 96, kPlotH = 58, kTop = 40;
constexpr double kPw = kW - kL - kR;
}  // namespace

bool ParseTimelineCsv(const std::string& csv, TimelineTable* t, std::string* error) {
  std::stringstream ss(csv);
  std::string line;
  if (!std::getline(ss, line)) {
    *error = "empty CSV";
    return false;
  }
  t->header = SplitCsvLine(line);
  if (t->header.size() < 2) {
    *error = "the CSV needs a time column and at least one counter";
    return false;
  }
  t->xs.clear();
  t->cols.assign(t->header.size() - 1, {});
  while (std::getline(ss, line)) {
    if (line.empty()) continue;
    auto cells = SplitCsvLine(line);
    if (cells.size() != t->header.size()) {
      *error = fmt::format("row {} has {} cells, the header {}", t->xs.size() + 2, cells.size(),
                           t->header.size());
      return false;
    }
    try {
      t->xs.push_back(std::stod(cells[0]));
      for (size_t i = 1; i < cells.size(); ++i) t->cols[i - 1].push_back(std::stod(cells[i]));
    } catch (...) {
      *error = fmt::format("row {} is not numeric", t->xs.size() + 2);
      return false;
    }
  }
  if (t->xs.empty()) {
    *error = "the CSV has no rows";
    return false;
  }
  return true;
}

bool IsKnobColumn(const std::string& name) {
  static const char* const kKnobs[] = {"run",
                                       "pages_to_scan",
                                       "sleep_millisecs",
                                       "max_page_sharing",
                                       "merge_across_nodes",
                                       "use_zero_pages",
                                       "stable_node_chains_prune_millisecs",
                                       "smart_scan",
                                       "advisor_mode",
                                       "advisor_max_cpu",
                                       "advisor_target_scan_time",
                                       "advisor_min_pages_to_scan",
                                       "advisor_max_pages_to_scan"};
  for (const char* k : kKnobs)
    if (name == k) return true;
  return false;
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1;
  double raw = (hi - lo) / std::max(1, target);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> out;
  double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  for (double k = first; k <= last; ++k) out.push_back(k == 0 ? 0 : k * step);
  return out;
}

std::string TickLabel(double v) {
  double a = std::abs(v);
  if (a >= 1e9) return fmt::format("{:g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
  return fmt::format("{:g}", v);
}

std::string PlotSvg(const std::string& csv, const std::vector<std::string>& only,
                    const std::string& title, std::string* error) {
  TimelineTable t;
  if (!ParseTimelineCsv(csv, &t, error)) return "";
  std::vector<size_t> counters, knobs;
  for (size_t i = 0; i < t.cols.size(); ++i) {
    const std::string& name = t.header[i + 1];
    bool show;
    if (!only.empty()) {
      show = std::find(only.begin(), only.end(), name) != only.end();
    } else {
      auto [mn, mx] = std::minmax_element(t.cols[i].begin(), t.cols[i].end());
      show = *mn != *mx;
    }
    if (show) (IsKnobColumn(name) ? knobs : counters).push_back(i);
  }
  double xmin = t.xs.front(), xend = std::max(t.xs.back(), xmin + 1e-9);
  // A little room right of the last row, so that a change at the very end shows as a
  // vertical step inside the panel.
  double xmax = xend + (xend - xmin) * 0.02;
  std::vector<double> xticks;
  for (double v : NiceTicks(xmin, xend, 8))
    if (v >= xmin && v <= xmax) xticks.push_back(v);
  auto X = [&](double x) { return kL + (x - xmin) / (xmax - xmin) * kPw; };

  size_t panels = counters.size() + knobs.size();
  std::string s =
      fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n",
                  kL + kPw / 2, HtmlEscape(title));
  double y0 = kTop;
  int n = 0;
  auto panel = [&](size_t i) {
    const std::vector<double>& ys = t.cols[i];
    const std::string& name = t.header[i + 1];
    auto [mn, mx] = std::minmax_element(ys.begin(), ys.end());
    std::vector<double> yticks = NiceTicks(std::min(0.0, *mn), std::max(*mx, 1.0), 3);
    double ylo = yticks.front(), yhi = yticks.back();
    double top = y0 + 16;
    auto Y = [&](double y) { return top + kPlotH - (y - ylo) / (yhi - ylo) * kPlotH; };
    const char* color = kColors[n++ % 10];
    s += fmt::format(
        "<text x=\"{}\" y=\"{:.0f}\" font-weight=\"bold\" fill=\"{}\">{}</text>"
        "<text x=\"{}\" y=\"{:.0f}\" text-anchor=\"end\" fill=\"#555\">last {}, max {}</text>\n",
        kL, y0 + 11, color, HtmlEscape(name), kL + kPw, y0 + 11, TickLabel(ys.back()),
        TickLabel(*mx));
    for (double v : yticks)
      s += fmt::format(
          "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e4e4e4\"/>"
          "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
          kL, Y(v), kL + kPw, kL - 6, Y(v) + 4, TickLabel(v));
    for (double v : xticks)
      s += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
          "stroke=\"#eee\"/>\n",
          X(v), top, top + kPlotH);
    s += fmt::format(
        "<rect x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"none\" "
        "stroke=\"#999\"/>\n",
        kL, top, kPw, kPlotH);
    // Step line: the value of row r holds from xs[r] until xs[r + 1]; the last one until
    // the end of the run.
    std::string pts;
    size_t changes = 0;
    std::string dots;
    for (size_t r = 0; r < t.xs.size(); ++r) {
      if (r > 0) {
        if (ys[r] == ys[r - 1]) continue;
        pts += fmt::format("{:.1f},{:.1f} ", X(t.xs[r]), Y(ys[r - 1]));
        ++changes;
        dots += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>",
                            X(t.xs[r]), Y(ys[r]), color);
      }
      pts += fmt::format("{:.1f},{:.1f} ", X(t.xs[r]), Y(ys[r]));
    }
    pts += fmt::format("{:.1f},{:.1f}", X(xend), Y(ys.back()));
    s += fmt::format(
        "<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"1.8\" points=\"{}\"/>\n",
        HtmlEscape(name), color, pts);
    if (changes <= 200) s += dots + "\n";
    y0 += kPanelH;
  };
  for (size_t i : counters) panel(i);
  if (!knobs.empty()) {
    s += fmt::format(
        "<text x=\"{}\" y=\"{:.0f}\" font-size=\"13\" fill=\"#333\">knobs (sysfs "
        "settings)</text>\n",
        kL, y0 + 16);
    y0 += 24;
    for (size_t i : knobs) panel(i);
  }
  if (panels == 0) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no counter changed</text>\n",
                     kL + kPw / 2, kTop + 30);
    y0 += 40;
  }
  for (double v : xticks)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.0f}\" text-anchor=\"middle\">{}</text>\n", X(v),
                     y0 + 4, TickLabel(v));
  s += fmt::format("<text x=\"{}\" y=\"{:.0f}\" text-anchor=\"middle\">{}</text>\n", kL + kPw / 2,
                   y0 + 24,
                   HtmlEscape(t.header[0] == "time_ms" ? "simulated time (ms)" : t.header[0]));
  double H = y0 + 36;
  return fmt::format(
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1:.0f}\" "
             "viewBox=\"0 0 {0} {1:.0f}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect "
             "width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
             kW, H) +
         s + "</svg>\n";
}

}  // namespace ksmsim::tools::teach
