// Running and measuring one point: the figures, the times to the saving, determinism, the
// ksmtuned policy, traces.
#include "tools/sweep/run_point.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tools/sweep/chart.h"
#include "tools/sweep/outputs.h"

namespace ksmsim::tools::sweep {
namespace {

using Json = nlohmann::ordered_json;

std::string Workload(const std::string& name, const std::string& knobs) {
  // Two processes of 512 identical pages and 256 unique ones; snapshots at 1 s and 3 s.
  std::string text = R"({"ksmsim": 1, "name": "t", "machine": {"nodes": [{"memory_mib": 64}]},
    "ksm": )" + knobs +
                     R"(, "steps": [
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 768},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 768},
    {"op": "write", "proc": "a", "region": "r", "range": [0, 512], "data": {"cycle": 512}},
    {"op": "write", "proc": "b", "region": "r", "range": [0, 512], "data": {"cycle": 512}},
    {"op": "write", "proc": "a", "region": "r", "range": [512, 768], "data": {"unique": true}},
    {"op": "write", "proc": "b", "region": "r", "range": [512, 768], "data": {"unique": true}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "ms": 1000}, {"op": "snapshot", "label": "1s"},
    {"op": "wait", "ms": 2000}, {"op": "snapshot", "label": "3s"}]})";
  auto p = std::filesystem::temp_directory_path() / ("sweep_point_test_" + name);
  std::ofstream(p) << text;
  return p.string();
}

Json RunOne(const std::string& file, workloads::KnobList set, const std::string& policy = "fixed") {
  SweepSpec s;
  AddInput(s, file);
  Point p;
  p.input = &s.inputs[0];
  p.policy = policy;
  p.set = std::move(set);
  return RunPoint(s, p);
}

TEST(SweepPoint, FiguresAtEachSnapshotAndTheEnd) {
  Json r = RunOne(Workload("a.json", R"({"pages_to_scan": 100, "sleep_millisecs": 20})"),
                  {{"pages_to_scan", 200}});
  ASSERT_EQ(r["exit_status"], 0) << r.dump(1);
  EXPECT_EQ(r["knobs"], Json({{"pages_to_scan", 200}}));
  const Json& snaps = r["snapshots"];
  ASSERT_EQ(snaps.size(), 3u);
  EXPECT_EQ(snaps[0]["label"], "1s");
  EXPECT_EQ(snaps[2]["label"], "end");
  EXPECT_TRUE(snaps[2]["step"].is_null());
  EXPECT_EQ(snaps[0]["ksm"]["pages_to_scan"], 200);  // the swept value replaced the file's
  for (const Json& s : snaps) {
    EXPECT_EQ(s["saved_bytes"].get<int64_t>(), s["ksm"]["pages_sharing"].get<int64_t>() * 4096);
  }
  // 512 pairs of identical pages: 512 pages saved at the end.
  EXPECT_EQ(snaps[2]["saved_bytes"], 512 * 4096);
  // ksmd ran the cost model: 200 pages per batch, every batch at least 250 ns a page.
  uint64_t scanned = snaps[2]["pages_scanned"].get<uint64_t>();
  EXPECT_GT(scanned, 1536u);
  EXPECT_GE(snaps[2]["ksmd_cpu_ns"].get<uint64_t>(), scanned * 250);
  EXPECT_LE(snaps[0]["ksmd_cpu_ns"], snaps[1]["ksmd_cpu_ns"]);
  const Json& t = r["time_to_saving"];
  ASSERT_FALSE(t["t50_ns"].is_null());
  EXPECT_LE(t["t50_ns"], t["t90_ns"]);
  EXPECT_LE(t["t90_ns"], t["t99_ns"]);
  EXPECT_GT(t["t50_ns"].get<uint64_t>(), 0u);
  EXPECT_LT(t["t99_ns"].get<uint64_t>(), 3000000000u);
}

