// The Slurm executor: an sbatch job-array script whose array tasks each run a chunk of the
// points (`ksmsim sweep chunk DIR --task K --tasks N`, every N-th point from K) into the
// shared results directory; `ksmsim sweep collect DIR` merges them afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ksmsim::tools::sweep {

struct SlurmJob {
  std::string self;  // the ksmsim executable, as the compute nodes see it
  std::string dir;   // the results directory (absolute; shared by the nodes)
  uint64_t points = 0;
  uint64_t tasks = 1;  // array tasks
};

// The script (bash, #SBATCH lines, the array 0..tasks-1).
std::string SbatchScript(const SlurmJob& job);

// Quotes a word for bash.
std::string ShellQuote(const std::string& s);

// The directory of PATH holding `name`, "" when none does.
std::string FindInPath(const std::string& name);

// Runs `sbatch [args] SCRIPT`, its output to ours; its exit status (127 when it cannot run).
int Submit(const std::string& sbatch, const std::vector<std::string>& args,
           const std::string& script);

}  // namespace ksmsim::tools::sweep
