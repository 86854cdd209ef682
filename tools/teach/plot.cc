// A counter timeline CSV drawn as an SVG line chart (`ksmsim plot`, the report).
#include "tools/teach/plot.h"

#include <algorithm>
#include <map>
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

std::string NiceNumber(double v) {
  if (v >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
}  // namespace

std::string PlotSvg(const std::string& csv, const std::vector<std::string>& only,
                    const std::string& title, std::string* error) {
  std::stringstream ss(csv);
  std::string line;
  if (!std::getline(ss, line)) {
    *error = "empty CSV";
    return "";
  }
  std::vector<std::string> header = SplitCsvLine(line);
  if (header.size() < 2) {
    *error = "the CSV needs a time column and at least one counter";
    return "";
  }
  std::vector<double> xs;
  std::vector<std::vector<double>> cols(header.size() - 1);
  while (std::getline(ss, line)) {
    if (line.empty()) continue;
    auto cells = SplitCsvLine(line);
    if (cells.size() != header.size()) {
      *error = fmt::format("row {} has {} cells, the header {}", xs.size() + 2, cells.size(),
                           header.size());
      return "";
    }
    try {
      xs.push_back(std::stod(cells[0]));
      for (size_t i = 1; i < cells.size(); ++i) cols[i - 1].push_back(std::stod(cells[i]));
    } catch (...) {
      *error = fmt::format("row {} is not numeric", xs.size() + 2);
      return "";
    }
  }
  if (xs.empty()) {
    *error = "the CSV has no rows";
    return "";
  }
  std::vector<size_t> series;
  for (size_t i = 0; i < cols.size(); ++i) {
    const std::string& name = header[i + 1];
    if (!only.empty()) {
      if (std::find(only.begin(), only.end(), name) != only.end()) series.push_back(i);
      continue;
    }
    auto [mn, mx] = std::minmax_element(cols[i].begin(), cols[i].end());
    if (*mn != *mx) series.push_back(i);
  }
  double xmax = std::max(*std::max_element(xs.begin(), xs.end()), 1e-9);
  double ymax = 1;
  for (size_t i : series) ymax = std::max(ymax, *std::max_element(cols[i].begin(), cols[i].end()));
  const double W = 900, H = 480, L = 80, R = 230, T = 40, B = 60;
  const double pw = W - L - R, ph = H - T - B;
  auto X = [&](double x) { return L + x / xmax * pw; };
  auto Y = [&](double y) { return T + ph - y / ymax * ph; };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} "
      "{}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" "
      "height=\"100%\" fill=\"white\"/>\n",
      W, H, W, H);
  s += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n",
                   L + pw / 2, HtmlEscape(title));
  for (int k = 0; k <= 5; ++k) {
    double yv = ymax * k / 5, xv = xmax * k / 5;
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        L, Y(yv), L + pw, L - 6, Y(yv) + 4, NiceNumber(yv));
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        X(xv), T, T + ph, T + ph + 18, NiceNumber(xv));
  }
  s += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>"
      "<line x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"black\"/>\n",
      L, T, T + ph, L + pw);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", L + pw / 2,
                   H - 15, HtmlEscape(header[0] == "time_ms" ? "simulated time (ms)" : header[0]));
  s += fmt::format(
      "<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">"
      "pages / count</text>\n",
      T + ph / 2);
  int n = 0;
  for (size_t i : series) {
    const char* color = kColors[n % 10];
    std::string pts;
    for (size_t r = 0; r < xs.size(); ++r) {
      // Counters are step functions: hold the value until the next sample.
      if (r > 0) pts += fmt::format("{:.1f},{:.1f} ", X(xs[r]), Y(cols[i][r - 1]));
      pts += fmt::format("{:.1f},{:.1f} ", X(xs[r]), Y(cols[i][r]));
    }
    s += fmt::format(
        "<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"1.8\" points=\"{}\"/>\n",
        HtmlEscape(header[i + 1]), color, pts);
    double ly = T + 10 + n * 18;
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"3\"/>"
        "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        L + pw + 15, ly, L + pw + 40, color, L + pw + 46, ly + 4, HtmlEscape(header[i + 1]));
    ++n;
  }
  if (series.empty())
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no counter changed</text>\n",
                     L + pw / 2, T + ph / 2);
  s += "</svg>\n";
  return s;
}

}  // namespace ksmsim::tools::teach
