// The oracle's planner accepts every bundled example: what `ksmsim run` takes, `ksmsim
// oracle` must take too (it once refused `label` on an expect step). QEMU is never started:
// the planner runs before the VM, and a missing --qemu binary ends the run right after.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace {

using ksmsim::e2e::RunKsmsim;
using ksmsim::e2e::RunResult;

TEST(OraclePlanTest, EveryExampleIsAValidOraclePlan) {
  int checked = 0;
  for (const char* dir : {"/workloads/examples", "/tools/oracle/cases", "/workloads/labs"}) {
    std::string path = std::string(KSMSIM_SOURCE_DIR) + dir;
    if (!std::filesystem::exists(path)) continue;
    for (const auto& e : std::filesystem::directory_iterator(path)) {
      std::string p = e.path().string();
      if (e.path().extension() != ".json" || p.ends_with(".result.json")) continue;
      if (p.find("6.1-zero-unshare") != std::string::npos) continue;
      RunResult run = RunKsmsim("oracle '" + p + "' --qemu /nonexistent/qemu --timeout-s 5");
      EXPECT_EQ(run.output.find("invalid workload"), std::string::npos) << p << "\n" << run.output;
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

TEST(OraclePlanTest, UnknownFieldIsStillRefused) {
  auto dir =
      std::filesystem::temp_directory_path() / ("ksmsim-oracle-plan-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string w = (dir / "bad.json").string();
  std::string text =
      R"({"ksmsim": 1, "machine": {"nodes": [{"memory_mib": 64}]}, "steps": [)"
      R"({"op": "spawn", "proc": "a"}, {"op": "expect", "ksm": {}, "colour": "red"}]})";
  std::ofstream(w) << text;
  RunResult run = RunKsmsim("oracle '" + w + "' --qemu /nonexistent/qemu");
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.output.find("steps[1].colour: unknown field"), std::string::npos) << run.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
