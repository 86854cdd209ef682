#include "tools/sweep/spec.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "tools/cli/load_workload.h"
#include "traces/replay.h"
#include "traces/trace.h"
#include "workloads/counters.h"

namespace ksmsim::tools::sweep {
namespace {

using Json = nlohmann::ordered_json;

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The knobs a grid may sweep: every writable knob of any kernel profile (6.12's only with
// 6.12 inputs, ValidateSpec checks), but advisor_mode, whose values are strings: the
// `advisor` policy sets it.
const std::vector<std::string_view>& SweepableKnobs() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (std::string_view n : workloads::KsmKnobNames(workloads::KernelProfile::k612))
      if (n != workloads::kAdvisorMode) v.push_back(n);
    return v;
  }();
  return names;
}

// "pages_to_scan" or "ksm.pages_to_scan" -> the knob; a message listing the knobs if not one.
bool KnobName(std::string name, std::string* knob, std::string* error) {
  if (name.rfind("ksm.", 0) == 0) name.erase(0, 4);
  const auto& knobs = SweepableKnobs();
  if (std::find(knobs.begin(), knobs.end(), name) == knobs.end()) {
    if (name == workloads::kAdvisorMode) {
      *error = "advisor_mode is not swept as a knob: use the policy advisor (--policy advisor)";
      return false;
    }
    auto close = workloads::ClosestName(name, knobs);
    *error = fmt::format("{} is not a KSM knob{}; the knobs are: {}", name,
                         close ? fmt::format(" (did you mean {}?)", *close) : "",
                         workloads::JoinNames(knobs));
    return false;
  }
  *knob = name;
  return true;
}

bool CheckValue(const std::string& knob, int64_t v, std::string* error) {
  auto range = workloads::KnobValueRange(knob, workloads::KernelProfile::k612);
  if (v < range->min || v > range->max) {
    *error = fmt::format("{} = {} is out of range: {} accepts {} to {}", knob, v, knob, range->min,
                         range->max);
    return false;
  }
  return true;
}

bool AddKnob(SweepSpec& spec, const std::string& knob, std::vector<int64_t> values,
             std::string* error) {
  for (const auto& [k, v] : spec.knobs) {
    if (k == knob) {
      *error = fmt::format("{} is given twice", knob);
      return false;
    }
  }
  if (values.empty()) {
    *error = fmt::format("{} has no values", knob);
    return false;
  }
  for (int64_t v : values)
    if (!CheckValue(knob, v, error)) return false;
  spec.knobs.emplace_back(knob, std::move(values));
  return true;
}

}  // namespace

const std::vector<std::string>& PolicyNames() {
  static const std::vector<std::string> names = {"fixed", "ksmtuned", "advisor"};
  return names;
}

bool AddSetArgument(SweepSpec& spec, const std::string& arg, std::string* error) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos) {
    *error = fmt::format("--set {}: expected KNOB=VALUE[,VALUE...]", arg);
    return false;
  }
  std::string knob;
  if (!KnobName(arg.substr(0, eq), &knob, error)) {
    *error = fmt::format("--set {}: {}", arg, *error);
    return false;
  }
  std::vector<int64_t> values;
  std::stringstream in(arg.substr(eq + 1));
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      int64_t v = std::stoll(item, &used);
      if (used != item.size()) throw std::invalid_argument("trailing");
      values.push_back(v);
    } catch (const std::exception&) {
      *error = fmt::format("--set {}: '{}' is not an integer", arg, item);
      return false;
    }
  }
  if (!AddKnob(spec, knob, std::move(values), error)) {
    *error = fmt::format("--set {}: {}", arg, *error);
    return false;
  }
  return true;
}

bool SetPolicies(SweepSpec& spec, const std::string& arg, std::string* error) {
  std::vector<std::string> out;
  std::stringstream in(arg);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto& names = PolicyNames();
    if (std::find(names.begin(), names.end(), item) == names.end()) {
      *error = fmt::format("--policy {}: unknown policy '{}'; the policies are: {}", arg, item,
                           fmt::join(names, ", "));
      return false;
    }
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) {
    *error = "--policy: no policy given";
    return false;
  }
  spec.policies = out;
  return true;
}

void AddInput(SweepSpec& spec, const std::string& name, const std::string& base_dir) {
  namespace fs = std::filesystem;
  fs::path p(name);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  Input in;
  in.name = name;
  in.path = fs::absolute(p).lexically_normal().string();
  in.trace = EndsWith(name, ".jsonl") || EndsWith(name, ".ksmt");
  spec.inputs.push_back(std::move(in));
}

