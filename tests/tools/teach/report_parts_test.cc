// The report's parts without the binary: counter rows at the exact time of each change,
// round ticks, knobs told apart, the event log sampled across passes, and the tree summary
// (counts, sharers, the page index the search reads).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "tools/teach/plot.h"
#include "tools/teach/report_events.h"
#include "tools/teach/report_trees.h"
#include "tools/teach/timeline.h"
#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::tools::teach {
namespace {

workloads::Workload Example(const std::string& name) {
  workloads::ParseOutcome parsed =
      workloads::ParseWorkloadFile(KSMSIM_SOURCE_DIR "/workloads/examples/" + name);
  EXPECT_TRUE(parsed.ok());
  return *parsed.workload;
}

TEST(ChangeTimelineTest, ARowAtTheTimeOfEachChangeAndNoOther) {
  workloads::Workload w = Example("two_procs_identical.json");
  workloads::Driver* dp = nullptr;
  TimelineSampler sampler(0);
  uint64_t first_merge_ns = UINT64_MAX;
  workloads::DriverOptions opt;
  opt.before_time = [&](uint64_t t) { sampler.Before(*dp, t); };
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t t) {
    if (e.name == "ksm_merge_one_page" && first_merge_ns == UINT64_MAX) first_merge_ns = t;
  };
  workloads::Driver driver(w, opt);
  dp = &driver;
  driver.Run();
  sampler.Finish(driver);
  ASSERT_GE(sampler.rows.size(), 3u);
  EXPECT_EQ(sampler.rows.back().first, driver.queue().now());
  for (size_t r = 1; r + 1 < sampler.rows.size(); ++r) {
    EXPECT_LT(sampler.rows[r - 1].first, sampler.rows[r].first);
    EXPECT_NE(sampler.rows[r - 1].second, sampler.rows[r].second) << "row " << r;
  }
  // pages_sharing becomes non-zero in the row of the batch that merged, at that batch's
  // start (not on a grid of 100 ms); the merge event is dated inside the batch, by the cost
  // model's time of the work before it.
  size_t col = 0;
  while (sampler.columns[col] != "pages_sharing") ++col;
  size_t r = 0;
  while (sampler.rows[r].second[col] == 0) ++r;
  ASSERT_GT(r, 0u);
  EXPECT_LT(sampler.rows[r - 1].first, sampler.rows[r].first);
  EXPECT_LE(sampler.rows[r].first, first_merge_ns);
  EXPECT_LT(first_merge_ns - sampler.rows[r].first, 1000000u) << "not the merging batch's row";
  EXPECT_NE(sampler.rows[r].first % 100000000, 0u) << "the row fell on the grid: pick another test";
}

TEST(PlotTest, TicksAreRound) {
  std::vector<double> t = NiceTicks(0, 243.1, 5);
  EXPECT_EQ(t, (std::vector<double>{0, 50, 100, 150, 200, 250}));
  t = NiceTicks(0, 1048576, 4);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1], 500000);
  EXPECT_EQ(TickLabel(500000), "500k");
  EXPECT_EQ(TickLabel(1.5e6), "1.5M");
  EXPECT_EQ(TickLabel(0.25), "0.25");
}

TEST(PlotTest, KnobsHaveTheirOwnPanelAfterTheCounters) {
  EXPECT_TRUE(IsKnobColumn("pages_to_scan"));
  EXPECT_TRUE(IsKnobColumn("run"));
  EXPECT_FALSE(IsKnobColumn("pages_shared"));
  EXPECT_FALSE(IsKnobColumn("vmstat.cow_ksm"));
  std::string error;
  std::string svg = PlotSvg(
      "time_ms,pages_to_scan,pages_sharing,pages_shared\n0,100,0,0\n"
      "5,1000,1000000,2\n",
      {}, "t", &error);
  size_t knobs = svg.find("knobs (sysfs settings)");
  size_t knob = svg.find("data-name=\"pages_to_scan\"");
  size_t shared = svg.find("data-name=\"pages_shared\"");
  size_t sharing = svg.find("data-name=\"pages_sharing\"");
  ASSERT_NE(knobs, std::string::npos) << svg;
  ASSERT_NE(shared, std::string::npos);
  ASSERT_NE(sharing, std::string::npos);
  EXPECT_LT(sharing, knobs);
  EXPECT_LT(shared, knobs);
  EXPECT_GT(knob, knobs);
  // pages_shared (2) gets its own scale: its step reaches the top of its panel.
  EXPECT_NE(svg.find(">2</text>"), std::string::npos) << svg;
}

