// Traces (docs/TRACE-FORMAT.md): the JSON Lines encoding, its writer and its reader.
#include <string>
#include <string_view>

#include "fmt/format.h"
#include "traces/input_checks.h"
#include "traces/trace.h"
#include "traces/trace_codec.h"

namespace ksmsim::traces {

using Json = nlohmann::ordered_json;
using namespace internal;

namespace {

// ---- content identities ----------------------------------------------------------------

ContentRef ContentFromJson(const Json& v, const std::string& where) {
  if (!v.is_object() || v.size() != 1)
    Bad(where, fmt::format("a content must be {{\"fill\": B}}, {{\"gen\": X}} or "
                           "{{\"patch\": [O, B]}}, got {}",
                           v.dump()));
  ContentRef c;
  // Copy the key and hold the value through the object, not through a temporary iterator.
  const auto it = v.begin();
  const std::string k = it.key();
  const Json& x = *it;
  if (k == "fill" && x.is_number_unsigned() && x.get<uint64_t>() <= 255) {
    c.kind = ContentRef::Kind::kFill;
    c.value = x.get<uint64_t>();
  } else if (k == "gen" && x.is_number_unsigned()) {
    c.kind = ContentRef::Kind::kGen;
    c.value = x.get<uint64_t>();
  } else if (k == "patch" && x.is_array() && x.size() == 2 && x[0].is_number_unsigned() &&
             x[1].is_number_unsigned() && x[0].get<uint64_t>() < workloads::kPageSize &&
             x[1].get<uint64_t>() <= 255) {
    c.kind = ContentRef::Kind::kPatch;
    c.offset = static_cast<uint16_t>(x[0].get<uint64_t>());
    c.value = x[1].get<uint64_t>();
  } else {
    Bad(where, fmt::format("bad content {}", v.dump()));
  }
  return c;
}

}  // namespace

// ---- JSON Lines ------------------------------------------------------------------------

std::string EncodeJsonl(const Trace& t) {
  std::string out;
  Json h;
  h["ksmsim_trace"] = t.header.version;
  h["name"] = t.header.name;
  h["description"] = t.header.description;
  h["seed"] = t.header.seed;
  h["kernel"] = t.header.kernel;
  h["machine"] = t.header.machine;
  h["ksm"] = t.header.ksm;
  out += h.dump() + "\n";
  for (const TraceOp& op : t.ops) {
    Json j = op.fields;
    if (op.fields.value("op", "") == "write") {
      Json c = Json::array();
      for (const auto& r : op.contents) c.push_back({r.count, ContentToJson(r.content)});
      j["contents"] = c;
    }
    if (op.scans) j["scans"] = {op.scans->first, op.scans->second};
    out += j.dump() + "\n";
  }
  out += Json{{"end", t.ops.size()}}.dump() + "\n";
  return out;
}

namespace internal {

Trace DecodeJsonl(std::string_view bytes) {
  Trace t;
  uint64_t line_no = 0;
  size_t pos = 0;
  bool have_header = false, have_end = false;
  while (pos < bytes.size()) {
    size_t nl = bytes.find('\n', pos);
    bool terminated = nl != std::string_view::npos;
    std::string_view line = bytes.substr(pos, terminated ? nl - pos : std::string_view::npos);
    pos = terminated ? nl + 1 : bytes.size();
    ++line_no;
    std::string where = fmt::format("line {}", line_no);
    if (line.empty()) continue;
    if (have_end) Bad(where, "content after the end record");
    Json j;
    if (TooDeep(line)) Bad(where, fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth));
    try {
      j = Json::parse(line);
    } catch (const std::exception& e) {
      Bad(where, fmt::format("not JSON{}: {}", terminated ? "" : " (truncated file?)", e.what()));
    }
    if (!j.is_object()) Bad(where, "each line must be a JSON object");
    if (!have_header) {
      auto v = j.find("ksmsim_trace");
      if (v == j.end() || !IsInt(*v))
        Bad(where, "the first line must be the trace header {\"ksmsim_trace\": 1, ...}");
      if (v->get<int64_t>() != kTraceVersion)
        Bad(where, fmt::format("trace format version {} is not supported (this ksmsim reads "
                               "version {})",
                               v->dump(), kTraceVersion));
      for (const auto& [k, x] : j.items()) {
        if (k == "ksmsim_trace") continue;
        if (k == "name" && x.is_string()) t.header.name = x;
        else if (k == "description" && x.is_string()) t.header.description = x;
        else if (k == "seed" && x.is_number_unsigned()) t.header.seed = x;
        else if (k == "kernel" && x.is_string()) t.header.kernel = x;
        else if (k == "machine" && x.is_object()) t.header.machine = x;
        else if (k == "ksm" && x.is_object()) t.header.ksm = x;
        else Bad(where, fmt::format("unknown or mistyped header field \"{}\"", k));
      }
      have_header = true;
      continue;
    }
    if (j.contains("end") && !j.contains("op")) {
      if (!j["end"].is_number_unsigned() || j["end"].get<uint64_t>() != t.ops.size())
        Bad(where, fmt::format("the end record says {} ops, the file holds {}", j["end"].dump(),
                               t.ops.size()));
      have_end = true;
      continue;
    }
    TraceOp op;
    op.where = where;
    Json fields = j;
    fields.erase("contents");
    fields.erase("scans");
    op.fields = Canonical(fields, where);
    bool is_write = op.fields["op"] == "write";
    if (j.contains("contents")) {
      if (!is_write) Bad(where, "only a write has \"contents\"");
      const Json& c = j["contents"];
      if (!c.is_array()) Bad(where, "\"contents\" must be an array of [count, content]");
      for (const Json& r : c) {
        if (!r.is_array() || r.size() != 2 || !r[0].is_number_unsigned() ||
            r[0].get<uint64_t>() == 0)
          Bad(where, fmt::format("bad contents run {}", r.dump()));
        op.contents.push_back({r[0].get<uint64_t>(), ContentFromJson(r[1], where)});
      }
    } else if (is_write) {
      Bad(where, "a write needs \"contents\"");
    }
    if (j.contains("scans")) {
      const Json& s = j["scans"];
      if (!s.is_array() || s.size() != 2 || !s[0].is_number_unsigned() ||
          !s[1].is_number_unsigned())
        Bad(where, "\"scans\" must be [starts, stops]");
      op.scans = {s[0].get<uint64_t>(), s[1].get<uint64_t>()};
    }
    t.ops.push_back(std::move(op));
  }
  if (!have_header) Bad("line 1", "empty trace (no header)");
  if (!have_end)
    Bad(fmt::format("line {}", line_no + 1), "truncated: the end record {\"end\": N} is missing");
  return t;
}

}  // namespace internal

}  // namespace ksmsim::traces
