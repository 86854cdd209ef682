// `ksmsim step` end to end (issue 7): the stepper scripted through stdin on the bundled
// example two_procs_identical.json (2 x 1000 identical pages, pages_to_scan 10000, so each
// ksmd batch is one full pass; three passes, then an expect).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_util.h"

namespace {

using ksmsim::e2e::RunKsmsim;
using ksmsim::e2e::RunResult;
using ksmsim::e2e::RunShell;
using ksmsim::e2e::TempDir;

const std::string kExample =
    std::string(KSMSIM_SOURCE_DIR) + "/workloads/examples/two_procs_identical.json";

// Runs `ksmsim step FILE` with `script` on stdin (a file, so not a terminal).
RunResult Step(const std::string& script, const std::string& file = kExample) {
  static int n = 0;
  auto dir = TempDir("script" + std::to_string(n++));
  auto in = dir / "commands.txt";
  std::ofstream(in) << script;
  RunResult r =
      RunShell(std::string("'") + KSMSIM_BINARY + "' step '" + file + "' < '" + in.string() + "'");
  std::filesystem::remove_all(dir);
  return r;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool Has(const std::string& s, const std::string& what) { return s.find(what) != s.npos; }

TEST(StepE2eTest, FinishThenCountersEqualWhatRunReports) {
  auto dir = TempDir("finish");
  auto result = dir / "r.json";
  RunResult run = RunShell(std::string("'") + KSMSIM_BINARY + "' run -q '" + kExample +
                           "' --out '" + result.string() + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(result));
  // The example's last step is its expect, so its entry holds the final counters.
  const auto& last = doc["results"].back();
  ASSERT_EQ(last["step"], 10);

  RunResult st = Step("finish\ncounters\nquit\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "stop: end of the workload (11 of 11 steps run)")) << st.output;
  int compared = 0;
  for (const char* group : {"ksm", "vmstat"}) {
    for (auto it = last[group].begin(); it != last[group].end(); ++it, ++compared) {
      std::string line = std::string(group) + "." + it.key() + " " + it.value().dump() + "\n";
      EXPECT_TRUE(Has(st.output, line)) << line << st.output;
    }
  }
  for (auto p = last["procs"].begin(); p != last["procs"].end(); ++p) {
    for (auto it = p.value().begin(); it != p.value().end(); ++it, ++compared) {
      std::string line = "procs." + p.key() + "." + it.key() + " " + it.value().dump() + "\n";
      EXPECT_TRUE(Has(st.output, line)) << line << st.output;
    }
  }
  EXPECT_GE(compared, 15);
  EXPECT_TRUE(Has(st.output, "ksm.pages_sharing 1992\n")) << st.output;
  std::filesystem::remove_all(dir);
}

TEST(StepE2eTest, StepsStopBeforeEachStepWithItsOp) {
  RunResult st = Step("s 9\nc\ns\nc\n");
  ASSERT_EQ(st.status, 0) << st.output;
  // The first stop is before step 0; nine `step`s later, before the wait (step 9).
  EXPECT_TRUE(Has(st.output,
                  "stop: before step 0 (spawn a)\n  at: time 0.000000 ms, before step "
                  "0 (spawn a), ksmd before pass 1 (full_scans 0), batch 0\n"))
      << st.output;
  EXPECT_TRUE(Has(st.output, "stop: before step 9 (wait full_scans 3)\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "stop: before step 10 (expect)\n")) << st.output;
  // Before the wait nothing is scanned; before the expect, three passes are done in three
  // batches (pages_to_scan 10000 >= 2000 pages: one batch per pass).
  size_t wait = st.output.find("stop: before step 9");
  size_t expect = st.output.find("stop: before step 10");
  ASSERT_LT(wait, expect);
  std::string at_wait = st.output.substr(wait, expect - wait);
  std::string at_expect = st.output.substr(expect);
  EXPECT_TRUE(Has(at_wait, "ksm.full_scans 0\n")) << at_wait;
  EXPECT_TRUE(Has(at_wait, "ksm.pages_sharing 0\n")) << at_wait;
  EXPECT_TRUE(Has(at_expect, "ksmd before pass 4 (full_scans 3), batch 3\n")) << at_expect;
  EXPECT_TRUE(Has(at_expect, "ksm.full_scans 3\n")) << at_expect;
  EXPECT_TRUE(Has(at_expect, "ksm.pages_shared 8\n")) << at_expect;
  // EOF after the last command ends the session at once: no end-of-workload stop.
  EXPECT_FALSE(Has(st.output, "end of the workload")) << st.output;
}

TEST(StepE2eTest, EventStopsAtTheFirstMerge) {
  RunResult st = Step("e ksm_merge_one_page\nc\nt\nq\n");
  ASSERT_EQ(st.status, 0) << st.output;
  // Pass 1 sees every page for the first time (oldchecksum 0): nothing is merged. In pass
  // 2, a:heap[0] enters the unstable tree and a:heap[1], identical, merges with it:
  // try_to_merge_two_pages first makes a:heap[1]'s page a KSM page (no kpfn yet).
  EXPECT_TRUE(Has(st.output, "stop: event ksm_merge_one_page a:heap[1] pfn ")) << st.output;
  EXPECT_TRUE(
      Has(st.output, "in step 9 (wait full_scans 3), ksmd in pass 2 (full_scans 1), batch 2\n"))
      << st.output;
  EXPECT_TRUE(Has(st.output, "ksm.full_scans 1\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "ksm.pages_shared 0\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "root_stable_tree[0]: empty\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "root_unstable_tree[0]: 1 item\n  a:heap[0] seqnr 1\n")) << st.output;
  EXPECT_FALSE(Has(st.output, "error")) << st.output;
}

TEST(StepE2eTest, PageAndBatchStops) {
  RunResult st = Step("p\np 2\nb\nw\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "stop: ksmd scans a:heap[0] (pfn ")) << st.output;
  EXPECT_TRUE(Has(st.output, "stop: ksmd scans a:heap[2] (pfn ")) << st.output;
  // The first page stop is inside batch 1, the batch stop is the start of batch 2.
  EXPECT_TRUE(
      Has(st.output, "in step 9 (wait full_scans 3), ksmd in pass 1 (full_scans 0), batch 1\n"))
      << st.output;
  EXPECT_TRUE(Has(st.output, "stop: ksmd batch 2 starts: ksm_do_scan(10000)\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "ksmd before pass 2 (full_scans 1), batch 2\n")) << st.output;
}

TEST(StepE2eTest, TreesAtTheEndShowTheChainAndItsDups) {
  RunResult st = Step("f\nt\n");
  ASSERT_EQ(st.status, 0) << st.output;
  // pages_shared 8 + pages_sharing 1992: eight dups of one chain back the 2000 mappings.
  EXPECT_TRUE(Has(st.output, "root_stable_tree[0]: 1 node\n  chain ")) << st.output;
  int dups = 0;
  long sharers = 0;
  for (const std::string& line : Lines(st.output)) {
    if (line.rfind("    dup ", 0) != 0) continue;
    ++dups;
    size_t at = line.find(" sharers ");
    ASSERT_NE(at, std::string::npos) << line;
    sharers += std::stol(line.substr(at + 9));
  }
  EXPECT_EQ(dups, 8) << st.output;
  EXPECT_EQ(sharers, 2000) << st.output;
}

TEST(StepE2eTest, DotWritesBothTrees) {
  auto dir = TempDir("dot");
  RunResult st = Step("f\ndot " + (dir / "end").string() + "\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "wrote ")) << st.output;
  std::ifstream stable(dir / "end-stable.dot"), unstable(dir / "end-unstable.dot");
  std::stringstream s, u;
  s << stable.rdbuf();
  u << unstable.rdbuf();
  EXPECT_EQ(s.str().rfind("digraph stable_tree {", 0), 0u) << s.str();
  EXPECT_TRUE(Has(s.str(), "chain ")) << s.str();
  EXPECT_EQ(u.str().rfind("digraph unstable_tree {", 0), 0u) << u.str();
  std::filesystem::remove_all(dir);
}

TEST(StepE2eTest, BadCommandsGiveAnErrorAndTheSessionGoesOn) {
  RunResult st = Step("bogus\ne nosuch_event\ne\ns x\nc extra\nhelp\nc\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "error: unknown command 'bogus'; type help for the commands\n"))
      << st.output;
  EXPECT_TRUE(Has(st.output,
                  "error: unknown event 'nosuch_event'; the events are: "
                  "ksm_start_scan"))
      << st.output;
  EXPECT_TRUE(Has(st.output, "error: e needs an event name")) << st.output;
  EXPECT_TRUE(Has(st.output, "error: s: expected a count (a positive number), got 'x'\n"))
      << st.output;
  EXPECT_TRUE(Has(st.output, "error: c takes no argument")) << st.output;
  for (const char* cmd :
       {"step [N]", "batch [N]", "page [N]", "event NAME", "counters", "trees", "dot BASE", "quit"})
    EXPECT_TRUE(Has(st.output, cmd)) << cmd << "\n" << st.output;
  // Still before step 0: the counters of a machine with nothing on it.
  EXPECT_TRUE(Has(st.output, "ksm.pages_shared 0\n")) << st.output;
}

TEST(StepE2eTest, EndOfInputQuitsCleanly) {
  RunResult st = Step("");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_EQ(st.output,
            "ksmsim step: 11 steps; type help for the commands\n"
            "stop: before step 0 (spawn a)\n"
            "  at: time 0.000000 ms, before step 0 (spawn a), ksmd before pass 1 (full_scans 0), "
            "batch 0\n");
  // After the end, run commands say so and the session stays usable.
  RunResult end = Step("f\ns\nc\n");
  ASSERT_EQ(end.status, 0) << end.output;
  EXPECT_TRUE(Has(end.output, "the workload has finished")) << end.output;
  EXPECT_TRUE(Has(end.output, "ksm.full_scans 3\n")) << end.output;
}

TEST(StepE2eTest, InvalidWorkloadExitsTwoLikeRun) {
  auto dir = TempDir("invalid");
  auto bad = dir / "bad.json";
  std::ofstream(bad) << R"({"ksmsim": 1, "steps": [{"op": "spawn"}]})";
  RunResult run = RunShell(std::string("'") + KSMSIM_BINARY + "' run '" + bad.string() + "'");
  RunResult st = Step("q\n", bad.string());
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_EQ(st.status, 2) << st.output;
  EXPECT_FALSE(st.output.empty());
  EXPECT_EQ(st.output, run.output);
  std::filesystem::remove_all(dir);
}

// The stepper line of docs/labs/lab1-two-passes.md, and what the lab says it shows.
TEST(StepE2eTest, LabOneCommandShowsWhatTheLabSays) {
  std::ifstream lab(std::string(KSMSIM_SOURCE_DIR) + "/docs/labs/lab1-two-passes.md");
  std::stringstream text;
  text << lab.rdbuf();
  ASSERT_TRUE(Has(text.str(),
                  "printf 'e ksm_merge_one_page\\nt\\nq\\n' | ksmsim step "
                  "workloads/labs/lab1-two-passes.json\n"))
      << text.str();
  RunResult st = Step("e ksm_merge_one_page\nt\nq\n",
                      std::string(KSMSIM_SOURCE_DIR) + "/workloads/labs/lab1-two-passes.json");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "stop: event ksm_merge_one_page a:heap[10] pfn ")) << st.output;
  EXPECT_TRUE(Has(st.output, "ksmd in pass 2 (full_scans 1)")) << st.output;
  EXPECT_TRUE(Has(st.output, "root_stable_tree[0]: empty\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "root_unstable_tree[0]: 10 items\n")) << st.output;
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(Has(st.output, "a:heap[" + std::to_string(i) + "] seqnr 1\n")) << st.output;
  EXPECT_FALSE(Has(st.output, "a:heap[10] seqnr")) << st.output;
}

TEST(StepE2eTest, CountsAreDigitsOnly) {
  // `s -1` used to be read as 2^64-1 steps and ran to the end.
  RunResult st = Step("s -1\ns +2\ns 0\nw\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "error: s: expected a count (a positive number), got '-1'\n"))
      << st.output;
  EXPECT_TRUE(Has(st.output, "got '+2'")) << st.output;
  EXPECT_TRUE(Has(st.output, "got '0'")) << st.output;
  EXPECT_FALSE(Has(st.output, "end of the workload")) << st.output;
  EXPECT_TRUE(Has(st.output, "before step 0 (spawn a), ksmd before pass 1")) << st.output;
}

TEST(StepE2eTest, AnArrowKeyInAPipeIsExplained) {
  RunResult st = Step("\x1b[A\nw\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "error: the line holds a terminal escape sequence")) << st.output;
  EXPECT_FALSE(Has(st.output, "unknown command")) << st.output;
}

TEST(StepE2eTest, BreakPageStopsWhereKsmdScansThatPage) {
  RunResult st = Step("break page b:heap[7]\ncontinue\ncontinue\nbreak\ndelete 1\nbreak\nq\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "breakpoint 1: stop when ksmd scans b:heap[7]\n")) << st.output;
  // Once per pass: passes 1 and 2.
  EXPECT_TRUE(Has(st.output, "stop: breakpoint 1 (page b:heap[7]): ksmd scans b:heap[7] (pfn "))
      << st.output;
  EXPECT_TRUE(Has(st.output, "ksmd in pass 1 (full_scans 0), batch 1\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "ksmd in pass 2 (full_scans 1), batch 2\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "1  break page b:heap[7]\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "deleted breakpoint 1\nno breakpoints or watches\n")) << st.output;
  // Names are checked against the workload; finish runs past breakpoints.
  RunResult bad = Step(
      "break page c:heap[1]\nbreak page a:stack[1]\nbreak page a:heap[5000]\n"
      "break page a:heap\nbreak page a:heap[0]\nfinish\n");
  EXPECT_TRUE(Has(bad.output, "error: no process 'c' in the workload (processes: a, b)"))
      << bad.output;
  EXPECT_TRUE(Has(bad.output, "error: no region 'stack' in the workload")) << bad.output;
  EXPECT_TRUE(Has(bad.output, "index 5000 is past its end")) << bad.output;
  EXPECT_TRUE(Has(bad.output, "error: break page needs PROC:REGION[i]")) << bad.output;
  EXPECT_TRUE(Has(bad.output, "stop: end of the workload")) << bad.output;
  EXPECT_FALSE(Has(bad.output, "stop: breakpoint")) << bad.output;
}

TEST(StepE2eTest, WatchStopsWhenTheCounterChanges) {
  RunResult st = Step("watch pages_sharing\ncontinue\nc\nwatch nosuch\nq\n");
  ASSERT_EQ(st.status, 0) << st.output;
  EXPECT_TRUE(Has(st.output, "watch 1: stop when ksm.pages_sharing changes (now 0)\n"))
      << st.output;
  // The first merge (pass 2: a:heap[1] with a:heap[0]) makes pages_sharing 1.
  EXPECT_TRUE(Has(st.output, "stop: watch 1: ksm.pages_sharing 0 -> 1; after event ")) << st.output;
  EXPECT_TRUE(Has(st.output, "ksmd in pass 2 (full_scans 1)")) << st.output;
  EXPECT_TRUE(Has(st.output, "ksm.pages_sharing 1\n")) << st.output;
  EXPECT_TRUE(Has(st.output, "error: no counter 'nosuch'")) << st.output;
  RunResult procs = Step("watch procs.b.ksm_merging_pages\nwatch vmstat.cow_ksm\nco\nq\n");
  EXPECT_TRUE(Has(procs.output, "watch 1: stop when procs.b.ksm_merging_pages changes (now none"))
      << procs.output;
  EXPECT_TRUE(Has(procs.output, "stop: watch 1: procs.b.ksm_merging_pages none -> 0"))
      << procs.output;
}

// run 2 frees every rmap_item while the last pass's unstable tree still links them (the
// kernel's tree too, until the next pass resets it): `trees` must not walk freed items.
TEST(StepE2eTest, TreesAfterRun2ShowNoFreedUnstableItems) {
  const std::string file =
      std::string(KSMSIM_SOURCE_DIR) + "/tests/difftest/open/seed-155-run2-stable-node-dups.json";
  RunResult before = Step("s 27\nt\nq\n", file);
  ASSERT_EQ(before.status, 0) << before.output;
  EXPECT_TRUE(Has(before.output, "root_unstable_tree[0]: 165 items\n")) << before.output;
  RunResult after = Step("s 28\nt\nq\n", file);
  ASSERT_EQ(after.status, 0) << after.output;
  EXPECT_TRUE(Has(after.output, "root_unstable_tree[0]: empty\n")) << after.output;
  EXPECT_FALSE(Has(after.output, " ? seqnr")) << after.output;
  // The stable tree keeps the chains whose busy dup stopped remove_all_stable_nodes.
  EXPECT_TRUE(Has(after.output, "root_stable_tree[0]: 4 nodes\n")) << after.output;
}

}  // namespace
