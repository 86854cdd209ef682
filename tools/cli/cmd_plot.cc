// `ksmsim plot FILE.csv -o FILE.svg`: a --timeline CSV drawn as SVG step lines, one panel
// per counter and the knobs apart, written directly (no plotting runtime).
#include <fstream>
#include <iostream>
#include <sstream>

#include "fmt/format.h"
#include "tools/cli/command.h"
#include "tools/teach/plot.h"

namespace ksmsim::tools {
namespace {

struct PlotArgs {
  std::string file, out, title;
  std::vector<std::string> series;
};

int Plot(const PlotArgs& a) {
  std::ifstream in(a.file);
  if (!in) {
    std::cerr << fmt::format("{}: cannot read\n", a.file);
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string error;
  std::string svg = teach::PlotSvg(ss.str(), a.series, a.title.empty() ? a.file : a.title, &error);
  if (svg.empty()) {
    std::cerr << fmt::format("{}: {}\n", a.file, error);
    return 2;
  }
  std::ofstream out(a.out);
  out << svg;
  if (!out) {
    std::cerr << fmt::format("{}: cannot write\n", a.out);
    return 2;
  }
  return 0;
}

RegisterCommand reg{{"plot",
                     "Draw a --timeline CSV as SVG step lines (one panel per counter, knobs apart)",
                     [](CLI::App* sub) {
                       auto a = std::make_shared<PlotArgs>();
                       sub->add_option("file", a->file, "the CSV written by run --timeline")
                           ->required();
                       sub->add_option("--out,-o", a->out, "the SVG to write")->required();
                       sub->add_option("--series", a->series,
                                       "only these columns (default: every counter that "
                                       "changes)")
                           ->delimiter(',');
                       sub->add_option("--title", a->title, "chart title (default: the file)");
                       return [a] { return Plot(*a); };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
