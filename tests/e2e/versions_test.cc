// `ksmsim run --profile 6.1 --profile 6.12` end to end (docs/CLI.md "Two kernels side by
// side"): the document's structure, the table, and the reason named for the first
// divergence of a smart-scan case, a fork case and a late joiner; the options it refuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_util.h"

namespace {

using ksmsim::e2e::RunKsmsim;
using ksmsim::e2e::RunResult;
using nlohmann::json;

const std::string kSrc = KSMSIM_SOURCE_DIR;
const std::string kLab = kSrc + "/workloads/labs/lab7-6.1-to-6.12.json";

json SideBySide(const std::string& workload) {
  RunResult r = RunKsmsim("run --profile 6.1 --profile 6.12 '" + workload + "' --json");
  EXPECT_EQ(r.status, 0) << r.output;
  return json::parse(r.output);
}

const json& FirstReason(const json& doc) { return doc["first_divergence"]["reasons"][0]; }

TEST(VersionsE2eTest, TheDocumentHasBothKernelsAtEachPoint) {
  json doc = SideBySide(kLab);
  EXPECT_EQ(doc["profiles"], json({"6.1", "6.12"}));
  EXPECT_EQ(doc["workload_kernel"], "6.12");
  ASSERT_EQ(doc["runs"].size(), 2u);
  EXPECT_EQ(doc["runs"][1]["engine"], "ksmsim 0.1.0 (kernel profile 6.12)");
  ASSERT_EQ(doc["points"].size(), 5u);  // the lab's five snapshots
  for (const json& p : doc["points"]) {
    for (const auto& [name, values] : p["counters"].items()) {
      ASSERT_EQ(values.size(), 2u) << name;
      EXPECT_FALSE(values[1].is_null()) << name;  // 6.12 has every counter 6.1 has
    }
    // Knobs are not counters.
    EXPECT_FALSE(p["counters"].contains("pages_to_scan"));
    EXPECT_FALSE(p["counters"].contains("smart_scan"));
  }
  const json& pass2 = doc["points"][0];
  EXPECT_EQ(pass2["label"], "after pass 2");
  EXPECT_EQ(pass2["differ"], json::array());
  EXPECT_EQ(pass2["counters"]["ksm_zero_pages"], json({nullptr, 8}));
  EXPECT_EQ(pass2["counters"]["pages_sharing"], json({12, 12}));
  // After pass 5: smart scan. The first divergence, and the point's own "why".
  const json& pass5 = doc["points"][1];
  EXPECT_EQ(pass5["counters"]["pages_unshared"], json({8, 0}));
  EXPECT_EQ(pass5["new_differences"], json({"pages_unshared", "pages_volatile"}));
  EXPECT_EQ(doc["first_divergence"]["step"], pass5["step"]);
  EXPECT_EQ(doc["first_divergence"]["label"], "after pass 5");
  EXPECT_EQ(FirstReason(doc)["kind"], "smart_scan");
  EXPECT_EQ(FirstReason(doc)["pass"], 5);
  EXPECT_NE(FirstReason(doc)["text"].get<std::string>().find(
                "pass 5: smart_scan skipped 8 pages in 6.12"),
            std::string::npos)
      << FirstReason(doc);
  EXPECT_EQ(FirstReason(doc)["second_profile_event"]["func"], "should_skip_rmap_item");
  EXPECT_EQ(FirstReason(doc)["first_profile_event"]["page"], "a:lonely[0]");
  // The fork: b's counters, reset in 6.12.
  const json& fork = doc["points"][2];
  EXPECT_EQ(fork["counters"]["procs.b.ksm_merging_pages"], json({16, 0}));
  EXPECT_EQ(fork["new_differences"], json({"procs.b.ksm_merging_pages", "procs.b.ksm_rmap_items"}));
  ASSERT_EQ(fork["why"].size(), 1u);
  EXPECT_EQ(fork["why"][0]["kind"], "fork_counters");
  // The unmergeable zeros change no counter both have; a pass later, a's rmap_items do.
  EXPECT_FALSE(doc["points"][3].contains("new_differences"));
  const json& pass6 = doc["points"][4];
  EXPECT_EQ(pass6["counters"]["procs.a.ksm_rmap_items"], json({24, 32}));
  ASSERT_EQ(pass6["why"].size(), 1u);
  EXPECT_EQ(pass6["why"][0]["kind"], "ksm_zero_pages_unshared");
  EXPECT_NE(pass6["why"][0]["text"].get<std::string>().find("6.12 unshares 8 KSM zero pages"),
            std::string::npos);
}

TEST(VersionsE2eTest, TheTableMarksDifferencesAndNamesTheFirstDivergence) {
  RunResult r = RunKsmsim("run --profile 6.1 --profile 6.12 '" + kLab + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* says :
       {"under 6.1 and 6.12, side by side", "\"kernel\": \"6.12\" is overridden",
        "step 14 (snapshot \"after pass 5\")", "counter", "* differs", "(6.12 only)",
        "newly different: procs.b.ksm_merging_pages, procs.b.ksm_rmap_items",
        "first divergence: step 14 (snapshot \"after pass 5\"): pages_unshared, pages_volatile",
        "why: pass 5: smart_scan skipped 8 pages in 6.12"})
    EXPECT_NE(r.output.find(says), std::string::npos) << says << "\n" << r.output;
  // A row: counter, 6.1, 6.12, the mark.
  EXPECT_NE(r.output.find("pages_unshared                  8      0  * differs"), std::string::npos)
      << r.output;
}

TEST(VersionsE2eTest, SmartScanCase) {
  json doc = SideBySide(kSrc + "/tools/oracle/cases-6.12/01-smart-scan-lonely-pages.json");
  EXPECT_EQ(doc["first_divergence"]["label"], "pass");
  EXPECT_EQ(FirstReason(doc)["kind"], "smart_scan");
  EXPECT_NE(FirstReason(doc)["text"].get<std::string>().find(
                "pass 5: smart_scan skipped 10 pages in 6.12"),
            std::string::npos)
      << FirstReason(doc);
}

TEST(VersionsE2eTest, ForkCase) {
  json doc = SideBySide(kSrc + "/tools/oracle/cases-6.12/03-fork-resets-ksm-counters.json");
  EXPECT_EQ(doc["first_divergence"]["label"], "w1");
  ASSERT_GE(doc["first_divergence"]["reasons"].size(), 2u);
  for (const json& r : doc["first_divergence"]["reasons"]) {
    EXPECT_EQ(r["kind"], "fork_counters") << r;
    EXPECT_NE(r["text"].get<std::string>().find("6.12 resets the child's ksm counters"),
              std::string::npos);
  }
}

TEST(VersionsE2eTest, LateJoinerCase) {
  json doc = SideBySide(kSrc + "/tools/oracle/cases-6.12/05-late-joiner.json");
  EXPECT_EQ(FirstReason(doc)["kind"], "checksum_before_stable_search");
  EXPECT_EQ(FirstReason(doc)["first_profile_event"]["what"], "merged_ksm");
  EXPECT_EQ(FirstReason(doc)["second_profile_event"]["what"], "checksum_changed");
}

TEST(VersionsE2eTest, AFirstDifferenceFarIntoTheRunIsFoundAgain) {
  // 20000 unique pages: passes 1 to 4 make 80000 records alike in both runs, more than the
  // runs keep the first time, so both run again to keep the chunk that differs (pass 5).
  auto dir = ksmsim::e2e::TempDir("versions_far");
  const std::string w = (dir / "w.json").string();
  std::ofstream(w) << R"({"ksmsim": 1, "name": "far", "machine": {"nodes": [{"memory_mib": 256}]},
    "ksm": {"pages_to_scan": 100000, "sleep_millisecs": 200},
    "steps": [{"op": "spawn", "proc": "a"}, {"op": "mmap", "proc": "a", "region": "r", "pages": 20000},
      {"op": "write", "proc": "a", "region": "r", "data": {"unique": true}},
      {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
      {"op": "ksm", "set": {"run": 1}}, {"op": "wait", "full_scans": 5},
      {"op": "snapshot", "label": "after pass 5"}]})";
  json doc = SideBySide(w);
  ASSERT_FALSE(doc["first_divergence"].is_null()) << doc.dump();
  EXPECT_EQ(FirstReason(doc)["kind"], "smart_scan");
  EXPECT_NE(FirstReason(doc)["text"].get<std::string>().find(
                "pass 5: smart_scan skipped 20,000 pages in 6.12 (should_skip_rmap_item; the "
                "first, a:r[0]"),
            std::string::npos)
      << FirstReason(doc);
  EXPECT_EQ(FirstReason(doc)["first_profile_event"]["page"], "a:r[0]");
  std::filesystem::remove_all(dir);
}

