// The parsing of each op's fields (the op table of ops.h) into Step.
#include "workloads/parse_step.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "workloads/counters.h"
#include "workloads/ops.h"
#include "workloads/parse_json.h"

namespace ksmsim::workloads {
namespace {

using Json = nlohmann::ordered_json;
using Names = std::vector<std::string_view>;

Names AllOpNames() {
  Names names;
  for (const OpSpec& spec : OpTable()) names.push_back(spec.name);
  return names;
}

class StepParser {
 public:
  StepParser(Reader& r, const StepContext& ctx) : r_(r), ctx_(ctx) {}

  std::optional<Step> Parse(const Json& v, const std::string& path) {
    if (!v.is_object()) {
      r_.Error(path,
               fmt::format("expected a step (an object with \"op\"), got {}", DescribeJson(v)));
      return std::nullopt;
    }
    if (!r_.Require(v, path, "op", fmt::format("; ops: {}", JoinNames(AllOpNames())))) {
      return std::nullopt;
    }
    std::string op_path = JoinKey(path, "op");
    auto op_name = r_.String(v["op"], op_path, true);
    if (!op_name) return std::nullopt;
    auto op = OpFromName(*op_name);
    if (!op) {
      r_.Error(op_path, Reader::UnknownName("op", *op_name, AllOpNames()));
      return std::nullopt;
    }
    Step step;
    step.op = *op;
    step.path = path;
    if (step.op == Op::kRepeat) step.times = 1;  // body still checked if times is bad
    const OpSpec& spec = SpecOf(step.op);
    Names required, allowed = {"op"};
    for (const FieldSpec& f : spec.required) required.push_back(f.name);
    allowed.insert(allowed.end(), required.begin(), required.end());
    for (const FieldSpec& f : spec.optional) allowed.push_back(f.name);
    if (spec.Find("label") == nullptr) allowed.push_back("label");
    r_.CheckKnownKeys(v, path, allowed, fmt::format("a \"{}\" step", *op_name));
    for (std::string_view name : required) {
      r_.Require(v, path, name,
                 fmt::format(" (a \"{}\" step needs {})", *op_name, JoinNames(required)));
    }
    // Fields in the table's order, so that node is known before block.
    for (std::string_view name : allowed) {
      if (name != "op" && v.contains(name)) Field(step, name, v[std::string(name)], path);
    }
    if (step.op == Op::kWait && v.contains("ms") == v.contains("full_scans")) {
      r_.Error(path, fmt::format("a wait takes exactly one of \"ms\" or \"full_scans\", got {}",
                                 v.contains("ms") ? "both" : "neither"));
    }
    return step;
  }

 private:
  void Field(Step& s, std::string_view name, const Json& v, const std::string& step_path) {
    std::string path = JoinKey(step_path, name);
    if (name == "proc" || name == "child" || name == "region") {
      auto str = r_.String(v, path, true);
      if (!str) return;
      (name == "proc" ? s.proc : name == "child" ? s.child : s.region) = *str;
    } else if (name == "pages") {
      s.pages = TableUint(s.op, name, v, path);
    } else if (name == "node") {
      s.node = Node(s.op, v, path);
    } else if (name == "locked") {
      s.locked = r_.Bool(v, path).value_or(false);
    } else if (name == "range") {
      s.range = Range(v, path);
    } else if (name == "advice") {
      auto str = r_.String(v, path, true);
      if (!str) return;
      s.advice = AdviceFromName(*str);
      if (!s.advice) {
        r_.Error(path, Reader::UnknownName("advice", *str,
                                           {"mergeable", "unmergeable", "dontneed", "pageout"}));
      }
    } else if (name == "data") {
      s.data = Data(v, path);
    } else if (name == "block") {
      s.block = Block(s.op, v, path, s.node);
    } else if (name == "expect_error") {
      auto str = r_.String(v, path, true);
      if (!str) return;
      s.expect_error = ExpectedErrorFromName(*str);
      if (!s.expect_error) {
        r_.Error(path,
                 Reader::UnknownName("expect_error value", *str, {"none", "EBUSY", "EINVAL"}));
      }
    } else if (name == "set") {
      s.set = KnobWrites(v, path);
    } else if (name == "ms") {
      if (auto ms = TableUint(s.op, name, v, path)) {
        s.wait = WaitSpec{WaitSpec::Unit::kMs, *ms};
      }
    } else if (name == "full_scans") {
      if (auto n = TableUint(s.op, name, v, path)) {
        s.wait = WaitSpec{WaitSpec::Unit::kFullScans, *n};
      }
    } else if (name == "ksm" || name == "procs" || name == "vmstat") {
      if (!s.expect) s.expect = ExpectSpec{};
      if (name == "ksm") s.expect->ksm = Counters(v, path, KsmNames(), "ksm counter");
      if (name == "vmstat") {
        s.expect->vmstat = Counters(v, path, VmstatCounterNames(), "vmstat counter");
      }
      if (name == "procs") s.expect->procs = ProcCounters(v, path);
    } else if (name == "label") {
      if (auto str = r_.String(v, path, s.op == Op::kSnapshot)) s.label = *str;
    } else if (name == "times") {
      if (auto n = TableUint(s.op, name, v, path)) s.times = *n;
    } else if (name == "steps") {
      if (!v.is_array()) {
        r_.Error(path, fmt::format("expected an array of steps, got {}", DescribeJson(v)));
        return;
      }
      s.steps = ParseSteps(r_, v, path, ctx_);
    }
  }

