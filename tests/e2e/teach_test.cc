// Teaching tools end to end (issue 7): explain, run --timeline + plot, run --dump-trees,
// report, and every lab workload.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <regex.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_util.h"

namespace {

using ksmsim::e2e::RunKsmsim;
using ksmsim::e2e::RunResult;
using ksmsim::e2e::RunShell;
using ksmsim::e2e::TempDir;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// a: heap[0] = x, heap[1] = y;  b: heap[0] = x, heap[1] = x.  max_page_sharing 2, so the
// third copy of x finds its KSM page full. Three passes, then a snapshot.
constexpr const char* kTiny = R"({
  "ksmsim": 1, "name": "tiny",
  "machine": {"nodes": [{"memory_mib": 16}]},
  "ksm": {"pages_to_scan": 1000, "sleep_millisecs": 20, "max_page_sharing": 2},
  "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "heap", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "heap", "pages": 2},
    {"op": "write", "proc": "a", "region": "heap", "range": [0, 1], "data": {"key": "x"}},
    {"op": "write", "proc": "a", "region": "heap", "range": [1, 2], "data": {"key": "y"}},
    {"op": "write", "proc": "b", "region": "heap", "data": {"key": "x"}},
    {"op": "madvise", "proc": "a", "region": "heap", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "heap", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "snapshot", "label": "after three passes"}
  ]
})";

std::filesystem::path WriteTiny(const std::filesystem::path& dir) {
  auto p = dir / "tiny.json";
  std::ofstream(p) << kTiny;
  return p;
}

TEST(TeachE2eTest, ExplainNamesTheDecidingFunctions) {
  auto dir = TempDir("explain");
  auto w = WriteTiny(dir);
  RunResult run = RunKsmsim("explain '" + w.string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  const std::string& o = run.output;
  // Pass 1: new rmap_items, oldchecksum 0: volatile.
  // (POSIX extended regular expressions: std::regex trips GCC 12's -Wmaybe-uninitialized.)
  EXPECT_THAT(o, testing::ContainsRegex(
                     R"(pass 1  a:heap\[0\] cmp_and_merge_page: checksum changed \(0 -> )"
                     R"(0x[0-9a-f]+\), not inserted \(volatile\))"));
  // Pass 2: a:heap[0] goes into the unstable tree, b:heap[0] matches it and merges.
  EXPECT_NE(o.find("pass 2  a:heap[0] unstable_tree_search_insert: no identical page: inserted "
                   "into the unstable tree"),
            std::string::npos)
      << o;
  EXPECT_THAT(o, testing::ContainsRegex(
                     R"(pass 2  b:heap\[0\] unstable_tree_search_insert: identical to )"
                     R"(a:heap\[0\] -> try_to_merge_two_pages -> new KSM page pfn [0-9]+ )"
                     R"(\(stable node 1\))"));
  // b:heap[1] is a third copy of x: the KSM page is full (max_page_sharing 2).
  EXPECT_THAT(o, testing::ContainsRegex(R"(b:heap\[1\] stable_tree_search: .*full)"));
  EXPECT_NE(o.find("pass 2  b:heap[1] stable_tree_search: stable node 1 matches but is full"),
            std::string::npos)
      << o;
  EXPECT_NE(o.find("a:heap[0] cmp_and_merge_page: already merged (stable node 1)"),
            std::string::npos)
      << o;

  // Filters: only b's page 1, and --json.
  RunResult only = RunKsmsim("explain '" + w.string() + "' --proc b --pages 1..1");
  ASSERT_EQ(only.status, 0) << only.output;
  EXPECT_EQ(only.output.find("a:heap"), std::string::npos) << only.output;
  EXPECT_EQ(only.output.find("b:heap[0]"), std::string::npos) << only.output;
  EXPECT_NE(only.output.find("b:heap[1]"), std::string::npos) << only.output;
  RunResult js = RunKsmsim("explain '" + w.string() + "' --json --steps 10..10");
  ASSERT_EQ(js.status, 0) << js.output;
  EXPECT_NE(js.output.find("\"func\":\"unstable_tree_search_insert\""), std::string::npos)
      << js.output;
  std::filesystem::remove_all(dir);
}

TEST(TeachE2eTest, TimelineAndPlot) {
  auto dir = TempDir("plot");
  auto w = WriteTiny(dir);
  auto csv = dir / "t.csv";
  auto svg = dir / "t.svg";
  RunResult run =
      RunKsmsim("run -q '" + w.string() + "' --timeline '" + csv.string() + "' --timeline-ms 10");
  ASSERT_EQ(run.status, 0) << run.output;
  std::string c = ReadFile(csv);
  ASSERT_EQ(c.rfind("time_ms,", 0), 0u) << c;
  EXPECT_NE(c.find("pages_sharing"), std::string::npos);
  EXPECT_NE(c.find("vmstat.cow_ksm"), std::string::npos);
  EXPECT_GE(std::count(c.begin(), c.end(), '\n'), 3);
  RunResult plot = RunKsmsim("plot '" + csv.string() + "' -o '" + svg.string() + "'");
  ASSERT_EQ(plot.status, 0) << plot.output;
  std::string s = ReadFile(svg);
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_NE(s.find("</svg>"), std::string::npos);
  EXPECT_NE(s.find("data-name=\"pages_sharing\""), std::string::npos) << s;
  EXPECT_NE(s.find("data-name=\"full_scans\""), std::string::npos) << s;
  EXPECT_NE(s.find("<polyline"), std::string::npos);
  // A bad CSV is refused.
  std::ofstream(dir / "bad.csv") << "time_ms,a\n1,x\n";
  EXPECT_EQ(
      RunKsmsim("plot '" + (dir / "bad.csv").string() + "' -o '" + (dir / "bad.svg").string() + "'")
          .status,
      2);
  std::filesystem::remove_all(dir);
}

TEST(TeachE2eTest, DumpTreesWritesDotWithTheRightNodeCount) {
  auto dir = TempDir("trees");
  auto w = WriteTiny(dir);
  auto out = dir / "trees";
  RunResult run = RunKsmsim("run -q '" + w.string() + "' --dump-trees '" + out.string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  std::string stable = ReadFile(out / "step-0011-stable.dot");
  std::string unstable = ReadFile(out / "step-0011-unstable.dot");
  ASSERT_FALSE(stable.empty());
  ASSERT_FALSE(unstable.empty());
  // The number of lines matching a POSIX extended regular expression.
  auto count = [](const std::string& s, const char* pattern) {
    regex_t re;
    EXPECT_EQ(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0) << pattern;
    int n = 0;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);)
      n += regexec(&re, line.c_str(), 0, nullptr, 0) == 0;
    regfree(&re);
    return n;
  };
  // After three passes: one KSM page (a:heap[0] and b:heap[0]; full at max_page_sharing
  // 2), so the stable tree has one node (a line `sN [label=...]`; edges are `sN -> sM [...]`). The
  // last pass put a:heap[1] (y) and b:heap[1] (a third x, refused by the full KSM page) into the
  // unstable tree, which is emptied only when the next pass starts.
  EXPECT_EQ(count(stable, R"(^ +s[0-9]+ \[label=)"), 1) << stable;
  EXPECT_NE(stable.find("kpfn"), std::string::npos) << stable;
  EXPECT_NE(stable.find("sharers 2"), std::string::npos) << stable;
  EXPECT_EQ(count(unstable, R"(^ +u[0-9]+ \[label=)"), 2) << unstable;
  EXPECT_NE(unstable.find("a:heap[1]"), std::string::npos) << unstable;
  EXPECT_NE(unstable.find("b:heap[1]"), std::string::npos) << unstable;
  std::filesystem::remove_all(dir);
}

