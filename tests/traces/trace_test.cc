// Traces: record/replay equality on every example, lossless encodings, --set, bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <xxhash.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "traces/replay.h"
#include "traces/trace.h"
#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::traces {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string Examples() { return std::string(KSMSIM_SOURCE_DIR) + "/workloads/examples"; }

std::vector<fs::path> ExampleFiles() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(Examples())) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == ".json" && name.rfind("bench_", 0) != 0) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Recorded {
  Json doc;
  Trace trace;
};

Recorded RecordRun(const std::string& file) {
  auto parsed = workloads::ParseWorkloadFile(file);
  EXPECT_TRUE(parsed.ok()) << file;
  workloads::Workload w = *parsed.workload;
  Recorder rec(w);
  workloads::DriverOptions opt;
  opt.check = true;
  rec.Install(opt);
  workloads::Driver d(w, opt);
  rec.Bind(&d);
  Recorded r;
  r.doc = d.Run();
  r.trace = rec.trace();
  return r;
}

Json WithoutEngine(Json doc) {
  doc.erase("engine");
  return doc;
}

TEST(TraceTest, ReplayEqualsRecordedRunForEveryExample) {
  auto files = ExampleFiles();
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    Recorded r = RecordRun(f.string());
    ASSERT_FALSE(r.trace.ops.empty());
    for (Encoding e : {Encoding::kJsonl, Encoding::kBinary}) {
      std::string bytes = Encode(r.trace, e);
      Encoding detected;
      Trace back = Decode(bytes, &detected);
      EXPECT_EQ(detected, e);
      EXPECT_EQ(back, r.trace);
      ReplayOutcome out = Replay(back, {}, /*check=*/true);
      EXPECT_EQ(WithoutEngine(out.document), WithoutEngine(r.doc));
      EXPECT_TRUE(out.divergences.empty());
      EXPECT_EQ(out.exit_status, r.doc["errors"].empty() ? 0 : 1);
    }
  }
}

TEST(TraceTest, ConversionIsLosslessBothWays) {
  for (const auto& f : ExampleFiles()) {
    Trace t = RecordRun(f.string()).trace;
    std::string jsonl = EncodeJsonl(t);
    std::string bin = EncodeBinary(t);
    EXPECT_EQ(EncodeJsonl(Decode(bin)), jsonl) << f;
    EXPECT_EQ(EncodeBinary(Decode(jsonl)), bin) << f;
    EXPECT_LT(bin.size(), jsonl.size()) << f;
  }
}

TEST(TraceTest, WritesAreResolvedToIdentities) {
  Trace t = RecordRun(Examples() + "/max_page_sharing_chain.json").trace;
  std::string jsonl = EncodeJsonl(t);
  EXPECT_NE(jsonl.find(R"("contents":[[1000,{"fill":65}]])"), std::string::npos);
  EXPECT_NE(jsonl.find(R"("contents":[[1,{"patch":[0,66]}]])"), std::string::npos);
  EXPECT_NE(jsonl.find(R"("scans":[)"), std::string::npos);
}

uint64_t MaxDups(const Json& doc) {
  uint64_t m = 0;
  for (const auto& e : doc["results"])
    m = std::max<uint64_t>(m, e["ksm"]["stable_node_dups"].get<uint64_t>());
  return m;
}

TEST(TraceTest, SetMaxPageSharingTwoYieldsMoreDups) {
  Recorded r = RecordRun(Examples() + "/max_page_sharing_chain.json");
  ReplayOutcome base = Replay(r.trace);
  ReplayOutcome two = Replay(r.trace, {{"max_page_sharing", 2}});
  EXPECT_EQ(MaxDups(base.document), 8u);
  EXPECT_GT(MaxDups(two.document), MaxDups(base.document));
}

// ---- the command line ----------------------------------------------------------------------

