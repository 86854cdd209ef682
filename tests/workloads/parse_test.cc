// Valid workloads: the examples, defaults, every field's typed form, and the name rules
// that allow things (fork inherits regions, names reusable after exit or munmap).
#include "workloads/parse.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "workloads/counters.h"

namespace ksmsim::workloads {
namespace {

std::string Describe(const ParseOutcome& outcome) {
  std::string s;
  for (const ValidationError& e : outcome.errors) s += "  " + e.ToString() + "\n";
  return s;
}

Workload ParseOk(const std::string& text) {
  ParseOutcome outcome = ParseWorkloadText(text, "ok.json");
  EXPECT_TRUE(outcome.ok()) << Describe(outcome);
  EXPECT_EQ(outcome.workload.has_value(), outcome.ok());
  return outcome.workload.value_or(Workload{});
}

std::string ExamplesDir() { return std::string(KSMSIM_SOURCE_DIR) + "/workloads/examples"; }

TEST(ParseTest, EveryExampleParsesAndHasADescription) {
  int examples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ExamplesDir())) {
    if (entry.path().extension() != ".json") continue;
    ++examples;
    ParseOutcome outcome = ParseWorkloadFile(entry.path().string());
    ASSERT_TRUE(outcome.ok()) << entry.path() << "\n" << Describe(outcome);
    EXPECT_FALSE(outcome.workload->description.empty()) << entry.path();
    EXPECT_FALSE(outcome.workload->name.empty()) << entry.path();
  }
  EXPECT_GE(examples, 5);
}

TEST(ParseTest, TwoProcsIdenticalIsTheFormatDocumentExample) {
  ParseOutcome outcome = ParseWorkloadFile(ExamplesDir() + "/two_procs_identical.json");
  ASSERT_TRUE(outcome.ok()) << Describe(outcome);
  const Workload& w = *outcome.workload;
  EXPECT_EQ(w.name, "two processes, identical pages");
  EXPECT_EQ(w.kernel, KernelProfile::k61);
  ASSERT_EQ(w.machine.nodes.size(), 1u);
  EXPECT_EQ(w.machine.nodes[0].memory_mib, 256u);
  EXPECT_EQ(w.ksm, (KnobList{{"pages_to_scan", 10000}, {"sleep_millisecs", 200}}));
  ASSERT_EQ(w.steps.size(), 11u);
  EXPECT_EQ(w.steps[2].op(), Op::kMmap);
  EXPECT_EQ(w.steps[2].as<MmapStep>().pages, 1000u);
  ASSERT_EQ(w.steps[4].op(), Op::kWrite);
  EXPECT_EQ(w.steps[4].as<WriteStep>().data.kind, DataSpec::Kind::kFill);
  EXPECT_EQ(w.steps[4].as<WriteStep>().data.fill, 65);
  EXPECT_EQ(w.steps[6].as<MadviseStep>().advice, Advice::kMergeable);
  EXPECT_EQ(w.steps[8].as<KsmStep>().set, (KnobList{{"run", 1}}));
  EXPECT_EQ(w.steps[9].as<WaitStep>().spec(), (WaitSpec{WaitSpec::Unit::kFullScans, 3}));
  ASSERT_EQ(w.steps[10].op(), Op::kExpect);
  EXPECT_EQ(w.steps[10].as<ExpectStep>().ksm, (CounterMap{{"pages_shared", 8},
                                                          {"pages_sharing", 1992},
                                                          {"stable_node_chains", 1},
                                                          {"stable_node_dups", 8}}));
  EXPECT_EQ(w.steps[10].path, "steps[10]");
}

TEST(ParseTest, DefaultsAreTheFormatDefaults) {
  Workload w = ParseOk(R"({"ksmsim": 1, "steps": []})");
  EXPECT_EQ(w.version, 1);
  EXPECT_EQ(w.name, "");
  EXPECT_EQ(w.seed, 0u);
  EXPECT_EQ(w.kernel, KernelProfile::k61);
  ASSERT_EQ(w.machine.nodes.size(), 1u);
  EXPECT_EQ(w.machine.nodes[0].memory_mib, 1024u);
  EXPECT_EQ(w.machine.swap_mib, 0u);
  EXPECT_EQ(w.machine.memory_block_mib, 128u);
  EXPECT_EQ(w.machine.page_size, 4096u);
  EXPECT_TRUE(w.ksm.empty());
  EXPECT_EQ(KnobDefault("max_page_sharing"), 256);
  EXPECT_EQ(KnobDefault("pages_shared"), std::nullopt);
}