TEST(TeachE2eTest, ReportIsSelfContained) {
  auto dir = TempDir("report");
  auto w = WriteTiny(dir);
  auto html = dir / "r.html";
  RunResult run = RunKsmsim("report '" + w.string() + "' -o '" + html.string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  std::string h = ReadFile(html);
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  // Nothing is loaded: no src= or href= to anything but the page's own anchors, no url().
  EXPECT_EQ(h.find("src="), std::string::npos);
  EXPECT_EQ(h.find("href=\"http"), std::string::npos);
  EXPECT_EQ(h.find("url("), std::string::npos);
  EXPECT_EQ(h.find("<link"), std::string::npos);
  // uPlot is inlined with its licence banner, then the report's own script.
  EXPECT_NE(h.find("uPlot (v1.6.32)"), std::string::npos);
  EXPECT_NE(h.find("id=\"report-data\""), std::string::npos);
  EXPECT_NE(h.find("<table id=\"snapshots\">"), std::string::npos);
  EXPECT_NE(h.find("<table id=\"event-counts\">"), std::string::npos);
  EXPECT_NE(h.find("try_to_merge_two_pages"), std::string::npos);
  EXPECT_NE(h.find("root_stable_tree[0]"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(TeachE2eTest, EveryLabWorkloadHolds) {
  int checked = 0;
  for (const char* sub : {"/workloads/labs", "/workloads/labs/answers"}) {
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(KSMSIM_SOURCE_DIR) + sub)) {
      if (entry.path().extension() != ".json") continue;
      ++checked;
      RunResult run = RunKsmsim("run --check '" + entry.path().string() + "'");
      EXPECT_EQ(run.status, 0) << entry.path() << "\n" << run.output;
    }
  }
  EXPECT_GE(checked, 12);
}

// A lab's workload and its answers are the same script: where the lab has a snapshot the
// answers have an expect with the same label (holding the values), every other step is
// equal; and the lab itself expects no counter, so running it gives nothing away before
// the student predicts.
TEST(TeachE2eTest, LabsAndTheirAnswersAreTheSameScript) {
  std::string dir = std::string(KSMSIM_SOURCE_DIR) + "/workloads/labs";
  int labs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++labs;
    auto lab = nlohmann::json::parse(ReadFile(entry.path()));
    auto ans =
        nlohmann::json::parse(ReadFile(dir + "/answers/" + entry.path().filename().string()));
    ASSERT_EQ(lab["steps"].size(), ans["steps"].size()) << entry.path();
    EXPECT_EQ(lab["ksm"], ans["ksm"]) << entry.path();
    EXPECT_EQ(lab["machine"], ans["machine"]) << entry.path();
    for (size_t i = 0; i < lab["steps"].size(); ++i) {
      const auto& l = lab["steps"][i];
      const auto& a = ans["steps"][i];
      EXPECT_NE(l["op"], "expect") << entry.path() << " step " << i;
      if (l["op"] == "snapshot") {
        EXPECT_EQ(a["op"], "expect") << entry.path() << " step " << i;
        EXPECT_EQ(a["label"], l["label"]) << entry.path() << " step " << i;
      } else {
        EXPECT_EQ(a, l) << entry.path() << " step " << i;
      }
    }
  }
  EXPECT_GE(labs, 6);
}

}  // namespace