int Sh(const std::string& cmd, std::string* err = nullptr) {
  // One file per test process: ctest runs the tests of this file in parallel.
  std::string errfile =
      (fs::temp_directory_path() / ("ksmsim_trace_test_" + std::to_string(::getpid()) + ".err"))
          .string();
  int rc = std::system((cmd + " 2>" + errfile).c_str());
  if (err) {
    std::ifstream f(errfile);
    std::stringstream ss;
    ss << f.rdbuf();
    *err = ss.str();
  }
  fs::remove(errfile);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string Slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void Spit(const std::string& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

class TraceCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ksmsim_trace_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) { return (dir_ / name).string(); }
  std::string Bin() { return KSMSIM_BINARY; }
  fs::path dir_;
};

TEST_F(TraceCliTest, RunRecordReplayConvert) {
  std::string w = Examples() + "/max_page_sharing_chain.json";
  ASSERT_EQ(Sh(Bin() + " run -q " + w + " --out " + P("r.json") + " --record " + P("t.jsonl")),
            0);
  ASSERT_EQ(Sh(Bin() + " replay -q " + P("t.jsonl") + " --out " + P("r2.json")), 0);
  EXPECT_EQ(WithoutEngine(Json::parse(Slurp(P("r.json")))),
            WithoutEngine(Json::parse(Slurp(P("r2.json")))));
  ASSERT_EQ(Sh(Bin() + " trace convert " + P("t.jsonl") + " -o " + P("t.ksmt") + " >/dev/null"),
            0);
  ASSERT_EQ(Sh(Bin() + " trace convert " + P("t.ksmt") + " --to jsonl -o " + P("t2.jsonl") +
               " >/dev/null"),
            0);
  EXPECT_EQ(Slurp(P("t.jsonl")), Slurp(P("t2.jsonl")));
  EXPECT_EQ(Sh(Bin() + " trace validate " + P("t.ksmt") + " >/dev/null"), 0);
  EXPECT_EQ(Sh(Bin() + " trace info " + P("t.ksmt") + " >/dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " replay -q " + P("t.ksmt") + " --set ksm.max_page_sharing=2 --out " +
               P("r3.json")),
            0 + 1);  // the recorded expects no longer hold
  EXPECT_GT(MaxDups(Json::parse(Slurp(P("r3.json")))), 8u);
}

// Offset of the first record section's payload in a binary trace, and its header.
struct Section {
  size_t tag_at = 0, sum_at = 0, payload_at = 0, len = 0;
};
Section FindSection(const std::string& b, char want) {
  size_t pos = 16;
  auto varint = [&](size_t& p) {
    uint64_t v = 0;
    for (int s = 0;; s += 7) {
      uint8_t c = static_cast<uint8_t>(b[p++]);
      v |= uint64_t{c & 0x7fu} << s;
      if (!(c & 0x80)) return v;
    }
  };
  while (pos < b.size()) {
    Section s;
    s.tag_at = pos;
    char tag = b[pos++];
    varint(pos);
    if (tag == 'E') break;
    s.len = varint(pos);
    s.sum_at = pos;
    s.payload_at = pos + 8;
    if (tag == want) return s;
    pos = s.payload_at + s.len;
  }
  ADD_FAILURE() << "no section " << want;
  return {};
}
void Reseal(std::string& b, const Section& s) {
  uint64_t sum = XXH64(b.data() + s.payload_at, s.len, 0);
  for (int i = 0; i < 8; ++i) b[s.sum_at + i] = static_cast<char>(sum >> (8 * i));
}

