// What a new user met (the "tried as a new user" list of the CLI issue), one test each:
// a rejected knob write is shown (and fails the run under --strict), the summary shows every
// counter under its kernel name and the memory saved, `run -q` shows a failing expect on
// stderr, `--out -` and `--json` print the result document, `run --set` changes the start,
// bench's help has no internal words, and replaying a capture does not claim ksmd ran as
// recorded.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/tools/cli/cli_test_util.h"

namespace ksmsim::tools {
namespace {

using testing::Exec;
using testing::FreshDir;
using testing::RunCli;
using testing::Slurp;
using testing::Source;
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// max_page_sharing cannot change while pages are shared: EBUSY, and no expect_error.
constexpr const char* kBusyKnob = R"({"ksmsim": 1, "name": "busy knob", "seed": 1,
  "machine": {"nodes": [{"memory_mib": 64}]},
  "ksm": {"run": 1, "pages_to_scan": 1000, "sleep_millisecs": 20},
  "steps": [{"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 100},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 1}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "wait", "full_scans": 2},
    {"op": "ksm", "set": {"max_page_sharing": 2}},
    {"op": "expect", "ksm": {"pages_shared": %SHARED%}}]})";

class NewUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::copy_file(Source("workloads/examples/fork_and_diverge.json"), dir_ / "w.json");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void WriteBusy(const std::string& name, int shared) {
    const std::string text = kBusyKnob;
    const size_t at = text.find("%SHARED%");
    std::ofstream(dir_ / name) << text.substr(0, at) << shared << text.substr(at + 8);
  }
  fs::path dir_;
};

TEST_F(NewUserTest, ARejectedKnobWriteIsShownAndStrictFailsTheRun) {
  WriteBusy("busy.json", 1);
  for (const char* quiet : {"", " -q"}) {
    Exec x = RunCli(std::string("run busy.json") + quiet, dir_);
    EXPECT_EQ(x.status, 0) << x.err;
    EXPECT_NE(x.err.find("busy.json: step 5 (ksm): max_page_sharing = 2 failed: EBUSY"),
              std::string::npos)
        << x.err;
  }
  Exec x = RunCli("run -q --strict busy.json", dir_);
  EXPECT_EQ(x.status, 1);
  EXPECT_NE(x.err.find("the step has no expect_error"), std::string::npos) << x.err;
  EXPECT_NE(x.err.find("FAILED"), std::string::npos) << x.err;
  // An expected error does not fail a strict run.
  const std::string text = Slurp(dir_ / "busy.json");
  const std::string knob = "{\"max_page_sharing\": 2}";
  const size_t at = text.find(knob) + knob.size();
  std::ofstream(dir_ / "busy-expected.json")
      << text.substr(0, at) << ", \"expect_error\": \"EBUSY\"" << text.substr(at);
  x = RunCli("run -q --strict busy-expected.json", dir_);
  EXPECT_EQ(x.status, 0) << x.err;
  EXPECT_NE(x.err.find("(the step expects EBUSY)"), std::string::npos) << x.err;
}

TEST_F(NewUserTest, TheSummaryShowsEveryCounterUnderItsKernelNameAndTheMemorySaved) {
  Exec x = RunCli("run w.json --out r.json", dir_);
  ASSERT_EQ(x.status, 0) << x.err;
  Json doc = Json::parse(Slurp(dir_ / "r.json"));
  for (const Json& e : doc["results"]) {
    EXPECT_NE(x.out.find(e["label"].get<std::string>()), std::string::npos);
    for (const char* group : {"ksm", "vmstat"})
      for (const auto& [name, v] : e[group].items())
        EXPECT_TRUE(x.out.find(" " + name + " ") != std::string::npos ||
                    x.out.find(" " + name + "=") != std::string::npos)  // a knob
            << name;
    for (const auto& [proc, counters] : e["procs"].items()) {
      EXPECT_NE(x.out.find("  " + proc + " "), std::string::npos) << proc;
      for (const auto& [name, v] : counters.items())
        EXPECT_NE(x.out.find(name), std::string::npos) << name;
    }
  }
  // step 8: 1020 pages_sharing, 4 + 1020 + 512 + 512 rmap_items of 64 bytes.
  EXPECT_NE(x.out.find("memory saved    4177920 B    3.98 MiB  = pages_sharing 1020 x 4096"),
            std::string::npos)
      << x.out;
  EXPECT_NE(x.out.find("general_profit  4046848 B    3.86 MiB  = 1020 x 4096 - 2048 x 64"),
            std::string::npos)
      << x.out;
  EXPECT_NE(x.out.find("dedup ratio        256.00"), std::string::npos) << x.out;
  EXPECT_NE(x.out.find("cow_ksm         256"), std::string::npos) << x.out;
  EXPECT_NE(x.out.find("ok: every expect and verify held"), std::string::npos);
  EXPECT_EQ(x.out.find("\033["), std::string::npos) << "colour when stdout is not a terminal";
}

