// Robustness (issue 15): whatever `validate` accepts runs to the end or stops with a clear
// error and exit code 3, in host memory proportional to what the workload touches. One test
// per cause found by the mutation fuzz: each failed (abort, bad_alloc, hours of silence)
// before host memory became lazy and the budget and work limits existed.
//
// Outside AddressSanitizer each run gets `ulimit -v` (4 GiB of address space), so a run that
// would allocate in proportion to what the workload declares ends in bad_alloc instead of
// eating the machine's memory; its peak RSS is what wait4() reports for the child.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/e2e/e2e_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define KSMSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSMSIM_ASAN 1
#endif
#endif

namespace {

using ksmsim::e2e::RunResult;
using ksmsim::e2e::RunShell;

#ifdef KSMSIM_ASAN
constexpr const char* kLimit = "";
constexpr uint64_t kRssSlack = 8;  // ASan's shadow memory and quarantine
#else
constexpr const char* kLimit = "ulimit -v 4194304; ";
constexpr uint64_t kRssSlack = 1;
#endif

struct Limited {
  RunResult run;
  uint64_t max_rss_kib = 0;
};

// `ksmsim ARGS` with the address-space limit and a 60 s timeout; its output (stdout and
// stderr) and peak RSS (wait4 reports the largest of the shell's subtree).
Limited RunLimited(const std::string& args) {
  Limited l;
  std::string cmd = std::string(kLimit) + "exec timeout 60 '" + KSMSIM_BINARY + "' " + args;
  int fds[2];
  if (pipe(fds) != 0) return l;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) l.run.output.append(buf, n);
  close(fds[0]);
  int status = 0;
  struct rusage ru {};
  if (wait4(pid, &status, 0, &ru) == pid) {
    l.run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    l.max_rss_kib = static_cast<uint64_t>(ru.ru_maxrss);
  }
  return l;
}

std::string Write(const std::string& name, const std::string& text) {
  static const auto dir = ksmsim::e2e::TempDir("robust");
  std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return "'" + path + "'";
}

// Cause 1: a repeat of 10^8 (two nested repeats of 10^4) was flattened into a vector of 10^8
// steps before the first one ran (5 GB, then bad_alloc). Now the script is walked lazily: a
// wait that can never finish stops the run at its first occurrence, exit 3.
TEST(RobustTest, NestedRepeatOf1e8IsNotExpandedUpFront) {
  std::string w = Write("repeat.json", R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
    {"op": "repeat", "times": 10000, "steps": [
      {"op": "repeat", "times": 10000, "steps": [
        {"op": "write", "proc": "a", "region": "r", "range": [0, 1], "data": {"fill": 1}},
        {"op": "wait", "full_scans": 1}]}]}]})");
  Limited l = RunLimited("run " + w);
  EXPECT_EQ(l.run.status, 3) << l.run.output;
  EXPECT_NE(l.run.output.find("step 3 (wait, steps[2].steps[0].steps[1]): wait for 1 full scans "
                              "can never finish"),
            std::string::npos)
      << l.run.output;
  EXPECT_LT(l.max_rss_kib, 64 * 1024 * kRssSlack) << l.run.output;
  // The step limit bounds a long but finishing script the same way.
  std::string loop = Write("loop.json", R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
    {"op": "repeat", "times": 10000, "steps": [
      {"op": "repeat", "times": 10000, "steps": [
        {"op": "write", "proc": "a", "region": "r", "range": [0, 1], "data": {"fill": 1}}]}]}]})");
  l = RunLimited("run " + loop + " --max-steps 1000");
  EXPECT_EQ(l.run.status, 3) << l.run.output;
  EXPECT_NE(l.run.output.find("the run stopped before step 1000 of 100000002: --max-steps 1000"),
            std::string::npos)
      << l.run.output;
  EXPECT_LT(l.max_rss_kib, 64 * 1024 * kRssSlack) << l.run.output;
}

