// `ksmsim run --profile A --profile B W.json`: the workload under two kernel profiles side by
// side (docs/CLI.md "Two kernels side by side"): both runs' counters at each expect/snapshot
// point, marked where they differ, the first point where they diverge and why, from the
// runs' events (tools/teach/versions.h); `--json`/`--out` give the same as a document.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/cli/run_limits.h"

namespace ksmsim::tools {

struct VersionsArgs {
  std::string file;
  std::vector<std::string> profiles;
  std::string out;  // the comparison document ("-": stdout)
  bool json = false;
  bool check = false;
  bool quiet = false;
  bool force = false;
  bool strict = false;
  std::optional<uint64_t> seed;
  std::vector<std::string> set;
  RunLimits limits;
};

// Runs the comparison; the exit status (0, 1 an expect or verify failed in a run, 2 invalid
// input, 3 a run could not be carried out).
int RunVersions(const VersionsArgs& a);

}  // namespace ksmsim::tools
