// Traces (docs/TRACE-FORMAT.md), the parts shared by both encodings: a trace's header and
// canonical op fields built from a workload, the field checks, and Encode / Decode /
// ReadTraceFile / WriteTraceFile choosing between JSON Lines (traces/trace_jsonl.cc) and the
// binary encoding (traces/trace_binary.cc).
#include "traces/trace.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "fmt/format.h"
#include "traces/trace_codec.h"
#include "workloads/counters.h"
#include "workloads/ops.h"
#include "workloads/step_json.h"

namespace ksmsim::traces {

using Json = nlohmann::ordered_json;
using workloads::Op;

namespace internal {

[[noreturn]] void Bad(const std::string& where, const std::string& what) {
  throw TraceError{where.empty() ? what : where + ": " + what};
}

bool IsInt(const Json& v) { return v.is_number_integer(); }

// How a trace holds each JSON type of the workload format.
FieldType TraceType(workloads::FieldType type) {
  using T = workloads::FieldType;
  switch (type) {
    case T::kName:
    case T::kString:
    case T::kAdvice:
    case T::kExpectedError:
      return FieldType::kStr;
    case T::kUint:
      return FieldType::kUint;
    case T::kBool:
      return FieldType::kBool;
    case T::kRange:
      return FieldType::kRange;
    case T::kKnobWrites:
      return FieldType::kKnobs;
    case T::kCounters:
      return FieldType::kCounters;
    case T::kProcCounters:
      return FieldType::kProcs;
    case T::kData:   // a write's contents instead
    case T::kSteps:  // repeat is flattened
      break;
  }
  Bad("",
      fmt::format("internal error: a field of JSON type {} in a trace", static_cast<int>(type)));
}

const std::vector<Field>& TraceFields() {
  static const std::vector<Field> fields = [] {
    std::vector<Field> v = {{"path", FieldType::kStr, 0}};
    for (const workloads::FieldSpec* f : workloads::AllFields()) {
      if (f->trace_id != workloads::kNotInTraces) {
        v.push_back({f->name, TraceType(f->type), f->trace_id});
      }
    }
    return v;
  }();
  return fields;
}

int NumFieldIds() {
  static const int n = [] {
    int max = kFieldScans;
    for (const Field& f : TraceFields()) max = std::max(max, f.id);
    return max + 1;
  }();
  return n;
}

std::optional<Op> OpOf(const Json& fields) {
  auto it = fields.find("op");
  if (it == fields.end() || !it->is_string()) return std::nullopt;
  auto op = workloads::OpFromName(it->get<std::string>());
  if (!op || *op == Op::kRepeat) return std::nullopt;
  return op;
}

}  // namespace internal

using namespace internal;

namespace {

void CheckFieldType(const Field& f, const Json& v, const std::string& where) {
  auto bad = [&](const char* want) {
    Bad(where, fmt::format("field \"{}\" must be {}, got {}", f.name, want, v.dump()));
  };
  auto counters = [&](const Json& obj) {
    if (!obj.is_object()) bad("an object of integers");
    for (const auto& [k, x] : obj.items())  // the binary encoding holds them as int64
      if (!IsInt(x) || (x.is_number_unsigned() && x.get<uint64_t>() > INT64_MAX))
        bad("an object of integers");
  };
  switch (f.type) {
    case FieldType::kStr:
      if (!v.is_string()) bad("a string");
      break;
    case FieldType::kUint:
      if (!v.is_number_unsigned() && !(IsInt(v) && v.get<int64_t>() >= 0))
        bad("a non-negative integer");
      break;
    case FieldType::kBool:
      if (!v.is_boolean()) bad("true or false");
      break;
    case FieldType::kRange:
      if (!v.is_array() || v.size() != 2 || !v[0].is_number_unsigned() ||
          !v[1].is_number_unsigned())
        bad("[first, end)");
      break;
    case FieldType::kKnobs:
    case FieldType::kCounters:
      counters(v);
      break;
    case FieldType::kProcs:
      if (!v.is_object()) bad("an object of counter objects");
      for (const auto& [k, x] : v.items()) counters(x);
      break;
  }
}

}  // namespace

// ---- from workloads ----------------------------------------------------------------------

TraceHeader HeaderOf(const workloads::Workload& w) {
  TraceHeader h;
  h.name = w.name;
  h.description = w.description;
  h.seed = w.seed;
  h.kernel = std::string(workloads::KernelProfileName(w.kernel));
  Json nodes = Json::array();
  for (const auto& n : w.machine.nodes) nodes.push_back({{"memory_mib", n.memory_mib}});
  h.machine = {{"nodes", nodes},
               {"swap_mib", w.machine.swap_mib},
               {"memory_block_mib", w.machine.memory_block_mib},
               {"page_size", w.machine.page_size}};
  for (const auto& [k, v] : w.ksm) h.ksm[k] = v;
  return h;
}

Json StepFields(const workloads::Step& s, const std::string& path) {
  Json j = workloads::StepToJson(s);
  j.erase("data");  // a write's contents are its trace record's own
  // A trace holds knob writes as integers: advisor_mode as its number (0 none, 1 scan-time).
  if (auto set = j.find("set"); set != j.end()) {
    if (auto m = set->find(workloads::kAdvisorMode); m != set->end() && m->is_string())
      *m = workloads::AdvisorModeFromName(m->get<std::string>()).value_or(-1);
  }
  j["path"] = path;
  return Canonical(j, "");
}

Json Canonical(const Json& fields, const std::string& where) {
  if (!fields.is_object()) Bad(where, "an op must be a JSON object");
  if (!OpOf(fields)) {
    auto it = fields.find("op");
    Bad(where, it == fields.end() ? std::string("missing \"op\"")
                                  : fmt::format("unknown record type (op) {}", it->dump()));
  }
  for (const auto& [k, v] : fields.items()) {
    if (k == "op") continue;
    bool known = false;
    for (const Field& f : TraceFields()) known |= k == f.name;
    if (!known) Bad(where, fmt::format("unknown field \"{}\"", k));
  }
  Json out;
  out["op"] = fields["op"];
  for (const Field& f : TraceFields()) {
    auto it = fields.find(std::string(f.name));
    if (it == fields.end()) continue;
    CheckFieldType(f, *it, where);
    out[std::string(f.name)] = *it;
  }
  if (!out.contains("path")) Bad(where, "missing \"path\"");
  return out;
}

Json ContentToJson(const ContentRef& c) {
  switch (c.kind) {
    case ContentRef::Kind::kFill: return {{"fill", c.value}};
    case ContentRef::Kind::kGen: return {{"gen", c.value}};
    case ContentRef::Kind::kPatch: return {{"patch", {c.offset, c.value}}};
  }
  return nullptr;
}

uint64_t PagesWritten(const Trace& t) {
  uint64_t n = 0;
  for (const auto& op : t.ops)
    for (const auto& r : op.contents) n += r.count;
  return n;
}

std::string Encode(const Trace& t, Encoding e) {
  return e == Encoding::kBinary ? EncodeBinary(t) : EncodeJsonl(t);
}

Encoding DetectEncoding(std::string_view bytes) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), kMagic, 4) == 0) return Encoding::kBinary;
  return Encoding::kJsonl;
}

Trace Decode(std::string_view bytes, Encoding* detected) {
  Encoding e = DetectEncoding(bytes);
  if (detected) *detected = e;
  if (e == Encoding::kBinary) return DecodeBinary(bytes);
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) Bad("byte offset 0", "empty file");
  if (bytes[first] != '{')
    Bad("byte offset 0", "wrong magic: neither a binary ksmsim trace (\"KSMTRACE\") nor JSON "
                         "Lines (a header line starting with '{')");
  return DecodeJsonl(bytes);
}

Trace ReadTraceFile(const std::string& path, Encoding* detected) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw TraceError{fmt::format("{}: cannot open", path)};
  std::ostringstream ss;
  ss << f.rdbuf();
  try {
    return Decode(ss.str(), detected);
  } catch (const TraceError& e) {
    throw TraceError{path + ": " + e.message};
  }
}

void WriteTraceFile(const std::string& path, const Trace& t, Encoding e) {
  std::ofstream f(path, std::ios::binary);
  f << Encode(t, e);
  if (!f) throw TraceError{fmt::format("{}: cannot write", path)};
}

}  // namespace ksmsim::traces