// Cause 2: memory_mib 2^32 (4 PiB, the x86-64 physical limit) allocated a 16 GiB table of
// frame chunks up front. A 1 TiB machine and a 4 PiB one with 4 MiB touched run in a few MiB.
TEST(RobustTest, HugeMachineWithLittleTouchedRunsInAFewMiB) {
  for (const char* mib : {"1048576", "4294967296"}) {
    std::string w = Write("huge.json", std::string(R"({"ksmsim": 1, "machine": {"nodes": [
      {"memory_mib": )") + mib + R"(}]}, "ksm": {"pages_to_scan": 1000, "sleep_millisecs": 10},
      "steps": [
      {"op": "spawn", "proc": "a"},
      {"op": "mmap", "proc": "a", "region": "r", "pages": 1024},
      {"op": "write", "proc": "a", "region": "r", "data": {"pool": 16}},
      {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
      {"op": "ksm", "set": {"run": 1}},
      {"op": "wait", "full_scans": 2},
      {"op": "verify", "proc": "a", "region": "r"},
      {"op": "expect", "ksm": {"pages_shared": 16, "pages_sharing": 1008}},
      {"op": "offline", "node": 0, "block": 3}]})");
    Limited l = RunLimited("run " + w + " --check");
    EXPECT_EQ(l.run.status, 0) << mib << "\n" << l.run.output;
    EXPECT_GT(l.max_rss_kib, 3000u) << "wait4 did not measure ksmsim";
    EXPECT_LT(l.max_rss_kib, 32 * 1024 * kRssSlack) << mib << "\n" << l.run.output;
  }
  // Beyond 4 PiB in all is no real machine: a validation error naming the JSON path.
  std::string w = Write("toobig.json", R"({"ksmsim": 1, "machine": {"nodes": [
    {"memory_mib": 4294967296}, {"memory_mib": 1}]}, "steps": []})");
  RunResult r = RunShell(std::string("'") + KSMSIM_BINARY + "' validate " + w);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("machine.nodes[1].memory_mib"), std::string::npos) << r.output;
}

// Cause 3: the swap device allocated all its slots up front (2^32 slots: 64 GiB). Slots are
// created as they are first used; a swap beyond what a 32-bit slot number addresses is a
// validation error.
TEST(RobustTest, LargeSwapIsAllocatedAsUsed) {
  std::string w = Write("swap.json", R"({"ksmsim": 1, "machine": {"nodes": [
    {"memory_mib": 64}], "swap_mib": 16777215}, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 512},
    {"op": "write", "proc": "a", "region": "r", "data": {"unique": true}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "pageout"},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "expect", "vmstat": {"pswpout": 512, "pswpin": 512}}]})");
  Limited l = RunLimited("run " + w + " --check");
  EXPECT_EQ(l.run.status, 0) << l.run.output;
  EXPECT_LT(l.max_rss_kib, 32 * 1024 * kRssSlack) << l.run.output;
  std::string big = Write("swapbig.json", R"({"ksmsim": 1, "machine": {"swap_mib": 16777216},
    "steps": []})");
  for (const char* cmd : {"validate ", "run "}) {
    RunResult r = RunShell(std::string("'") + KSMSIM_BINARY + "' " + cmd + big);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_NE(r.output.find("machine.swap_mib"), std::string::npos) << r.output;
  }
}

// Cause 4: an untouched mapping of 6*10^8 pages aborted ("reference count overflow": the
// driver referenced the zero content once per page) and one of 2^31 pages ended in bad_alloc
// (a 4-byte record per page). What the process last wrote is now kept only for pages
// written (the largest region that fits the 128 TiB address space is ~2.58*10^10 pages).
TEST(RobustTest, UntouchedHugeMappingsCostNothing) {
  for (const char* pages : {"600000000", "2147483648", "25000000000"}) {
    std::string w = Write("map.json", std::string(R"({"ksmsim": 1, "steps": [
      {"op": "spawn", "proc": "a"},
      {"op": "mmap", "proc": "a", "region": "r", "pages": )") +
                                          pages + R"(},
      {"op": "write", "proc": "a", "region": "r", "range": [1000, 1100], "data": {"unique": true}},
      {"op": "fork", "proc": "a", "child": "b"},
      {"op": "madvise", "proc": "b", "region": "r", "range": [1050, 1200], "advice": "dontneed"},
      {"op": "verify", "proc": "a", "region": "r", "range": [990, 1110]},
      {"op": "verify", "proc": "b", "region": "r", "range": [990, 1210]},
      {"op": "munmap", "proc": "a", "region": "r", "range": [0, 100000]},
      {"op": "exit", "proc": "b"}]})");
    Limited l = RunLimited("run " + w + " --check");
    EXPECT_EQ(l.run.status, 0) << pages << "\n" << l.run.output;
    EXPECT_LT(l.max_rss_kib, 32 * 1024 * kRssSlack) << pages << "\n" << l.run.output;
  }
}

