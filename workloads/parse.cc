// The top level of a workload (version, kernel, machine, initial knobs) and the passes
// that make a ParseOutcome: strict JSON, fields and types, then names.
#include "workloads/parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "workloads/counters.h"
#include "workloads/ops.h"
#include "workloads/parse_json.h"
#include "workloads/parse_names.h"
#include "workloads/parse_reader.h"
#include "workloads/parse_step.h"

namespace ksmsim::workloads {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxReserveMib = 1024 * 1024;  // 1 TiB of boot memory per node
// 4 PiB, x86-64's 52-bit physical address space: for all nodes together, and as a bound on
// every other size in MiB (keeps page counts far from overflow).
constexpr uint64_t kMaxMib = uint64_t{1} << 32;
// Swap slots are 32-bit numbers in this model (and ~0 means none): 16 TiB of swap at most.
constexpr uint64_t kMaxSwapMib = (uint64_t{0xffffffff} - 1) / 256;

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

// Parses `machine`; returns false if it is unusable for checking node and block numbers.
bool ParseMachine(Reader& r, const Json& v, MachineSpec& m) {
  if (!r.Object(v, "machine", "an object such as {\"nodes\": [{\"memory_mib\": 1024}]}")) {
    return false;
  }
  size_t errors = r.error_count();
  r.CheckKnownKeys(v, "machine", {"nodes", "swap_mib", "memory_block_mib", "page_size"}, "machine");
  if (v.contains("nodes")) {
    const Json& nodes = v["nodes"];
    if (!nodes.is_array() || nodes.empty() || nodes.size() > kMaxNodes) {
      r.Error("machine.nodes",
              fmt::format(
                  "expected an array of 1..{} nodes such as [{{\"memory_mib\": "
                  "1024}}], got {}",
                  kMaxNodes,
                  nodes.is_array() ? fmt::format("{} nodes", nodes.size()) : DescribeJson(nodes)));
    } else {
      m.nodes.clear();
      uint64_t total_mib = 0;
      for (size_t i = 0; i < nodes.size(); ++i) {
        std::string path = JoinIndex("machine.nodes", i);
        NodeSpec node;
        if (r.Object(nodes[i], path, "a node such as {\"memory_mib\": 1024}")) {
          r.CheckKnownKeys(nodes[i], path, {"memory_mib", "reserve_mib"}, "a node");
          if (nodes[i].contains("reserve_mib"))
            node.reserve_mib =
                r.Uint(nodes[i]["reserve_mib"], JoinKey(path, "reserve_mib"), 0, kMaxReserveMib,
                       "MiB of the node's memory outside its blocks");
          if (r.Require(nodes[i], path, "memory_mib")) {
            node.memory_mib = r.Uint(nodes[i]["memory_mib"], JoinKey(path, "memory_mib"), 1,
                                     kMaxMib, "MiB of memory on the node")
                                  .value_or(node.memory_mib);
            if (total_mib + node.memory_mib > kMaxMib) {
              r.Error(JoinKey(path, "memory_mib"),
                      fmt::format("all nodes together may have at most {} MiB (4 PiB, the "
                                  "52-bit physical address space of x86-64); the nodes up to "
                                  "this one have {}",
                                  kMaxMib, total_mib + node.memory_mib));
            }
            total_mib += node.memory_mib;
          }
        }
        m.nodes.push_back(node);
      }
    }
  }
  if (v.contains("swap_mib")) {
    m.swap_mib = r.Uint(v["swap_mib"], "machine.swap_mib", 0, kMaxSwapMib,
                        "0 means no swap; swap slots are 32-bit numbers in this model")
                     .value_or(m.swap_mib);
  }
  if (v.contains("memory_block_mib")) {
    auto mib = r.Uint(v["memory_block_mib"], "machine.memory_block_mib", 1, kMaxMib);
    if (mib && !IsPowerOfTwo(*mib)) {
      r.Error("machine.memory_block_mib",
              fmt::format("the memory block size must be a power of two, got {}", *mib));
    } else if (mib) {
      m.memory_block_mib = *mib;
    }
  }
  if (v.contains("page_size")) {
    const Json& ps = v["page_size"];
    if (!ps.is_number_integer() || ps.get<int64_t>() != static_cast<int64_t>(kPageSize)) {
      r.Error("machine.page_size",
              fmt::format("only 4096 is supported in format version 1, got {}", DescribeJson(ps)));
    }
  }
  return r.error_count() == errors;
}

KnobList ParseInitialKnobs(Reader& r, const Json& v, KernelProfile kernel) {
  KnobList out;
  if (!r.Object(v, "ksm", "an object of initial knob values such as {\"pages_to_scan\": 100}")) {
    return out;
  }
  const auto& knobs = KsmKnobNames(kernel);
  for (const auto& [knob, value] : v.items()) {
    std::string path = JoinKey("ksm", knob);
    auto range = KnobValueRange(knob, kernel);
    if (!range) {
      const auto& counters = KsmCounterNames(kernel);
      bool counter = std::find(counters.begin(), counters.end(), knob) != counters.end();
      std::string profiles = ProfilesHaving(knob);
      if (!counter && !profiles.empty()) {
        r.Error(path,
                fmt::format("{} exists only with kernel {} (this workload's kernel is \"{}\"){}",
                            knob, profiles, KernelProfileName(kernel), Instead2009(knob, kernel)));
        continue;
      }
      r.Error(path, counter ? fmt::format("{} is a read-only counter; initial values can be "
                                          "given for the knobs: {}",
                                          knob, JoinNames(knobs))
                            : Reader::UnknownName("knob", knob, knobs));
      continue;
    }
    if (knob == kAdvisorMode) {
      if (auto mode = ParseAdvisorMode(r, value, path)) out.emplace_back(knob, *mode);
      continue;
    }
    // Initial settings must be values the knob accepts (a step's writes may be invalid on
    // purpose: those fail with EINVAL at run time, as sysfs writes do).
    auto n = r.Uint(value, path, static_cast<uint64_t>(range->min),
                    static_cast<uint64_t>(range->max), fmt::format("the values {} accepts", knob));
    if (n) out.emplace_back(knob, static_cast<int64_t>(*n));
  }
  // 6.12's pages_to_scan_store() answers EINVAL while an advisor runs: an initial
  // pages_to_scan after advisor_mode "scan-time" could never be written.
  bool advisor = false;
  for (const auto& [knob, value] : out) {
    if (knob == kAdvisorMode) advisor = value != 0;
    if (knob == "pages_to_scan" && advisor) {
      r.Error(JoinKey("ksm", knob),
              "pages_to_scan cannot be written after advisor_mode \"scan-time\" (the advisor "
              "sets it, and the kernel answers EINVAL): give it before advisor_mode, or leave "
              "it out");
    }
  }
  return out;
}

void ParseTop(Reader& r, const Json& doc, Workload& w, std::optional<KernelProfile> kernel) {
  if (!r.Object(doc, "", "a workload object {\"ksmsim\": 1, \"steps\": [...]}")) return;
  r.CheckKnownKeys(doc, "",
                   {"ksmsim", "name", "description", "seed", "kernel", "machine", "ksm", "steps"},
                   "the workload");
  if (r.Require(doc, "", "ksmsim", " (the format version: \"ksmsim\": 1)")) {
    const Json& v = doc["ksmsim"];
    if (!v.is_number_integer() || v.get<int64_t>() != kFormatVersion) {
      r.Error("ksmsim", fmt::format("unsupported format version {}: this ksmsim reads "
                                    "version 1",
                                    DescribeJson(v)));
    }
  }
  if (doc.contains("name")) w.name = r.String(doc["name"], "name", false).value_or("");
  if (doc.contains("description")) {
    w.description = r.String(doc["description"], "description", false).value_or("");
  }
  if (doc.contains("seed")) {
    w.seed = r.Uint(doc["seed"], "seed", 0, std::numeric_limits<uint64_t>::max()).value_or(0);
  }
  if (doc.contains("kernel")) {
    if (auto name = r.String(doc["kernel"], "kernel", true)) {
      auto profile = KernelProfileFromName(*name);
      if (profile) {
        w.kernel = *profile;
      } else {
        r.Error("kernel", Reader::UnknownName("kernel profile", *name, KernelProfileNames()));
      }
    }
  }
  if (kernel) w.kernel = *kernel;
  bool machine_ok = !doc.contains("machine") || ParseMachine(r, doc["machine"], w.machine);
  if (doc.contains("ksm")) w.ksm = ParseInitialKnobs(r, doc["ksm"], w.kernel);
  if (r.Require(doc, "", "steps", " (the script: an array of steps)")) {
    const Json& steps = doc["steps"];
    if (!steps.is_array()) {
      r.Error("steps", fmt::format("expected an array of steps, got {}", DescribeJson(steps)));
      return;
    }
    StepContext context{machine_ok ? &w.machine : nullptr, w.kernel};
    w.steps = ParseSteps(r, steps, "steps", context);
    CheckScriptNames(w.steps, r);
  }
}

}  // namespace

