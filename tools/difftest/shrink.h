// Differential testing helpers (`ksmsim difftest`): run a workload on the simulator
// (in process) and on the kernel oracle (this binary's `oracle` subcommand, as a
// subprocess), compare, and shrink a differing workload while the difference persists.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ksmsim::tools::difftest {

using Json = nlohmann::ordered_json;

struct Verdict {
  enum Kind { kAgree, kDiffer, kSimInvalid, kOracleFailed } kind = kAgree;
  std::vector<std::string> diffs;  // `ksmsim compare` lines (without sleep_millisecs)
  Json sim;                         // the result documents
  Json kernel;
  std::string problem;              // for kSimInvalid / kOracleFailed
};

struct Runner {
  std::string self;       // the ksmsim binary (/proc/self/exe)
  std::string work_dir;   // scratch files go here
  unsigned timeout_s = 600;
  int oracle_runs = 0;    // counts every oracle boot

  // Simulates `w`; false (with a reason) when the workload is invalid or the simulator
  // reports a failed expect/verify or any error (the shrinker discards such candidates).
  bool Simulate(const Json& w, Json& result, std::string& problem) const;
  // The simulator, then the oracle, then the comparison.
  Verdict Judge(const Json& w);
};

// A short signature of a difference: the differing counters with step numbers and process
// names removed, sorted and de-duplicated (e.g. "ksm.pages_sharing procs.*.ksm_merging_pages").
std::string Signature(const std::vector<std::string>& diffs);

struct ShrinkResult {
  Json workload;
  Verdict verdict;
  int oracle_runs = 0;
};

// Greedy shrinking: drop processes, remove chunks of steps (halving the chunk size),
// shorten regions, simplify data; keeps a candidate when the simulator accepts it and the
// kernel still differs. At most `budget` oracle runs.
ShrinkResult Shrink(Runner& runner, const Json& workload, const Verdict& original, int budget,
                    const std::function<void(const std::string&)>& log);

}  // namespace ksmsim::tools::difftest
