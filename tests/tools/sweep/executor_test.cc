// The executors through the ksmsim binary: byte-identical outputs whatever the number of
// workers, an interrupted sweep finished later, the Slurm path (array tasks run by hand,
// then `sweep collect`), and specs rejected before anything runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Result {
  int status;
  std::string out;  // stdout and stderr
};

Result Sh(const std::string& args) {
  std::string cmd = std::string(KSMSIM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string Read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class SweepExecutor : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sweep_executor_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "w.json") << R"({"ksmsim": 1, "name": "t",
      "machine": {"nodes": [{"memory_mib": 64}]}, "steps": [
      {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
      {"op": "mmap", "proc": "a", "region": "r", "pages": 768},
      {"op": "mmap", "proc": "b", "region": "r", "pages": 768},
      {"op": "write", "proc": "a", "region": "r", "range": [0, 512], "data": {"cycle": 512}},
      {"op": "write", "proc": "b", "region": "r", "range": [0, 512], "data": {"cycle": 512}},
      {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
      {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
      {"op": "ksm", "set": {"run": 1}},
      {"op": "wait", "ms": 1000}, {"op": "snapshot", "label": "1s"},
      {"op": "wait", "ms": 2000}]})";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Grid() const {
    return (dir_ / "w.json").string() +
           " --set pages_to_scan=100,400,1600 --set sleep_millisecs=20,200 --policy "
           "fixed,ksmtuned";
  }
  std::string Outs(const std::string& tag) const {
    return " --csv " + (dir_ / (tag + ".csv")).string() + " --json " +
           (dir_ / (tag + ".json")).string() + " --svg " + (dir_ / (tag + ".svg")).string();
  }
  void ExpectSame(const std::string& a, const std::string& b) {
    for (const char* ext : {".csv", ".json", ".svg"}) {
      std::string x = Read(dir_ / (a + ext)), y = Read(dir_ / (b + ext));
      EXPECT_FALSE(x.empty()) << a << ext;
      EXPECT_EQ(x, y) << a << ext << " vs " << b << ext;
    }
  }
  fs::path dir_;
};

TEST_F(SweepExecutor, SameBytesWhateverTheWorkers) {
  Result one = Sh("sweep " + Grid() + " -j 1" + Outs("j1"));
  ASSERT_EQ(one.status, 0) << one.out;
  EXPECT_THAT(one.out, HasSubstr("12 points; front: S = the Pareto front of saving"));
  Result two = Sh("sweep " + Grid() + " -j 2 --quiet" + Outs("j2"));
  ASSERT_EQ(two.status, 0) << two.out;
  ExpectSame("j1", "j2");
  std::string csv = Read(dir_ / "j1.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 12 * 2);  // header, 2 rows a point
  EXPECT_THAT(csv, HasSubstr("point,input,policy,pages_to_scan,sleep_millisecs,exit_status,"
                             "snapshot,step,time_ns,saved_bytes,ksmd_cpu_ns,pages_scanned,"
                             "t50_ns,t90_ns,t99_ns,end_saved_pct_of_best,ksm.full_scans"));
  EXPECT_THAT(Read(dir_ / "j1.svg"), HasSubstr("Pareto front"));
  // Existing outputs are not overwritten without --force.
  Result again = Sh("sweep " + Grid() + Outs("j1"));
  EXPECT_EQ(again.status, 2);
  EXPECT_THAT(again.out, HasSubstr("already exists; pass --force"));
}

TEST_F(SweepExecutor, InterruptedSweepResumes) {
  ASSERT_EQ(Sh("sweep " + Grid() + " -j 2 -q" + Outs("full")).status, 0);
  std::string results = (dir_ / "res").string();
  Result stopped = Sh("sweep " + Grid() + " -j 2 --stop-after-points 5 --results " + results);
  EXPECT_EQ(stopped.status, 130) << stopped.out;
  EXPECT_THAT(stopped.out, HasSubstr("interrupted:"));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "res" / "points")) {
    EXPECT_EQ(e.path().extension(), ".json") << e.path();
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos);
    ++files;
  }
  EXPECT_GE(files, 5u);
  EXPECT_LT(files, 12u);
  // Collecting an unfinished directory says so.
  Result early = Sh("sweep collect " + results + " -q" + Outs("early"));
  EXPECT_EQ(early.status, 3);
  EXPECT_THAT(early.out, HasSubstr("points have no result yet"));
  Result rest = Sh("sweep " + Grid() + " -j 1 -q --results " + results + Outs("resumed"));
  ASSERT_EQ(rest.status, 0) << rest.out;
  ExpectSame("full", "resumed");
  // Another grid in the same directory is refused.
  Result other =
      Sh("sweep " + (dir_ / "w.json").string() + " --set pages_to_scan=7 --results " + results);
  EXPECT_EQ(other.status, 2);
  EXPECT_THAT(other.out, HasSubstr("results of another grid"));
}

