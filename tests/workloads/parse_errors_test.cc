// Malformed workloads: each must be rejected with an error at the exact JSON path whose
// message says why.
#include <gtest/gtest.h>

#include <string>

#include "workloads/parse.h"

namespace ksmsim::workloads {
namespace {

struct BadCase {
  const char* name;
  std::string text;
  std::string path;    // exact json_path of the expected error
  std::string phrase;  // part of its message
};

// A workload whose script starts with steps[0] = spawn a, steps[1] = mmap a heap 100
// pages, followed by `more` (so the first step of `more` is steps[2]).
std::string WithPrelude(const std::string& more) {
  return R"({"ksmsim": 1, "steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "heap", "pages": 100})" +
         (more.empty() ? std::string() : ",\n    " + more) + "]}";
}

// A workload with the given top-level fields and an empty script.
std::string Top(const std::string& fields) {
  return R"({"ksmsim": 1, "steps": [])" + (fields.empty() ? "" : ", " + fields) + "}";
}

std::string Describe(const ParseOutcome& outcome) {
  std::string s;
  for (const ValidationError& e : outcome.errors) s += "  " + e.ToString() + "\n";
  return s;
}

class BadWorkloadTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadWorkloadTest, RejectedWithPathAndReason) {
  const BadCase& c = GetParam();
  ParseOutcome outcome = ParseWorkloadText(c.text, "bad.json");
  ASSERT_FALSE(outcome.ok()) << c.text;
  EXPECT_FALSE(outcome.workload.has_value());
  bool found = false;
  for (const ValidationError& e : outcome.errors) {
    EXPECT_EQ(e.file, "bad.json");
    found = found || (e.json_path == c.path && e.message.find(c.phrase) != std::string::npos);
  }
  EXPECT_TRUE(found) << "wanted " << c.path << ": ..." << c.phrase << "...\ngot:\n"
                     << Describe(outcome);
}

