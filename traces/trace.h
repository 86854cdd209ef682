// Traces (docs/TRACE-FORMAT.md): the operations a run applied to the machine, flattened, with
// every written page's content resolved to an explicit identity, and the ksmd scans marked.
// Two encodings: JSON Lines and a compact binary one; readers detect which from the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "workloads/workload.h"

namespace ksmsim::traces {

inline constexpr int64_t kTraceVersion = 1;

// A page's content, explicit: fill(b), gen(x) (WORKLOAD-FORMAT "Byte for byte"), or the
// page's current content with byte `offset` set to `value`.
struct ContentRef {
  enum class Kind : uint8_t { kFill = 0, kGen = 1, kPatch = 2 };
  Kind kind = Kind::kFill;
  uint64_t value = 0;   // fill: the byte; gen: x; patch: the byte's new value
  uint16_t offset = 0;  // patch only
  friend bool operator==(const ContentRef&, const ContentRef&) = default;
  friend auto operator<=>(const ContentRef&, const ContentRef&) = default;
};

// `count` consecutive pages with the same content.
struct ContentRun {
  uint64_t count = 0;
  ContentRef content;
  friend bool operator==(const ContentRun&, const ContentRun&) = default;
};

// One executed operation. `fields` is the op as a workload step (WORKLOAD-FORMAT "Steps")
// with "op" and "path" (the step's JSON path in the recorded workload), without `data`,
// keys in canonical order; `contents` holds a write's pages in range order; `scans` the
// ksm_start_scan / ksm_stop_scan counts of a wait.
struct TraceOp {
  nlohmann::ordered_json fields;
  std::vector<ContentRun> contents;
  std::optional<std::pair<uint64_t, uint64_t>> scans;
  std::string where;  // where it was read ("line 7", "byte offset 123 (record 5)"), if read
  friend bool operator==(const TraceOp& a, const TraceOp& b) {
    return a.fields == b.fields && a.contents == b.contents && a.scans == b.scans;
  }
};

struct TraceHeader {
  int64_t version = kTraceVersion;
  std::string name;
  std::string description;
  uint64_t seed = 0;
  std::string kernel = "6.1";
  nlohmann::ordered_json machine = nlohmann::ordered_json::object();
  nlohmann::ordered_json ksm = nlohmann::ordered_json::object();  // initial knobs, in order
  friend bool operator==(const TraceHeader&, const TraceHeader&) = default;
};

struct Trace {
  TraceHeader header;
  std::vector<TraceOp> ops;
  friend bool operator==(const Trace&, const Trace&) = default;
};

enum class Encoding { kJsonl, kBinary };

// A bad trace: the message names the line or byte offset.
struct TraceError {
  std::string message;
};

// Header fields of a workload (machine, knobs, seed, ...).
TraceHeader HeaderOf(const workloads::Workload& w);
// A step (not repeat, not write's data) as canonical trace fields with its path.
nlohmann::ordered_json StepFields(const workloads::Step& s, const std::string& path);
// Reorders an op's keys canonically; throws TraceError on an unknown key.
nlohmann::ordered_json Canonical(const nlohmann::ordered_json& fields, const std::string& where);

nlohmann::ordered_json ContentToJson(const ContentRef& c);

std::string EncodeJsonl(const Trace& t);
std::string EncodeBinary(const Trace& t);
std::string Encode(const Trace& t, Encoding e);
// Detects the encoding from the first bytes (binary magic "KSMTRACE", else JSON Lines).
Encoding DetectEncoding(std::string_view bytes);
// Throws TraceError (never anything else) on bad input.
Trace Decode(std::string_view bytes, Encoding* detected = nullptr);
Trace ReadTraceFile(const std::string& path, Encoding* detected = nullptr);
void WriteTraceFile(const std::string& path, const Trace& t, Encoding e);

// Total pages written by the trace's write ops.
uint64_t PagesWritten(const Trace& t);

}  // namespace ksmsim::traces