TEST_F(NewUserTest, QuietRunShowsAFailingExpectOnStderr) {
  WriteBusy("fail.json", 2);
  Exec x = RunCli("run -q fail.json", dir_);
  EXPECT_EQ(x.status, 1);
  EXPECT_EQ(x.out, "");
  EXPECT_NE(x.err.find("ksm.pages_shared expected 2, got 1"), std::string::npos) << x.err;
  x = RunCli("run fail.json", dir_);
  EXPECT_EQ(x.status, 1);
  EXPECT_NE(x.err.find("ksm.pages_shared expected 2, got 1"), std::string::npos) << x.err;
  EXPECT_EQ(x.out.find("error:"), std::string::npos) << "errors belong on stderr";
}

TEST_F(NewUserTest, DashAndJsonPrintTheResultDocument) {
  Exec file = RunCli("run -q w.json --out r.json", dir_);
  ASSERT_EQ(file.status, 0);
  for (const char* args : {"run w.json --out -", "run w.json --json"}) {
    Exec x = RunCli(args, dir_);
    EXPECT_EQ(x.status, 0) << args << x.err;
    EXPECT_EQ(x.out, Slurp(dir_ / "r.json")) << args;
    EXPECT_FALSE(fs::exists(dir_ / "-")) << args;
  }
}

TEST_F(NewUserTest, RunSetChangesTheInitialKnobs) {
  ASSERT_EQ(RunCli("run -q w.json --out a.json", dir_).status, 0);
  Exec x = RunCli("run -q w.json --out b.json --set max_page_sharing=2", dir_);
  ASSERT_EQ(x.status, 0) << x.err;
  Json a = Json::parse(Slurp(dir_ / "a.json")), b = Json::parse(Slurp(dir_ / "b.json"));
  EXPECT_EQ(a["results"][0]["ksm"]["max_page_sharing"], 256);
  EXPECT_EQ(b["results"][0]["ksm"]["max_page_sharing"], 2);
  EXPECT_NE(a["results"][0]["ksm"]["pages_shared"], b["results"][0]["ksm"]["pages_shared"]);
  x = RunCli("run -q w.json --set max_page_sharing=1", dir_);
  EXPECT_EQ(x.status, 2);
  EXPECT_NE(x.err.find("is not an integer from 2 to 2147483647"), std::string::npos) << x.err;
}

TEST_F(NewUserTest, BenchHelpAndRangesSpeakPlainly) {
  Exec x = RunCli("bench --help", dir_);
  EXPECT_EQ(x.out.find("issue"), std::string::npos) << x.out;
  x = RunCli("run w.json --timeline-ms -1 --timeline t.csv", dir_);
  EXPECT_EQ(x.status, 2);
  EXPECT_NE(x.err.find("--timeline-ms: \"-1\" is not an integer"), std::string::npos) << x.err;
  EXPECT_EQ(x.err.find("17976931348623157"), std::string::npos) << x.err;
  x = RunCli("capture --pid abc -o t.jsonl", dir_);
  EXPECT_EQ(x.status, 2);
  EXPECT_NE(x.err.find("--pid: \"abc\" is not an integer from 1 to 2147483647"), std::string::npos)
      << x.err;
}

TEST_F(NewUserTest, ReplayOfACaptureSaysWhatKsmdDid) {
  // A capture records no ksmd scans: the recording's waits without their "scans".
  ASSERT_EQ(RunCli("run -q w.json --record t.jsonl", dir_).status, 0);
  std::istringstream in(Slurp(dir_ / "t.jsonl"));
  std::ofstream out(dir_ / "c.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    Json j = Json::parse(line);
    j.erase("scans");
    out << j.dump() << "\n";
  }
  out.close();
  Exec x = RunCli("replay c.jsonl", dir_);
  EXPECT_EQ(x.status, 0) << x.err;
  EXPECT_EQ(x.out.find("ksmd ran as recorded"), std::string::npos) << x.out;
  EXPECT_NE(x.out.find("the trace recorded no ksmd scan, so none was compared; the replay ran 6 "
                       "full scans"),
            std::string::npos)
      << x.out;
  x = RunCli("replay t.jsonl", dir_);
  EXPECT_NE(x.out.find("ksmd ran as recorded at 3 waits (6 full scans)"), std::string::npos)
      << x.out;
}

}  // namespace
}  // namespace ksmsim::tools
