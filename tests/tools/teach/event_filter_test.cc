// --events-filter's parser and matcher (tools/teach/event_filter.h) on hand-made events.
#include "tools/teach/event_filter.h"

#include <gtest/gtest.h>

#include <string>

namespace ksmsim::tools::teach {
namespace {

std::optional<EventFilter> Parse(std::vector<std::string> specs, std::string* error = nullptr) {
  std::string e;
  auto f = EventFilter::Parse(specs, &e);
  if (error) *error = e;
  return f;
}

TEST(EventFilterTest, TermsMustAllHoldAndValuesAreAlternatives) {
  mmu::Mm mm;
  mm.name = "child";
  ksm::KsmEvent e{.name = ksm::kDecisionEvent, .seq = 2, .mm = &mm};
  e.func = "try_to_merge_two_pages";
  e.what = "merged_two";
  std::string proc = "child", region = "heap";
  EventView v{.e = &e,
              .time_ns = 5,
              .pass = 3,
              .page = workloads::Driver::PageLocation{&proc, &region, 42}};
  auto f = Parse({"what=merged_ksm,merged_two proc=child", "pass=3 page=heap[40..50]"});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->Matches(v));
  EXPECT_FALSE(Parse({"pass=4.."})->Matches(v));
  EXPECT_FALSE(Parse({"page=parent:heap"})->Matches(v));
  EXPECT_TRUE(Parse({"page=child:heap"})->Matches(v));
  EXPECT_FALSE(Parse({"page=heap[43]"})->Matches(v));
  EXPECT_TRUE(Parse({"func=try_to_merge_two_pages event=ksmsim_decision"})->Matches(v));
  EXPECT_TRUE(Parse({""})->Matches(v));
  // Without a pass (outside ksmd's scan), a pass term fails.
  v.pass.reset();
  EXPECT_FALSE(Parse({"pass=1.."})->Matches(v));
  // A tracepoint has no func/what.
  ksm::KsmEvent t{.name = "ksm_merge_one_page", .mm = &mm};
  EventView tv{.e = &t, .time_ns = 1, .pass = 1, .page = std::nullopt};
  EXPECT_FALSE(Parse({"what=merged_two"})->Matches(tv));
  EXPECT_TRUE(Parse({"event=ksm_merge_one_page,ksm_exit"})->Matches(tv));
  EXPECT_FALSE(Parse({"page=heap"})->Matches(tv));
}

TEST(EventFilterTest, ErrorsNameTheTerm) {
  std::string error;
  EXPECT_FALSE(Parse({"nokey"}, &error));
  EXPECT_NE(error.find("'nokey': expected KEY=VALUE"), std::string::npos) << error;
  EXPECT_FALSE(Parse({"colour=red"}, &error));
  EXPECT_NE(error.find("unknown key 'colour'"), std::string::npos) << error;
  EXPECT_FALSE(Parse({"event=ksm_nothing"}, &error));
  EXPECT_NE(error.find("unknown event 'ksm_nothing'"), std::string::npos) << error;
  EXPECT_FALSE(Parse({"func=memcmp"}, &error));
  EXPECT_NE(error.find("stable_tree_search"), std::string::npos) << error;
  EXPECT_FALSE(Parse({"pass=0"}, &error));
  EXPECT_FALSE(Parse({"pass=3..2"}, &error));
  EXPECT_FALSE(Parse({"page=heap[1"}, &error));
  EXPECT_FALSE(Parse({"page=:heap"}, &error));
  EXPECT_FALSE(Parse({"proc=a,"}, &error));
  EXPECT_NE(error.find("empty value"), std::string::npos) << error;
}

}  // namespace
}  // namespace ksmsim::tools::teach
