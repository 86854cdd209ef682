// `ksmsim compare` on hand-written result documents: equal documents exit 0, any counter
// difference exits 1 and names it, bad input exits 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

struct Outcome {
  int status;
  std::string output;
};

Outcome Compare(const std::string& a, const std::string& b) {
  std::string cmd = std::string(KSMSIM_BINARY) + " compare '" + a + "' '" + b + "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  Outcome out{-1, ""};
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.output.append(buf, n);
  int st = pclose(p);
  out.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

class OracleCompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ksmsim-compare-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  // A result document with one expect entry; the engine and time differ on purpose.
  static std::string Doc(const std::string& engine, int time_ns, int sharing,
                         const std::string& extra_result = "") {
    return R"({"ksmsim": 1, "workload": "w", "engine": ")" + engine + R"(", "seed": 0,
      "results": [
        {"step": 10, "op": "expect", "label": "", "time_ns": )" +
           std::to_string(time_ns) + R"(,
         "ksm": {"full_scans": 3, "pages_shared": 8, "pages_sharing": )" +
           std::to_string(sharing) + R"(, "max_page_sharing": 256},
         "procs": {"a": {"ksm_merging_pages": 1000, "ksm_rmap_items": 1000}},
         "vmstat": {"cow_ksm": 0, "ksm_swpin_copy": 0, "pswpin": 0, "pswpout": 0},
         "mismatches": []})" +
           extra_result + R"(],
      "errors": []})";
  }

  std::filesystem::path dir_;
};

TEST_F(OracleCompareTest, EqualDocumentsExitZero) {
  auto a = Write("a.json", Doc("linux 6.1.0-56-amd64 (qemu tcg)", 612000000, 1992));
  auto b = Write("b.json", Doc("ksmsim 0.1.0 (kernel profile 6.1)", 5, 1992));
  Outcome o = Compare(a, b);
  EXPECT_EQ(o.status, 0) << o.output;
}

TEST_F(OracleCompareTest, CounterDifferenceExitsOneAndNamesIt) {
  auto a = Write("a.json", Doc("kernel", 1, 1992));
  auto b = Write("b.json", Doc("sim", 1, 1991));
  Outcome o = Compare(a, b);
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_NE(o.output.find("step 10 (expect): ksm.pages_sharing 1992 vs 1991"), std::string::npos)
      << o.output;
}

TEST_F(OracleCompareTest, EntryInOneDocumentOnlyIsADifference) {
  std::string extra = R"(, {"step": 12, "op": "snapshot", "label": "later", "time_ns": 0,
      "ksm": {}, "procs": {}, "vmstat": {}, "mismatches": []})";
  auto a = Write("a.json", Doc("kernel", 1, 1992, extra));
  auto b = Write("b.json", Doc("sim", 1, 1992));
  Outcome o = Compare(a, b);
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_NE(o.output.find("step 12 (snapshot \"later\"): only in the first document"),
            std::string::npos)
      << o.output;
}

TEST_F(OracleCompareTest, KnobOutcomeDifferenceExitsOne) {
  std::string doc = Doc("kernel", 1, 1992);
  auto with_outcome = [&](const std::string& err) {
    std::string d = doc;
    d.insert(d.rfind('}'), R"(, "outcomes": [{"step": 3, "op": "ksm", "writes": [
        {"knob": "max_page_sharing", "value": 300, "error": ")" +
                               err + R"("}],
        "error": ")" + err + R"("}])");
    return d;
  };
  auto a = Write("a.json", with_outcome("EBUSY"));
  auto b = Write("b.json", with_outcome("none"));
  Outcome o = Compare(a, b);
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_NE(o.output.find("step 3 (ksm): error EBUSY vs none"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("step 3 (ksm): max_page_sharing = 300: EBUSY vs none"), std::string::npos)
      << o.output;
  EXPECT_EQ(Compare(a, a).status, 0);
}

TEST_F(OracleCompareTest, BadInputExitsTwo) {
  auto a = Write("a.json", Doc("kernel", 1, 1992));
  auto bad = Write("bad.json", R"({"results": "nope"})");
  EXPECT_EQ(Compare(a, bad).status, 2);
  EXPECT_EQ(Compare(a, (dir_ / "missing.json").string()).status, 2);
}

}  // namespace