TEST(ParseTest, TopLevelFields) {
  Workload w = ParseOk(R"({"ksmsim": 1, "name": "n", "description": "d",
      "seed": 18446744073709551615, "kernel": "6.1-zero-unshare",
      "machine": {"nodes": [{"memory_mib": 300}, {"memory_mib": 64}], "swap_mib": 512,
                  "memory_block_mib": 64, "page_size": 4096},
      "ksm": {"run": 2, "max_page_sharing": 2, "use_zero_pages": 1,
              "stable_node_chains_prune_millisecs": 4294967295},
      "steps": []})");
  EXPECT_EQ(w.name, "n");
  EXPECT_EQ(w.description, "d");
  EXPECT_EQ(w.seed, 18446744073709551615u);
  EXPECT_EQ(w.kernel, KernelProfile::k61ZeroUnshare);
  ASSERT_EQ(w.machine.nodes.size(), 2u);
  EXPECT_EQ(w.machine.swap_mib, 512u);
  EXPECT_EQ(w.machine.BlocksOnNode(0), 5u);  // 300 MiB in 64 MiB blocks, rounded up
  EXPECT_EQ(w.machine.BlocksOnNode(1), 1u);
  EXPECT_EQ(w.machine.BlocksOnNode(2), 0u);
  EXPECT_EQ(w.ksm, (KnobList{{"run", 2},
                             {"max_page_sharing", 2},
                             {"use_zero_pages", 1},
                             {"stable_node_chains_prune_millisecs", 4294967295}}));
}

TEST(ParseTest, EveryStepFieldIsTyped) {
  Workload w = ParseOk(R"({"ksmsim": 1, "kernel": "6.1-zero-unshare",
    "machine": {"nodes": [{"memory_mib": 256}, {"memory_mib": 256}]},
    "steps": [
      {"op": "spawn", "proc": "a", "node": 1},
      {"op": "mmap", "proc": "a", "region": "r", "pages": 64, "node": 1, "locked": true},
      {"op": "write", "proc": "a", "region": "r", "range": [0, 8], "data": {"unique": true}},
      {"op": "write", "proc": "a", "region": "r", "range": [8, 16], "data": {"key": "k"}},
      {"op": "write", "proc": "a", "region": "r", "data": {"cycle": 3}},
      {"op": "write", "proc": "a", "region": "r", "data": {"pool": 5}},
      {"op": "write", "proc": "a", "region": "r", "range": [63, 64],
       "data": {"patch": {"offset": 4095, "value": 255}}},
      {"op": "madvise", "proc": "a", "region": "r", "advice": "pageout", "range": [1, 2]},
      {"op": "migrate", "proc": "a", "region": "r", "node": 0},
      {"op": "pin", "proc": "a", "region": "r", "range": [3, 4]},
      {"op": "offline", "node": 1, "block": 1, "expect_error": "EBUSY"},
      {"op": "ksm", "set": {"sleep_millisecs": 5, "run": 3, "merge_across_nodes": 0},
       "expect_error": "EINVAL"},
      {"op": "wait", "ms": 0},
      {"op": "expect", "label": "e", "ksm": {"ksm_zero_pages": 0, "run": 1},
       "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 64}},
       "vmstat": {"pswpout": 1, "cow_ksm": -1}},
      {"op": "snapshot", "label": "s"},
      {"op": "repeat", "times": 2, "steps": [{"op": "read", "proc": "a", "region": "r"}]}
    ]})");
  ASSERT_EQ(w.steps.size(), 16u);
  EXPECT_EQ(w.steps[0].as<SpawnStep>().node, 1u);
  EXPECT_TRUE(w.steps[1].as<MmapStep>().locked);
  EXPECT_EQ(w.steps[2].as<WriteStep>().range, (PageRange{0, 8}));
  EXPECT_EQ(w.steps[2].as<WriteStep>().data.kind, DataSpec::Kind::kUnique);
  EXPECT_EQ(w.steps[3].as<WriteStep>().data.key, "k");
  EXPECT_EQ(w.steps[4].as<WriteStep>().data.kind, DataSpec::Kind::kCycle);
  EXPECT_EQ(w.steps[4].as<WriteStep>().data.k, 3u);
  EXPECT_EQ(w.steps[5].as<WriteStep>().data.kind, DataSpec::Kind::kPool);
  EXPECT_EQ(w.steps[5].as<WriteStep>().data.k, 5u);
  EXPECT_EQ(w.steps[6].as<WriteStep>().data.patch_offset, 4095);
  EXPECT_EQ(w.steps[6].as<WriteStep>().data.patch_value, 255);
  EXPECT_EQ(w.steps[7].as<MadviseStep>().advice, Advice::kPageout);
  EXPECT_FALSE(RangeOf(w.steps[8])->range.has_value());
  EXPECT_EQ(w.steps[10].as<OfflineStep>().block, 1u);
  EXPECT_EQ(w.steps[10].as<OfflineStep>().expect_error, ExpectedError::kEBUSY);
  // Knob writes keep file order; out-of-range values are left to run time (EINVAL).
  EXPECT_EQ(w.steps[11].as<KsmStep>().set,
            (KnobList{{"sleep_millisecs", 5}, {"run", 3}, {"merge_across_nodes", 0}}));
  EXPECT_EQ(w.steps[11].as<KsmStep>().expect_error, ExpectedError::kEINVAL);
  EXPECT_EQ(w.steps[12].as<WaitStep>().spec(), (WaitSpec{WaitSpec::Unit::kMs, 0}));
  EXPECT_EQ(w.steps[13].label, "e");
  EXPECT_EQ(w.steps[13].as<ExpectStep>().procs.at("a").at("ksm_rmap_items"), 64);
  EXPECT_EQ(w.steps[13].as<ExpectStep>().vmstat.at("cow_ksm"), -1);
  EXPECT_EQ(w.steps[14].label, "s");
  EXPECT_EQ(w.steps[15].as<RepeatStep>().times, 2u);
  ASSERT_EQ(w.steps[15].as<RepeatStep>().steps.size(), 1u);
  EXPECT_EQ(w.steps[15].as<RepeatStep>().steps[0].path, "steps[15].steps[0]");
}