// Cause 5: `wait ms` 10^12 with ksmd busy is 5*10^10 batches: it ran for hours and printed
// nothing. It now says so before it starts, shows progress when asked to, and a batch limit
// stops it with exit 3.
TEST(RobustTest, EnormousWaitSaysSoAndCanBeBounded) {
  std::string w = Write("wait.json", R"({"ksmsim": 1, "machine": {"nodes": [{"memory_mib": 64}]},
    "ksm": {"pages_to_scan": 100, "sleep_millisecs": 20}, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1000},
    {"op": "write", "proc": "a", "region": "r", "data": {"unique": true}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "ms": 1000000000000}]})");
  Limited l = RunLimited("run " + w + " --max-batches 20000 --progress");
  EXPECT_EQ(l.run.status, 3) << l.run.output;
  EXPECT_NE(l.run.output.find("step 5 (wait, steps[5]): this wait is 1000000000000 ms "
                              "of simulated time: about 5e+10 ksmd batches"),
            std::string::npos)
      << l.run.output;
  EXPECT_NE(l.run.output.find("stopped after 20000 ksmd batches (--max-batches 20000)"),
            std::string::npos)
      << l.run.output;
}

// Cause 6: the oracle's planner let nlohmann's std::out_of_range for 1e999 escape (abort),
// and had no limit on a region's size (a bit per page: bad_alloc) or on repeat expansion.
// `ksmsim oracle` now runs validate's parser first (its messages), then the planner.
TEST(RobustTest, OraclePlannerRefusesWhatValidateRefuses) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {R"({"ksmsim": 1, "seed": 1e999, "steps": []})", "1:27: JSON syntax error"},
      {R"({"ksmsim": 1, "steps": [{"op": "spawn", "proc": "a"},
         {"op": "mmap", "proc": "a", "region": "r", "pages": 34359738369}]})",
       "steps[1].pages"},
      {R"({"ksmsim": 1, "machine": {"swap_mib": 16777216}, "steps": []})", "machine.swap_mib"},
      {R"({"ksmsim": 1, "steps": [{"op": "wait", "ms": 1000000000001}]})", "steps[0].ms"},
      {R"({"ksmsim": 1, "steps": [{"op": "repeat", "times": 100000, "steps": [
         {"op": "repeat", "times": 100000, "steps": [{"op": "wait", "ms": 1}]}]}]})",
       "steps[0]: a limitation of the kernel oracle: it runs at most 1000000 steps"},
  };
  int i = 0;
  for (const Case& c : cases) {
    std::string w = Write("oracle" + std::to_string(i++) + ".json", c.text);
    Limited l = RunLimited("oracle " + w + " --qemu /nonexistent/qemu --timeout-s 5");
    // Invalid input is 2; a valid workload beyond the oracle's limits is 3.
    bool limitation = std::string(c.message).find("limitation") != std::string::npos;
    EXPECT_EQ(l.run.status, limitation ? 3 : 2) << c.text << "\n" << l.run.output;
    EXPECT_NE(l.run.output.find(c.message), std::string::npos) << c.text << "\n" << l.run.output;
  }
  // A region as large as the address space allows plans in little memory.
  std::string w = Write("oracle-big.json", R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 25000000000},
    {"op": "munmap", "proc": "a", "region": "r", "range": [5, 25000000000]},
    {"op": "write", "proc": "a", "region": "r", "range": [0, 5], "data": {"fill": 1}}]})");
  Limited l = RunLimited("oracle " + w + " --qemu /nonexistent/qemu --timeout-s 5");
  EXPECT_EQ(l.run.output.find("invalid workload"), std::string::npos) << l.run.output;
  EXPECT_LT(l.max_rss_kib, 64 * 1024 * kRssSlack) << l.run.output;
}

