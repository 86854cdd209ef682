// `ksmsim bench`: the host1t scenario at a tiny size (its contents, its merges, the
// baseline beside it), the skip of a size that cannot fit, and the per-pass times that
// scale and host1t both report.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/tools/cli/cli_test_util.h"

namespace ksmsim::tools {
namespace {

using testing::Exec;
using testing::FreshDir;
using testing::RunCli;

nlohmann::json Scenario(const nlohmann::json& doc, const std::string& name) {
  for (const auto& s : doc["scenarios"])
    if (s["name"] == name) return s;
  return nullptr;
}

TEST(BenchTest, Host1tMixesVmContentsAndMergesThem) {
  auto dir = FreshDir("bench_host1t");
  Exec x = RunCli("bench --only host1t --host1t-guests 16 --host1t-pages 512 --json b.json", dir);
  ASSERT_EQ(x.status, 0) << x.err;
  auto doc = nlohmann::json::parse(testing::Slurp(dir / "b.json"));
  // The baseline runs with --only too: the ratio comes from the same run.
  auto base = Scenario(doc, "baseline_xxh64");
  ASSERT_FALSE(base.is_null());
  auto h = Scenario(doc, "host1t");
  ASSERT_FALSE(h.is_null()) << doc.dump();
  EXPECT_GT(h["ratio_to_xxh64"].get<double>(), 0);
  const uint64_t pages = 16 * 512;
  EXPECT_EQ(h["simulated_pages"], pages);
  EXPECT_EQ(h["pages_scanned"], 2 * pages);
  const uint64_t common = h["pages_common"], group = h["pages_group"], zero = h["pages_zero"],
                 unique = h["pages_unique"];
  EXPECT_EQ(common + group + zero + unique, pages);
  // 30% / 20% / 10% / 40%, give or take the sampling of 8192 pages.
  EXPECT_NEAR(double(common) / pages, 0.30, 0.03);
  EXPECT_NEAR(double(group) / pages, 0.20, 0.03);
  EXPECT_NEAR(double(zero) / pages, 0.10, 0.02);
  EXPECT_NEAR(double(unique) / pages, 0.40, 0.03);
  // After two passes every page but the unique ones is merged: one KSM page per common
  // content (16 sharers), per group content (2 groups of 8), and for the ~800 zero pages
  // one per max_page_sharing (256) sharers.
  const uint64_t shared = h["pages_shared"], sharing = h["pages_sharing"];
  EXPECT_EQ(shared + sharing, common + group + zero);
  EXPECT_EQ(shared, common / 16 + group / 8 + (zero + 255) / 256);
  EXPECT_NE(x.err.find("bench: host1t: pass 2"), std::string::npos) << x.err;
}

TEST(BenchTest, ScaleAndHost1tTimeEachPassAlike) {
  auto dir = FreshDir("bench_pass_times");
  Exec s = RunCli("bench --only scale --scale-pages 1024 --json s.json", dir);
  ASSERT_EQ(s.status, 0) << s.err;
  Exec h = RunCli("bench --only host1t --host1t-guests 16 --host1t-pages 512 --json h.json", dir);
  ASSERT_EQ(h.status, 0) << h.err;
  for (const char* file : {"s.json", "h.json"}) {
    auto doc = nlohmann::json::parse(testing::Slurp(dir / file));
    auto r = Scenario(doc, file[0] == 's' ? "scale" : "host1t");
    ASSERT_FALSE(r.is_null()) << doc.dump();
    const double p1 = r["pass1_s"].get<double>(), p2 = r["pass2_s"].get<double>();
    EXPECT_GT(p1, 0) << file;
    EXPECT_GT(p2, 0) << file;
    EXPECT_LE(p1 + p2, r["scan_s"].get<double>()) << file;
  }
}

TEST(BenchTest, Host1tTooBigForThisMachineIsSkippedNotRun) {
  auto dir = FreshDir("bench_host1t_skip");
  // 4096 guests of 2^40 pages: far more memory than any machine has.
  Exec x = RunCli("bench --only host1t --host1t-guests 4096 --host1t-pages 1099511627776", dir);
  EXPECT_EQ(x.status, 0) << x.err;
  EXPECT_NE(x.out.find("host1t          skipped: "), std::string::npos) << x.out;
  EXPECT_NE(x.out.find("GiB available"), std::string::npos) << x.out;
}

}  // namespace
}  // namespace ksmsim::tools