TEST_F(SweepExecutor, CtrlCKeepsFinishedPointsOnly) {
  // 24 points of a 60 s wait: long enough to be interrupted after the first two finish.
  std::string w = Read(dir_ / "w.json");
  const std::string from = "\"ms\": 2000";
  w.replace(w.find(from), from.size(), "\"ms\": 60000");
  std::ofstream(dir_ / "long.json") << w;
  std::string grid = (dir_ / "long.json").string() +
                     " --set pages_to_scan=100,200,300,400,500,600 --set sleep_millisecs=5,10 "
                     "--policy fixed,ksmtuned -q";
  std::string results = (dir_ / "res").string();
  std::string script = std::string(KSMSIM_BINARY) + " sweep " + grid + " -j 2 --results " +
                       results + " & pid=$!; while [ \"$(ls " + results +
                       "/points 2>/dev/null | grep -c json$)\" -lt 2 ]; do sleep 0.02; done; "
                       "kill -INT $pid; wait $pid; echo \"rc=$?\"";
  FILE* p = popen(("sh -c '" + script + "' 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  EXPECT_THAT(out, HasSubstr("rc=130")) << out;
  EXPECT_THAT(out, HasSubstr("interrupted:"));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "res" / "points")) {
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
    EXPECT_FALSE(Read(e.path()).empty());
    ++files;
  }
  EXPECT_LT(files, 24u);
  ASSERT_EQ(Sh("sweep " + grid + " -j 2 --results " + results + Outs("resumed")).status, 0);
  ASSERT_EQ(Sh("sweep " + grid + " -j 2" + Outs("full")).status, 0);
  ExpectSame("full", "resumed");
}

TEST_F(SweepExecutor, SlurmArrayTasksThenCollect) {
  ASSERT_EQ(Sh("sweep " + Grid() + " -q" + Outs("local")).status, 0);
  std::string results = (dir_ / "shared").string();
  Result job = Sh("sweep " + Grid() + " --slurm --slurm-tasks 5 --no-submit --results " + results);
  ASSERT_EQ(job.status, 0) << job.out;
  std::string script = Read(dir_ / "shared" / "sweep.sbatch");
  EXPECT_THAT(script, HasSubstr("#SBATCH --array=0-4\n"));
  EXPECT_THAT(script, HasSubstr("sweep chunk '" + results +
                                "' --task \"${SLURM_ARRAY_TASK_ID}\" --tasks 5"));
  // The array tasks, in any order.
  for (int task : {3, 0, 4, 2, 1}) {
    Result r = Sh("sweep chunk " + results + " --task " + std::to_string(task) + " --tasks 5");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  Result c = Sh("sweep collect " + results + " -q" + Outs("slurm"));
  ASSERT_EQ(c.status, 0) << c.out;
  ExpectSame("local", "slurm");
}

TEST_F(SweepExecutor, TracesAreReplayedWithTheKnobs) {
  std::string trace = (dir_ / "t.jsonl").string();
  ASSERT_EQ(Sh("run -q " + (dir_ / "w.json").string() + " --record " + trace).status, 0);
  Result r = Sh("sweep " + trace + " --set pages_to_scan=100,1000 -j 1 -q --csv -");
  ASSERT_EQ(r.status, 0) << r.out;
  // Two points, each with its snapshot and its end; the swept value is the one replayed.
  EXPECT_THAT(r.out, HasSubstr("\n0," + trace + ",fixed,100,0,1s,"));
  EXPECT_THAT(r.out, HasSubstr("\n1," + trace + ",fixed,1000,0,end,"));
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5);
}