TEST(ParseTest, ForkedChildInheritsRegionsWithTheirSizes) {
  Workload w = ParseOk(R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "p"},
    {"op": "mmap", "proc": "p", "region": "heap", "pages": 10},
    {"op": "fork", "proc": "p", "child": "c"},
    {"op": "write", "proc": "c", "region": "heap", "range": [9, 10], "data": {"fill": 1}},
    {"op": "exit", "proc": "p"},
    {"op": "expect", "procs": {"c": {"ksm_merging_pages": 0}}}]})");
  EXPECT_EQ(w.steps.size(), 6u);
  ParseOutcome bad = ParseWorkloadText(R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "p"},
    {"op": "mmap", "proc": "p", "region": "heap", "pages": 10},
    {"op": "fork", "proc": "p", "child": "c"},
    {"op": "read", "proc": "c", "region": "heap", "range": [9, 11]}]})",
                                       "f.json");
  ASSERT_EQ(bad.errors.size(), 1u) << Describe(bad);
  EXPECT_EQ(bad.errors[0].json_path, "steps[3].range");
}

TEST(ParseTest, NamesCanBeReusedAfterExitAndMunmap) {
  ParseOk(R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 10},
    {"op": "munmap", "proc": "a", "region": "r", "range": [2, 4]},
    {"op": "read", "proc": "a", "region": "r", "range": [5, 10]},
    {"op": "munmap", "proc": "a", "region": "r", "range": [0, 10]},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 20},
    {"op": "read", "proc": "a", "region": "r", "range": [15, 20]},
    {"op": "exit", "proc": "a"},
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1}]})");
}

TEST(ParseTest, RepeatBodiesThatRestoreTheirNamesAreValid) {
  Workload w = ParseOk(R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "repeat", "times": 1000000, "steps": [
      {"op": "spawn", "proc": "w"},
      {"op": "mmap", "proc": "w", "region": "r", "pages": 4},
      {"op": "fork", "proc": "w", "child": "w2"},
      {"op": "exit", "proc": "w"},
      {"op": "write", "proc": "w2", "region": "r", "data": {"pool": 2}},
      {"op": "exit", "proc": "w2"},
      {"op": "mmap", "proc": "a", "region": "t", "pages": 1},
      {"op": "munmap", "proc": "a", "region": "t"}]}]})");
  EXPECT_EQ(FlattenedSize(w), 1 + 8u * 1000000);
  EXPECT_EQ(NestedSize(w), 10u);
}

TEST(ParseTest, ZeroPagesCounterNeedsTheZeroUnshareKernel) {
  ParseOk(R"({"ksmsim": 1, "kernel": "6.1-zero-unshare",
              "steps": [{"op": "expect", "ksm": {"ksm_zero_pages": 0}}]})");
  ParseOutcome bad = ParseWorkloadText(
      R"({"ksmsim": 1, "steps": [{"op": "expect", "ksm": {"ksm_zero_pages": 0}}]})", "z.json");
  EXPECT_FALSE(bad.ok());
}

TEST(ParseTest, ValidationErrorToString) {
  EXPECT_EQ((ValidationError{"w.json", "steps[4].data.fill", "expected an integer 0..255, got 300"})
                .ToString(),
            "w.json: steps[4].data.fill: expected an integer 0..255, got 300");
  EXPECT_EQ((ValidationError{"w.json", "", "missing required field \"steps\""}).ToString(),
            "w.json: missing required field \"steps\"");
  EXPECT_EQ((ValidationError{"w.json", "", "JSON syntax error: x", 3, 7}).ToString(),
            "w.json:3:7: JSON syntax error: x");
}

TEST(ParseTest, PathsQuoteKeysThatAreNotIdentifiers) {
  ParseOutcome bad = ParseWorkloadText(
      R"({"ksmsim": 1, "steps": [{"op": "expect", "procs": {"my proc": {"x": 1}}}]})", "q.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.errors[0].json_path, "steps[0].procs[\"my proc\"].x") << Describe(bad);
}

}  // namespace
}  // namespace ksmsim::workloads
