// Traces (docs/TRACE-FORMAT.md): the compact binary encoding ("KSMTRACE": header, string
// table, content table and record chunks, each section checksummed with XXH64), its writer
// and its reader.
#include <xxhash.h>

#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fmt/format.h"
#include "traces/input_checks.h"
#include "traces/trace.h"
#include "traces/trace_codec.h"

namespace ksmsim::traces {

using Json = nlohmann::ordered_json;
using workloads::Op;
using namespace internal;

namespace {

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

constexpr size_t kChunkRecords = 4096;

void PutSection(std::string& out, char tag, uint64_t count, const std::string& payload) {
  out.push_back(tag);
  PutVarint(out, count);
  PutVarint(out, payload.size());
  PutU64(out, XXH64(payload.data(), payload.size(), 0));
  out += payload;
}


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
  for (const Field& f : TraceFields())
    if (op.fields.contains(std::string(f.name))) mask |= uint64_t{1} << f.id;
  if (type == Op::kWrite) mask |= uint64_t{1} << kFieldContents;
  if (op.scans) mask |= uint64_t{1} << kFieldScans;
  PutVarint(out, mask);
  for (const Field& f : TraceFields()) {
    if (!(mask >> f.id & 1)) continue;
    const Json& v = op.fields[std::string(f.name)];
    switch (f.type) {
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
    if (mask >> NumFieldIds()) r.Fail(fmt::format("unknown field in field mask {:#x}", mask));
    for (const Field& f : TraceFields()) {
      if (!(mask >> f.id & 1)) continue;
      Json& v = op.fields[std::string(f.name)];
      switch (f.type) {
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

}  // namespace

namespace internal {

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

}  // namespace internal

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

}  // namespace ksmsim::traces
