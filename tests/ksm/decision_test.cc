// Every KSM decision (ksm/ksm_decision.h) has a name: a kernel function of mm/ksm.c and a
// code, no two decisions the same pair.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "ksm/ksm_decision.h"

namespace ksmsim::ksm {
namespace {

TEST(Decision, EveryDecisionHasAName) {
  const std::set<std::string> funcs = {
      "cmp_and_merge_page",     "try_to_merge_with_ksm_page",
      "try_to_merge_one_page",  "try_to_merge_with_kernel_zero_page",
      "try_to_merge_two_pages", "stable_tree_search",
      "should_skip_rmap_item",  "unstable_tree_search_insert"};
  std::set<std::pair<std::string, std::string>> names;
  for (int i = 0; i < kDecisionCount; ++i) {
    const DecisionName n = decision_name(static_cast<Decision>(i));
    SCOPED_TRACE(i);
    EXPECT_TRUE(funcs.contains(std::string(n.func))) << n.func;
    EXPECT_FALSE(n.what.empty());
    EXPECT_EQ(n.what.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos)
        << n.what;
    names.emplace(n.func, n.what);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kDecisionCount));
}

TEST(Decision, NamesAreTheEventLogs) {
  // The strings event logs and `explain --json` have always carried.
  EXPECT_EQ(decision_name(Decision::kScan).what, "scan");
  EXPECT_EQ(decision_name(Decision::kStableChainFull).func, "stable_tree_search");
  EXPECT_EQ(decision_name(Decision::kStableChainFull).what, "chain_full");
  EXPECT_EQ(decision_name(Decision::kUnstableMatch).func, "unstable_tree_search_insert");
  EXPECT_EQ(decision_name(Decision::kUnstableMatch).what, "match");
  EXPECT_EQ(decision_name(Decision::kKernelZeroFailed).what, "zero_failed");
}

}  // namespace
}  // namespace ksmsim::ksm
