#include "tools/sweep/emit.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fmt/format.h"
#include "tools/sweep/chart.h"
#include "tools/sweep/outputs.h"

namespace ksmsim::tools::sweep {
namespace {

using Json = nlohmann::ordered_json;

bool WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty()) return true;
  if (path == "-") {
    std::cout << text << std::flush;
    return static_cast<bool>(std::cout);
  }
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    if (!f) {
      std::remove(tmp.c_str());
      std::cerr << fmt::format("{}: cannot write\n", path);
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    std::cerr << fmt::format("{}: cannot write: {}\n", path, ec.message());
    return false;
  }
  return true;
}

}  // namespace

bool CheckOutputFiles(const OutputFiles& out, std::string* error) {
  for (const std::string& p : {out.csv, out.json, out.svg}) {
    if (!p.empty() && p != "-" && std::filesystem::exists(p) && !out.force) {
      *error = fmt::format("{}: already exists; pass --force to overwrite it", p);
      return false;
    }
  }
  int dashes = (out.csv == "-") + (out.json == "-") + (out.svg == "-");
  if (dashes > 1) {
    *error = "only one of --csv, --json and --svg can be - (stdout)";
    return false;
  }
  return true;
}

int EmitResults(const ResultsDir& dir, const SweepSpec& spec, const OutputFiles& out) {
  uint64_t n = GridSize(spec);
  std::vector<uint64_t> missing = dir.Missing(n);
  if (!missing.empty()) {
    std::cerr << fmt::format(
        "{}: {} of {} points have no result yet (first: point {}); finish them with `ksmsim "
        "sweep ... --results {}` (the same grid) or the Slurm job, then collect again\n",
        dir.dir(), missing.size(), n, missing.front(), dir.dir());
    return 3;
  }
  std::vector<Json> points;
  points.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string error;
    auto p = dir.ReadPoint(i, &error);
    if (!p) {
      std::cerr << error << "\n";
      return 2;
    }
    points.push_back(std::move(*p));
  }
  if (!WriteOutput(out.csv, SweepCsv(spec, points))) return 2;
  if (!WriteOutput(out.json, SweepJson(spec, points))) return 2;
  if (!WriteOutput(out.svg, SweepChartSvg(points, "ksmsim sweep"))) return 2;
  if (!out.quiet) {
    bool to_stdout = out.csv != "-" && out.json != "-" && out.svg != "-";
    (to_stdout ? std::cout : std::cerr) << SweepSummary(spec, points);
  }
  return 0;
}

}  // namespace ksmsim::tools::sweep
