// Internal to traces/: the parts of the trace encodings (docs/TRACE-FORMAT.md) that both
// readers share: the op field table (canonical key order and binary field ids), the binary
// magic, the error helper and the two decoders that Decode (traces/trace.cc) dispatches to.
// Not a public interface; the layers above include traces/trace.h.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "traces/trace.h"
#include "workloads/workload.h"

namespace ksmsim::traces::internal {

enum class FieldType { kStr, kUint, kBool, kRange, kKnobs, kCounters, kProcs };
struct Field {
  const char* name;
  FieldType type;
};
// Canonical key order of an op's fields after "op"; the index is the binary field id.
// Ids 18 (contents) and 19 (scans) are TraceOp's own members.
inline constexpr std::array<Field, 18> kFields = {{
    {"path", FieldType::kStr},         {"proc", FieldType::kStr},
    {"child", FieldType::kStr},        {"region", FieldType::kStr},
    {"pages", FieldType::kUint},       {"node", FieldType::kUint},
    {"locked", FieldType::kBool},      {"range", FieldType::kRange},
    {"advice", FieldType::kStr},       {"block", FieldType::kUint},
    {"expect_error", FieldType::kStr}, {"set", FieldType::kKnobs},
    {"ms", FieldType::kUint},          {"full_scans", FieldType::kUint},
    {"ksm", FieldType::kCounters},     {"procs", FieldType::kProcs},
    {"vmstat", FieldType::kCounters},  {"label", FieldType::kStr},
}};
inline constexpr int kFieldContents = 18;
inline constexpr int kFieldScans = 19;
inline constexpr int kNumFieldIds = 20;

inline constexpr char kMagic[8] = {'K', 'S', 'M', 'T', 'R', 'A', 'C', 'E'};

// Throws TraceError "where: what" (or "what" when `where` is empty).
[[noreturn]] void Bad(const std::string& where, const std::string& what);
bool IsInt(const nlohmann::ordered_json& v);
// The op of a record's fields, if it is a known op other than repeat.
std::optional<workloads::Op> OpOf(const nlohmann::ordered_json& fields);

// The readers behind Decode: traces/trace_jsonl.cc and traces/trace_binary.cc.
Trace DecodeJsonl(std::string_view bytes);
Trace DecodeBinary(std::string_view bytes);

}  // namespace ksmsim::traces::internal
