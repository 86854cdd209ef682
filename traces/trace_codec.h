// Internal to traces/: the parts of the trace encodings (docs/TRACE-FORMAT.md) that both
// readers share: the op field table (canonical key order and binary field ids, from the
// workload format's op table), the binary magic, the error helper and the two decoders
// that Decode (traces/trace.cc) dispatches to.
// Not a public interface; the layers above include traces/trace.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "traces/trace.h"
#include "workloads/workload.h"

namespace ksmsim::traces::internal {

// How a trace encodes a field's value (binary: a string-table index, a varint, ...).
enum class FieldType { kStr, kUint, kBool, kRange, kKnobs, kCounters, kProcs };
struct Field {
  std::string_view name;
  FieldType type;
  int id;  // the binary field id, a bit of a record's field mask
};
// The fields of trace records in canonical key order after "op": "path" (id 0), then every
// field of the workload format's op table that traces carry (workloads/fields.h
// `trace_id`), by id. Ids 18 (contents) and 19 (scans) are TraceOp's own members.
const std::vector<Field>& TraceFields();
inline constexpr int kFieldContents = 18;
inline constexpr int kFieldScans = 19;
// One more than the largest field id.
int NumFieldIds();

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
