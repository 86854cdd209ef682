// The shrinker's failure signature: the differing counters without step numbers and
// process names, so that one bug found by many seeds is counted once.
#include "tools/difftest/shrink.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace ksmsim::tools::difftest {
namespace {

TEST(SignatureTest, DropsStepsAndProcessNamesSortsAndDeduplicates) {
  EXPECT_EQ(Signature({"step 12 (snapshot \"a\"): ksm.pages_sharing 4 vs 5",
                       "step 3 (expect): procs.p3.ksm_merging_pages 1 vs 2",
                       "step 9 (snapshot \"b\"): procs.p1.ksm_merging_pages 0 vs 2",
                       "step 14 (snapshot \"c\"): ksm.pages_sharing 6 vs 7"}),
            "ksm.pages_sharing procs.*.ksm_merging_pages");
}

TEST(SignatureTest, ErrorsAndUnknownLines) {
  EXPECT_EQ(Signature({"errors: the simulator reported none, the kernel 1", "garbage"}),
            "errors other");
  EXPECT_EQ(Signature({}), "");
}

// A kernel result whose wait ksmd overshot (docs/ORACLE.md) is the oracle's failure, not a
// difference: Judge says so without comparing. The oracle here is a stand-in script that
// writes such a result for `oracle W --out K` (the real one boots a VM).
TEST(JudgeTest, AnOvershotWaitIsAnOracleFailureNotADifference) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ksmsim_judge_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path fake = dir / "fake-ksmsim";
  std::ofstream(fake) << "#!/bin/sh\n"
                         "# oracle W --out K ...\n"
                         "[ \"$1\" = oracle ] || exit 2\n"
                         "printf '%s\\n' '{\"ksmsim\": 1, \"results\": [], \"outcomes\": [], "
                         "\"errors\": [\"step 3 (wait): ksmd overshot: it scanned 1173 pages of "
                         "the next pass before run=0 stopped it (not comparable)\"]}' > \"$4\"\n";
  fs::permissions(fake, fs::perms::owner_all);
  Runner runner;
  runner.self = fake.string();
  runner.work_dir = dir.string();
  const Json w = Json::parse(R"({"ksmsim": 1, "machine": {"nodes": [{"memory_mib": 64}]},
    "steps": [{"op": "spawn", "proc": "a"},
              {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
              {"op": "snapshot", "label": "s"}]})");
  const Verdict v = runner.Judge(w);
  EXPECT_EQ(v.kind, Verdict::kOracleFailed) << v.problem;
  EXPECT_NE(v.problem.find("ksmd overshot"), std::string::npos) << v.problem;
  EXPECT_EQ(runner.oracle_runs, 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ksmsim::tools::difftest
