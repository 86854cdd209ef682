#include "traces/trace.h"

#include <xxhash.h>

#include <array>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "fmt/format.h"
#include "traces/input_checks.h"

namespace ksmsim::traces {

using Json = nlohmann::ordered_json;
using workloads::Op;

namespace {

enum class FieldType { kStr, kUint, kBool, kRange, kKnobs, kCounters, kProcs };
struct Field {
  const char* name;
  FieldType type;
};
// Canonical key order of an op's fields after "op"; the index is the binary field id.
// Ids 18 (contents) and 19 (scans) are TraceOp's own members.
constexpr std::array<Field, 18> kFields = {{
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
constexpr int kFieldContents = 18;
constexpr int kFieldScans = 19;
constexpr int kNumFieldIds = 20;

[[noreturn]] void Bad(const std::string& where, const std::string& what) {
  throw TraceError{where.empty() ? what : where + ": " + what};
}

bool IsInt(const Json& v) { return v.is_number_integer(); }

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

std::optional<Op> OpOf(const Json& fields) {
  auto it = fields.find("op");
  if (it == fields.end() || !it->is_string()) return std::nullopt;
  auto op = workloads::OpFromName(it->get<std::string>());
  if (!op || *op == Op::kRepeat) return std::nullopt;
  return op;
}

Json CountersJson(const workloads::CounterMap& m) {
  Json o = Json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

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

// ---- byte I/O ----------------------------------------------------------------------------

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

class ByteReader {
 public:
  ByteReader(std::string_view bytes, uint64_t base, std::string what)
      : b_(bytes), base_(base), what_(std::move(what)) {}
  uint64_t offset() const { return base_ + pos_; }
  bool done() const { return pos_ >= b_.size(); }
  [[noreturn]] void Fail(const std::string& msg) const {
    Bad(fmt::format("byte offset {}{}", offset(), what_), msg);
  }
  void Need(size_t n) const {
    if (b_.size() - pos_ < n) Fail(fmt::format("truncated: {} more bytes needed, {} left", n,
                                               b_.size() - pos_));
  }
  uint8_t U8() {
    Need(1);
    return static_cast<uint8_t>(b_[pos_++]);
  }
  uint64_t Fixed(int n) {
    Need(n);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(b_[pos_ + i])} << (8 * i);
    pos_ += n;
    return v;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = U8();
      v |= uint64_t{byte & 0x7fu} << shift;
      if (!(byte & 0x80)) return v;
    }
    Fail("varint longer than 10 bytes");
  }
  std::string_view Bytes(uint64_t n) {
    if (n > b_.size() - pos_) Need(n);
    std::string_view s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void set_what(std::string w) { what_ = std::move(w); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
  uint64_t base_;
  std::string what_;
};

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
constexpr bool kVerifyChecksums = false;  // the fuzz targets' copy: let mutations through
#else
constexpr bool kVerifyChecksums = true;
#endif

constexpr char kMagic[8] = {'K', 'S', 'M', 'T', 'R', 'A', 'C', 'E'};
constexpr size_t kChunkRecords = 4096;

void PutSection(std::string& out, char tag, uint64_t count, const std::string& payload) {
  out.push_back(tag);
  PutVarint(out, count);
  PutVarint(out, payload.size());
  PutU64(out, XXH64(payload.data(), payload.size(), 0));
  out += payload;
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
  Json j;
  j["op"] = std::string(workloads::OpName(s.op));
  j["path"] = path;
  if (!s.proc.empty()) j["proc"] = s.proc;
  if (!s.child.empty()) j["child"] = s.child;
  if (!s.region.empty()) j["region"] = s.region;
  if (s.pages) j["pages"] = *s.pages;
  if (s.node) j["node"] = *s.node;
  if (s.locked) j["locked"] = true;
  if (s.range) j["range"] = {s.range->first, s.range->end};
  if (s.advice) j["advice"] = std::string(workloads::AdviceName(*s.advice));
  if (s.block) j["block"] = *s.block;
  if (s.expect_error) j["expect_error"] = std::string(workloads::ExpectedErrorName(*s.expect_error));
  if (s.op == Op::kKsm) {
    Json set = Json::object();
    for (const auto& [k, v] : s.set) set[k] = v;
    j["set"] = set;
  }
  if (s.wait) {
    j[s.wait->unit == workloads::WaitSpec::Unit::kMs ? "ms" : "full_scans"] = s.wait->amount;
  }
  if (s.expect) {
    if (!s.expect->ksm.empty()) j["ksm"] = CountersJson(s.expect->ksm);
    if (!s.expect->procs.empty()) {
      Json p = Json::object();
      for (const auto& [name, m] : s.expect->procs) p[name] = CountersJson(m);
      j["procs"] = p;
    }
    if (!s.expect->vmstat.empty()) j["vmstat"] = CountersJson(s.expect->vmstat);
  }
  if (!s.label.empty()) j["label"] = s.label;
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
    for (const Field& f : kFields) known |= k == f.name;
    if (!known) Bad(where, fmt::format("unknown field \"{}\"", k));
  }
  Json out;
  out["op"] = fields["op"];
  for (const Field& f : kFields) {
    auto it = fields.find(f.name);
    if (it == fields.end()) continue;
    CheckFieldType(f, *it, where);
    out[f.name] = *it;
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

namespace {

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

// ---- binary ------------------------------------------------------------------------------

struct Tables {
  std::map<std::string, uint64_t> strings;
  std::vector<std::string> string_list;
  std::map<ContentRef, uint64_t> contents;
  std::vector<ContentRef> content_list;
  uint64_t Str(const std::string& s) {
    auto [it, inserted] = strings.emplace(s, string_list.size());
    if (inserted) string_list.push_back(s);
    return it->second;
  }
  uint64_t Content(const ContentRef& c) {
    auto [it, inserted] = contents.emplace(c, content_list.size());
    if (inserted) content_list.push_back(c);
    return it->second;
  }
};

void PutCounters(std::string& out, Tables& tb, const Json& obj) {
  PutVarint(out, obj.size());
  for (const auto& [k, v] : obj.items()) {
    PutVarint(out, tb.Str(k));
    PutVarint(out, ZigZag(v.get<int64_t>()));
  }
}

void PutRecord(std::string& out, Tables& tb, const TraceOp& op) {
  auto type = *OpOf(op.fields);
  out.push_back(static_cast<char>(static_cast<int>(type) + 1));
  uint64_t mask = 0;
  for (size_t i = 0; i < kFields.size(); ++i)
    if (op.fields.contains(kFields[i].name)) mask |= uint64_t{1} << i;
  if (type == Op::kWrite) mask |= uint64_t{1} << kFieldContents;
  if (op.scans) mask |= uint64_t{1} << kFieldScans;
  PutVarint(out, mask);
  for (size_t i = 0; i < kFields.size(); ++i) {
    if (!(mask >> i & 1)) continue;
    const Json& v = op.fields[kFields[i].name];
    switch (kFields[i].type) {
      case FieldType::kStr: PutVarint(out, tb.Str(v.get<std::string>())); break;
      case FieldType::kUint: PutVarint(out, v.get<uint64_t>()); break;
      case FieldType::kBool: out.push_back(v.get<bool>() ? 1 : 0); break;
      case FieldType::kRange:
        PutVarint(out, v[0].get<uint64_t>());
        PutVarint(out, v[1].get<uint64_t>());
        break;
      case FieldType::kKnobs:
      case FieldType::kCounters: PutCounters(out, tb, v); break;
      case FieldType::kProcs:
        PutVarint(out, v.size());
        for (const auto& [k, x] : v.items()) {
          PutVarint(out, tb.Str(k));
          PutCounters(out, tb, x);
        }
        break;
    }
  }
  if (mask >> kFieldContents & 1) {
    PutVarint(out, op.contents.size());
    for (const auto& r : op.contents) {
      PutVarint(out, r.count);
      PutVarint(out, tb.Content(r.content));
    }
  }
  if (op.scans) {
    PutVarint(out, op.scans->first);
    PutVarint(out, op.scans->second);
  }
}

struct BinaryDecoder {
  std::vector<std::string> strings;
  std::vector<ContentRef> contents;

  const std::string& Str(ByteReader& r) {
    uint64_t i = r.Varint();
    if (i >= strings.size())
      r.Fail(fmt::format("string index {} outside the string table ({} strings)", i,
                         strings.size()));
    return strings[i];
  }
  Json Counters(ByteReader& r) {
    Json o = Json::object();
    uint64_t n = r.Varint();
    for (uint64_t i = 0; i < n; ++i) {
      const std::string& k = Str(r);
      o[k] = UnZigZag(r.Varint());
    }
    return o;
  }
  TraceOp Record(ByteReader& r) {
    TraceOp op;
    op.where = fmt::format("byte offset {}", r.offset());
    uint8_t type = r.U8();
    const auto& ops = workloads::AllOps();
    if (type == 0 || type > ops.size() || ops[type - 1] == Op::kRepeat)
      r.Fail(fmt::format("unknown record type {}", type));
    Op o = ops[type - 1];
    op.fields["op"] = std::string(workloads::OpName(o));
    uint64_t mask = r.Varint();
    if (mask >> kNumFieldIds)
      r.Fail(fmt::format("unknown field in field mask {:#x}", mask));
    for (size_t i = 0; i < kFields.size(); ++i) {
      if (!(mask >> i & 1)) continue;
      Json& v = op.fields[kFields[i].name];
      switch (kFields[i].type) {
        case FieldType::kStr: v = Str(r); break;
        case FieldType::kUint: v = r.Varint(); break;
        case FieldType::kBool: {
          uint8_t b = r.U8();
          if (b > 1) r.Fail("bad boolean");
          v = b == 1;
          break;
        }
        case FieldType::kRange: {
          uint64_t a = r.Varint();
          uint64_t b = r.Varint();
          v = {a, b};
          break;
        }
        case FieldType::kKnobs:
        case FieldType::kCounters: v = Counters(r); break;
        case FieldType::kProcs: {
          v = Json::object();
          uint64_t n = r.Varint();
          for (uint64_t k = 0; k < n; ++k) {
            const std::string& name = Str(r);
            v[name] = Counters(r);
          }
          break;
        }
      }
    }
    if (!op.fields.contains("path")) r.Fail("record without a path");
    bool is_write = o == Op::kWrite;
    if (is_write != bool(mask >> kFieldContents & 1))
      r.Fail(is_write ? "a write without contents" : "contents on an op other than write");
    if (is_write) {
      uint64_t n = r.Varint();
      for (uint64_t k = 0; k < n; ++k) {
        uint64_t count = r.Varint();
        uint64_t idx = r.Varint();
        if (idx >= contents.size())
          r.Fail(fmt::format("content index {} outside the content table", idx));
        if (count == 0) r.Fail("empty content run");
        op.contents.push_back({count, contents[idx]});
      }
    }
    if (mask >> kFieldScans & 1) {
      uint64_t a = r.Varint();
      uint64_t b = r.Varint();
      op.scans = {a, b};
    }
    return op;
  }
};

Trace DecodeBinary(std::string_view bytes) {
  ByteReader top(bytes, 0, "");
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    top.Fail("wrong magic: not a binary ksmsim trace (expected \"KSMTRACE\")");
  top.Bytes(8);
  uint64_t version = top.Fixed(4);
  if (version != kTraceVersion)
    Bad("byte offset 8", fmt::format("trace format version {} is not supported (this ksmsim "
                                     "reads version {})",
                                     version, kTraceVersion));
  uint64_t flags = top.Fixed(4);
  if (flags != 0) Bad("byte offset 12", fmt::format("unknown flags {:#x}", flags));
  Trace t;
  BinaryDecoder dec;
  bool have_header = false, have_end = false;
  uint64_t record_no = 0;
  while (!top.done()) {
    uint64_t sec_off = top.offset();
    char tag = static_cast<char>(top.U8());
    if (have_end) Bad(fmt::format("byte offset {}", sec_off), "content after the end section");
    uint64_t count = top.Varint();
    if (tag == 'E') {
      if (count != t.ops.size())
        Bad(fmt::format("byte offset {}", sec_off),
            fmt::format("the end section says {} records, the file holds {}", count,
                        t.ops.size()));
      have_end = true;
      continue;
    }
    uint64_t len = top.Varint();
    uint64_t sum = top.Fixed(8);
    uint64_t payload_off = top.offset();
    std::string_view payload = top.Bytes(len);
    if (kVerifyChecksums && XXH64(payload.data(), payload.size(), 0) != sum)
      Bad(fmt::format("byte offset {}", sec_off),
          fmt::format("bad checksum of the '{}' section ({} bytes at byte offset {})", tag, len,
                      payload_off));
    ByteReader r(payload, payload_off, "");
    switch (tag) {
      case 'H': {
        Json h;
        if (TooDeep(payload))
          r.Fail(fmt::format("header JSON nested deeper than {} levels", kMaxJsonDepth));
        try {
          h = Json::parse(payload);
        } catch (const std::exception& e) {
          r.Fail(fmt::format("header is not JSON: {}", e.what()));
        }
        if (!h.is_object()) r.Fail("header is not a JSON object");
        auto get = [&](const char* k) -> const Json& {
          static const Json null;
          auto it = h.find(k);
          return it == h.end() ? null : *it;
        };
        if (get("name").is_string()) t.header.name = get("name");
        if (get("description").is_string()) t.header.description = get("description");
        if (get("seed").is_number_unsigned()) t.header.seed = get("seed");
        if (get("kernel").is_string()) t.header.kernel = get("kernel");
        if (get("machine").is_object()) t.header.machine = get("machine");
        if (get("ksm").is_object()) t.header.ksm = get("ksm");
        have_header = true;
        r.Bytes(len);
        break;
      }
      case 'S':
        for (uint64_t i = 0; i < count; ++i) {
          uint64_t n = r.Varint();
          std::string_view str = r.Bytes(n);
          if (!ValidUtf8(str)) r.Fail(fmt::format("string {} is not valid UTF-8", i));
          dec.strings.emplace_back(str);
        }
        break;
      case 'C':
        for (uint64_t i = 0; i < count; ++i) {
          ContentRef c;
          uint8_t kind = r.U8();
          if (kind == 0) {
            c.kind = ContentRef::Kind::kFill;
            c.value = r.U8();
          } else if (kind == 1) {
            c.kind = ContentRef::Kind::kGen;
            c.value = r.Fixed(8);
          } else if (kind == 2) {
            c.kind = ContentRef::Kind::kPatch;
            c.offset = static_cast<uint16_t>(r.Fixed(2));
            c.value = r.U8();
            if (c.offset >= workloads::kPageSize) r.Fail("patch offset beyond the page");
          } else {
            r.Fail(fmt::format("unknown content kind {}", kind));
          }
          dec.contents.push_back(c);
        }
        break;
      case 'R':
        if (!have_header) Bad(fmt::format("byte offset {}", sec_off), "records before the header");
        for (uint64_t i = 0; i < count; ++i) {
          r.set_what(fmt::format(" (record {})", record_no));
          TraceOp op = dec.Record(r);
          op.where += fmt::format(" (record {})", record_no++);
          t.ops.push_back(std::move(op));
        }
        break;
      default:
        Bad(fmt::format("byte offset {}", sec_off),
            fmt::format("unknown section tag {:#x}", static_cast<uint8_t>(tag)));
    }
    if (!r.done()) r.Fail(fmt::format("{} bytes left over at the end of the section",
                                      payload_off + len - r.offset()));
  }
  if (!have_header) Bad(fmt::format("byte offset {}", top.offset()), "no header section");
  if (!have_end)
    Bad(fmt::format("byte offset {}", top.offset()), "truncated: the end section is missing");
  return t;
}

}  // namespace

std::string EncodeBinary(const Trace& t) {
  Tables tb;
  std::vector<std::string> chunks;
  std::vector<uint64_t> counts;
  std::string cur;
  uint64_t n = 0;
  for (const TraceOp& op : t.ops) {
    PutRecord(cur, tb, op);
    if (++n == kChunkRecords) {
      chunks.push_back(std::move(cur));
      counts.push_back(n);
      cur.clear();
      n = 0;
    }
  }
  if (n) {
    chunks.push_back(std::move(cur));
    counts.push_back(n);
  }
  std::string out(kMagic, 8);
  PutU32(out, static_cast<uint32_t>(t.header.version));
  PutU32(out, 0);
  Json h;
  h["name"] = t.header.name;
  h["description"] = t.header.description;
  h["seed"] = t.header.seed;
  h["kernel"] = t.header.kernel;
  h["machine"] = t.header.machine;
  h["ksm"] = t.header.ksm;
  PutSection(out, 'H', 1, h.dump());
  std::string s;
  for (const auto& str : tb.string_list) {
    PutVarint(s, str.size());
    s += str;
  }
  PutSection(out, 'S', tb.string_list.size(), s);
  std::string c;
  for (const auto& ref : tb.content_list) {
    c.push_back(static_cast<char>(ref.kind));
    switch (ref.kind) {
      case ContentRef::Kind::kFill: c.push_back(static_cast<char>(ref.value)); break;
      case ContentRef::Kind::kGen: PutU64(c, ref.value); break;
      case ContentRef::Kind::kPatch:
        c.push_back(static_cast<char>(ref.offset & 0xff));
        c.push_back(static_cast<char>(ref.offset >> 8));
        c.push_back(static_cast<char>(ref.value));
        break;
    }
  }
  PutSection(out, 'C', tb.content_list.size(), c);
  for (size_t i = 0; i < chunks.size(); ++i) PutSection(out, 'R', counts[i], chunks[i]);
  out.push_back('E');
  PutVarint(out, t.ops.size());
  return out;
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
