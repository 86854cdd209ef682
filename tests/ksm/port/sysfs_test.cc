// The sysfs knobs: EBUSY and EINVAL. (The conventions: tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// ---------------------------------------------------------------------------------------
// sysfs knobs: EBUSY and EINVAL (L2905-3066).

TEST(KsmPortTest, KnobsBusyWhilePagesAreShared) {
  Outcome o = RunOk(EightPages(R"(
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "EBUSY"},
    {"op": "ksm", "set": {"merge_across_nodes": 0}, "expect_error": "EBUSY"},
    {"op": "ksm", "set": {"max_page_sharing": 256}, "expect_error": "none"},
    {"op": "ksm", "set": {"merge_across_nodes": 1}, "expect_error": "none"},
    {"op": "ksm", "set": {"run": 0}},
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "EBUSY"},
    {"op": "ksm", "set": {"pages_to_scan": 5, "max_page_sharing": 10, "sleep_millisecs": 7},
     "expect_error": "EBUSY"},
    {"op": "expect", "ksm": {"max_page_sharing": 256, "merge_across_nodes": 1,
                             "pages_to_scan": 5, "sleep_millisecs": 7, "run": 0}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "ksm", "set": {"max_page_sharing": 10, "merge_across_nodes": 0},
     "expect_error": "none"},
    {"op": "expect", "ksm": {"max_page_sharing": 10, "merge_across_nodes": 0, "run": 2}}
  )"));
  // max_page_sharing and merge_across_nodes refuse to change while ksm_pages_shared != 0
  // (L2970, L3057), whatever `run` is; writing the current value returns early (L2969,
  // L3051). Every write of a step is attempted: pages_to_scan and sleep_millisecs change
  // even though the step fails with max_page_sharing's EBUSY.
  const auto& outcomes = o.doc["outcomes"];
  const ordered_json* multi = nullptr;
  for (const auto& e : outcomes)
    if (e["op"] == "ksm" && e["writes"].size() == 3) multi = &e;
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ((*multi)["error"], "EBUSY");
  EXPECT_EQ((*multi)["writes"][0]["error"], "none");
  EXPECT_EQ((*multi)["writes"][1]["error"], "EBUSY");
  EXPECT_EQ((*multi)["writes"][2]["error"], "none");
}

TEST(KsmPortTest, KnobsRejectInvalidValues) {
  RunOk(W(R"(
    {"op": "ksm", "set": {"run": 3}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"run": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"max_page_sharing": 1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"max_page_sharing": 0}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"max_page_sharing": -5}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"merge_across_nodes": 2}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"merge_across_nodes": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"use_zero_pages": 2}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"use_zero_pages": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"sleep_millisecs": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"pages_to_scan": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"stable_node_chains_prune_millisecs": -1}, "expect_error": "EINVAL"},
    {"op": "expect", "ksm": {"run": 0, "max_page_sharing": 256, "merge_across_nodes": 1,
                             "use_zero_pages": 0, "sleep_millisecs": 20,
                             "pages_to_scan": 10000,
                             "stable_node_chains_prune_millisecs": 2000}},
    {"op": "ksm", "set": {"use_zero_pages": 10}, "expect_error": "none"},
    {"op": "ksm", "set": {"max_page_sharing": 2, "run": 2}, "expect_error": "none"},
    {"op": "expect", "ksm": {"use_zero_pages": 1, "max_page_sharing": 2, "run": 2}}
  )"));
  // run > KSM_RUN_UNMERGE (L2914); max_page_sharing < 2, a signed compare (L3044-3049);
  // merge_across_nodes > 1 (after kstrtoul, which also refuses "-1"); kstrtobool looks at
  // the first character only, so "2" and "-1" fail but "10" means true.
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
