// The teaching aids as a library: explain's decision lines, the SVG plot, HTML escaping,
// tree pictures and ranges, checked without going through the ksmsim binary.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/teach/explain.h"
#include "tools/teach/html.h"
#include "tools/teach/plot.h"
#include "tools/teach/timeline.h"
#include "tools/teach/trees.h"
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

// Every decision of a run, as explain builds them.
std::vector<Decision> Decisions(const workloads::Workload& w) {
  std::vector<Decision> out;
  uint64_t step = 0;
  std::unique_ptr<DecisionBuilder> builder;
  workloads::DriverOptions opt;
  opt.on_progress = [&](uint64_t s, uint64_t) { step = s; };
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t t) { builder->OnEvent(e, t, step); };
  workloads::Driver driver(w, opt);
  builder = std::make_unique<DecisionBuilder>(driver, [&](const Decision& d) { out.push_back(d); });
  driver.Run();
  builder->Flush();
  return out;
}

TEST(ExplainTest, FirstScanSeesAChangedChecksumInTheKernelsTerms) {
  std::vector<Decision> ds = Decisions(Example("two_procs_identical.json"));
  ASSERT_GE(ds.size(), 2u);
  EXPECT_EQ(ds[0].page.text, "a:heap[0]");
  EXPECT_EQ(ds[0].page.proc, "a");
  EXPECT_EQ(ds[0].page.region, "heap");
  EXPECT_EQ(ds[0].page.index, 0u);
  EXPECT_EQ(ds[0].what, "no_match");
  EXPECT_EQ(ds[0].text, "stable_tree_search: no identical KSM page (stable tree nid 0)");
  EXPECT_EQ(ds[1].what, "checksum_changed");
  EXPECT_EQ(ds[1].text,
            "cmp_and_merge_page: checksum changed (0 -> 0x6d2b58c3), not inserted (volatile)");
}

TEST(ExplainTest, AMatchIsJoinedWithTheMergeThatFollows) {
  int two_pages = 0, with_ksm_page = 0;
  for (const Decision& d : Decisions(Example("two_procs_identical.json"))) {
    if (d.what == "match+merged_two") {
      ++two_pages;
      EXPECT_NE(d.text.find(" -> try_to_merge_two_pages -> new KSM page pfn "), std::string::npos)
          << d.text;
    } else if (d.what == "match+merged_ksm") {
      ++with_ksm_page;
      EXPECT_NE(d.text.find(" -> try_to_merge_with_ksm_page -> merged into KSM page pfn "),
                std::string::npos)
          << d.text;
    }
  }
  EXPECT_GT(two_pages, 0);
  EXPECT_GT(with_ksm_page, 0);
}

TEST(ExplainTest, Ranges) {
  EXPECT_EQ(ParseRange("3")->first, 3u);
  EXPECT_EQ(ParseRange("3")->last, 3u);
  EXPECT_EQ(ParseRange("2..5")->last, 5u);
  EXPECT_EQ(ParseRange("..5")->first, 0u);
  EXPECT_EQ(ParseRange("7..")->last, UINT64_MAX);
  EXPECT_FALSE(ParseRange("5..2"));
  EXPECT_FALSE(ParseRange("x"));
}

TEST(PlotTest, TwoPointsDrawAStepLine) {
  std::string error;
  std::string svg = PlotSvg("time_ms,pages\n0,0\n10,4\n", {}, "t", &error);
  EXPECT_EQ(error, "");
  // One panel: x 0..10 is 80..854.5 (2% room right of the last row), y 0..4 is 114..56.
  // A counter holds its value until the row that changes it, so the line goes right at 0,
  // then up at x 10, and holds to the end of the run.
  EXPECT_NE(svg.find("<polyline class=\"series\" data-name=\"pages\" fill=\"none\" "
                     "stroke=\"#1f77b4\" stroke-width=\"1.8\" "
                     "points=\"80.0,114.0 854.5,114.0 854.5,56.0 854.5,56.0\"/>"),
            std::string::npos)
      << svg;
}

TEST(PlotTest, ConstantColumnsAreLeftOutUnlessNamed) {
  std::string error;
  std::string csv = "time_ms,flat,moving\n0,1,0\n10,1,2\n";
  std::string svg = PlotSvg(csv, {}, "t", &error);
  EXPECT_EQ(svg.find("data-name=\"flat\""), std::string::npos);
  EXPECT_NE(svg.find("data-name=\"moving\""), std::string::npos);
  svg = PlotSvg(csv, {"flat"}, "t", &error);
  EXPECT_NE(svg.find("data-name=\"flat\""), std::string::npos);
  EXPECT_EQ(svg.find("data-name=\"moving\""), std::string::npos);
}

TEST(PlotTest, UnusableCsvSaysWhy) {
  std::string error;
  EXPECT_EQ(PlotSvg("time_ms\n0\n", {}, "t", &error), "");
  EXPECT_EQ(error, "the CSV needs a time column and at least one counter");
  EXPECT_EQ(PlotSvg("time_ms,a\nx,1\n", {}, "t", &error), "");
  EXPECT_EQ(error, "row 2 is not numeric");
}

TEST(HtmlTest, EscapesMarkup) {
  EXPECT_EQ(HtmlEscape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
}

TEST(TreesTest, AfterTwoIdenticalProcessesMergeTheStableTreeHasNodes) {
  workloads::Workload w = Example("two_procs_identical.json");  // the driver keeps a reference
  workloads::Driver driver(w);
  driver.Run();
  int nodes = 0;
  std::string dot = StableTreesDot(driver, &nodes);
  EXPECT_GT(nodes, 0);
  EXPECT_EQ(dot.rfind("digraph stable_tree {", 0), 0u);
  EXPECT_NE(StableTreesText(driver).find("root_stable_tree[0]"), std::string::npos);
}

TEST(TimelineTest, CsvHasTheCountersAndALastRowAtTheEnd) {
  workloads::Workload w = Example("two_procs_identical.json");
  workloads::Driver* dp = nullptr;
  TimelineSampler sampler(100 * 1000000);
  workloads::DriverOptions opt;
  opt.before_time = [&](uint64_t t) { sampler.Before(*dp, t); };
  workloads::Driver driver(w, opt);
  dp = &driver;
  driver.Run();
  sampler.Finish(driver);
  std::string csv = sampler.Csv();
  EXPECT_EQ(csv.rfind("time_ms,", 0), 0u);
  EXPECT_NE(csv.find(",pages_sharing"), std::string::npos);
  ASSERT_FALSE(sampler.rows.empty());
  EXPECT_EQ(sampler.rows.back().first, driver.queue().now());
}

}  // namespace
}  // namespace ksmsim::tools::teach