const BadCase kBadCases[] = {
    // Document structure and top-level fields.
    {"DuplicateTopLevelKey", R"({"ksmsim": 1, "steps": [], "steps": []})", "steps",
     "duplicate key \"steps\""},
    {"DuplicateStepKey",
     WithPrelude(R"({"op": "read", "proc": "a", "proc": "a", "region": "heap"})"), "steps[2].proc",
     "duplicate key"},
    {"NotAnObject", "[]", "", "expected a workload object"},
    {"UnknownTopLevelField", Top(R"("step": [])"), "step",
     "unknown field \"step\" in the workload; allowed: ksmsim, name"},
    {"VersionTwo", R"({"ksmsim": 2, "steps": []})", "ksmsim", "unsupported format version 2"},
    {"VersionString", R"({"ksmsim": "1", "steps": []})", "ksmsim",
     "unsupported format version \"1\""},
    {"MissingVersion", R"({"steps": []})", "", "missing required field \"ksmsim\""},
    {"MissingSteps", R"({"ksmsim": 1})", "", "missing required field \"steps\""},
    {"StepsNotArray", R"({"ksmsim": 1, "steps": {}})", "steps", "expected an array of steps"},
    {"NameNotString", Top(R"("name": 5)"), "name", "expected a string, got 5"},
    {"SeedNegative", Top(R"("seed": -1)"), "seed", "expected a non-negative integer, got -1"},
    {"SeedFloat", Top(R"("seed": 1.5)"), "seed", "got 1.5"},
    {"BadKernel", Top(R"("kernel": "6.2")"), "kernel",
     "unknown kernel profile \"6.2\"; allowed: 6.1, 6.1-zero-unshare"},
    // Machine.
    {"PageSize8192", Top(R"("machine": {"page_size": 8192})"), "machine.page_size",
     "only 4096 is supported"},
    {"NodesEmpty", Top(R"("machine": {"nodes": []})"), "machine.nodes", "1..1024 nodes"},
    {"MemoryMibZero", Top(R"("machine": {"nodes": [{"memory_mib": 0}]})"),
     "machine.nodes[0].memory_mib", "expected an integer 1..4294967296"},
    {"NodeUnknownField", Top(R"("machine": {"nodes": [{"memory_mib": 64, "cpus": 2}]})"),
     "machine.nodes[0].cpus", "unknown field \"cpus\" in a node"},
    {"BlockSizeNotPowerOfTwo", Top(R"("machine": {"memory_block_mib": 100})"),
     "machine.memory_block_mib", "power of two, got 100"},
    {"MachineUnknownField", Top(R"("machine": {"swap": 1})"), "machine.swap",
     "did you mean \"swap_mib\"?"},
    // Initial knobs.
    {"InitialRun5", Top(R"("ksm": {"run": 5})"), "ksm.run", "expected an integer 0..2"},
    {"InitialMaxPageSharing1", Top(R"("ksm": {"max_page_sharing": 1})"), "ksm.max_page_sharing",
     "expected an integer 2..2147483647"},
    {"InitialMergeAcrossNodes2", Top(R"("ksm": {"merge_across_nodes": 2})"),
     "ksm.merge_across_nodes", "0..1"},
    {"InitialReadOnly", Top(R"("ksm": {"pages_shared": 0})"), "ksm.pages_shared",
     "pages_shared is a read-only counter"},
    {"InitialUnknownKnob", Top(R"("ksm": {"pages_to_scann": 5})"), "ksm.pages_to_scann",
     "did you mean \"pages_to_scan\"?"},
    // Ops and step fields.
    {"StepNotObject", WithPrelude("5"), "steps[2]", "expected a step"},
    {"MissingOp", WithPrelude(R"({"proc": "a"})"), "steps[2]", "missing required field \"op\""},
    {"UnknownOp", WithPrelude(R"({"op": "mmapp", "proc": "a"})"), "steps[2].op",
     "unknown op \"mmapp\"; allowed: spawn, fork, exit, mmap"},
    {"UnknownStepField", WithPrelude(R"({"op": "spawn", "proc": "b", "nod": 0})"), "steps[2].nod",
     "unknown field \"nod\" in a \"spawn\" step; allowed: op, proc, node, label"},
    {"ProcNotString", WithPrelude(R"({"op": "spawn", "proc": 5})"), "steps[2].proc",
     "expected a non-empty string, got 5"},
    {"PagesString", WithPrelude(R"({"op": "mmap", "proc": "a", "region": "r", "pages": "100"})"),
     "steps[2].pages", "got \"100\""},
    {"LockedNotBool",
     WithPrelude(R"({"op": "mmap", "proc": "a", "region": "r", "pages": 1, "locked": 1})"),
     "steps[2].locked", "expected true or false, got 1"},
    {"MissingProc", WithPrelude(R"({"op": "mmap", "region": "r", "pages": 1})"), "steps[2]",
     "missing required field \"proc\""},
    {"MissingRegion", WithPrelude(R"({"op": "write", "proc": "a", "data": {"fill": 1}})"),
     "steps[2]", "missing required field \"region\""},
    {"MissingPages", WithPrelude(R"({"op": "mmap", "proc": "a", "region": "r"})"), "steps[2]",
     "missing required field \"pages\""},
    {"MissingData", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap"})"), "steps[2]",
     "missing required field \"data\""},
    {"MissingAdvice", WithPrelude(R"({"op": "madvise", "proc": "a", "region": "heap"})"),
     "steps[2]", "missing required field \"advice\""},
    {"MissingMigrateNode", WithPrelude(R"({"op": "migrate", "proc": "a", "region": "heap"})"),
     "steps[2]", "missing required field \"node\""},
    {"MissingSet", WithPrelude(R"({"op": "ksm"})"), "steps[2]", "missing required field \"set\""},
    {"UnknownAdvice",
     WithPrelude(R"({"op": "madvise", "proc": "a", "region": "heap", "advice": "merge"})"),
     "steps[2].advice", "unknown advice \"merge\"; allowed: mergeable"},
    // Page contents.
    {"Fill300", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                "data": {"fill": 300}})"),
     "steps[2].data.fill",
     "expected an integer 0..255 (the byte every page is filled with), "
     "got 300"},
    {"FillNegative", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                     "data": {"fill": -1}})"),
     "steps[2].data.fill", "got -1"},
    {"PatchOffset4096", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                        "data": {"patch": {"offset": 4096, "value": 1}}})"),
     "steps[2].data.patch.offset", "expected an integer 0..4095"},
    {"PatchValue256", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                      "data": {"patch": {"offset": 0, "value": 256}}})"),
     "steps[2].data.patch.value", "expected an integer 0..255"},
    {"PatchMissingValue", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                          "data": {"patch": {"offset": 0}}})"),
     "steps[2].data.patch", "missing required field \"value\""},
    {"DataTwoKinds", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                     "data": {"fill": 1, "key": "x"}})"),
     "steps[2].data", "exactly one of fill, unique, key, cycle, pool, patch; got fill, key"},
    {"DataNoKind", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap", "data": {}})"),
     "steps[2].data", "got none"},
    {"DataUnknownKind", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                        "data": {"random": 1}})"),
     "steps[2].data.random", "unknown field \"random\" in data"},
    {"UniqueFalse", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                    "data": {"unique": false}})"),
     "steps[2].data.unique", "expected true, got false"},
    {"CycleZero", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                  "data": {"cycle": 0}})"),
     "steps[2].data.cycle", "expected an integer >= 1"},
    {"PoolZero", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                 "data": {"pool": 0}})"),
     "steps[2].data.pool", "expected an integer >= 1"},
    {"KeyNotString", WithPrelude(R"({"op": "write", "proc": "a", "region": "heap",
                                     "data": {"key": 3}})"),
     "steps[2].data.key", "expected a string, got 3"},
    // Sizes and ranges.
    {"PagesZero", WithPrelude(R"({"op": "mmap", "proc": "a", "region": "r", "pages": 0})"),
     "steps[2].pages", "expected an integer 1..34359738368"},
    {"PagesTooLarge",
     WithPrelude(R"({"op": "mmap", "proc": "a", "region": "r", "pages": 34359738369})"),
     "steps[2].pages", "got 34359738369"},
    {"RegionPastAddressSpace",
     WithPrelude(R"({"op": "mmap", "proc": "a", "region": "r", "pages": 34359738368})"),
     "steps[2].pages", "does not fit in the 128 TiB user address space"},
    {"RangeEndPastRegion",
     WithPrelude(R"({"op": "read", "proc": "a", "region": "heap", "range": [50, 101]})"),
     "steps[2].range",
     "range [50, 101) ends past region \"heap\" of process \"a\", which has "
     "100 pages"},
    {"RangeEmpty", WithPrelude(R"({"op": "read", "proc": "a", "region": "heap", "range": [5, 5]})"),
     "steps[2].range", "range [5, 5) is empty"},
    {"RangeReversed",
     WithPrelude(R"({"op": "read", "proc": "a", "region": "heap", "range": [7, 3]})"),
     "steps[2].range", "first must be below end"},
    {"RangeOneElement",
     WithPrelude(R"({"op": "read", "proc": "a", "region": "heap", "range": [1]})"),
     "steps[2].range", "got an array of 1"},
    {"RangeNegative",
     WithPrelude(R"({"op": "read", "proc": "a", "region": "heap", "range": [-1, 3]})"),
     "steps[2].range[0]", "got -1"},
    // Names.
    {"UnknownProc", WithPrelude(R"({"op": "read", "proc": "z", "region": "heap"})"),
     "steps[2].proc", "no process \"z\""},
    {"ExitedProc", WithPrelude(R"({"op": "exit", "proc": "a"},
                                  {"op": "read", "proc": "a", "region": "heap"})"),
     "steps[3].proc", "process \"a\" has exited"},
    {"SpawnExisting", WithPrelude(R"({"op": "spawn", "proc": "a"})"), "steps[2].proc",
     "process \"a\" already exists"},
    {"ForkChildExists", WithPrelude(R"({"op": "spawn", "proc": "b"},
                                       {"op": "fork", "proc": "a", "child": "b"})"),
     "steps[3].child", "process \"b\" already exists; fork needs a new child name"},
    {"ForkUnknownParent", WithPrelude(R"({"op": "fork", "proc": "p", "child": "c"})"),
     "steps[2].proc", "no process \"p\""},
    {"DuplicateRegion", WithPrelude(R"({"op": "mmap", "proc": "a", "region": "heap", "pages": 5})"),
     "steps[2].region", "region \"heap\" already exists in process \"a\""},
    {"UnknownRegion", WithPrelude(R"({"op": "write", "proc": "a", "region": "stack",
                                      "data": {"fill": 1}})"),
     "steps[2].region", "process \"a\" has no region \"stack\"; its regions: heap"},
    {"RegionAfterMunmap", WithPrelude(R"({"op": "munmap", "proc": "a", "region": "heap"},
                                         {"op": "read", "proc": "a", "region": "heap"})"),
     "steps[3].region", "it has no regions"},
    {"NodeOutOfRange", WithPrelude(R"({"op": "spawn", "proc": "b", "node": 1})"), "steps[2].node",
     "node 1 does not exist: the machine has 1 node (0..0)"},
    {"OfflineBlockOutOfRange",
     R"({"ksmsim": 1, "machine": {"nodes": [{"memory_mib": 256}]},
         "steps": [{"op": "offline", "node": 0, "block": 2}]})",
     "steps[0].block", "block 2 does not exist on node 0: it has 2 memory blocks of 128 MiB"},
    // wait, expect, snapshot, ksm.
    {"WaitBoth", WithPrelude(R"({"op": "wait", "ms": 5, "full_scans": 1})"), "steps[2]",
     "exactly one of \"ms\" or \"full_scans\", got both"},
    {"WaitNeither", WithPrelude(R"({"op": "wait"})"), "steps[2]", "got neither"},
    {"FullScansZero", WithPrelude(R"({"op": "wait", "full_scans": 0})"), "steps[2].full_scans",
     "expected an integer 1..4294967295"},
    {"ExpectUnknownKsmCounter", WithPrelude(R"({"op": "expect", "ksm": {"pages_merged": 1}})"),
     "steps[2].ksm.pages_merged", "unknown ksm counter \"pages_merged\""},
    {"ExpectZeroPagesOn61", WithPrelude(R"({"op": "expect", "ksm": {"ksm_zero_pages": 0}})"),
     "steps[2].ksm.ksm_zero_pages", "exists only with kernel \"6.1-zero-unshare\""},
    {"SmartScanStepOn61", WithPrelude(R"({"op": "ksm", "set": {"smart_scan": 0}})"),
     "steps[2].set.smart_scan",
     "smart_scan exists only with kernel \"6.12\" (this workload's kernel is \"6.1\")"},
    {"ProcessProfitOn61",
     WithPrelude(R"({"op": "expect", "procs": {"a": {"ksm_process_profit": 0}}})"),
     "steps[2].procs.a.ksm_process_profit", "exists only with kernel \"6.12\""},
    {"SmartScanInitialKnobOn61", R"({"ksmsim": 1, "ksm": {"smart_scan": 1}, "steps": []})",
     "ksm.smart_scan", "smart_scan exists only with kernel \"6.12\""},
    {"ExpectUnknownProc", WithPrelude(R"({"op": "expect", "procs": {"z": {"ksm_rmap_items": 0}}})"),
     "steps[2].procs.z", "no process \"z\""},
    {"ExpectUnknownProcCounter",
     WithPrelude(R"({"op": "expect", "procs": {"a": {"ksm_pages": 0}}})"),
     "steps[2].procs.a.ksm_pages", "unknown process counter \"ksm_pages\""},
    {"ExpectUnknownVmstat", WithPrelude(R"({"op": "expect", "vmstat": {"cow": 0}})"),
     "steps[2].vmstat.cow", "did you mean \"cow_ksm\"?"},
    {"ExpectValueNotInteger", WithPrelude(R"({"op": "expect", "ksm": {"pages_shared": "8"}})"),
     "steps[2].ksm.pages_shared", "expected a 64-bit signed integer"},
    {"SetUnknownKnob", WithPrelude(R"({"op": "ksm", "set": {"runn": 1}})"), "steps[2].set.runn",
     "unknown knob \"runn\""},
    {"SetReadOnlyCounter", WithPrelude(R"({"op": "ksm", "set": {"pages_shared": 0}})"),
     "steps[2].set.pages_shared", "pages_shared is a read-only counter; writable knobs: run"},
    {"SetValueNotInteger", WithPrelude(R"({"op": "ksm", "set": {"run": true}})"),
     "steps[2].set.run", "expected a 64-bit signed integer, got true"},
    {"SetEmpty", WithPrelude(R"({"op": "ksm", "set": {}})"), "steps[2].set", "at least one knob"},
    {"ExpectErrorBadValue",
     WithPrelude(R"({"op": "ksm", "set": {"run": 1}, "expect_error": "ENOMEM"})"),
     "steps[2].expect_error", "unknown expect_error value \"ENOMEM\"; allowed: none, EBUSY"},
    {"SnapshotWithoutLabel", WithPrelude(R"({"op": "snapshot"})"), "steps[2]",
     "missing required field \"label\""},
    {"SnapshotEmptyLabel", WithPrelude(R"({"op": "snapshot", "label": ""})"), "steps[2].label",
     "expected a non-empty string"},
    // repeat.
    {"RepeatTimesZero", WithPrelude(R"({"op": "repeat", "times": 0, "steps": []})"),
     "steps[2].times", "expected an integer 1..4294967295"},
    {"RepeatStepsNotArray", WithPrelude(R"({"op": "repeat", "times": 2, "steps": 3})"),
     "steps[2].steps", "expected an array of steps"},
    {"NestedRepeatErrorPath", WithPrelude(R"({"op": "repeat", "times": 2, "steps": [
         {"op": "snapshot", "label": "x"},
         {"op": "repeat", "times": 3, "steps": [{"op": "read", "proc": "z", "region": "r"}]}]})"),
     "steps[2].steps[1].steps[0].proc", "no process \"z\""},
    {"NestedRepeatFieldError", WithPrelude(R"({"op": "repeat", "times": 2, "steps": [
         {"op": "repeat", "times": 3, "steps": [{"op": "wait", "ms": -5}]}]})"),
     "steps[2].steps[0].steps[0].ms", "got -5"},
    {"SpawnRepeatedWithoutExit",
     WithPrelude(R"({"op": "repeat", "times": 2, "steps": [{"op": "spawn", "proc": "w"}]})"),
     "steps[2].steps[0].proc", "process \"w\" already exists"},
    {"RepeatExhaustsAddressSpace", WithPrelude(R"({"op": "repeat", "times": 4000000000,
         "steps": [{"op": "mmap", "proc": "a", "region": "t", "pages": 1},
                   {"op": "munmap", "proc": "a", "region": "t"}]})"),
     "steps[2]", "exhausts the 128 TiB user address space of process \"a\""},
};