TEST_F(TraceCliTest, BadInputIsExit2WithLineOrOffset) {
  Trace t = RecordRun(Examples() + "/two_procs_identical.json").trace;
  std::string jsonl = EncodeJsonl(t);
  std::string bin = EncodeBinary(t);
  struct Case {
    std::string name, bytes, expect;
  };
  std::vector<Case> cases;
  cases.push_back({"trunc.jsonl", jsonl.substr(0, jsonl.size() / 2), "line "});
  cases.push_back({"trunc_line.jsonl", jsonl.substr(0, jsonl.rfind("{\"end\"")), "truncated"});
  cases.push_back({"trunc.ksmt", bin.substr(0, bin.size() / 2), "truncated"});
  cases.push_back({"trunc_end.ksmt", bin.substr(0, bin.size() - 2), "byte offset"});
  {
    std::string b = bin;
    Section r = FindSection(b, 'R');
    b[r.payload_at + 3] ^= 0x55;
    cases.push_back({"checksum.ksmt", b, "bad checksum"});
    std::string u = bin;
    u[r.payload_at] = 0x7f;
    Reseal(u, r);
    cases.push_back({"type.ksmt", u, "unknown record type 127"});
  }
  cases.push_back({"magic.ksmt", "KSMXXXXX" + bin.substr(8), "wrong magic"});
  cases.push_back({"magic2.ksmt", "\x7f" "ELF" + bin.substr(4), "wrong magic"});
  {
    std::string b = bin;
    b[8] = 2;
    cases.push_back({"version.ksmt", b, "version 2"});
    std::string j = jsonl;
    j.replace(j.find("\"ksmsim_trace\":1"), 16, "\"ksmsim_trace\":2");
    cases.push_back({"version.jsonl", j, "line 1: trace format version 2"});
  }
  {
    std::string j = jsonl;
    size_t at = j.find("{\"op\":\"mmap\"");
    j.replace(at, 12, "{\"op\":\"mmax\"");
    cases.push_back({"type.jsonl", j, "unknown record type"});
  }
  {
    // The third line (second op) spawns "b"; make the fourth name a process never spawned.
    std::string j = jsonl;
    size_t at = j.find("\"proc\":\"a\",\"region\"");
    j.replace(at, 10, "\"proc\":\"zz\"");
    size_t line = std::count(j.begin(), j.begin() + at, '\n') + 1;
    cases.push_back({"proc.jsonl", j, "line " + std::to_string(line) + ": proc"});
    Trace bad = Decode(j);
    cases.push_back({"proc.ksmt", EncodeBinary(bad), "byte offset"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Spit(P(c.name), c.bytes);
    std::string err;
    EXPECT_EQ(Sh(Bin() + " trace validate " + P(c.name) + " >/dev/null", &err), 2);
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
    EXPECT_NE(err.find(P(c.name)), std::string::npos) << err;
    EXPECT_EQ(Sh(Bin() + " replay -q " + P(c.name), &err), 2);
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
    // The library throws TraceError and nothing else.
    try {
      Trace tr = Decode(c.bytes);
      TraceWorkload(tr);
      ADD_FAILURE() << "accepted";
    } catch (const TraceError&) {
    }
  }
}

// Found by tools/run-fuzz.sh: each was accepted and then failed (or changed) on conversion.
TEST(TraceTest, FuzzFindingsAreTraceErrors) {
  Trace t = RecordRun(Examples() + "/two_procs_identical.json").trace;
  std::string bin = EncodeBinary(t);
  Section s = FindSection(bin, 'S');
  bin[s.payload_at + 1] = static_cast<char>(0x80);  // first string's first byte: not UTF-8
  Reseal(bin, s);
  EXPECT_THROW(Decode(bin), TraceError);
  std::string jsonl = EncodeJsonl(t);
  std::string big =
      jsonl.substr(0, jsonl.find('\n') + 1) +
      R"({"op":"expect","path":"steps[0]","ksm":{"pages_shared":18446744073709551615}})"
      "\n{\"end\":1}\n";
  EXPECT_THROW(Decode(big), TraceError);  // counters are int64 in the binary encoding
  std::string deep = jsonl.substr(0, jsonl.find('\n') + 1) + std::string(100000, '[') + "\n";
  EXPECT_THROW(Decode(deep), TraceError);
}

}  // namespace
}  // namespace ksmsim::traces
