// Every KSM decision has an explain text of its own (tools/teach/decision_text.cc).
#include "tools/teach/decision_text.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace ksmsim::tools::teach {
namespace {

TEST(DecisionText, EveryDecisionHasAText) {
  std::set<std::string> texts;
  for (int i = 0; i < ksm::kDecisionCount; ++i) {
    const auto d = static_cast<ksm::Decision>(i);
    ksm::KsmEvent e{.name = ksm::kDecisionEvent,
                    .decision = d,
                    .func = ksm::decision_name(d).func,
                    .what = ksm::decision_name(d).what};
    e.node_id = 7;
    const std::string text = DecisionText(e, "b:heap[3]");
    SCOPED_TRACE(std::string(e.func) + " " + std::string(e.what));
    EXPECT_FALSE(text.empty());
    // The fallback after the switch gives back the bare code: every decision has its case.
    EXPECT_NE(text, std::string(e.what));
    texts.insert(text);
  }
  // Only the two zero-page pairs (one per profile) and the two "busy" share a text.
  EXPECT_EQ(texts.size(), static_cast<size_t>(ksm::kDecisionCount) - 3);
}

TEST(DecisionText, NamesTheTreePageAndTheNode) {
  ksm::KsmEvent e{.name = ksm::kDecisionEvent, .decision = ksm::Decision::kUnstableMatch};
  EXPECT_EQ(DecisionText(e, "b:heap[3]"), "identical to b:heap[3]");
  e = {.name = ksm::kDecisionEvent, .other_pfn = 1042, .decision = ksm::Decision::kMergedTwo};
  e.node_id = 5;
  EXPECT_EQ(DecisionText(e, ""), "new KSM page pfn 1042 (stable node 5)");
}

}  // namespace
}  // namespace ksmsim::tools::teach
