// Writing and reading result documents (see result.h).
#include "workloads/result.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "workloads/parse_json.h"

namespace ksmsim::workloads {
namespace {

using Json = nlohmann::ordered_json;

Json CountersToJson(const CounterMap& counters) {
  Json out = Json::object();
  for (const auto& [name, value] : counters) out[name] = value;
  return out;
}

[[noreturn]] void Fail(const std::string& path, const std::string& message) {
  throw ResultFormatError(path.empty() ? message : fmt::format("{}: {}", path, message));
}

// Checks that `v` is an object with exactly the `required` keys plus some `optional` ones.
void CheckObject(const Json& v, const std::string& path, std::vector<std::string_view> required,
                 std::vector<std::string_view> optional) {
  if (!v.is_object()) Fail(path, fmt::format("expected an object, got {}", DescribeJson(v)));
  for (std::string_view key : required) {
    if (!v.contains(key)) Fail(path, fmt::format("missing required field \"{}\"", key));
  }
  for (const auto& [key, value] : v.items()) {
    bool known = false;
    for (std::string_view k : required) known = known || k == key;
    for (std::string_view k : optional) known = known || k == key;
    if (!known) Fail(JoinKey(path, key), fmt::format("unknown field \"{}\"", key));
  }
}

int64_t GetInt(const Json& v, const std::string& path) {
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
  Fail(path, fmt::format("expected a 64-bit signed integer, got {}", DescribeJson(v)));
}

uint64_t GetUint(const Json& v, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<int64_t>();
  Fail(path, fmt::format("expected a non-negative integer, got {}", DescribeJson(v)));
}

std::string GetString(const Json& v, const std::string& path) {
  if (!v.is_string()) Fail(path, fmt::format("expected a string, got {}", DescribeJson(v)));
  return v.get<std::string>();
}

CounterMap GetCounters(const Json& v, const std::string& path) {
  if (!v.is_object()) Fail(path, fmt::format("expected an object, got {}", DescribeJson(v)));
  CounterMap out;
  for (const auto& [name, value] : v.items()) out[name] = GetInt(value, JoinKey(path, name));
  return out;
}

ResultEntry EntryFromJson(const Json& v, const std::string& path) {
  CheckObject(v, path, {"step", "op", "label", "time_ns", "ksm", "procs", "vmstat", "mismatches"},
              {"machine", "error"});
  ResultEntry e;
  e.step = GetUint(v["step"], JoinKey(path, "step"));
  std::string op = GetString(v["op"], JoinKey(path, "op"));
  auto parsed = OpFromName(op);
  if (!parsed) Fail(JoinKey(path, "op"), fmt::format("unknown op \"{}\"", op));
  e.op = *parsed;
  e.label = GetString(v["label"], JoinKey(path, "label"));
  e.time_ns = GetInt(v["time_ns"], JoinKey(path, "time_ns"));
  e.ksm = GetCounters(v["ksm"], JoinKey(path, "ksm"));
  const Json& procs = v["procs"];
  std::string procs_path = JoinKey(path, "procs");
  if (!procs.is_object()) {
    Fail(procs_path, fmt::format("expected an object, got {}", DescribeJson(procs)));
  }
  for (const auto& [proc, counters] : procs.items()) {
    e.procs[proc] = GetCounters(counters, JoinKey(procs_path, proc));
  }
  e.vmstat = GetCounters(v["vmstat"], JoinKey(path, "vmstat"));
  if (v.contains("machine")) e.machine = v["machine"];
  const Json& mismatches = v["mismatches"];
  std::string mm_path = JoinKey(path, "mismatches");
  if (!mismatches.is_array()) {
    Fail(mm_path, fmt::format("expected an array, got {}", DescribeJson(mismatches)));
  }
  for (size_t i = 0; i < mismatches.size(); ++i) {
    std::string p = JoinIndex(mm_path, i);
    CheckObject(mismatches[i], p, {"counter", "expected", "actual"}, {});
    e.mismatches.push_back(Mismatch{GetString(mismatches[i]["counter"], JoinKey(p, "counter")),
                                    GetInt(mismatches[i]["expected"], JoinKey(p, "expected")),
                                    GetInt(mismatches[i]["actual"], JoinKey(p, "actual"))});
  }
  if (v.contains("error") && !v["error"].is_null()) {
    e.error = GetString(v["error"], JoinKey(path, "error"));
  }
  return e;
}

}  // namespace

nlohmann::ordered_json ToJson(const ResultDocument& document) {
  Json results = Json::array();
  for (const ResultEntry& e : document.results) {
    Json entry;
    entry["step"] = e.step;
    entry["op"] = std::string(OpName(e.op));
    entry["label"] = e.label;
    entry["time_ns"] = e.time_ns;
    entry["ksm"] = CountersToJson(e.ksm);
    Json procs = Json::object();
    for (const auto& [proc, counters] : e.procs) procs[proc] = CountersToJson(counters);
    entry["procs"] = std::move(procs);
    entry["vmstat"] = CountersToJson(e.vmstat);
    if (!e.machine.is_null()) entry["machine"] = e.machine;
    Json mismatches = Json::array();
    for (const Mismatch& m : e.mismatches) {
      Json mj;
      mj["counter"] = m.counter;
      mj["expected"] = m.expected;
      mj["actual"] = m.actual;
      mismatches.push_back(std::move(mj));
    }
    entry["mismatches"] = std::move(mismatches);
    if (e.error) entry["error"] = *e.error;
    results.push_back(std::move(entry));
  }
  Json out;
  out["ksmsim"] = kFormatVersion;
  out["workload"] = document.workload;
  out["engine"] = document.engine;
  out["seed"] = document.seed;
  out["results"] = std::move(results);
  if (!document.outcomes.is_null()) out["outcomes"] = document.outcomes;
  out["errors"] = document.errors;
  if (!document.notes.is_null()) out["notes"] = document.notes;
  return out;
}

ResultDocument ResultFromJson(const nlohmann::ordered_json& json) {
  CheckObject(json, "", {"ksmsim", "workload", "engine", "seed", "results", "errors"},
              {"outcomes", "notes"});
  const Json& version = json["ksmsim"];
  if (!version.is_number_integer() || version.get<int64_t>() != kFormatVersion) {
    Fail("ksmsim",
         fmt::format("unsupported result format version {}: expected 1", DescribeJson(version)));
  }
  ResultDocument d;
  d.workload = GetString(json["workload"], "workload");
  d.engine = GetString(json["engine"], "engine");
  d.seed = GetUint(json["seed"], "seed");
  const Json& results = json["results"];
  if (!results.is_array()) {
    Fail("results", fmt::format("expected an array, got {}", DescribeJson(results)));
  }
  for (size_t i = 0; i < results.size(); ++i) {
    d.results.push_back(EntryFromJson(results[i], JoinIndex("results", i)));
  }
  const Json& errors = json["errors"];
  if (!errors.is_array()) {
    Fail("errors", fmt::format("expected an array, got {}", DescribeJson(errors)));
  }
  for (size_t i = 0; i < errors.size(); ++i) {
    d.errors.push_back(GetString(errors[i], JoinIndex("errors", i)));
  }
  if (json.contains("outcomes")) {
    if (!json["outcomes"].is_array())
      Fail("outcomes", fmt::format("expected an array, got {}", DescribeJson(json["outcomes"])));
    d.outcomes = json["outcomes"];
  }
  if (json.contains("notes")) d.notes = json["notes"];
  return d;
}

ResultDocument ResultFromJson(const nlohmann::json& json) {
  // Same values, the order of keys aside (counters are sorted by name in any case).
  return ResultFromJson(nlohmann::ordered_json::parse(json.dump()));
}

ResultDocument ReadResultFile(const std::string& path) {
  std::string text;
  int error = ReadTextFile(path, text);
  if (error != 0) {
    throw ResultFormatError(
        fmt::format("{}: cannot read the result file: {}", path, std::strerror(error)));
  }
  StrictJson json = ParseStrictJson(text);
  if (!json.problems.empty()) {
    const JsonProblem& p = json.problems.front();
    if (p.line != 0) {
      throw ResultFormatError(fmt::format("{}:{}:{}: {}", path, p.line, p.column, p.message));
    }
    throw ResultFormatError(fmt::format("{}: {}: {}", path, p.path, p.message));
  }
  try {
    return ResultFromJson(*json.value);
  } catch (const ResultFormatError& e) {
    throw ResultFormatError(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace ksmsim::workloads