TEST(PlotTest, AChangeAtTheLastRowIsAVisibleStep) {
  std::string error;
  std::string svg = PlotSvg("time_ms,pages_unshared\n0,0\n100,0\n200,20\n", {}, "t", &error);
  // x 0..200 is 80..854.5 (2% room on the right); the step at 200 goes from 0 (y 114) to
  // 20 (y 56) inside the panel, and gets its dot.
  EXPECT_NE(svg.find("points=\"80.0,114.0 854.5,114.0 854.5,56.0 854.5,56.0\""), std::string::npos)
      << svg;
  EXPECT_NE(svg.find("<circle cx=\"854.5\" cy=\"56.0\""), std::string::npos);
}

TEST(EventLogTest, EveryPassAndKindKeepsRowsAndAllAreCounted) {
  EventLog log(100, 10);
  for (uint64_t pass = 1; pass <= 20; ++pass)
    for (int i = 0; i < 1000; ++i)
      for (const char* kind : {"stable_tree_search", "unstable_tree_search_insert"}) {
        log.Count(pass, kind);
        log.Keep(pass, kind, [&] {
          EventRow r;
          r.text = std::to_string(i);
          return r;
        });
      }
  EXPECT_EQ(log.total(), 40000u);
  EXPECT_EQ(log.counts().at(7).at("stable_tree_search"), 1000u);
  EXPECT_TRUE(log.Full(3, "stable_tree_search"));
  EXPECT_FALSE(log.Full(21, "stable_tree_search"));
  std::vector<EventRow> rows = log.Rows();
  EXPECT_LE(rows.size(), 100u);
  std::set<std::pair<uint64_t, std::string>> groups;
  for (const EventRow& r : rows) groups.insert({r.pass, r.kind});
  EXPECT_EQ(groups.size(), 40u);  // every pass, both kinds
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_LT(rows[i - 1].seq, rows[i].seq);
}

TEST(TreeSummaryTest, CountsSharersAndIndexesEveryMergedPage) {
  workloads::Workload w = Example("two_procs_identical.json");
  workloads::Driver driver(w);
  driver.Run();
  size_t budget = 1000;
  nlohmann::json t = TreeSummaryJson(driver, TreeSummaryOptions{}, &budget);
  // One chain of 8 dups (DESIGN.md's table): 2000 mappings on 8 KSM pages.
  EXPECT_EQ(t["stable"][0]["nodes"], 1);
  EXPECT_EQ(t["stable"][0]["chains"], 1);
  EXPECT_EQ(t["stable"][0]["dups"], 8);
  EXPECT_EQ(t["ksm_pages"], 8);
  uint64_t sharers = 0;
  for (const auto& h : t["hist"]) sharers += h[1].get<uint64_t>();
  EXPECT_EQ(sharers, 8u);
  EXPECT_EQ(t["top"].size(), 8u);
  EXPECT_EQ(t["top"][0][2], 256);
  EXPECT_EQ(t["top"][0][4], "dup");
  ASSERT_TRUE(t.contains("index")) << t.dump();
  uint64_t pages = 0;
  for (const auto& key : {"a:heap", "b:heap"}) {
    const auto& runs = t["index"][key];
    for (size_t i = 0; i < runs.size(); i += 4) pages += runs[i + 1].get<uint64_t>();
  }
  EXPECT_EQ(pages, 2000u);
  EXPECT_LT(budget, 1000u);
  // The view keeps the chain with its dups.
  EXPECT_NE(t["stable"][0]["view"]["t"].get<std::string>().find("chain"), std::string::npos);
  EXPECT_EQ(t["stable"][0]["view"]["d"].size(), 8u);
  // Past the budget the index is left out, with a note.
  size_t none = 1;
  nlohmann::json small = TreeSummaryJson(driver, TreeSummaryOptions{}, &none);
  EXPECT_FALSE(small.contains("index"));
  EXPECT_TRUE(small.contains("index_note"));
}

}  // namespace
}  // namespace ksmsim::tools::teach