INSTANTIATE_TEST_SUITE_P(Malformed, BadWorkloadTest, testing::ValuesIn(kBadCases),
                         [](const testing::TestParamInfo<BadCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(ParseErrorsTest, SyntaxErrorNamesLineAndColumn) {
  std::string text = "{\"ksmsim\": 1,\n  \"steps\": [\n    {\"op\": \"spawn\" \"proc\": \"a\"}\n]}";
  ParseOutcome outcome = ParseWorkloadText(text, "w.json");
  ASSERT_EQ(outcome.errors.size(), 1u) << Describe(outcome);
  const ValidationError& e = outcome.errors[0];
  EXPECT_EQ(e.line, 3u);
  EXPECT_EQ(e.column, 20u);  // the opening quote of the unexpected "proc"
  EXPECT_EQ(e.json_path, "");
  EXPECT_NE(e.message.find("JSON syntax error"), std::string::npos) << e.message;
  EXPECT_EQ(e.ToString().rfind("w.json:3:20: JSON syntax error: ", 0), 0u) << e.ToString();
}

TEST(ParseErrorsTest, TruncatedDocumentPointsPastTheEnd) {
  ParseOutcome outcome = ParseWorkloadText("{\"ksmsim\": 1,\n\"steps\": [", "t.json");
  ASSERT_EQ(outcome.errors.size(), 1u) << Describe(outcome);
  EXPECT_EQ(outcome.errors[0].line, 2u);
  EXPECT_EQ(outcome.errors[0].column, 11u);
  EXPECT_NE(outcome.errors[0].message.find("end of input"), std::string::npos);
}

TEST(ParseErrorsTest, CollectsEveryErrorNotJustTheFirst) {
  std::string text = R"({"ksmsim": 1, "kernel": "7.0", "bogus": 1, "steps": [
    {"op": "spawn", "proc": "a", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 0},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 256}},
    {"op": "frobnicate"}]})";
  ParseOutcome outcome = ParseWorkloadText(text, "many.json");
  std::vector<std::string> paths;
  for (const ValidationError& e : outcome.errors) paths.push_back(e.json_path);
  EXPECT_EQ(paths, (std::vector<std::string>{"steps[0].proc", "bogus", "kernel", "steps[1].pages",
                                             "steps[2].data.fill", "steps[3].op", "steps[2].proc"}))
      << Describe(outcome);
}

TEST(ParseErrorsTest, ErrorInsideRepeatIsReportedOnce) {
  std::string text = WithPrelude(
      R"({"op": "repeat", "times": 50, "steps": [{"op": "read", "proc": "a", "region": "x"}]})");
  ParseOutcome outcome = ParseWorkloadText(text, "r.json");
  ASSERT_EQ(outcome.errors.size(), 1u) << Describe(outcome);
  EXPECT_EQ(outcome.errors[0].json_path, "steps[2].steps[0].region");
}

TEST(ParseErrorsTest, NestingTooDeepIsAnError) {
  std::string text = "{\"ksmsim\": 1, \"steps\": [], \"name\": " + std::string(200, '[') +
                     std::string(200, ']') + "}";
  ParseOutcome outcome = ParseWorkloadText(text, "deep.json");
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.errors[0].message.find("nested deeper than 128"), std::string::npos)
      << Describe(outcome);
}

TEST(ParseErrorsTest, UnreadableFileIsOneErrorNamingIt) {
  ParseOutcome outcome = ParseWorkloadFile("/nonexistent/dir/w.json");
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0].ToString(),
            "/nonexistent/dir/w.json: cannot read the workload file: No such file or directory");
}

}  // namespace
}  // namespace ksmsim::workloads
