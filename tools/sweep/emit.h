// Writing a sweep's outputs from a complete results directory (`sweep` at its end, `sweep
// collect`): the CSV, JSON and SVG files the user asked for ("-" = stdout; an existing file
// is replaced only with --force, through a temporary file and a rename) and the summary.
#pragma once

#include <string>

#include "tools/sweep/results_dir.h"
#include "tools/sweep/spec.h"

namespace ksmsim::tools::sweep {

struct OutputFiles {
  std::string csv, json, svg;
  bool force = false;
  bool quiet = false;  // no summary table
};

// False with a message naming the file when one exists and --force is not given.
bool CheckOutputFiles(const OutputFiles& out, std::string* error);

// Reads every point of `dir` and writes the outputs. 0; 3 when points have no result
// (the message says how many and how to finish them); 2 when a file cannot be written.
int EmitResults(const ResultsDir& dir, const SweepSpec& spec, const OutputFiles& out);

}  // namespace ksmsim::tools::sweep
