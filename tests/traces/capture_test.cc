// `ksmsim capture` on a live helper process (tests/traces/capture_helper.cc), its trace
// replayed with KSM; the permission error; and CaptureBuilder on synthetic samples.
#include "traces/capture.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "traces/replay.h"
#include "traces/trace.h"

namespace ksmsim::traces {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string Slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs a shell command; its stderr goes to `err`.
int Sh(const std::string& cmd, const std::string& errfile, std::string* err = nullptr) {
  int rc = std::system((cmd + " 2>" + errfile).c_str());
  if (err) *err = Slurp(errfile);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The helper process, started with a pipe on its stdout; the constructor waits for "ready".
class Helper {
 public:
  explicit Helper(double timeout_s) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::string t = std::to_string(timeout_s);
      execl(KSMSIM_CAPTURE_HELPER, KSMSIM_CAPTURE_HELPER, t.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    FILE* in = fdopen(fds[0], "r");
    char line[256] = {};
    if (in && std::fgets(line, sizeof line, in)) ready_ = std::string(line).rfind("ready", 0) == 0;
    if (in) std::fclose(in);
  }
  ~Helper() { Stop(); }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }
  bool ready() const { return ready_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ksmsim_capture_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::all);  // the permission test runs ksmsim as nobody
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string P(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

// Every page's final content in the trace: (proc, region) -> page index -> content.
using PageMap = std::map<std::pair<std::string, std::string>, std::map<uint64_t, ContentRef>>;
PageMap FinalPages(const Trace& t) {
  PageMap pages;
  for (const TraceOp& op : t.ops) {
    const Json& f = op.fields;
    const std::string o = f.at("op").get<std::string>();
    const std::string proc = f.value("proc", std::string());
    const auto key = std::make_pair(proc, f.value("region", std::string()));
    uint64_t first = 0, end = 0;
    if (f.contains("range")) {
      first = f.at("range").at(0).get<uint64_t>();
      end = f.at("range").at(1).get<uint64_t>();
    }
    if (o == "exit") {
      for (auto it = pages.begin(); it != pages.end();)
        it = it->first.first == proc ? pages.erase(it) : std::next(it);
    } else if (o == "munmap") {
      pages.erase(key);
    } else if (o == "madvise" && f.at("advice").get<std::string>() == "dontneed") {
      for (uint64_t i = first; i < end; ++i) pages[key].erase(i);
    } else if (o == "write") {
      uint64_t i = first;
      for (const ContentRun& r : op.contents)
        for (uint64_t k = 0; k < r.count; ++k) pages[key][i++] = r.content;
    }
  }
  return pages;
}

TEST_F(CaptureTest, CapturedHelperReplaysWithTheExpectedMerging) {
  if (geteuid() != 0) GTEST_SKIP() << "ksmsim capture needs root (reads /proc/PID/mem); skipped";
  Helper h(30);
  ASSERT_TRUE(h.ready());
  const std::string proc = "pid" + std::to_string(h.pid());
  std::string err;
  ASSERT_EQ(Sh(std::string(KSMSIM_BINARY) + " capture -q --pid " + std::to_string(h.pid()) +
                   " --interval-ms 100 --duration-s 0.3 -o " + P("t.jsonl"),
               P("err"), &err),
            0)
      << err;
  h.Stop();
  Trace t = ReadTraceFile(P("t.jsonl"));
  // Derive the expected counters from the captured contents: each content held by n >= 2
  // pages becomes one KSM page (n < max_page_sharing) shared by the other n - 1.
  std::map<ContentRef, uint64_t> groups;
  for (const auto& [where, pgs] : FinalPages(t))
    for (const auto& [i, c] : pgs) ++groups[c];
  int64_t shared = 0, sharing = 0, merging = 0, hundred = 0, singles = 0;
  for (const auto& [c, n] : groups) {
    ASSERT_LT(n, 256u);
    if (n >= 2) ++shared, sharing += n - 1, merging += n;
    hundred += n == 100 && c.kind == ContentRef::Kind::kGen;
    singles += n == 1;
  }
  EXPECT_EQ(hundred, 1) << "the helper's 100 identical pages are one content";
  EXPECT_GE(singles, 200) << "the helper's 200 distinct pages";
  ASSERT_GE(shared, 1);
  ASSERT_EQ(Sh(std::string(KSMSIM_BINARY) + " replay -q " + P("t.jsonl") +
                   " --set ksm.pages_to_scan=100000 --set ksm.sleep_millisecs=10 --check -o " +
                   P("r.json"),
               P("err"), &err),
            0)
      << err;
  Json doc = Json::parse(Slurp(P("r.json")));
  ASSERT_FALSE(doc["results"].empty());
  const Json& last = doc["results"].back();
  EXPECT_EQ(last.at("ksm").at("pages_shared").get<int64_t>(), shared);
  EXPECT_EQ(last.at("ksm").at("pages_sharing").get<int64_t>(), sharing);
  EXPECT_EQ(last.at("procs").at(proc).at("ksm_merging_pages").get<int64_t>(), merging);
  // The binary encoding is chosen by the extension and holds the same trace.
  Helper h2(30);
  ASSERT_TRUE(h2.ready());
  ASSERT_EQ(Sh(std::string(KSMSIM_BINARY) + " capture -q --pid " + std::to_string(h2.pid()) +
                   " --interval-ms 50 --duration-s 0 -o " + P("t.ksmt"),
               P("err"), &err),
            0)
      << err;
  EXPECT_EQ(DetectEncoding(Slurp(P("t.ksmt"))), Encoding::kBinary);
}

TEST_F(CaptureTest, ExitedProcessEndsTheCapture) {
  if (geteuid() != 0) GTEST_SKIP() << "ksmsim capture needs root (reads /proc/PID/mem); skipped";
  Helper h(0.25);  // exits by itself, and stays a zombie until Stop() reaps it
  ASSERT_TRUE(h.ready());
  std::string err;
  ASSERT_EQ(Sh(std::string(KSMSIM_BINARY) + " capture -q --pid " + std::to_string(h.pid()) +
                   " --interval-ms 50 --duration-s 20 -o " + P("t.jsonl"),
               P("err"), &err),
            0)
      << err;
  Trace t = ReadTraceFile(P("t.jsonl"));
  ASSERT_FALSE(t.ops.empty());
  int exits = 0;
  for (const auto& op : t.ops) exits += op.fields["op"] == "exit";
  EXPECT_EQ(exits, 1);
  EXPECT_EQ(
      Sh(std::string(KSMSIM_BINARY) + " trace validate " + P("t.jsonl") + " >/dev/null", P("err")),
      0);
}

TEST_F(CaptureTest, NoPermissionNamesTheFileAndExits2) {
  std::string cmd;
  std::string pid;
  Helper h(30);
  if (geteuid() == 0) {
    // As root: capture the root-owned helper as nobody.
    ASSERT_TRUE(h.ready());
    pid = std::to_string(h.pid());
    if (std::system("setpriv --version >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "setpriv (util-linux) is needed to drop privileges; skipped";
    cmd = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  } else {
    pid = "1";  // init: another user's process
  }
  std::string err;
  int rc = Sh(cmd + KSMSIM_BINARY + " capture --pid " + pid +
                  " --interval-ms 10 --duration-s 0 -o " + P("t.jsonl"),
              P("err"), &err);
  if (rc == 126 || rc == 127) GTEST_SKIP() << "nobody cannot run " << KSMSIM_BINARY << ": " << err;
  EXPECT_EQ(rc, 2) << err;
  EXPECT_NE(err.find("/proc/" + pid + "/"), std::string::npos) << err;
  EXPECT_NE(err.find("Permission denied"), std::string::npos) << err;
  EXPECT_NE(err.find("must run as root"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(P("t.jsonl")));
}

// ---- CaptureBuilder on synthetic samples ---------------------------------------------------

CapturedPage Present(uint64_t h, int fill = -1) {
  CapturedPage p;
  p.state = CapturedPage::State::kPresent;
  p.hash = {h, ~h};
  p.fill = static_cast<int16_t>(fill);
  return p;
}

TEST(CaptureBuilderTest, ChangedPagesOnlyAndVanishedVmas) {
  CaptureBuilder b("n", "d", 100);
  CapturedVma heap{0x1000, 0x1000 + 4 * 4096, "heap", {}};
  heap.pages = {Present(1), Present(1), Present(2), Present(0, 0)};
  CapturedVma anon{0x100000, 0x100000 + 2 * 4096, "anon", {}};
  anon.pages = {Present(3), CapturedPage{}};
  b.AddSample({ProcessSample{7, true, {heap, anon}, {}}});
  heap.pages[1] = Present(5);                           // changed
  heap.pages[2] = CapturedPage{};                       // freed
  heap.pages[3].state = CapturedPage::State::kSwapped;  // swapped: unchanged
  b.AddSample({ProcessSample{7, true, {heap}, {}}});
  b.AddSample({ProcessSample{7, false, {}, {}}});
  Trace t = b.Finish();
  std::string j = EncodeJsonl(t);
  EXPECT_NE(j.find(R"({"op":"mmap","path":"samples[0]","proc":"pid7","region":"heap","pages":4})"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(R"("region":"anon-100000","advice":"mergeable")"), std::string::npos) << j;
  // Same hash, same identity; a zero-filled page is fill 0.
  EXPECT_NE(j.find(R"("contents":[[2,{"gen":1}],[1,{"gen":2}],[1,{"fill":0}]])"), std::string::npos)
      << j;
  EXPECT_NE(
      j.find(
          R"({"op":"write","path":"samples[1]","proc":"pid7","region":"heap","range":[1,2],"contents":[[1,{"gen":5}]]})"),
      std::string::npos)
      << j;
  EXPECT_NE(j.find(R"("range":[2,3],"advice":"dontneed")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"({"op":"munmap","path":"samples[1]","proc":"pid7","region":"anon-100000"})"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(R"({"op":"exit","path":"samples[2]","proc":"pid7"})"), std::string::npos) << j;
  EXPECT_NE(j.find(R"({"op":"wait","path":"samples[2]","ms":100})"), std::string::npos) << j;
  EXPECT_NO_THROW(TraceWorkload(t));
  ReplayOutcome r = Replay(t, {}, /*check=*/true);
  EXPECT_EQ(r.exit_status, 0);
}

TEST(CaptureBuilderTest, DistinctHashesGetDistinctIdentities) {
  CaptureBuilder b("n", "d", 1);
  // Same low 64 bits, different high: must not become the same content.
  CapturedPage a = Present(42), c = Present(42);
  c.hash.hi = 1;
  EXPECT_EQ(b.ContentOf(a), b.ContentOf(a));
  EXPECT_NE(b.ContentOf(a), b.ContentOf(c));
  EXPECT_EQ(b.ContentOf(c), b.ContentOf(c));
  EXPECT_EQ(b.ContentOf(Present(9, 0)).kind, ContentRef::Kind::kFill);
  EXPECT_EQ(CaptureMachineMib(0), 256u);
  EXPECT_EQ(CaptureMachineMib(1 << 20), 8192u + 128);
}

}  // namespace
}  // namespace ksmsim::traces
