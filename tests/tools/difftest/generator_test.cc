// The difftest generator: deterministic, valid, and never a workload the simulator refuses
// (a refusal is a generator bug: a wait that can never finish, or a knob outcome it
// promised wrongly).
#include "tools/difftest/generator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::workloads {
namespace {

std::string RunGenerated(uint64_t seed, GenSize size, bool kernel_612 = false) {
  auto doc = GenerateWorkload({.seed = seed, .size = size, .kernel_612 = kernel_612});
  if (kernel_612) doc["kernel"] = "6.12";  // as `ksmsim gen --kernel-profile 6.12` adds it
  std::string text = doc.dump();
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

// The 6.12 profile adds prctl(PR_SET_MEMORY_MERGE). Seed 273 (medium) once turned it on
// in a fork child, whose parent's VMA over the same pages stays unmergeable, then wrote
// merge_across_nodes after `run` 2 expecting no error: the real 6.12 kernel, as the
// simulator, answers EBUSY (the parent still maps a KSM page).
TEST(GeneratorTest, Every612MediumSeedRunsWithoutError) {
  for (uint64_t seed = 1; seed <= 40; ++seed)
    EXPECT_EQ(RunGenerated(seed, GenSize::kMedium, true), "") << "seed " << seed;
  EXPECT_EQ(RunGenerated(273, GenSize::kMedium, true), "");
}

TEST(GeneratorTest, InitialKnobsAreTheOnesTheStepsStartFrom) {
  // Seed 110 changes max_page_sharing in its steps; the document's `ksm` block must keep
  // the value the run starts with, not the last one written.
  auto w = GenerateWorkload({.seed = 110, .features = kGenClassic});
  uint64_t initial = w["ksm"]["max_page_sharing"];
  uint64_t last_written = initial;
  for (const auto& s : w["steps"])
    if (s["op"] == "ksm" && s["set"].contains("max_page_sharing") &&
        s.value("expect_error", "") == "none")
      last_written = s["set"]["max_page_sharing"];
  EXPECT_NE(initial, last_written);
}

// The wider generator reaches every op the oracle can run race-free, and the knobs
// around them; the classic one none of the new ones.
std::set<std::string> OpsUsed(uint32_t features, int seeds) {
  std::set<std::string> ops;
  for (int seed = 1; seed <= seeds; ++seed) {
    auto w = GenerateWorkload({.seed = static_cast<uint64_t>(seed), .features = features});
    std::map<std::string, std::string> parent;  // child -> parent
    for (const auto& s : w["steps"]) {
      std::string op = s["op"];
      ops.insert(op);
      if (op == "ksm")
        for (const auto& [k, v] : s["set"].items()) ops.insert("ksm:" + k);
      if (op == "mmap" && s.value("locked", false)) ops.insert("mmap:locked");
      if (op == "fork") {
        parent[s["child"]] = s["proc"];
        int depth = 1;
        for (std::string p = s["proc"]; parent.count(p); p = parent[p]) ++depth;
        if (depth >= 2) ops.insert("fork:grandchild");
      }
      if (op == "madvise") ops.insert("madvise:" + s["advice"].get<std::string>());
      if (op == "write" && s["data"].contains("fill") && s["data"]["fill"] == 0)
        ops.insert("write:zero");
    }
    uint64_t pages = 0;
    for (const auto& s : w["steps"])
      if (s["op"] == "mmap") pages += s["pages"].get<uint64_t>();
    if (w["ksm"]["pages_to_scan"].get<uint64_t>() < pages / 2) ops.insert("batches");
    if (w["ksm"]["merge_across_nodes"] == 0) ops.insert("mac0");
  }
  return ops;
}

TEST(GeneratorTest, ReachesEveryOpAndKnob) {
  std::set<std::string> ops = OpsUsed(kGenAll, 300);
  for (const char* want :
       {"spawn", "fork", "fork:grandchild", "exit", "mmap", "mmap:locked", "munmap", "write",
        "write:zero", "read", "madvise:mergeable", "madvise:unmergeable", "madvise:dontneed",
        "madvise:pageout", "migrate", "pin", "unpin", "offline", "online", "wait", "snapshot",
        "ksm:run", "ksm:max_page_sharing", "ksm:use_zero_pages", "ksm:merge_across_nodes",
        "ksm:pages_to_scan", "batches", "mac0"})
    EXPECT_TRUE(ops.count(want)) << want;
}

TEST(GeneratorTest, ClassicUsesNoneOfTheNewOps) {
  std::set<std::string> ops = OpsUsed(kGenClassic, 300);
  for (const char* never : {"pin", "unpin", "offline", "online", "ksm:pages_to_scan", "batches"})
    EXPECT_FALSE(ops.count(never)) << never;
}

TEST(GeneratorTest, FeaturesLeaveOutWhatTheyDoNotName) {
  std::set<std::string> ops = OpsUsed(kGenPin, 200);
  EXPECT_TRUE(ops.count("pin"));
  for (const char* never : {"fork", "migrate", "offline", "mmap:locked", "madvise:pageout"})
    EXPECT_FALSE(ops.count(never)) << never;
}

TEST(GeneratorTest, FeatureNames) {
  std::string error;
  EXPECT_EQ(ParseGenFeatures("all", &error), kGenAll);
  EXPECT_EQ(ParseGenFeatures("classic", &error), kGenClassic);
  EXPECT_EQ(ParseGenFeatures("classic,pin", &error), kGenClassic | kGenPin);
  EXPECT_EQ(ParseGenFeatures("hotplug,batches", &error), kGenHotplug | kGenBatches);
  EXPECT_FALSE(ParseGenFeatures("pins", &error));
  EXPECT_NE(error.find("unknown feature 'pins'"), std::string::npos) << error;
  EXPECT_NE(error.find("hotplug"), std::string::npos) << error;
  EXPECT_EQ(GenFeatureNames(kGenAll), "all");
  EXPECT_EQ(GenFeatureNames(kGenClassic), "classic");
  EXPECT_EQ(GenFeatureNames(kGenPin | kGenFork), "fork,pin");
  EXPECT_EQ(*ParseGenFeatures(GenFeatureNames(kGenPin | kGenFork), &error), kGenPin | kGenFork);
}

TEST(GeneratorTest, EverySmallSeedOfEachFeatureAloneRuns) {
  for (uint32_t f = 1; f <= kGenKnobs; f <<= 1)
    for (uint64_t seed = 1; seed <= 60; ++seed) {
      std::string text = GenerateWorkload({.seed = seed, .features = f}).dump();
      ParseOutcome parsed = ParseWorkloadText(text, "gen.json");
      ASSERT_TRUE(parsed.ok()) << GenFeatureNames(f) << " seed " << seed;
      Driver driver(*parsed.workload);
      driver.Run();
      EXPECT_TRUE(driver.errors().empty()) << GenFeatureNames(f) << " seed " << seed << ": "
                                           << driver.errors().front();
    }
}

}  // namespace
}  // namespace ksmsim::workloads
