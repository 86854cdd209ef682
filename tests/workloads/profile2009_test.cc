// Kernel "2009" in the format: the /dev/ksm driver's ops exist only there, and what only the
// later kernels have (madvise mergeable, the sysfs knobs and counters, /proc/PID/ksm_*) is
// refused there with what the 2009 driver offers instead.
#include <gtest/gtest.h>

#include <string>

#include "workloads/parse.h"

namespace ksmsim::workloads {
namespace {

struct Case {
  const char* name;
  std::string text;
  std::string path;
  std::string phrase;
};

std::string Doc(const std::string& kernel, const std::string& steps,
                const std::string& knobs = "") {
  return R"({"ksmsim": 1, "kernel": ")" + kernel + R"(", )" +
         (knobs.empty() ? "" : R"("ksm": {)" + knobs + "}, ") + R"("steps": [
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4}, )" +
         steps + "]}";
}

class Profile2009Test : public testing::TestWithParam<Case> {};

TEST_P(Profile2009Test, RefusedWithPathAndWhatToUseInstead) {
  const Case& c = GetParam();
  ParseOutcome outcome = ParseWorkloadText(c.text, "w.json");
  ASSERT_FALSE(outcome.ok()) << c.text;
  std::string all;
  bool found = false;
  for (const ValidationError& e : outcome.errors) {
    all += e.ToString() + "\n";
    found = found || (e.json_path == c.path && e.message.find(c.phrase) != std::string::npos);
  }
  EXPECT_TRUE(found) << "wanted " << c.path << ": ..." << c.phrase << "...\ngot:\n" << all;
}

const Case kCases[] = {
    {"DevKsmOpUnder61", Doc("6.1", R"({"op": "ksm_open", "proc": "a", "fd": "k"})"), "steps[2].op",
     "op \"ksm_open\" (an ioctl of the 2009 /dev/ksm driver) exists only with "
     "kernel \"2009\" (this workload's kernel is \"6.1\""},
    {"DevKsmOpUnder612",
     Doc("6.12", R"({"op": "ksm_start_stop_kthread", "proc": "a", "fd": "k", "running": 1,
                    "pages_to_scan": 1, "sleep": 1})"),
     "steps[2].op", "exists only with kernel \"2009\" (this workload's kernel is \"6.12\""},
    {"MadviseMergeableUnder2009",
     Doc("2009", R"({"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"})"),
     "steps[2].advice", "ksm_register_memory_region"},
    {"MadviseUnmergeableUnder2009",
     Doc("2009", R"({"op": "madvise", "proc": "a", "region": "r", "advice": "unmergeable"})"),
     "steps[2].advice", "ksm_remove_memory_region"},
    {"RunKnobUnder2009", Doc("2009", R"({"op": "ksm", "set": {"run": 1}})"), "steps[2].set.run",
     "ksm_start_stop_kthread (running, pages_to_scan, sleep)"},
    {"InitialKnobUnder2009", Doc("2009", R"({"op": "exit", "proc": "a"})", R"("pages_to_scan": 5)"),
     "ksm.pages_to_scan", "max_kernel_pages is its only knob"},
    {"SysfsCounterUnder2009", Doc("2009", R"({"op": "expect", "ksm": {"pages_unshared": 0}})"),
     "steps[2].ksm.pages_unshared",
     "the 2009 driver shows pages_shared, pages_sharing, full_scans, max_kernel_pages"},
    {"ProcCounterUnder2009",
     Doc("2009", R"({"op": "expect", "procs": {"a": {"ksm_merging_pages": 0}}})"),
     "steps[2].procs.a.ksm_merging_pages", "exists only with kernel \"6.1\""},
    {"MaxKernelPagesUnder61", Doc("6.1", R"({"op": "ksm", "set": {"max_kernel_pages": 1}})"),
     "steps[2].set.max_kernel_pages", "max_kernel_pages exists only with kernel \"2009\""},
    {"RegisterNeedsARegion",
     Doc("2009", R"({"op": "ksm_register_memory_region", "proc": "a", "fd": "s",
                    "region": "nope"})"),
     "steps[2].region", "process \"a\" has no region \"nope\""},
    {"NpagesIsAU32",
     Doc("2009", R"({"op": "ksm_register_memory_region", "proc": "a", "fd": "s", "region": "r",
                    "npages": 4294967296})"),
     "steps[2].npages", "__u32"},
};

INSTANTIATE_TEST_SUITE_P(Kernel2009, Profile2009Test, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(Profile2009Test, TheDriversOpsParseUnder2009) {
  ParseOutcome outcome =
      ParseWorkloadText(Doc("2009", R"({"op": "ksm_open", "proc": "a", "fd": "k"},
        {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "k", "sma": "s"},
        {"op": "ksm_register_memory_region", "proc": "a", "fd": "s", "region": "r"},
        {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "k", "running": 1,
         "pages_to_scan": 100, "sleep": 1000},
        {"op": "ksm", "set": {"max_kernel_pages": 10}},
        {"op": "expect", "ksm": {"pages_shared": 0, "max_kernel_pages": 10}},
        {"op": "madvise", "proc": "a", "region": "r", "advice": "pageout"})",
                            R"("max_kernel_pages": 3)"),
                        "w.json");
  std::string all;
  for (const auto& e : outcome.errors) all += e.ToString() + "\n";
  EXPECT_TRUE(outcome.ok()) << all;
}

}  // namespace
}  // namespace ksmsim::workloads