TEST(SweepPoint, FasterScanningReachesTheSavingSooner) {
  std::string w = Workload("b.json", "{}");
  Json slow = RunOne(w, {{"pages_to_scan", 400}, {"sleep_millisecs", 200}});
  Json fast = RunOne(w, {{"pages_to_scan", 1000}, {"sleep_millisecs", 20}});
  EXPECT_LT(fast["time_to_saving"]["t90_ns"], slow["time_to_saving"]["t90_ns"]);
  EXPECT_GT(fast["snapshots"].back()["ksmd_cpu_ns"], slow["snapshots"].back()["ksmd_cpu_ns"]);
  // Deterministic: the same point gives the same document.
  EXPECT_EQ(RunOne(w, {{"pages_to_scan", 400}, {"sleep_millisecs", 200}}).dump(), slow.dump());
}

TEST(SweepPoint, NoSavingHasNoTimes) {
  Json r = RunOne(Workload("c.json", "{}"), {{"run", 0}}, "fixed");
  // The workload's own ksm step still sets run 1; with pages_to_scan 0 nothing is scanned.
  Json none = RunOne(Workload("d.json", "{}"), {{"pages_to_scan", 0}});
  EXPECT_EQ(none["snapshots"].back()["saved_bytes"], 0);
  EXPECT_TRUE(none["time_to_saving"]["t90_ns"].is_null());
  EXPECT_EQ(none["snapshots"].back()["pages_scanned"], 0);
  EXPECT_EQ(r["exit_status"], 0);
}

TEST(SweepPoint, KsmtunedAdjustsEveryMonitorInterval) {
  // 64 MiB machine; the processes hold 6 MiB: committed + threshold (2048 KiB const vs 20% of
  // 64 MiB = 13 MiB) is below the total and free memory is above it: ksmtuned stops KSM at
  // its first adjustment (60 s), so a 3 s run never sees it...
  Json r = RunOne(Workload("e.json", "{}"), {}, "ksmtuned");
  EXPECT_EQ(r["ksmtuned_adjustments"], 0);
  // ...and with a 1 s interval it adjusts at 1, 2 and 3 s, and stops KSM (free memory is
  // plentiful), so less is scanned than with the fixed policy.
  SweepSpec s;
  AddInput(s, Workload("f.json", "{}"));
  s.ksmtuned.monitor_interval_s = 1;
  Point p;
  p.input = &s.inputs[0];
  p.policy = "ksmtuned";
  Json tuned = RunPoint(s, p);
  EXPECT_EQ(tuned["ksmtuned_adjustments"], 3);
  EXPECT_EQ(tuned["snapshots"].back()["ksm"]["run"], 0);
  Json fixed = RunOne(Workload("f.json", "{}"), {});
  EXPECT_LT(tuned["snapshots"].back()["pages_scanned"], fixed["snapshots"].back()["pages_scanned"]);
}

TEST(SweepPoint, KsmtunedBoostsUnderMemoryPressure) {
  // A 7 MiB machine whose processes hold 6 MiB: free memory is below the threshold
  // (KSM_THRES_CONST 2048 KiB), so ksmtuned starts KSM with KSM_NPAGES_MIN + boost.
  std::string text = R"({"ksmsim": 1, "name": "t", "machine": {"nodes": [{"memory_mib": 7}]},
    "steps": [
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 768},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 768},
    {"op": "write", "proc": "a", "region": "r", "data": {"cycle": 768}},
    {"op": "write", "proc": "b", "region": "r", "data": {"cycle": 768}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "wait", "ms": 2500}, {"op": "snapshot", "label": "end"}]})";
  auto path = std::filesystem::temp_directory_path() / "sweep_point_test_g.json";
  std::ofstream(path) << text;
  SweepSpec s;
  AddInput(s, path.string());
  s.ksmtuned.monitor_interval_s = 1;
  s.ksmtuned.sleep_msec = 0;  // the script's floor: 10 ms
  Point p;
  p.input = &s.inputs[0];
  p.policy = "ksmtuned";
  Json r = RunPoint(s, p);
  ASSERT_EQ(r["exit_status"], 0) << r.dump(1);
  const Json& k = r["snapshots"].back()["ksm"];
  EXPECT_EQ(k["run"], 1);
  // 0 + 300 = 300 at 1 s; by 2 s merging has freed 3 MiB, above the threshold, but the
  // processes still hold their 6 MiB resident: decay, 300 - 50.
  EXPECT_EQ(k["pages_to_scan"], 250) << k.dump();
  EXPECT_EQ(k["sleep_millisecs"], 10);
  EXPECT_EQ(r["ksmtuned_adjustments"], 2);
  EXPECT_GT(r["snapshots"].back()["saved_bytes"].get<int64_t>(), 0);
}

