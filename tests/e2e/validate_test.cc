// `ksmsim validate` end to end: the examples are valid, a bad file exits 2 naming itself.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace {

using ksmsim::e2e::RunKsmsim;
using ksmsim::e2e::RunResult;
using ksmsim::e2e::RunShell;

TEST(ValidateE2eTest, EveryExampleIsValid) {
  std::string dir = std::string(KSMSIM_SOURCE_DIR) + "/workloads/examples";
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++checked;
    RunResult run = RunKsmsim("validate '" + entry.path().string() + "'");
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find(entry.path().string() + ": ok ("), std::string::npos) << run.output;
  }
  EXPECT_GE(checked, 5);
  RunResult one = RunKsmsim("validate '" + dir + "/two_procs_identical.json'");
  EXPECT_EQ(one.output, dir + "/two_procs_identical.json: ok (11 steps, 11 after repeat)\n");
}

TEST(ValidateE2eTest, BadFileExitsTwoAndNamesThePathAndProblem) {
  auto tmp =
      std::filesystem::temp_directory_path() / ("ksmsim_validate_e2e_" + std::to_string(getpid()));
  std::filesystem::create_directories(tmp);
  std::string bad = (tmp / "bad.json").string();
  std::string good = (tmp / "good.json").string();
  {
    std::ofstream out(bad);
    out << R"({"ksmsim": 1, "steps": [
      {"op": "spawn", "proc": "a"},
      {"op": "repeat", "times": 3, "steps": [
        {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
        {"op": "write", "proc": "a", "region": "r", "data": {"fill": 300}}]}]})";
  }
  {
    std::ofstream out(good);
    out << R"({"ksmsim": 1, "steps": [{"op": "repeat", "times": 4, "steps": [
      {"op": "spawn", "proc": "a"}, {"op": "exit", "proc": "a"}]}]})";
  }
  RunResult run = RunKsmsim("validate '" + good + "' '" + bad + "'");
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find(good + ": ok (3 steps, 8 after repeat)"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find(bad + ": steps[1].steps[1].data.fill: expected an integer 0..255"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find(bad + ": steps[1].steps[0].region: region \"r\" already exists"),
            std::string::npos)
      << run.output;

  RunResult missing = RunKsmsim("validate '" + (tmp / "missing.json").string() + "'");
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.output.find((tmp / "missing.json").string() + ": cannot read"),
            std::string::npos)
      << missing.output;
  std::filesystem::remove_all(tmp);
}

TEST(ValidateE2eTest, NoFileIsAUsageError) {
  RunResult run = RunKsmsim("validate");
  EXPECT_EQ(run.status, 2) << run.output;
}

}  // namespace
