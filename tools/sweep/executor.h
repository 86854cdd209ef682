// Running a sweep's points into a results directory (results_dir.h). RunChunk runs points in
// this process, one after the other (a local worker, a Slurm array task). RunLocal is the
// local executor: N worker processes (ksmsim itself, `sweep chunk DIR --stdin`, spawned with
// posix_spawn) fed point numbers one at a time, a progress line, resumption (points with a
// result are skipped) and a clean stop on SIGINT/SIGTERM: the workers are stopped, finished
// points are kept, and a point being written leaves no file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/sweep/results_dir.h"
#include "tools/sweep/spec.h"

namespace ksmsim::tools::sweep {

// The exit status of a sweep stopped by a signal (or --stop-after-points) before its end.
inline constexpr int kExitInterrupted = 130;

// Runs `indexes` (skipping those with a result) and writes each result. With `report`, the
// index of each finished point is written to stdout (the worker protocol). Returns 0, or 2
// with `error` when a result cannot be written.
int RunChunk(const ResultsDir& dir, const SweepSpec& spec, const std::vector<uint64_t>& indexes,
             bool report, std::string* error);

// The worker: reads point numbers from stdin, one per line, until end of input. SIGINT is
// ignored (the parent decides); SIGTERM removes a temporary file being written and exits.
int RunWorker(const ResultsDir& dir, const SweepSpec& spec, std::string* error);

// The points of Slurm array task `task` of `tasks` (every tasks-th point, from `task`).
std::vector<uint64_t> TaskPoints(uint64_t n, uint64_t task, uint64_t tasks);

struct LocalOptions {
  unsigned workers = 1;
  std::string self;         // the ksmsim executable the workers run
  bool progress = false;    // a progress line on stderr
  uint64_t stop_after = 0;  // stop (as on SIGINT) once this many points finished; 0 never
};

// Runs every missing point with N workers. 0 when every point has a result, kExitInterrupted
// when stopped early, 2 with `error` when a worker failed.
int RunLocal(const ResultsDir& dir, const SweepSpec& spec, const LocalOptions& opt,
             std::string* error);

// The path of the running executable (/proc/self/exe).
std::string SelfExecutable();

}  // namespace ksmsim::tools::sweep
