// The grid spec: --set arguments, the spec file, validation before anything runs, the grid's
// order.
#include "tools/sweep/spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ksmsim::tools::sweep {
namespace {

using ::testing::HasSubstr;

const std::string kExample =
    std::string(KSMSIM_SOURCE_DIR) + "/workloads/examples/two_procs_identical.json";

std::string TempFile(const std::string& name, const std::string& text) {
  auto p = std::filesystem::temp_directory_path() / ("sweep_spec_test_" + name);
  std::ofstream(p) << text;
  return p.string();
}

TEST(SweepSpec, SetArgumentsMakeTheGridInOrder) {
  SweepSpec s;
  std::string e;
  ASSERT_TRUE(AddSetArgument(s, "pages_to_scan=100,1000,10000", &e)) << e;
  ASSERT_TRUE(AddSetArgument(s, "ksm.sleep_millisecs=20,200", &e)) << e;
  AddInput(s, kExample);
  AddInput(s, kExample);
  ASSERT_TRUE(SetPolicies(s, "fixed,ksmtuned", &e)) << e;
  EXPECT_EQ(GridSize(s), 2u * 2u * 3u * 2u);
  std::vector<Point> pts = ExpandGrid(s);
  ASSERT_EQ(pts.size(), 24u);
  EXPECT_EQ(pts[0].set, (workloads::KnobList{{"pages_to_scan", 100}, {"sleep_millisecs", 20}}));
  EXPECT_EQ(pts[1].set, (workloads::KnobList{{"pages_to_scan", 100}, {"sleep_millisecs", 200}}));
  EXPECT_EQ(pts[2].set, (workloads::KnobList{{"pages_to_scan", 1000}, {"sleep_millisecs", 20}}));
  EXPECT_EQ(pts[5].policy, "fixed");
  EXPECT_EQ(pts[6].policy, "ksmtuned");
  EXPECT_EQ(pts[12].input, &s.inputs[1]);
  for (size_t i = 0; i < pts.size(); ++i) EXPECT_EQ(pts[i].index, i);
  EXPECT_TRUE(ValidateSpec(s).empty());
}

TEST(SweepSpec, UnknownKnobListsTheKnobs) {
  SweepSpec s;
  std::string e;
  EXPECT_FALSE(AddSetArgument(s, "pages_to_scn=1", &e));
  EXPECT_THAT(e, HasSubstr("pages_to_scn is not a KSM knob (did you mean pages_to_scan?)"));
  EXPECT_THAT(e, HasSubstr("sleep_millisecs"));
  EXPECT_FALSE(AddSetArgument(s, "pages_shared=1", &e));
  EXPECT_THAT(e, HasSubstr("not a KSM knob"));
}

TEST(SweepSpec, ValueOutOfRangeSaysTheRange) {
  SweepSpec s;
  std::string e;
  EXPECT_FALSE(AddSetArgument(s, "max_page_sharing=256,1", &e));
  EXPECT_THAT(e, HasSubstr("max_page_sharing = 1 is out of range: max_page_sharing accepts 2 to"));
  EXPECT_FALSE(AddSetArgument(s, "pages_to_scan=1x", &e));
  EXPECT_THAT(e, HasSubstr("'1x' is not an integer"));
  EXPECT_FALSE(AddSetArgument(s, "pages_to_scan", &e));
  EXPECT_FALSE(SetPolicies(s, "fixed,auto", &e));
  EXPECT_THAT(e, HasSubstr("unknown policy 'auto'"));
}

TEST(SweepSpec, EmptyGridAndInvalidInputsAreRejected) {
  SweepSpec s;
  EXPECT_THAT(ValidateSpec(s), ::testing::Contains(HasSubstr("empty grid")));
  std::string bad =
      TempFile("bad.json", R"({"ksmsim": 1, "name": "x", "steps": [{"op": "spawn"}]})");
  AddInput(s, bad);
  std::vector<std::string> errors = ValidateSpec(s);
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors.front(), HasSubstr("steps[0]"));
  EXPECT_THAT(errors.back(), HasSubstr(bad + ": invalid workload, nothing was run"));
  SweepSpec t;
  AddInput(t, "/nonexistent/trace.jsonl");
  EXPECT_THAT(ValidateSpec(t), ::testing::Contains(HasSubstr("invalid trace")));
}

