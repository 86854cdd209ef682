// The parsing of each op's fields (the op table of ops.h) into its typed payload (step.h).
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
    const OpSpec& spec = SpecOf(*op);
    if (!spec.InKernel(KernelProfileName(ctx_.kernel))) {
      if (spec.kernels == "2009") {
        r_.Error(op_path, fmt::format("op \"{}\" (an ioctl of the 2009 /dev/ksm driver) exists "
                                      "only with kernel \"2009\" (this workload's kernel is "
                                      "\"{}\"; it registers memory with madvise mergeable)",
                                      *op_name, KernelProfileName(ctx_.kernel)));
      } else {
        r_.Error(op_path, fmt::format("op \"{}\" exists only with kernel {} (this workload's "
                                      "kernel is \"{}\"; set \"kernel\": \"{}\")",
                                      *op_name, spec.kernels, KernelProfileName(ctx_.kernel),
                                      spec.kernels.substr(0, spec.kernels.find(','))));
      }
      return std::nullopt;
    }
    Step step;
    step.path = path;
    step.payload = PayloadOf(*op);  // repeat's times defaults to 1: body still checked if bad
    Names required, allowed = {"op"};
    for (const FieldSpec* f : spec.required) required.push_back(f->name);
    allowed.insert(allowed.end(), required.begin(), required.end());
    for (const FieldSpec* f : spec.optional) allowed.push_back(f->name);
    if (spec.Find("label") == nullptr) allowed.push_back("label");
    r_.CheckKnownKeys(v, path, allowed, fmt::format("a \"{}\" step", *op_name));
    for (std::string_view name : required) {
      r_.Require(v, path, name,
                 fmt::format(" (a \"{}\" step needs {})", *op_name, JoinNames(required)));
    }
    // Fields in the table's order, so that node is known before block.
    node_.reset();
    for (std::string_view name : allowed) {
      if (name == "op" || !v.contains(name)) continue;
      const Json& value = v[std::string(name)];
      std::string field_path = JoinKey(path, name);
      if (name == "label") {
        if (auto str = r_.String(value, field_path, *op == Op::kSnapshot)) step.label = *str;
        continue;
      }
      std::visit([&](auto& payload) { Field(payload, name, value, field_path); }, step.payload);
    }
    if (*op == Op::kWait && v.contains("ms") == v.contains("full_scans")) {
      r_.Error(path, fmt::format("a wait takes exactly one of \"ms\" or \"full_scans\", got {}",
                                 v.contains("ms") ? "both" : "neither"));
    }
    return step;
  }

 private:
  // A default payload of `op`.
  template <size_t I = 0>
  static StepPayload PayloadOf(Op op) {
    if constexpr (I < kNumOps) {
      if (static_cast<size_t>(op) == I) return StepPayload(std::in_place_index<I>);
      return PayloadOf<I + 1>(op);
    } else {
      return StepPayload{};
    }
  }

  // Parses field `name` of payload P into its member (step.h binds fields to members).
  template <class P>
  void Field(P& payload, std::string_view name, const Json& v, const std::string& path) {
    ForEachFieldOf<P>([&](const auto& field) {
      if (field.spec->name == name) Value(*field.spec, payload.*field.member, v, path);
    });
  }

  // ---- one overload per member type --------------------------------------------------------

  void Value(const FieldSpec& f, std::string& out, const Json& v, const std::string& path) {
    if (auto str = r_.String(v, path, f.type == FieldType::kName)) out = *str;
  }

  void Value(const FieldSpec& f, std::optional<uint64_t>& out, const Json& v,
             const std::string& path) {
    out = Uint(f, v, path);
  }

  void Value(const FieldSpec& f, uint64_t& out, const Json& v, const std::string& path) {
    if (auto n = Uint(f, v, path)) out = *n;
  }

  void Value(const FieldSpec&, bool& out, const Json& v, const std::string& path) {
    out = r_.Bool(v, path).value_or(false);
  }

  void Value(const FieldSpec&, std::optional<PageRange>& out, const Json& v,
             const std::string& path) {
    out = Range(v, path);
  }

  void Value(const FieldSpec&, Advice& out, const Json& v, const std::string& path) {
    auto str = r_.String(v, path, true);
    if (!str) return;
    auto advice = AdviceFromName(*str);
    if (advice && ctx_.kernel == KernelProfile::k2009 &&
        (*advice == Advice::kMergeable || *advice == Advice::kUnmergeable)) {
      r_.Error(path, fmt::format("madvise {} does not exist with kernel \"2009\" (it came with "
                                 "2.6.32): the 2009 driver scans the regions registered with "
                                 "ksm_create_shared_memory_area and ksm_register_memory_region, "
                                 "and ksm_remove_memory_region removes them",
                                 *str));
      return;
    }
    if (advice) {
      out = *advice;
    } else {
      r_.Error(path, Reader::UnknownName("advice", *str,
                                         {"mergeable", "unmergeable", "dontneed", "pageout"}));
    }
  }

  void Value(const FieldSpec&, DataSpec& out, const Json& v, const std::string& path) {
    if (auto d = Data(v, path)) out = std::move(*d);
  }

  void Value(const FieldSpec&, std::optional<ExpectedError>& out, const Json& v,
             const std::string& path) {
    auto str = r_.String(v, path, true);
    if (!str) return;
    out = ExpectedErrorFromName(*str);
    if (!out) {
      r_.Error(path, Reader::UnknownName("expect_error value", *str, ExpectedErrorNames()));
    }
  }

  void Value(const FieldSpec&, KnobList& out, const Json& v, const std::string& path) {
    out = KnobWrites(v, path);
  }

  void Value(const FieldSpec& f, CounterMap& out, const Json& v, const std::string& path) {
    if (&f == &kKsmCountersField) {
      out = Counters(v, path, KsmNames(), "ksm counter");
    } else {
      out = Counters(v, path, VmstatCounterNames(), "vmstat counter");
    }
  }

  void Value(const FieldSpec&, ProcCounterMap& out, const Json& v, const std::string& path) {
    out = ProcCounters(v, path);
  }

  void Value(const FieldSpec&, std::vector<Step>& out, const Json& v, const std::string& path) {
    if (!v.is_array()) {
      r_.Error(path, fmt::format("expected an array of steps, got {}", DescribeJson(v)));
      return;
    }
    out = ParseSteps(r_, v, path, ctx_);
  }

  // An integer field with the range and note of its FieldSpec; a node must exist on the
  // machine, and a block on the step's node.
  std::optional<uint64_t> Uint(const FieldSpec& f, const Json& v, const std::string& path) {
    if (&f == &kNodeField) {
      node_ = Node(v, path);
      return node_;
    }
    if (&f == &kBlockField) return Block(v, path, node_);
    return r_.Uint(v, path, f.min, f.max, f.note);
  }

  std::optional<uint64_t> Node(const Json& v, const std::string& path) {
    auto node = r_.Uint(v, path, kNodeField.min, kNodeField.max, kNodeField.note);
    if (!node || ctx_.machine == nullptr) return node;
    uint64_t n = ctx_.machine->nodes.size();
    if (*node >= n) {
      r_.Error(path, fmt::format("node {} does not exist: the machine has {} node{} (0..{})", *node,
                                 n, n == 1 ? "" : "s", n - 1));
      return std::nullopt;
    }
    return node;
  }

  std::optional<uint64_t> Block(const Json& v, const std::string& path,
                                std::optional<uint64_t> node) {
    auto block = r_.Uint(v, path, kBlockField.min, kBlockField.max, kBlockField.note);
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
      // Both are checked, so that one run reports both missing keys.
      const bool has_offset = r_.Require(arg, arg_path, "offset");
      const bool has_value = r_.Require(arg, arg_path, "value");
      if (!has_offset || !has_value) return std::nullopt;
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
      if (knob == kAdvisorMode) {
        if (auto mode = ParseAdvisorMode(r_, value, knob_path)) out.emplace_back(knob, *mode);
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
    r_.Error(path,
             fmt::format("{} exists only with kernel {} (this workload's kernel is \"{}\"){}", name,
                         profiles, KernelProfileName(ctx_.kernel), Instead2009(name, ctx_.kernel)));
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
  std::optional<uint64_t> node_;  // the node of the step being parsed, once it checked out
};

}  // namespace

std::optional<int64_t> ParseAdvisorMode(Reader& r, const Json& v, const std::string& path) {
  auto str = r.String(v, path, true);
  if (!str) return std::nullopt;
  auto mode = AdvisorModeFromName(*str);
  if (!mode) {
    r.Error(path, fmt::format("advisor_mode is \"none\" or \"scan-time\", got \"{}\" (the "
                              "kernel's advisor_mode_store answers EINVAL to anything else)",
                              *str));
  }
  return mode;
}

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