TEST(VersionsE2eTest, StdinAndOutAndWhatItRefuses) {
  RunResult r = RunKsmsim("run --profile 6.1 --profile 6.12 - < '" + kLab + "' -q");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(r.output.empty()) << r.output;
  r = RunKsmsim("run --profile 6.1 --profile 6.12 - --out - < '" + kLab + "'");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(json::parse(r.output)["file"], "<stdin>");
  // --out refuses an existing file without --force, before anything runs.
  auto dir = ksmsim::e2e::TempDir("versions_out");
  const std::string existing = (dir / "existing.json").string();
  { std::ofstream(existing) << "keep"; }
  r = RunKsmsim("run --profile 6.1 --profile 6.12 '" + kLab + "' --out '" + existing + "'");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("--force"), std::string::npos) << r.output;
  r = RunKsmsim("run --profile 6.1 --profile 6.12 '" + kLab + "' -q --force --out '" + existing +
                "'");
  EXPECT_EQ(r.status, 0) << r.output;
  {
    std::ifstream in(existing);
    EXPECT_EQ(json::parse(in)["profiles"], json({"6.1", "6.12"}));
  }
  std::filesystem::remove_all(dir);
  struct Case {
    std::string args, says;
  };
  for (const Case& k : std::vector<Case>{
           {"--profile 6.1 --profile 6.1", "two different ones"},
           {"--profile 6.1 --profile 6.12 --profile 6.1-zero-unshare", "two different ones"},
           {"--profile 6.1 --profile 6.13", "unknown kernel profile \"6.13\""},
           {"--profile 6.1 --profile 6.12 --events /dev/null", "--events: writes one run's file"},
           {"--profile 6.1 --profile 6.12 --record /dev/null", "--record: writes one run's file"},
       }) {
    r = RunKsmsim("run '" + kLab + "' " + k.args);
    EXPECT_EQ(r.status, 2) << k.args << "\n" << r.output;
    EXPECT_NE(r.output.find(k.says), std::string::npos) << k.args << "\n" << r.output;
  }
}

}  // namespace