bool ReadSpecFile(const std::string& file, SweepSpec& spec, std::vector<std::string>* errors) {
  std::ifstream f(file);
  if (!f) {
    errors->push_back(fmt::format("{}: cannot read the spec file", file));
    return false;
  }
  Json j;
  try {
    j = Json::parse(f);
  } catch (const std::exception& e) {
    errors->push_back(fmt::format("{}: not JSON: {}", file, e.what()));
    return false;
  }
  size_t before = errors->size();
  auto err = [&](const std::string& path, const std::string& what) {
    errors->push_back(fmt::format("{}: {}: {}", file, path, what));
  };
  if (!j.is_object()) {
    err("(top level)", "expected an object with inputs, knobs, policies");
    return false;
  }
  for (const auto& [key, v] : j.items()) {
    if (key != "inputs" && key != "knobs" && key != "policies" && key != "ksmtuned")
      err(key, "unknown field; the fields are inputs, knobs, policies, ksmtuned");
  }
  std::string base = std::filesystem::path(file).parent_path().string();
  if (j.contains("inputs")) {
    if (!j["inputs"].is_array())
      err("inputs", "expected an array of file names");
    else
      for (size_t i = 0; i < j["inputs"].size(); ++i) {
        if (!j["inputs"][i].is_string())
          err(fmt::format("inputs[{}]", i), "expected a file name");
        else
          AddInput(spec, j["inputs"][i].get<std::string>(), base);
      }
  }
  if (j.contains("knobs")) {
    if (!j["knobs"].is_object())
      err("knobs", "expected an object: {\"KNOB\": [values]}");
    else
      for (const auto& [name, vals] : j["knobs"].items()) {
        std::string path = fmt::format("knobs.{}", name), knob, e;
        if (!KnobName(name, &knob, &e)) {
          err(path, e);
          continue;
        }
        std::vector<int64_t> values;
        bool ok = vals.is_array();
        if (ok)
          for (const auto& v : vals) ok = ok && v.is_number_integer();
        if (!ok) {
          err(path, "expected an array of integers");
          continue;
        }
        for (const auto& v : vals) values.push_back(v.get<int64_t>());
        if (!AddKnob(spec, knob, values, &e)) err(path, e);
      }
  }
  if (j.contains("policies")) {
    std::string joined, e;
    bool ok = j["policies"].is_array();
    if (ok)
      for (const auto& v : j["policies"]) {
        ok = ok && v.is_string();
        if (ok) joined += fmt::format("{}{}", joined.empty() ? "" : ",", v.get<std::string>());
      }
    if (!ok)
      err("policies", "expected an array of policy names (fixed, ksmtuned, advisor)");
    else if (!SetPolicies(spec, joined, &e))
      err("policies", e);
  }
  if (j.contains("ksmtuned")) {
    const Json& k = j["ksmtuned"];
    std::vector<std::pair<std::string, int64_t*>> fields = {
        {"KSM_MONITOR_INTERVAL", &spec.ksmtuned.monitor_interval_s},
        {"KSM_NPAGES_BOOST", &spec.ksmtuned.npages_boost},
        {"KSM_NPAGES_DECAY", &spec.ksmtuned.npages_decay},
        {"KSM_NPAGES_MIN", &spec.ksmtuned.npages_min},
        {"KSM_NPAGES_MAX", &spec.ksmtuned.npages_max},
        {"KSM_THRES_COEF", &spec.ksmtuned.thres_coef},
        {"KSM_THRES_CONST", &spec.ksmtuned.thres_const_kib},
        {"KSM_SLEEP_MSEC", &spec.ksmtuned.sleep_msec}};
    if (!k.is_object())
      err("ksmtuned", "expected an object of ksmtuned.conf settings");
    else
      for (const auto& [name, v] : k.items()) {
        auto it = std::find_if(fields.begin(), fields.end(),
                               [&](const auto& f) { return f.first == name; });
        if (it == fields.end()) {
          std::string names;
          for (const auto& f : fields)
            names += fmt::format("{}{}", names.empty() ? "" : ", ", f.first);
          err(fmt::format("ksmtuned.{}", name),
              fmt::format("unknown setting; the settings are: {}", names));
        } else if (!v.is_number_integer()) {
          err(fmt::format("ksmtuned.{}", name), "expected an integer");
        } else {
          *it->second = v.get<int64_t>();
        }
      }
    if (spec.ksmtuned.monitor_interval_s < 1 || spec.ksmtuned.monitor_interval_s > 86400)
      err("ksmtuned.KSM_MONITOR_INTERVAL", "out of range: 1 to 86400 seconds");
    if (spec.ksmtuned.npages_min < 0 || spec.ksmtuned.npages_max < spec.ksmtuned.npages_min ||
        spec.ksmtuned.npages_max > UINT32_MAX)
      err("ksmtuned", fmt::format("KSM_NPAGES_MIN and KSM_NPAGES_MAX must satisfy 0 <= min <= "
                                  "max <= {}",
                                  UINT32_MAX));
  }
  return errors->size() == before;
}