TEST_F(SweepExecutor, BadSpecsRunNothing) {
  Result knob = Sh("sweep " + (dir_ / "w.json").string() + " --set pages_to_scam=1 --results " +
                   (dir_ / "r1").string());
  EXPECT_EQ(knob.status, 2);
  EXPECT_THAT(knob.out, HasSubstr("did you mean pages_to_scan?"));
  EXPECT_THAT(knob.out, HasSubstr("invalid sweep, nothing was run"));
  EXPECT_FALSE(fs::exists(dir_ / "r1"));
  Result range = Sh("sweep " + (dir_ / "w.json").string() + " --set sleep_millisecs=-1");
  EXPECT_EQ(range.status, 2);
  EXPECT_THAT(range.out,
              HasSubstr("sleep_millisecs = -1 is out of range: sleep_millisecs accepts 0 to"));
  Result empty = Sh("sweep --set pages_to_scan=1");
  EXPECT_EQ(empty.status, 2);
  EXPECT_THAT(empty.out, HasSubstr("empty grid"));
  std::ofstream(dir_ / "bad.json") << R"({"ksmsim": 1, "name": "b", "steps": [{"op": "wait"}]})";
  Result bad = Sh("sweep " + (dir_ / "bad.json").string());
  EXPECT_EQ(bad.status, 2);
  EXPECT_THAT(bad.out, HasSubstr("steps[0]"));
  EXPECT_THAT(bad.out, HasSubstr("bad.json: invalid workload, nothing was run"));
  // The advisor policy with a 6.1 workload.
  Result advisor = Sh("sweep " + (dir_ / "w.json").string() + " --policy fixed,advisor --results " +
                      (dir_ / "r2").string());
  EXPECT_EQ(advisor.status, 2);
  EXPECT_THAT(advisor.out, HasSubstr("w.json: the advisor policy needs kernel \"6.12\""));
  EXPECT_THAT(advisor.out, HasSubstr("invalid sweep, nothing was run"));
  EXPECT_FALSE(fs::exists(dir_ / "r2"));
}

// The three policies on a 6.12 workload: the Slurm path's array tasks and the local executor
// give the same bytes, and the summary compares the policies.
TEST_F(SweepExecutor, AdvisorPolicySameBytesLocallyAndAsSlurmTasks) {
  std::string text = Read(dir_ / "w.json");
  text.replace(text.find("\"name\": \"t\","), 12, "\"name\": \"t\", \"kernel\": \"6.12\",");
  std::ofstream(dir_ / "w612.json") << text;
  const std::string grid =
      (dir_ / "w612.json").string() +
      " --set sleep_millisecs=20,200 --set advisor_max_pages_to_scan=1000,30000 "
      "--policy fixed,ksmtuned,advisor";
  Result local = Sh("sweep " + grid + " -j 2" + Outs("local"));
  ASSERT_EQ(local.status, 0) << local.out;
  EXPECT_THAT(local.out, HasSubstr("by policy, among the points that saved 90% of the best:"));
  EXPECT_THAT(local.out, HasSubstr("  advisor  soonest: point "));
  EXPECT_THAT(local.out, HasSubstr("the saving soonest: advisor"));
  std::string results = (dir_ / "shared").string();
  ASSERT_EQ(
      Sh("sweep " + grid + " --slurm --slurm-tasks 3 --no-submit --results " + results).status, 0);
  for (int task : {2, 0, 1})
    ASSERT_EQ(
        Sh("sweep chunk " + results + " --task " + std::to_string(task) + " --tasks 3").status, 0);
  ASSERT_EQ(Sh("sweep collect " + results + " -q" + Outs("slurm")).status, 0);
  ExpectSame("local", "slurm");
  // An advisor point's pages_to_scan at 1 s is the advisor's (its maximum here), a fixed
  // point's the kernel's default.
  std::string csv = Read(dir_ / "local.csv");
  std::string head = csv.substr(0, csv.find('\n'));
  size_t col = std::count(head.begin(), head.begin() + head.find(",ksm.pages_to_scan,") + 1, ',');
  auto cell = [&](const std::string& prefix) {
    size_t at = csv.find("\n" + prefix);
    std::string line = csv.substr(at + 1, csv.find('\n', at + 1) - at - 1);
    std::stringstream in(line);
    std::string c;
    for (size_t k = 0; k <= col; ++k) std::getline(in, c, ',');
    return c;
  };
  EXPECT_EQ(cell("8," + (dir_ / "w612.json").string() + ",advisor,20,1000,0,1s,"), "1000");
  EXPECT_EQ(cell("0," + (dir_ / "w612.json").string() + ",fixed,20,1000,0,1s,"), "100");
}

}  // namespace