// The same workload with kernel 6.12: the advisor policy sets advisor_mode "scan-time" before
// ksmd runs, so pages_to_scan starts at advisor_min_pages_to_scan (500) whatever the point
// sets, and scan_time_advisor changes it after each full scan.
TEST(SweepPoint, AdvisorPolicyRunsTheScanTimeAdvisor) {
  std::string w = Workload("h.json", R"({"pages_to_scan": 100})");
  {
    std::ifstream in(w);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("\"name\": \"t\","), 12, "\"name\": \"t\", \"kernel\": \"6.12\",");
    std::ofstream(w) << text;
  }
  Json fixed = RunOne(w, {{"pages_to_scan", 200}});
  Json advisor = RunOne(w, {{"pages_to_scan", 200}}, "advisor");
  ASSERT_EQ(fixed["exit_status"], 0) << fixed.dump(1);
  ASSERT_EQ(advisor["exit_status"], 0) << advisor.dump(1);
  EXPECT_EQ(advisor["policy"], "advisor");
  EXPECT_EQ(fixed["snapshots"][0]["ksm"]["pages_to_scan"], 200);
  // 1536 pages: pass 1 is 4 batches of 500 (under a second, ksmd's CPU under 1%), so the
  // advisor's minimum-CPU bound gives 500 * 10 = 5000, then 30000 (the maximum).
  EXPECT_EQ(advisor["snapshots"][0]["ksm"]["pages_to_scan"], 30000);
  EXPECT_GT(advisor["snapshots"][0]["ksm"]["full_scans"].get<int64_t>(), 2);
  EXPECT_EQ(advisor["snapshots"].back()["saved_bytes"], 512 * 4096);
  // Faster scanning: the saving sooner, for more of ksmd's CPU.
  EXPECT_LT(advisor["time_to_saving"]["t90_ns"], fixed["time_to_saving"]["t90_ns"]);
  EXPECT_GT(advisor["snapshots"].back()["ksmd_cpu_ns"], fixed["snapshots"].back()["ksmd_cpu_ns"]);
}

TEST(SweepChart, ParetoFront) {
  std::vector<XY> pts = {{1, 10}, {2, 20}, {2, 15}, {3, 20}, {0.5, 1}};
  EXPECT_EQ(ParetoFront(pts, true), (std::vector<size_t>{0, 1, 4}));
  std::vector<XY> t = {{1, 10}, {2, 5}, {3, 6}, {1, 12}};
  EXPECT_EQ(ParetoFront(t, false), (std::vector<size_t>{0, 1}));
}