std::string ValidationError::ToString() const {
  if (line != 0) return fmt::format("{}:{}:{}: {}", file, line, column, message);
  if (json_path.empty()) return fmt::format("{}: {}", file, message);
  return fmt::format("{}: {}: {}", file, json_path, message);
}

ParseOutcome ParseWorkloadJson(const nlohmann::ordered_json& document, std::string_view file_name,
                               std::optional<KernelProfile> kernel) {
  ParseOutcome out;
  Reader reader(file_name, &out.errors);
  Workload w;
  ParseTop(reader, document, w, kernel);
  if (out.errors.empty()) out.workload = std::move(w);
  return out;
}

ParseOutcome ParseWorkloadText(std::string_view text, std::string_view file_name,
                               std::optional<KernelProfile> kernel) {
  StrictJson json = ParseStrictJson(text);
  ParseOutcome out;
  for (const JsonProblem& p : json.problems) {
    out.errors.push_back(
        ValidationError{std::string(file_name), p.path, p.message, p.line, p.column});
  }
  if (!json.value) return out;
  ParseOutcome checked = ParseWorkloadJson(*json.value, file_name, kernel);
  out.errors.insert(out.errors.end(), checked.errors.begin(), checked.errors.end());
  if (out.errors.empty()) out.workload = std::move(checked.workload);
  return out;
}

ParseOutcome ParseWorkloadFile(const std::string& path, std::optional<KernelProfile> kernel) {
  std::string text;
  int error = ReadTextFile(path, text);
  if (error != 0) {
    ParseOutcome out;
    out.errors.push_back(ValidationError{
        path, "", fmt::format("cannot read the workload file: {}", std::strerror(error)), 0, 0});
    return out;
  }
  return ParseWorkloadText(text, path, kernel);
}

}  // namespace ksmsim::workloads
