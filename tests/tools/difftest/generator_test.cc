// The difftest generator: deterministic, valid, and never a workload the simulator refuses
// (a refusal is a generator bug: a wait that can never finish, or a knob outcome it
// promised wrongly).
#include "tools/difftest/generator.h"

#include <gtest/gtest.h>

#include <string>

#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::workloads {
namespace {

std::string RunGenerated(uint64_t seed, GenSize size) {
  std::string text = GenerateWorkload({.seed = seed, .size = size}).dump();
  ParseOutcome parsed = ParseWorkloadText(text, "gen.json");
  if (!parsed.ok()) return "invalid: " + parsed.errors.front().ToString();
  Driver driver(*parsed.workload);
  driver.Run();
  std::string problems;
  for (const std::string& e : driver.errors()) problems += e + "\n";
  if (driver.exit_status() != 0) problems += "an expect_error did not hold\n";
  return problems;
}

TEST(GeneratorTest, SameSeedSameDocument) {
  EXPECT_EQ(GenerateWorkload({.seed = 7}).dump(), GenerateWorkload({.seed = 7}).dump());
  EXPECT_NE(GenerateWorkload({.seed = 7}).dump(), GenerateWorkload({.seed = 8}).dump());
}

// Seeds that once produced refused workloads: 42 (its only mergeable region munmapped, then
// a wait), 110 (initial knobs written as the final ones), 365 (max_page_sharing after run 2
// while a fork relative's unmergeable VMA still maps a KSM page: EBUSY).
TEST(GeneratorTest, EverySmallSeedRunsWithoutError) {
  for (uint64_t seed = 1; seed <= 400; ++seed)
    EXPECT_EQ(RunGenerated(seed, GenSize::kSmall), "") << "seed " << seed;
}

TEST(GeneratorTest, EveryMediumSeedRunsWithoutError) {
  for (uint64_t seed = 1; seed <= 60; ++seed)
    EXPECT_EQ(RunGenerated(seed, GenSize::kMedium), "") << "seed " << seed;
}

TEST(GeneratorTest, InitialKnobsAreTheOnesTheStepsStartFrom) {
  // Seed 110 changes max_page_sharing in its steps; the document's `ksm` block must keep
  // the value the run starts with, not the last one written.
  auto w = GenerateWorkload({.seed = 110});
  uint64_t initial = w["ksm"]["max_page_sharing"];
  uint64_t last_written = initial;
  for (const auto& s : w["steps"])
    if (s["op"] == "ksm" && s["set"].contains("max_page_sharing") &&
        s.value("expect_error", "") == "none")
      last_written = s["set"]["max_page_sharing"];
  EXPECT_NE(initial, last_written);
}

}  // namespace
}  // namespace ksmsim::workloads