  // An integer field with the range and note of the op table.
  std::optional<uint64_t> TableUint(Op op, std::string_view name, const Json& v,
                                    const std::string& path) {
    const FieldSpec& f = *SpecOf(op).Find(name);
    return r_.Uint(v, path, f.min, f.max, f.note);
  }

  std::optional<uint64_t> Node(Op op, const Json& v, const std::string& path) {
    auto node = TableUint(op, "node", v, path);
    if (!node || ctx_.machine == nullptr) return node;
    uint64_t n = ctx_.machine->nodes.size();
    if (*node >= n) {
      r_.Error(path, fmt::format("node {} does not exist: the machine has {} node{} (0..{})", *node,
                                 n, n == 1 ? "" : "s", n - 1));
      return std::nullopt;
    }
    return node;
  }

  std::optional<uint64_t> Block(Op op, const Json& v, const std::string& path,
                                std::optional<uint64_t> node) {
    auto block = TableUint(op, "block", v, path);
    if (!block || !node || ctx_.machine == nullptr) return block;
    uint64_t blocks = ctx_.machine->BlocksOnNode(*node);
    if (*block >= blocks) {
      r_.Error(path, fmt::format("block {} does not exist on node {}: it has {} memory "
                                 "block{} of {} MiB (0..{})",
                                 *block, *node, blocks, blocks == 1 ? "" : "s",
                                 ctx_.machine->memory_block_mib, blocks - 1));
      return std::nullopt;
    }
    return block;
  }

  std::optional<PageRange> Range(const Json& v, const std::string& path) {
    if (!v.is_array() || v.size() != 2) {
      r_.Error(path, fmt::format(
                         "expected [first, end] (an array of two page indices; the "
                         "range is first..end-1), got {}",
                         v.is_array() ? fmt::format("an array of {}", v.size()) : DescribeJson(v)));
      return std::nullopt;
    }
    auto first = r_.Uint(v[0], JoinIndex(path, 0), 0, kMaxRegionPages - 1);
    auto end = r_.Uint(v[1], JoinIndex(path, 1), 1, kMaxRegionPages);
    if (!first || !end) return std::nullopt;
    if (*first >= *end) {
      r_.Error(path, fmt::format("range [{}, {}) is empty: first must be below end", *first, *end));
      return std::nullopt;
    }
    return PageRange{*first, *end};
  }

  std::optional<DataSpec> Data(const Json& v, const std::string& path) {
    static const Names kKinds = {"fill", "unique", "key", "cycle", "pool", "patch"};
    if (!r_.Object(v, path, "a data object such as {\"fill\": 65}")) return std::nullopt;
    if (!r_.CheckKnownKeys(v, path, kKinds, "data")) return std::nullopt;
    if (v.size() != 1) {
      Names given;
      for (const auto& [key, value] : v.items()) given.push_back(key);
      r_.Error(path, fmt::format("data takes exactly one of {}; got {}", JoinNames(kKinds),
                                 given.empty() ? "none" : JoinNames(given)));
      return std::nullopt;
    }
    const std::string& kind = v.begin().key();
    const Json& arg = v.begin().value();
    std::string arg_path = JoinKey(path, kind);
    DataSpec d;
    if (kind == "fill") {
      auto b = r_.Uint(arg, arg_path, 0, 255, "the byte every page is filled with");
      if (!b) return std::nullopt;
      d.kind = DataSpec::Kind::kFill;
      d.fill = static_cast<uint8_t>(*b);
    } else if (kind == "unique") {
      if (!arg.is_boolean() || !arg.get<bool>()) {
        r_.Error(arg_path, fmt::format("expected true, got {}", DescribeJson(arg)));
        return std::nullopt;
      }
      d.kind = DataSpec::Kind::kUnique;
    } else if (kind == "key") {
      auto s = r_.String(arg, arg_path, false);
      if (!s) return std::nullopt;
      d.kind = DataSpec::Kind::kKey;
      d.key = *s;
    } else if (kind == "cycle" || kind == "pool") {
      auto k = r_.Uint(arg, arg_path, 1, std::numeric_limits<uint64_t>::max(),
                       "the number of distinct contents");
      if (!k) return std::nullopt;
      d.kind = kind == "cycle" ? DataSpec::Kind::kCycle : DataSpec::Kind::kPool;
      d.k = *k;
    } else {
      if (!r_.Object(arg, arg_path, "{\"offset\": O, \"value\": B}")) return std::nullopt;
      r_.CheckKnownKeys(arg, arg_path, {"offset", "value"}, "patch");
      bool has = r_.Require(arg, arg_path, "offset") & r_.Require(arg, arg_path, "value");
      if (!has) return std::nullopt;
      auto offset = r_.Uint(arg["offset"], JoinKey(arg_path, "offset"), 0, kPageSize - 1,
                            "a byte offset in the page");
      auto value = r_.Uint(arg["value"], JoinKey(arg_path, "value"), 0, 255);
      if (!offset || !value) return std::nullopt;
      d.kind = DataSpec::Kind::kPatch;
      d.patch_offset = static_cast<uint16_t>(*offset);
      d.patch_value = static_cast<uint8_t>(*value);
    }
    return d;
  }

