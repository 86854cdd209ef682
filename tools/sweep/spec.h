// A sweep's grid (docs/SWEEPS.md): the inputs (workloads or traces), the tuning policies and
// the values of each knob, from the command line (--set KNOB=V1,V2) or a JSON spec file;
// its validation before anything runs; and its expansion into numbered points.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "workloads/workload.h"

namespace ksmsim::tools::sweep {

// One input of the grid: the name as the user gave it (shown in the outputs) and the
// absolute path the points load (so that workers in another directory find it).
struct Input {
  std::string name;
  std::string path;
  bool trace = false;  // .jsonl or .ksmt: replayed as `ksmsim replay` would
};

// ksmtuned's settings (/etc/ksmtuned.conf), the defaults of the script Debian ships.
struct KsmtunedConf {
  int64_t monitor_interval_s = 60;
  int64_t npages_boost = 300;
  int64_t npages_decay = -50;
  int64_t npages_min = 64;
  int64_t npages_max = 1250;
  int64_t thres_coef = 20;
  int64_t thres_const_kib = 2048;
  int64_t sleep_msec = 10;
};

struct SweepSpec {
  std::vector<Input> inputs;
  // Knob name -> values, in the order given (the last knob varies fastest).
  std::vector<std::pair<std::string, std::vector<int64_t>>> knobs;
  std::vector<std::string> policies = {"fixed"};  // "fixed", "ksmtuned", "advisor"
  KsmtunedConf ksmtuned;
};

// One point of the grid: its index (the order of the outputs) and what it runs.
struct Point {
  uint64_t index = 0;
  const Input* input = nullptr;
  std::string policy;
  workloads::KnobList set;  // the swept knobs' values, in the spec's knob order
};

// The policies a point may run.
const std::vector<std::string>& PolicyNames();

// Adds "KNOB=V1,V2,..." (ksm.KNOB also accepted) to `spec`; false and a message naming the
// argument, the valid knobs or the range, when it is not one.
bool AddSetArgument(SweepSpec& spec, const std::string& arg, std::string* error);
// Adds "fixed,ksmtuned,advisor" to the policies (replacing the default); false on an
// unknown one. (`advisor`, 6.12's scan-time advisor, is checked against the inputs'
// kernels by ValidateSpec.)
bool SetPolicies(SweepSpec& spec, const std::string& arg, std::string* error);
// Adds an input; `name` as given, resolved against `base_dir` when relative.
void AddInput(SweepSpec& spec, const std::string& name, const std::string& base_dir = "");

// Reads a spec file (docs/SWEEPS.md "Spec file"); errors name the file and JSON path.
bool ReadSpecFile(const std::string& file, SweepSpec& spec, std::vector<std::string>* errors);

// Every problem of the spec, before anything runs: an empty grid, an input that is not a
// valid workload or trace (its own messages: file, step, JSON path), the advisor policy
// with an input whose kernel is not 6.12. Empty when it is fine.
std::vector<std::string> ValidateSpec(const SweepSpec& spec);

// The points in order: inputs outermost, then policies, then the knobs (last fastest).
std::vector<Point> ExpandGrid(const SweepSpec& spec);
uint64_t GridSize(const SweepSpec& spec);

// The spec as stored in a results directory (spec.json), and back.
nlohmann::ordered_json SpecToJson(const SweepSpec& spec);
bool SpecFromJson(const nlohmann::ordered_json& j, SweepSpec& spec, std::string* error);

}  // namespace ksmsim::tools::sweep
