// Flatten: repeat expansion, flattened indices and JSON paths.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "workloads/parse.h"
#include "workloads/workload.h"

namespace ksmsim::workloads {
namespace {

Workload Parse(const std::string& text) {
  ParseOutcome outcome = ParseWorkloadText(text, "flat.json");
  EXPECT_TRUE(outcome.ok()) << (outcome.errors.empty() ? "" : outcome.errors[0].ToString());
  return outcome.workload.value_or(Workload{});
}

const char* kNested = R"({"ksmsim": 1, "steps": [
  {"op": "snapshot", "label": "A"},
  {"op": "repeat", "times": 2, "steps": [
    {"op": "snapshot", "label": "B"},
    {"op": "repeat", "times": 3, "steps": [{"op": "wait", "ms": 1}]}]},
  {"op": "snapshot", "label": "D"}]})";

TEST(FlattenTest, ExpandsNestedRepeatsWithIndicesAndPaths) {
  Workload w = Parse(kNested);
  std::vector<FlatStep> flat = Flatten(w);
  std::vector<std::string> paths;
  for (size_t i = 0; i < flat.size(); ++i) {
    EXPECT_EQ(flat[i].index, i);
    ASSERT_NE(flat[i].step, nullptr);
    EXPECT_NE(flat[i].step->op(), Op::kRepeat);
    EXPECT_EQ(flat[i].path, flat[i].step->path);
    paths.push_back(flat[i].path);
  }
  const std::string b = "steps[1].steps[0]";
  const std::string c = "steps[1].steps[1].steps[0]";
  EXPECT_EQ(paths, (std::vector<std::string>{"steps[0]", b, c, c, c, b, c, c, c, "steps[2]"}));
  EXPECT_EQ(flat[9].step->label, "D");
  EXPECT_EQ(flat[5].step->label, "B");
  EXPECT_EQ(FlattenedSize(w), 10u);
  EXPECT_EQ(NestedSize(w), 6u);
  // The pointers refer to the workload's own steps.
  EXPECT_EQ(flat[0].step, &w.steps[0]);
  EXPECT_EQ(flat[2].step, &BodyOf(BodyOf(w.steps[1])[1])[0]);
}

TEST(FlattenTest, ForEachStopsWhenAsked) {
  Workload w = Parse(kNested);
  std::vector<uint64_t> seen;
  bool finished = ForEachFlatStep(w, [&seen](const FlatStep& s) {
    seen.push_back(s.index);
    return s.index < 3;
  });
  EXPECT_FALSE(finished);
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 3}));
  EXPECT_TRUE(ForEachFlatStep(w, [](const FlatStep&) { return true; }));
}

TEST(FlattenTest, EmptyScriptAndEmptyRepeat) {
  Workload w = Parse(R"({"ksmsim": 1, "steps": [
    {"op": "repeat", "times": 5, "steps": []}, {"op": "wait", "ms": 2}]})");
  std::vector<FlatStep> flat = Flatten(w);
  ASSERT_EQ(flat.size(), 1u);
  EXPECT_EQ(flat[0].index, 0u);
  EXPECT_EQ(flat[0].path, "steps[1]");
  EXPECT_TRUE(Flatten(Parse(R"({"ksmsim": 1, "steps": []})")).empty());
}

TEST(FlattenTest, SizeSaturatesInsteadOfOverflowing) {
  Workload w = Parse(R"({"ksmsim": 1, "steps": [
    {"op": "repeat", "times": 4294967295, "steps": [
      {"op": "repeat", "times": 4294967295, "steps": [
        {"op": "repeat", "times": 4294967295, "steps": [{"op": "wait", "ms": 1}]}]}]}]})");
  EXPECT_EQ(FlattenedSize(w), UINT64_MAX);
}

TEST(FlattenTest, EnumNamesRoundTrip) {
  for (Op op : AllOps()) EXPECT_EQ(OpFromName(OpName(op)), op);
  EXPECT_EQ(AllOps().size(), 26u);  // 19, prctl (6.12), and the 2009 driver's six
  EXPECT_EQ(OpFromName("nope"), std::nullopt);
  for (Advice a : {Advice::kMergeable, Advice::kUnmergeable, Advice::kDontneed, Advice::kPageout}) {
    EXPECT_EQ(AdviceFromName(AdviceName(a)), a);
  }
  for (ExpectedError e : {ExpectedError::kNone, ExpectedError::kEBUSY, ExpectedError::kEINVAL,
                          ExpectedError::kEFAULT, ExpectedError::kEPERM, ExpectedError::kEBADF}) {
    EXPECT_EQ(ExpectedErrorFromName(ExpectedErrorName(e)), e);
  }
  EXPECT_EQ(KernelProfileFromName(KernelProfileName(KernelProfile::k61ZeroUnshare)),
            KernelProfile::k61ZeroUnshare);
  EXPECT_EQ(KernelProfileFromName("2009"), KernelProfile::k2009);
  EXPECT_EQ(DataKindName(DataSpec::Kind::kPatch), "patch");
}

}  // namespace
}  // namespace ksmsim::workloads
