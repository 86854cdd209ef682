// The host budget's estimate (workloads/budget.h): from declared touches, each region at most
// once, repeats multiplying without expanding, forks copying what the parent touched.
#include "workloads/budget.h"

#include <gtest/gtest.h>

#include <string>

#include "workloads/parse.h"

namespace ksmsim::workloads {
namespace {

Workload Parse(const std::string& steps) {
  ParseOutcome o = ParseWorkloadText(
      R"({"ksmsim": 1, "machine": {"nodes": [{"memory_mib": 1048576}]}, "steps": [)" + steps + "]}",
      "budget.json");
  EXPECT_TRUE(o.ok()) << (o.errors.empty() ? "" : o.errors[0].ToString());
  return o.workload.value_or(Workload{});
}

constexpr uint64_t kNoLimit = ~uint64_t{0};
const std::string kMap = R"({"op": "spawn", "proc": "a"},
  {"op": "mmap", "proc": "a", "region": "r", "pages": 1000000})";

TEST(BudgetTest, ARegionCountsAtMostOnceWhateverTheRepeat) {
  uint64_t base = EstimateHostMemory(Parse(kMap), kNoLimit).bytes;
  uint64_t one = EstimateHostMemory(Parse(kMap + R"(, {"op": "write", "proc": "a",
    "region": "r", "range": [0, 1000], "data": {"fill": 1}})"),
                                    kNoLimit)
                     .bytes;
  EXPECT_EQ(one - base, 1000 * kHostBytesPerTouchedPage);
  uint64_t many = EstimateHostMemory(Parse(kMap + R"(, {"op": "repeat", "times": 4000000000,
    "steps": [{"op": "repeat", "times": 4000000000, "steps": [{"op": "write", "proc": "a",
    "region": "r", "range": [0, 1000], "data": {"fill": 1}}]}]})"),
                                     kNoLimit)
                      .bytes;
  EXPECT_EQ(many - base, 1000000 * kHostBytesPerTouchedPage);  // capped by the region
}

TEST(BudgetTest, AForkCopiesWhatTheParentTouched) {
  std::string w = kMap + R"(, {"op": "write", "proc": "a", "region": "r", "range": [0, 5000],
    "data": {"unique": true}})";
  uint64_t parent = EstimateHostMemory(Parse(w), kNoLimit).bytes;
  uint64_t forked = EstimateHostMemory(Parse(w + R"(, {"op": "fork", "proc": "a",
    "child": "b"})"),
                                       kNoLimit)
                        .bytes;
  EXPECT_EQ(forked - parent, 5000 * kHostBytesPerTouchedPage);
}

TEST(BudgetTest, TheFirstStepOverTheLimitIsNamed) {
  HostEstimate e = EstimateHostMemory(Parse(kMap + R"(, {"op": "snapshot", "label": "x"},
    {"op": "verify", "proc": "a", "region": "r"}, {"op": "snapshot", "label": "y"})"),
                                      64ull << 20);
  ASSERT_TRUE(e.over_step.has_value());
  EXPECT_EQ(*e.over_step, 3u);
  EXPECT_EQ(e.over_op, Op::kVerify);
  EXPECT_EQ(e.over_path, "steps[3]");
  EXPECT_GT(e.over_bytes, 64ull << 20);
  EXPECT_FALSE(EstimateHostMemory(Parse(kMap), 64ull << 20).over_step.has_value());
}

}  // namespace
}  // namespace ksmsim::workloads