// The host budget: an estimate above --max-memory stops before anything is allocated, with
// exit 3 and a message naming the step, the estimate and the limit.
TEST(RobustTest, HostBudgetStopsBeforeTheWork) {
  std::string w = Write("budget.json", R"({"ksmsim": 1, "machine": {"nodes": [
    {"memory_mib": 65536}]}, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4000000},
    {"op": "write", "proc": "a", "region": "r", "data": {"unique": true}}]})");
  for (std::string cmd : {"run " + w, "report " + w + " --out /dev/null", "explain " + w}) {
    Limited l = RunLimited(cmd + " --max-memory 64");
    EXPECT_EQ(l.run.status, 3) << cmd << l.run.output;
    // No std::regex: GCC 12 warns (maybe-uninitialized) inside <regex> at -O2 with ASan.
    size_t at = l.run.output.find("step 2 (write, steps[2]) needs about ");
    EXPECT_NE(at, std::string::npos) << cmd << l.run.output;
    size_t mib = l.run.output.find(" MiB of host memory ", at);
    EXPECT_NE(mib, std::string::npos) << cmd << l.run.output;
    EXPECT_NE(l.run.output.find("more than the limit of 64 MiB (--max-memory)", mib),
              std::string::npos)
        << cmd << l.run.output;
    EXPECT_LT(l.max_rss_kib, 32 * 1024 * kRssSlack) << l.run.output;
  }
}

}  // namespace

namespace {

// Found by tools/dev/mutate-fuzz.py: nested repeats around an empty body (10^40 iterations
// of nothing) ran forever in `run` and in the oracle's planner; they now cost nothing.
TEST(RobustTest, NestedEmptyRepeatsCostNothing) {
  std::string body = "[]";
  for (int i = 0; i < 10; ++i)
    body = R"([{"op": "repeat", "times": 10000, "steps": )" + body + "}]";
  std::string w = Write("empty.json", R"({"ksmsim": 1, "steps": [{"op": "spawn", "proc": "a"},
    {"op": "repeat", "times": 4294967295, "steps": )" +
                                          body + R"(},
    {"op": "snapshot", "label": "end"}]})");
  Limited l = RunLimited("run " + w);
  EXPECT_EQ(l.run.status, 0) << l.run.output;
  EXPECT_NE(l.run.output.find("step 1 snapshot \"end\""), std::string::npos) << l.run.output;
  l = RunLimited("oracle " + w + " --qemu /nonexistent/qemu --timeout-s 5");
  EXPECT_EQ(l.run.output.find("invalid workload"), std::string::npos) << l.run.output;
  EXPECT_NE(l.run.status, 124) << l.run.output;  // not killed by the timeout
}

}  // namespace

namespace {

// Past the host-memory estimate, an allocation that fails (here under a 300 MiB address
// space limit, which also shrinks the object arena's reservation) ends the run with exit 3 and
// a message, not an uncaught std::bad_alloc.
TEST(RobustTest, OutOfHostMemoryIsExit3WithAMessage) {
#ifdef KSMSIM_ASAN
  GTEST_SKIP() << "ASan needs more address space than the limit this test sets";
#else
  std::string w = Write("oom.json", R"({"ksmsim": 1, "machine": {"nodes": [
    {"memory_mib": 65536}]}, "ksm": {"pages_to_scan": 100000, "sleep_millisecs": 10},
    "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4000000},
    {"op": "write", "proc": "a", "region": "r", "data": {"unique": true}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2}]})");
  RunResult r = RunShell(std::string("ulimit -v 307200; '") + KSMSIM_BINARY + "' run " + w +
                         " --max-memory 100000");
  EXPECT_EQ(r.status, 3) << r.output;
  EXPECT_NE(r.output.find("ksmsim run: out of host memory"), std::string::npos) << r.output;
#endif
}

}  // namespace