TEST(SweepSpec, AdvisorPolicyNeedsKernel612) {
  std::string e;
  SweepSpec s;
  ASSERT_TRUE(SetPolicies(s, "fixed,ksmtuned,advisor", &e)) << e;
  EXPECT_EQ(s.policies, (std::vector<std::string>{"fixed", "ksmtuned", "advisor"}));
  AddInput(s, kExample);  // a 6.1 workload
  std::string w612 = TempFile("k612.json", R"({"ksmsim": 1, "kernel": "6.12", "steps": [
      {"op": "wait", "ms": 10}]})");
  AddInput(s, w612);
  std::vector<std::string> errors = ValidateSpec(s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr(kExample + ": the advisor policy needs kernel \"6.12\""));
  EXPECT_THAT(errors[0], HasSubstr("this input's kernel is \"6.1\""));
  SweepSpec ok;
  ASSERT_TRUE(SetPolicies(ok, "advisor", &e));
  AddInput(ok, w612);
  EXPECT_THAT(ValidateSpec(ok), ::testing::IsEmpty());
  EXPECT_FALSE(SetPolicies(ok, "advisr", &e));
  EXPECT_THAT(e, HasSubstr("the policies are: fixed, ksmtuned, advisor"));
}

TEST(SweepSpec, Knobs612OnlyWith612Inputs) {
  std::string e;
  SweepSpec s;
  ASSERT_TRUE(AddSetArgument(s, "advisor_target_scan_time=20,200", &e)) << e;
  ASSERT_TRUE(AddSetArgument(s, "ksm.smart_scan=0,1", &e)) << e;
  EXPECT_FALSE(AddSetArgument(s, "advisor_target_scan_time=0", &e));
  EXPECT_FALSE(AddSetArgument(s, "advisor_mode=1", &e));
  EXPECT_THAT(e, HasSubstr("use the policy advisor"));
  std::string w612 = TempFile("k612b.json", R"({"ksmsim": 1, "kernel": "6.12", "steps": [
      {"op": "wait", "ms": 10}]})");
  AddInput(s, w612);
  EXPECT_THAT(ValidateSpec(s), ::testing::IsEmpty());
  AddInput(s, kExample);
  std::vector<std::string> errors = ValidateSpec(s);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], kExample +
                           ": advisor_target_scan_time exists only with kernel \"6.12\" (this "
                           "input's kernel is \"6.1\")");
  EXPECT_THAT(errors[1], HasSubstr("smart_scan exists only with kernel \"6.12\""));
}

TEST(SweepSpec, SpecFileNamesTheJsonPath) {
  std::string good = TempFile("good.json", R"({"inputs": [")" + kExample +
                                               R"("], "knobs": {"pages_to_scan": [100, 200]},
      "policies": ["fixed", "ksmtuned"], "ksmtuned": {"KSM_NPAGES_BOOST": 500}})");
  SweepSpec s;
  std::vector<std::string> errors;
  ASSERT_TRUE(ReadSpecFile(good, s, &errors)) << errors.front();
  EXPECT_EQ(GridSize(s), 4u);
  EXPECT_EQ(s.ksmtuned.npages_boost, 500);
  std::string bad =
      TempFile("badspec.json", R"({"inputs": "x", "knobs": {"run": [1, 9], "nope": [1]},
      "ksmtuned": {"KSM_BOOST": 1}, "extra": 1})");
  SweepSpec b;
  EXPECT_FALSE(ReadSpecFile(bad, b, &errors));
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  EXPECT_THAT(all, HasSubstr(bad + ": inputs: expected an array"));
  EXPECT_THAT(all, HasSubstr("knobs.run: run = 9 is out of range: run accepts 0 to 2"));
  EXPECT_THAT(all, HasSubstr("knobs.nope: nope is not a KSM knob"));
  EXPECT_THAT(all, HasSubstr("ksmtuned.KSM_BOOST: unknown setting"));
  EXPECT_THAT(all, HasSubstr("extra: unknown field"));
}

TEST(SweepSpec, StoredSpecRoundTrips) {
  SweepSpec s;
  std::string e;
  AddInput(s, kExample);
  ASSERT_TRUE(AddSetArgument(s, "sleep_millisecs=5,50", &e));
  SweepSpec back;
  ASSERT_TRUE(SpecFromJson(SpecToJson(s), back, &e)) << e;
  EXPECT_EQ(SpecToJson(back), SpecToJson(s));
}

}  // namespace
}  // namespace ksmsim::tools::sweep
