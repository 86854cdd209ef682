// `ksmsim plot FILE.csv -o FILE.svg`: a --timeline CSV drawn as SVG step lines, one panel
// per counter and the knobs apart, written directly (no plotting runtime).
#include <iostream>
#include <sstream>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/teach/plot.h"

namespace ksmsim::tools {
namespace {

struct PlotArgs {
  std::string file, out, title;
  std::vector<std::string> series;
  bool force = false;
};

// The counter columns of the CSV's header line (the first column is the time).
std::vector<std::string> CounterColumns(const std::string& csv) {
  std::vector<std::string> names;
  std::string header = csv.substr(0, csv.find('\n'));
  if (!header.empty() && header.back() == '\r') header.pop_back();
  std::stringstream ss(header);
  std::string cell;
  for (bool first = true; std::getline(ss, cell, ','); first = false)
    if (!first) names.push_back(cell);
  return names;
}

int Plot(const PlotArgs& a) {
  if (!CheckOutputs({a.out}, a.force)) return 2;
  std::string csv;
  if (!ReadInput(a.file, &csv)) return 2;
  const std::string name = InputName(a.file);
  std::vector<std::string> columns = CounterColumns(csv);
  bool ok = true;
  for (const std::string& s : a.series) {
    if (std::find(columns.begin(), columns.end(), s) != columns.end()) continue;
    std::cerr << fmt::format("{}: --series: {}\n", name,
                             UnknownName("series", "series", s, columns));
    ok = false;
  }
  if (!ok) return 2;
  std::string error;
  std::string svg = teach::PlotSvg(csv, a.series, a.title.empty() ? name : a.title, &error);
  if (svg.empty()) {
    std::cerr << fmt::format("{}: {}\n", name, error);
    return 2;
  }
  return WriteOutput(a.out, svg) ? 0 : 2;
}

RegisterCommand reg{
    {"plot", "Draw a --timeline CSV as SVG step lines (one panel per counter, knobs apart)",
     [](CLI::App* sub) {
       auto a = std::make_shared<PlotArgs>();
       sub->add_option("file", a->file, "the CSV written by run --timeline ('-': stdin)")
           ->required();
       AddOutputOption(sub, "--out,-o", &a->out, "the SVG to write")->required();
       sub->add_option("--series", a->series,
                       "only these columns (default: every counter that "
                       "changes)")
           ->delimiter(',');
       sub->add_option("--title", a->title, "chart title (default: the file)");
       AddForceFlag(sub, &a->force);
       return [a] { return Plot(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
