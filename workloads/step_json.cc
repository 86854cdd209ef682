// Writing a typed step as JSON (see step_json.h), one overload per member type.
#include "workloads/step_json.h"

#include "workloads/counters.h"
#include "workloads/ops.h"

namespace ksmsim::workloads {
namespace {

using Json = nlohmann::ordered_json;

Json CountersJson(const CounterMap& m) {
  Json o = Json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// Whether an optional field was given (a required one always is).
template <class M>
bool Given(const M& value) {
  if constexpr (requires { value.has_value(); }) {
    return value.has_value();
  } else if constexpr (std::is_same_v<M, bool>) {
    return value;
  } else if constexpr (requires { value.empty(); }) {
    return !value.empty();
  } else {
    return true;
  }
}

Json ToJson(const std::string& v) { return v; }
Json ToJson(uint64_t v) { return v; }
Json ToJson(bool v) { return v; }
Json ToJson(const PageRange& v) { return {v.first, v.end}; }
Json ToJson(Advice v) { return std::string(AdviceName(v)); }
Json ToJson(ExpectedError v) { return std::string(ExpectedErrorName(v)); }
Json ToJson(const CounterMap& v) { return CountersJson(v); }

Json ToJson(const ProcCounterMap& v) {
  Json o = Json::object();
  for (const auto& [name, m] : v) o[name] = CountersJson(m);
  return o;
}

Json ToJson(const KnobList& v) {
  Json o = Json::object();
  for (const auto& [k, x] : v) {
    if (k == kAdvisorMode)
      o[k] = std::string(AdvisorModeName(x));  // its string, as the file gives it
    else
      o[k] = x;
  }
  return o;
}

Json ToJson(const DataSpec& d) {
  switch (d.kind) {
    case DataSpec::Kind::kFill:
      return {{"fill", d.fill}};
    case DataSpec::Kind::kUnique:
      return {{"unique", true}};
    case DataSpec::Kind::kKey:
      return {{"key", d.key}};
    case DataSpec::Kind::kCycle:
      return {{"cycle", d.k}};
    case DataSpec::Kind::kPool:
      return {{"pool", d.k}};
    case DataSpec::Kind::kPatch:
      return {{"patch", {{"offset", d.patch_offset}, {"value", d.patch_value}}}};
  }
  return nullptr;
}

Json ToJson(const std::vector<Step>& steps) {
  Json a = Json::array();
  for (const Step& s : steps) a.push_back(StepToJson(s));
  return a;
}

template <class T>
Json ToJson(const std::optional<T>& v) {
  return v ? ToJson(*v) : Json(nullptr);  // unset only in a step that did not parse
}

}  // namespace

Json StepToJson(const Step& step) {
  Json j;
  j["op"] = std::string(OpName(step.op()));
  std::visit(
      [&j](const auto& payload) {
        using P = std::decay_t<decltype(payload)>;
        ForEachFieldOf<P>([&](const auto& field) {
          const auto& value = payload.*field.member;
          if (field.required || Given(value)) j[std::string(field.spec->name)] = ToJson(value);
        });
      },
      step.payload);
  if (!step.label.empty()) j["label"] = step.label;
  return j;
}

}  // namespace ksmsim::workloads