  KnobList KnobWrites(const Json& v, const std::string& path) {
    KnobList out;
    if (!r_.Object(v, path, "an object of knob writes such as {\"run\": 1}")) return out;
    const Names& knobs = KsmKnobNames(ctx_.kernel);
    if (v.empty()) {
      r_.Error(path, fmt::format("a ksm step must set at least one knob: {}", JoinNames(knobs)));
    }
    for (const auto& [knob, value] : v.items()) {
      std::string knob_path = JoinKey(path, knob);
      if (std::find(knobs.begin(), knobs.end(), knob) == knobs.end()) {
        const Names& counters = KsmCounterNames(ctx_.kernel);
        bool counter = std::find(counters.begin(), counters.end(), knob) != counters.end();
        if (!counter && OnlyInOtherProfile(knob_path, knob)) continue;
        r_.Error(knob_path, counter ? fmt::format("{} is a read-only counter; writable knobs: {}",
                                                  knob, JoinNames(knobs))
                                    : Reader::UnknownName("knob", knob, knobs));
        continue;
      }
      // Out-of-range values are the simulated sysfs's business (EINVAL), not an error here.
      if (auto n = r_.Int(value, knob_path)) out.emplace_back(knob, *n);
    }
    return out;
  }

  Names KsmNames() const { return KsmCounterNames(ctx_.kernel); }

  // A name another kernel profile has ("exists only with kernel ..."): reports it.
  bool OnlyInOtherProfile(const std::string& path, const std::string& name) {
    std::string profiles = ProfilesHaving(name);
    if (profiles.empty()) return false;
    r_.Error(path, fmt::format("{} exists only with kernel {} (this workload's kernel is \"{}\")",
                               name, profiles, KernelProfileName(ctx_.kernel)));
    return true;
  }

  CounterMap Counters(const Json& v, const std::string& path, const Names& known,
                      std::string_view kind) {
    CounterMap out;
    if (!r_.Object(v, path, "an object of counter values")) return out;
    for (const auto& [name, value] : v.items()) {
      std::string counter_path = JoinKey(path, name);
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        if (!OnlyInOtherProfile(counter_path, name))
          r_.Error(counter_path, Reader::UnknownName(kind, name, known));
        continue;
      }
      if (auto n = r_.Int(value, counter_path)) out[name] = *n;
    }
    return out;
  }

  std::map<std::string, CounterMap> ProcCounters(const Json& v, const std::string& path) {
    std::map<std::string, CounterMap> out;
    if (!r_.Object(v, path, "an object of processes, such as {\"a\": {\"ksm_rmap_items\": 0}}")) {
      return out;
    }
    for (const auto& [proc, counters] : v.items()) {
      std::string proc_path = JoinKey(path, proc);
      if (proc.empty()) {
        r_.Error(proc_path, "a process name must not be empty");
        continue;
      }
      out[proc] = Counters(counters, proc_path, ProcCounterNames(ctx_.kernel), "process counter");
    }
    return out;
  }

  Reader& r_;
  const StepContext& ctx_;
};

}  // namespace

std::vector<Step> ParseSteps(Reader& reader, const nlohmann::ordered_json& array,
                             std::string_view path, const StepContext& context) {
  std::vector<Step> steps;
  StepParser parser(reader, context);
  for (size_t i = 0; i < array.size(); ++i) {
    if (auto step = parser.Parse(array[i], JoinIndex(path, i))) {
      steps.push_back(std::move(*step));
    }
  }
  return steps;
}

}  // namespace ksmsim::workloads