std::vector<std::string> ValidateSpec(const SweepSpec& spec) {
  std::vector<std::string> errors;
  if (spec.inputs.empty()) errors.push_back("empty grid: no workload or trace given");
  for (const auto& [knob, values] : spec.knobs)
    if (values.empty()) errors.push_back(fmt::format("empty grid: {} has no values", knob));
  const bool advisor =
      std::find(spec.policies.begin(), spec.policies.end(), "advisor") != spec.policies.end();
  // The scan-time advisor and 6.12's knobs are Linux 6.12's: a point of another kernel
  // cannot run them.
  auto check_kernel = [&](const Input& in, workloads::KernelProfile kernel) {
    const std::string_view name = workloads::KernelProfileName(kernel);
    if (advisor && kernel != workloads::KernelProfile::k612) {
      errors.push_back(fmt::format(
          "{}: the advisor policy needs kernel \"6.12\" (the scan-time advisor, advisor_mode "
          "scan-time, is Linux 6.12's); this input's kernel is \"{}\"",
          in.name, name));
    }
    for (const auto& [knob, values] : spec.knobs) {
      if (workloads::KnobValueRange(knob, kernel)) continue;
      errors.push_back(
          fmt::format("{}: {} exists only with kernel {} (this input's kernel is "
                      "\"{}\")",
                      in.name, knob, workloads::ProfilesHaving(knob), name));
    }
  };
  for (const Input& in : spec.inputs) {
    if (in.trace) {
      try {
        traces::Trace t = traces::ReadTraceFile(in.path);
        check_kernel(in, traces::TraceWorkload(t).kernel);
      } catch (const traces::TraceError& e) {
        errors.push_back(fmt::format("{}: {}", in.name, e.message));
        errors.push_back(fmt::format("{}: invalid trace, nothing was run", in.name));
      }
      continue;
    }
    std::ostringstream err;
    if (auto w = LoadWorkloadOrReport(in.path, err)) {
      check_kernel(in, w->kernel);
    } else {
      std::string line;
      std::istringstream lines(err.str());
      while (std::getline(lines, line)) errors.push_back(line);
    }
  }
  return errors;
}

uint64_t GridSize(const SweepSpec& spec) {
  uint64_t n = spec.inputs.size() * spec.policies.size();
  for (const auto& [knob, values] : spec.knobs) n *= values.size();
  return n;
}

std::vector<Point> ExpandGrid(const SweepSpec& spec) {
  std::vector<Point> points;
  uint64_t combos = 1;
  for (const auto& [knob, values] : spec.knobs) combos *= values.size();
  for (const Input& in : spec.inputs) {
    for (const std::string& policy : spec.policies) {
      for (uint64_t c = 0; c < combos; ++c) {
        Point p;
        p.index = points.size();
        p.input = &in;
        p.policy = policy;
        uint64_t rest = c;
        p.set.resize(spec.knobs.size());
        for (size_t k = spec.knobs.size(); k-- > 0;) {
          const auto& values = spec.knobs[k].second;
          p.set[k] = {spec.knobs[k].first, values[rest % values.size()]};
          rest /= values.size();
        }
        points.push_back(std::move(p));
      }
    }
  }
  return points;
}

Json SpecToJson(const SweepSpec& spec) {
  Json j;
  Json inputs = Json::array();
  for (const Input& in : spec.inputs) inputs.push_back({{"name", in.name}, {"path", in.path}});
  j["inputs"] = inputs;
  Json knobs = Json::object();
  for (const auto& [k, v] : spec.knobs) knobs[k] = v;
  j["knobs"] = knobs;
  j["policies"] = spec.policies;
  const KsmtunedConf& c = spec.ksmtuned;
  j["ksmtuned"] = {{"KSM_MONITOR_INTERVAL", c.monitor_interval_s},
                   {"KSM_NPAGES_BOOST", c.npages_boost},
                   {"KSM_NPAGES_DECAY", c.npages_decay},
                   {"KSM_NPAGES_MIN", c.npages_min},
                   {"KSM_NPAGES_MAX", c.npages_max},
                   {"KSM_THRES_COEF", c.thres_coef},
                   {"KSM_THRES_CONST", c.thres_const_kib},
                   {"KSM_SLEEP_MSEC", c.sleep_msec}};
  return j;
}

bool SpecFromJson(const Json& j, SweepSpec& spec, std::string* error) {
  try {
    spec = SweepSpec{};
    for (const auto& in : j.at("inputs")) {
      Input i;
      i.name = in.at("name").get<std::string>();
      i.path = in.at("path").get<std::string>();
      i.trace = EndsWith(i.name, ".jsonl") || EndsWith(i.name, ".ksmt");
      spec.inputs.push_back(i);
    }
    for (const auto& [k, v] : j.at("knobs").items())
      spec.knobs.emplace_back(k, v.get<std::vector<int64_t>>());
    spec.policies = j.at("policies").get<std::vector<std::string>>();
    const Json& c = j.at("ksmtuned");
    spec.ksmtuned = {
        c.at("KSM_MONITOR_INTERVAL").get<int64_t>(), c.at("KSM_NPAGES_BOOST").get<int64_t>(),
        c.at("KSM_NPAGES_DECAY").get<int64_t>(),     c.at("KSM_NPAGES_MIN").get<int64_t>(),
        c.at("KSM_NPAGES_MAX").get<int64_t>(),       c.at("KSM_THRES_COEF").get<int64_t>(),
        c.at("KSM_THRES_CONST").get<int64_t>(),      c.at("KSM_SLEEP_MSEC").get<int64_t>()};
  } catch (const std::exception& e) {
    *error = fmt::format("not a sweep's spec.json: {}", e.what());
    return false;
  }
  return true;
}

}  // namespace ksmsim::tools::sweep