TEST(SweepChart, PercentOfTheBestSavingOfTheSameInput) {
  auto point = [](const std::string& input, int64_t mib, uint64_t cpu_ns) {
    Json p = {{"point", 0}, {"input", input}, {"policy", "fixed"}, {"knobs", Json::object()}};
    p["snapshots"] =
        Json::array({{{"saved_bytes", mib << 20}, {"ksmd_cpu_ns", cpu_ns}, {"pages_scanned", 1}}});
    p["time_to_saving"] = {{"t90_ns", mib ? Json(1000) : Json(nullptr)}};
    return p;
  };
  std::vector<Json> pts = {point("a", 100, 5), point("a", 50, 1), point("b", 0, 1),
                           point("a", 95, 2)};
  pts.push_back({{"point", 4}, {"input", "a"}, {"policy", "fixed"}, {"exit_status", 2}});
  std::vector<EndFigures> e = AllEnds(pts);
  ASSERT_EQ(e.size(), 5u);
  EXPECT_DOUBLE_EQ(*e[0].pct_of_best, 100);
  EXPECT_DOUBLE_EQ(*e[1].pct_of_best, 50);
  EXPECT_FALSE(e[2].pct_of_best);
  EXPECT_DOUBLE_EQ(*e[3].pct_of_best, 95);
  EXPECT_FALSE(e[4].ran);
  EXPECT_TRUE(e[0].converged);
  EXPECT_FALSE(e[1].converged);
  EXPECT_TRUE(e[3].converged);
  // The chart's t90 panel and the summary's answer take the converged points only.
  std::string svg = SweepChartSvg(pts, "t");
  EXPECT_NE(svg.find("points that saved 90% of the best"), std::string::npos);
}

TEST(SweepSummary, SaysWhichPolicyReachesTheSavingSoonestForTheLeastCpu) {
  auto point = [](uint64_t i, const std::string& policy, int64_t mib, uint64_t cpu_ms,
                  uint64_t t90_s) {
    Json p = {{"point", i},        {"input", "w.json"},     {"policy", policy},
              {"exit_status", 0}, {"knobs", Json::object()}};
    p["knobs"]["sleep_millisecs"] = 20 * (i + 1);
    p["snapshots"] = Json::array({{{"saved_bytes", mib << 20},
                                   {"ksmd_cpu_ns", cpu_ms * 1000000},
                                   {"pages_scanned", 1}}});
    p["time_to_saving"] = {{"t50_ns", nullptr}, {"t90_ns", t90_s * 1000000000}, {"t99_ns", nullptr}};
    return p;
  };
  SweepSpec s;
  s.policies = {"fixed", "ksmtuned", "advisor"};
  s.knobs = {{"sleep_millisecs", {20, 40, 60, 80, 100}}};
  std::vector<Json> pts = {point(0, "fixed", 100, 50, 30), point(1, "fixed", 100, 10, 90),
                           point(2, "ksmtuned", 100, 8, 120), point(3, "advisor", 100, 70, 12),
                           point(4, "advisor", 50, 1, 5)};  // 50%: never reached the saving
  std::string out = SweepSummary(s, pts, 40);
  EXPECT_THAT(out, ::testing::HasSubstr("by policy, among the points that saved 90% of the best:"));
  EXPECT_THAT(out, ::testing::HasSubstr(
                       "  fixed    soonest: point 0 (w.json sleep_millisecs=20): 90% at 30.0 s, "
                       "50.000 ms of ksmd CPU\n           least CPU: point 1"));
  EXPECT_THAT(out, ::testing::HasSubstr("  advisor  soonest: point 3"));
  EXPECT_THAT(out, ::testing::HasSubstr("the saving soonest: advisor (point 3); for the least "
                                        "ksmd CPU: ksmtuned (point 2)\n"));
  s.policies = {"fixed"};
  EXPECT_THAT(SweepSummary(s, pts, 40), ::testing::Not(::testing::HasSubstr("by policy")));
  // The chart outlines each point by its policy, with a legend.
  std::string svg = SweepChartSvg(pts, "t");
  EXPECT_THAT(svg, ::testing::HasSubstr("stroke=\"#27ae60\" stroke-width=\"2\"><title>point 3"));
  EXPECT_THAT(svg, ::testing::HasSubstr("(outline: policy)"));
}

}  // namespace
}  // namespace ksmsim::tools::sweep
