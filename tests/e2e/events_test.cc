// `ksmsim run --events`, `--events-filter` and `--perfetto` end to end (issue 17): every
// line of the event log of every example, lab and oracle case carries its fields; the
// filter keeps what it says; the Perfetto file is Trace Event Format with the tracks and
// counts the run had.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_util.h"

namespace {

using ksmsim::e2e::RunKsmsim;
using ksmsim::e2e::RunResult;
using ksmsim::e2e::TempDir;
using nlohmann::json;

const std::string kSrc = KSMSIM_SOURCE_DIR;

// The fields each event must carry besides time_ns, event and seq (docs/EVENTS.md).
const std::map<std::string, std::vector<std::string>> kRequired = {
    {"ksmsim_decision", {"pass", "func", "what", "mm", "addr", "page", "pfn"}},
    {"ksm_merge_one_page", {"pass", "mm", "addr", "page", "pfn", "kpfn", "err"}},
    {"ksm_merge_with_ksm_page", {"pass", "mm", "addr", "page", "pfn", "kpfn"}},
    {"ksm_start_scan", {"pass", "rmap_num"}},
    {"ksm_stop_scan", {"pass", "rmap_num"}},
    {"ksm_advisor", {"pass", "scan_time", "pages_to_scan", "cpu_percent"}},
    {"ksm_enter", {"mm"}},
    {"ksm_exit", {"mm"}},
    {"ksm_remove_ksm_page", {"pfn"}},
    {"ksm_remove_rmap_item", {"mm", "addr"}},
    {"ksmsim_cow_ksm", {"mm", "addr", "page", "pfn", "new_pfn"}},
    {"ksmsim_swapin", {"mm", "addr", "page", "pfn", "read"}},
    {"ksmsim_migrate", {"mm", "addr", "pfn", "new_pfn", "nid"}},
    {"ksmsim_smart_scan_skip", {"pass", "skipped"}},
};

std::vector<json> ReadLines(const std::filesystem::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

std::vector<std::string> Workloads() {
  std::vector<std::string> files;
  for (const char* dir : {"/workloads/examples", "/workloads/labs", "/tools/oracle/cases",
                          "/tools/oracle/cases-6.12"}) {
    for (const auto& entry : std::filesystem::directory_iterator(kSrc + dir)) {
      std::string p = entry.path().string();
      if (p.size() > 5 && p.substr(p.size() - 5) == ".json" &&
          p.find(".result.json") == std::string::npos)
        files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(EventsE2eTest, EveryLineOfEveryWorkloadCarriesItsFields) {
  auto dir = TempDir("events_all");
  std::set<std::string> seen;
  size_t lines = 0;
  for (const std::string& file : Workloads()) {
    auto out = dir / "e.jsonl";
    RunResult r = RunKsmsim("run -q --force '" + file + "' --events '" + out.string() + "'");
    ASSERT_TRUE(r.status == 0 || r.status == 1) << file << "\n" << r.output;
    uint64_t last_time = 0;
    for (const json& j : ReadLines(out)) {
      ++lines;
      for (const char* k : {"time_ns", "event", "seq"}) ASSERT_TRUE(j.contains(k)) << file << j;
      std::string ev = j["event"];
      seen.insert(ev);
      auto req = kRequired.find(ev);
      ASSERT_NE(req, kRequired.end()) << "unknown event in " << file << ": " << j;
      for (const std::string& k : req->second)
        EXPECT_TRUE(j.contains(k)) << file << ": no \"" << k << "\" in " << j.dump();
      if (ev == "ksmsim_decision") {
        EXPECT_FALSE(j["func"].get<std::string>().empty()) << j;
        EXPECT_FALSE(j["what"].get<std::string>().empty()) << j;
        EXPECT_EQ(j["pass"].get<uint64_t>(), j["seq"].get<uint64_t>() + 1) << j;
        if (j["what"] == "skipped") {
          EXPECT_TRUE(j.contains("age") && j.contains("remaining_skips")) << file << j;
        }
      }
      // Simulated time never goes back.
      EXPECT_GE(j["time_ns"].get<uint64_t>(), last_time) << file << ": " << j;
      last_time = j["time_ns"];
    }
  }
  // The workloads reach every kind of event but ksm_remove_rmap_item's rarer cousins.
  for (const char* ev : {"ksmsim_decision", "ksm_merge_one_page", "ksmsim_cow_ksm", "ksmsim_swapin",
                         "ksmsim_migrate", "ksm_start_scan", "ksmsim_smart_scan_skip",
                         "ksm_advisor"})
    EXPECT_TRUE(seen.count(ev)) << ev;
  EXPECT_GT(lines, 100000u);
  std::filesystem::remove_all(dir);
}

TEST(EventsE2eTest, ABatchsEventsSpreadOverItsSimulatedTime) {
  // fork_and_diverge's first pass is one batch at time 0; its decisions used to be all at 0.
  auto dir = TempDir("events_time");
  auto out = dir / "e.jsonl";
  RunResult r = RunKsmsim("run -q '" + kSrc + "/workloads/examples/fork_and_diverge.json' " +
                          "--events '" + out.string() + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  std::set<uint64_t> pass1_times;
  for (const json& j : ReadLines(out))
    if (j.value("pass", 0) == 1) pass1_times.insert(j["time_ns"].get<uint64_t>());
  EXPECT_GT(pass1_times.size(), 1000u);
  std::filesystem::remove_all(dir);
}

TEST(EventsE2eTest, FilterKeepsWhatItSays) {
  auto dir = TempDir("events_filter");
  const std::string w = kSrc + "/workloads/examples/fork_and_diverge.json";
  auto all = dir / "all.jsonl", some = dir / "some.jsonl";
  ASSERT_EQ(RunKsmsim("run -q '" + w + "' --events '" + all.string() + "'").status, 0);
  RunResult r =
      RunKsmsim("run -q '" + w + "' --events '" + some.string() +
                "' --events-filter 'what=merged_two,merged_ksm page=child:heap[760..799]' "
                "--events-filter pass=3..");
  ASSERT_EQ(r.status, 0) << r.output;
  size_t expected = 0;
  for (const json& j : ReadLines(all)) {
    if (j["event"] != "ksmsim_decision" || j.value("pass", 0) < 3) continue;
    if (j["what"] != "merged_two" && j["what"] != "merged_ksm") continue;
    std::string page = j["page"];
    if (page.rfind("child:heap[", 0) != 0) continue;
    int index = std::stoi(page.substr(11));
    if (index >= 760 && index <= 799) ++expected;
  }
  std::vector<json> kept = ReadLines(some);
  EXPECT_GT(expected, 0u);
  EXPECT_EQ(kept.size(), expected);
  // Bad filters are refused with exit 2, naming the term.
  RunResult bad = RunKsmsim("run -q '" + w + "' --events - --events-filter pass=0");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("'pass=0'"), std::string::npos) << bad.output;
  bad = RunKsmsim("run -q '" + w + "' --events - --events-filter what=nosuch");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("no decision has what 'nosuch'"), std::string::npos) << bad.output;
  bad = RunKsmsim("run -q '" + w + "' --events-filter event=ksm_exit");
  EXPECT_EQ(bad.status, 2) << bad.output;
  std::filesystem::remove_all(dir);
}

TEST(EventsE2eTest, SmartScanSkipsAreOneLinePerPageAndOnePerPass) {
  // 10 unique pages, one pass per snapshot: 6.12 skips them at passes 5, 7, 8, 10..13
  // (docs/KERNEL-6.12.md 2.1). Each skip is a should_skip_rmap_item decision naming the
  // page, and each pass that skipped has one ksmsim_smart_scan_skip line with the count;
  // together they add up to the pages_skipped counter. 6.1 has neither.
  auto dir = TempDir("events_skip");
  const std::string w = kSrc + "/tools/oracle/cases-6.12/01-smart-scan-lonely-pages.json";
  auto all = dir / "all.jsonl", passes = dir / "passes.jsonl", v61 = dir / "v61.jsonl";
  auto res = dir / "r.json";
  RunResult r =
      RunKsmsim("run -q '" + w + "' --events '" + all.string() + "' --out '" + res.string() + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  std::map<uint64_t, uint64_t> per_page, per_pass;
  for (const json& j : ReadLines(all)) {
    if (j["event"] == "ksmsim_decision" && j["what"] == "skipped") {
      EXPECT_EQ(j["func"], "should_skip_rmap_item") << j;
      EXPECT_EQ(j["page"].get<std::string>().rfind("a:r[", 0), 0u) << j;
      EXPECT_GE(j["age"].get<int>(), 4) << j;
      ++per_page[j["pass"].get<uint64_t>()];
    }
    if (j["event"] == "ksmsim_smart_scan_skip")
      per_pass[j["pass"].get<uint64_t>()] += j["skipped"].get<uint64_t>();
  }
  const std::map<uint64_t, uint64_t> expected = {{5, 10},  {7, 10},  {8, 10}, {10, 10},
                                                 {11, 10}, {12, 10}, {13, 10}};
  EXPECT_EQ(per_page, expected);
  EXPECT_EQ(per_pass, expected);
  std::ifstream in(res);
  json doc = json::parse(in);
  EXPECT_EQ(doc["results"].back()["ksm"]["pages_skipped"], 70) << doc["results"].back().dump();
  // Filtered to the per-pass lines: one line per skipping pass, whatever the page count.
  r = RunKsmsim("run -q '" + w + "' --events '" + passes.string() +
                "' --events-filter event=ksmsim_smart_scan_skip");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(ReadLines(passes).size(), expected.size());
  // The same workload on 6.1 skips nothing.
  r = RunKsmsim("run -q '" + w + "' --profile 6.1 --events '" + v61.string() + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const json& j : ReadLines(v61)) {
    EXPECT_NE(j["event"], "ksmsim_smart_scan_skip") << j;
    EXPECT_NE(j.value("what", ""), "skipped") << j;
  }
  std::filesystem::remove_all(dir);
}

TEST(EventsE2eTest, PerfettoFileHasTheTracksAndCountsOfTheRun) {
  auto dir = TempDir("perfetto");
  const std::string w = kSrc + "/workloads/examples/fork_and_diverge.json";
  auto trace = dir / "t.json", events = dir / "e.jsonl", result = dir / "r.json";
  RunResult r = RunKsmsim("run -q '" + w + "' --perfetto '" + trace.string() + "' --events '" +
                          events.string() + "' --out '" + result.string() + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  json doc = json::parse(std::ifstream(trace));
  ASSERT_TRUE(doc["traceEvents"].is_array());
  std::map<uint64_t, std::string> processes;
  std::map<std::pair<uint64_t, uint64_t>, std::string> threads;
  int passes = 0, batches = 0, merges = 0, cows = 0;
  std::map<std::string, int64_t> last_counter;
  for (const json& e : doc["traceEvents"]) {
    // Trace Event Format: every event has a phase and a pid; timed ones a numeric ts.
    ASSERT_TRUE(e.contains("ph") && e.contains("pid")) << e;
    std::string ph = e["ph"];
    if (ph == "M") {
      if (e["name"] == "process_name") processes[e["pid"]] = e["args"]["name"];
      if (e["name"] == "thread_name") threads[{e["pid"], e["tid"]}] = e["args"]["name"];
      continue;
    }
    ASSERT_TRUE(e["ts"].is_number()) << e;
    if (ph == "X") {
      ASSERT_TRUE(e["dur"].is_number()) << e;
      if (e["cat"] == "pass") ++passes;
      if (e["cat"] == "batch") ++batches;
    } else if (ph == "i") {
      EXPECT_EQ(e["s"], "t") << e;
      EXPECT_TRUE(processes.count(e["pid"])) << "instant before its process' name: " << e;
      if (e["name"] == "merge") ++merges;
      if (e["name"] == "cow break") ++cows;
    } else if (ph == "C") {
      last_counter[processes[e["pid"]] + "/" + e["name"].get<std::string>()] = e["args"]["value"];
    } else {
      FAIL() << "unexpected phase " << e;
    }
  }
  EXPECT_EQ(processes[1], "ksmd");
  EXPECT_EQ((threads[{1, 1}]), "passes");
  EXPECT_EQ((threads[{1, 2}]), "batches");
  std::set<std::string> names;
  for (const auto& [pid, name] : processes) names.insert(name);
  for (const char* p : {"parent", "child", "/sys/kernel/mm/ksm", "/proc/vmstat"})
    EXPECT_TRUE(names.count(p)) << p;
  // Counts: as many pass slices as full_scans, merges as successful ksm_merge_one_page
  // events, COW breaks as cow_ksm; the last counter values are the run's last.
  json res = json::parse(std::ifstream(result));
  const json& last = res["results"].back();
  EXPECT_EQ(passes, last["ksm"]["full_scans"].get<int>());
  int merge_events = 0, cow_events = 0;
  for (const json& j : ReadLines(events)) {
    if (j["event"] == "ksm_merge_one_page" && j["err"] == 0) ++merge_events;
    if (j["event"] == "ksmsim_cow_ksm") ++cow_events;
  }
  EXPECT_GT(merges, 0);
  EXPECT_EQ(merges, merge_events);
  EXPECT_EQ(cows, cow_events);
  EXPECT_EQ(cows, last["vmstat"]["cow_ksm"].get<int>());
  EXPECT_GE(batches, passes);
  for (const char* c : {"pages_shared", "pages_sharing", "pages_unshared", "full_scans"})
    EXPECT_EQ(last_counter[std::string("/sys/kernel/mm/ksm/") + c], last["ksm"][c].get<int64_t>())
        << c;
  std::filesystem::remove_all(dir);
}

// 6.12's scan-time advisor: one ksm_advisor event per pass, before its ksm_stop_scan, and the
// same decisions as instants on ksmd's passes in the Perfetto file.
TEST(EventsE2eTest, AdvisorDecisionsInTheLogAndThePerfettoFile) {
  auto dir = TempDir("advisor");
  const std::string w = kSrc + "/workloads/examples/scan_time_advisor.json";
  auto trace = dir / "t.json", events = dir / "e.jsonl";
  RunResult r = RunKsmsim("run -q '" + w + "' --perfetto '" + trace.string() + "' --events '" +
                          events.string() + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  std::vector<json> advisor;
  std::string previous;
  for (const json& j : ReadLines(events)) {
    if (j["event"] == "ksm_stop_scan") {
      EXPECT_EQ(previous, "ksm_advisor") << j;
    }
    if (j["event"] == "ksm_advisor") advisor.push_back(j);
    previous = j["event"];
  }
  ASSERT_EQ(advisor.size(), 2u);  // two passes
  EXPECT_EQ(advisor[0]["pages_to_scan"], 4000);
  EXPECT_EQ(advisor[0]["pass"], 1);
  json doc = json::parse(std::ifstream(trace));
  std::vector<json> instants;
  for (const json& e : doc["traceEvents"])
    if (e.value("name", "") == "advisor") instants.push_back(e);
  ASSERT_EQ(instants.size(), advisor.size());
  for (size_t i = 0; i < advisor.size(); ++i) {
    EXPECT_EQ(instants[i]["pid"], 1);  // ksmd
    EXPECT_EQ(instants[i]["tid"], 1);  // its passes
    for (const char* k : {"scan_time", "pages_to_scan", "cpu_percent"})
      EXPECT_EQ(instants[i]["args"][k], advisor[i][k]) << k;
  }
  std::filesystem::remove_all(dir);
}

TEST(EventsE2eTest, OutputsRefuseToOverwriteAndDashIsStdout) {
  auto dir = TempDir("perfetto_out");
  const std::string w = kSrc + "/workloads/examples/two_procs_identical.json";
  auto trace = dir / "t.json";
  std::ofstream(trace) << "keep";
  RunResult r = RunKsmsim("run -q '" + w + "' --perfetto '" + trace.string() + "'");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("already exists; pass --force"), std::string::npos) << r.output;
  std::ifstream in(trace);
  std::string kept;
  in >> kept;
  EXPECT_EQ(kept, "keep");
  RunResult out = RunKsmsim("run '" + w + "' --perfetto - 2>/dev/null");
  ASSERT_EQ(out.status, 0) << out.output;
  json doc = json::parse(out.output);  // stdout is the trace alone: no summary
  EXPECT_TRUE(doc["traceEvents"].is_array());
  std::filesystem::remove_all(dir);
}

}  // namespace
