// 6.12's scan-time advisor (mm/ksm.c "ksm advisor", ksm/ksm_advisor.cc): scan_time_advisor()
// against values computed by hand from the kernel's formulas, the write rules of
// advisor_mode and the advisor's knobs (advisor_*_store, pages_to_scan_store), and in a
// run: pages_to_scan adapting pass after pass, with the ksm_advisor tracepoint's events.
#include <cerrno>
#include <vector>

#include "ksm/ksm.h"
#include "ksm/ksmd.h"
#include "tests/ksm/port/port_util.h"

namespace ksmsim::ksm {

// The advisor's private steps, for the hand-computed cases.
class KsmTestPeer {
 public:
  static void advisor_start_scan(Ksm& k) { k.advisor_start_scan(); }
  static void advisor_stop_scan(Ksm& k) { k.advisor_stop_scan(); }
};

namespace {

constexpr uint64_t kSec = 1000000000;
constexpr uint64_t kMsec = 1000000;

// ktime_get() and ksmd's CPU time as the test sets them.
struct FakeClock final : KsmdClock {
  uint64_t now = 0;
  uint64_t runtime = 0;
  uint64_t ktime_get() const override { return now; }
  uint64_t task_sched_runtime() const override { return runtime; }
};

struct AdvisorTest : ::testing::Test {
  mmu::Machine m{mmu::MachineConfig{}};
  Ksm k{m, Profile::k612};
  FakeClock clock;
  std::vector<KsmEvent> events;
  void SetUp() override {
    k.set_ksmd_clock(&clock);
    k.set_event_sink([this](const KsmEvent& e) { events.push_back(e); });
  }
  // One full scan from `start` to `end` (ns) during which ksmd's CPU time grew to `runtime`.
  void Scan(uint64_t start, uint64_t end, uint64_t runtime) {
    clock.now = start;
    KsmTestPeer::advisor_start_scan(k);
    clock.now = end;
    clock.runtime = runtime;
    KsmTestPeer::advisor_stop_scan(k);  // scan_time_advisor() with advisor_mode scan-time
  }
  void ExpectEvent(int64_t scan_time, uint64_t pages, unsigned cpu_percent) {
    ASSERT_FALSE(events.empty());
    const KsmEvent& e = events.back();
    EXPECT_EQ(e.name, "ksm_advisor");
    EXPECT_EQ(e.scan_time, scan_time);
    EXPECT_EQ(e.pages_to_scan, pages);
    EXPECT_EQ(e.cpu_percent, cpu_percent);
  }
};

TEST_F(AdvisorTest, ScanTimeAdvisorFollowsTheKernelsFormulas) {
  ASSERT_EQ(k.advisor_mode_store("scan-time"), 0);
  ASSERT_EQ(k.knobs().pages_to_scan, 500u);  // set_advisor_defaults: advisor_min_pages_to_scan

  // Scan 1: 0.5 s (scan_time 0 -> 1), 50 ms of CPU. cpu_percent = 50*100/(1*1000) = 5;
  // factor = 200*100/1 = 20000; change = ewma(0, 1*100/1) = (70*0 + 30*100)/100 = 30;
  // pages = 500*100/20000 = 2, * 30/100 = 0; per_page_cost = 500/5 = 100;
  // min(0, 100*70) = 0, max(0, 100*10) = 1000, min(1000, 30000) = 1000.
  Scan(0, kSec / 2, 50 * kMsec);
  EXPECT_EQ(k.knobs().pages_to_scan, 1000u);
  ExpectEvent(1, 1000, 5);

  // Scan 2: 10 s to 260 s (250 s), CPU 50 ms -> 5050 ms (5000 ms). cpu_percent =
  // 5000*100/250000 = 2; factor = 20000/250 = 80; change = ewma(30, 250*100/1) =
  // (2100 + 750000)/100 = 7521; pages = 1000*100/80 = 1250, * 7521/100 = 94012;
  // per_page_cost = 1000/2 = 500: min(94012, 35000) = 35000, max(.., 5000), min(.., 30000).
  Scan(10 * kSec, 260 * kSec, 5050 * kMsec);
  EXPECT_EQ(k.knobs().pages_to_scan, 30000u);
  ExpectEvent(250, 30000, 2);

  // Scan 3, with advisor_max_cpu 20 and advisor_max_pages_to_scan 100000: 300 s to 500 s
  // (200 s), 20000 ms of CPU. cpu_percent = 2000000/200000 = 10; factor = 100;
  // change = ewma(7521, 200*100/250 = 80) = (526470 + 2400)/100 = 5288;
  // pages = 30000*100/100 * 5288/100 = 1586400; per_page_cost = 30000/10 = 3000:
  // min(1586400, 3000*20) = 60000, max(60000, 30000) = 60000, min(60000, 100000) = 60000.
  ASSERT_EQ(k.StoreKnob("advisor_max_cpu", 20), 0);
  ASSERT_EQ(k.StoreKnob("advisor_max_pages_to_scan", 100000), 0);
  Scan(300 * kSec, 500 * kSec, 25050 * kMsec);
  EXPECT_EQ(k.knobs().pages_to_scan, 60000u);
  ExpectEvent(200, 60000, 10);
  EXPECT_EQ(events.size(), 3u);
}

TEST_F(AdvisorTest, ShortScansGrowTenfoldByTheMinimumCpuBound) {
  // A small system scans in under a second at 1% CPU: each scan sets pages_to_scan to
  // per_page_cost * KSM_ADVISOR_MIN_CPU = pages_to_scan * 10, up to the maximum.
  ASSERT_EQ(k.advisor_mode_store("scan-time"), 0);
  Scan(0, 10 * kMsec, 1 * kMsec);
  EXPECT_EQ(k.knobs().pages_to_scan, 5000u);
  ExpectEvent(1, 5000, 1);
  Scan(20 * kMsec, 30 * kMsec, 2 * kMsec);
  EXPECT_EQ(k.knobs().pages_to_scan, 30000u);
  ExpectEvent(1, 30000, 1);
}

TEST_F(AdvisorTest, NoAdvisorNoChange) {
  Scan(0, kSec, kSec);  // advisor_mode none: advisor_stop_scan does not call the advisor
  ASSERT_EQ(k.knobs().ksm_advisor, KSM_ADVISOR_NONE);
  EXPECT_EQ(k.knobs().pages_to_scan, 100u);
  EXPECT_TRUE(events.empty());
}

TEST_F(AdvisorTest, AdvisorModeWriteRules) {
  EXPECT_EQ(k.advisor_mode_show(), "[none] scan-time");
  EXPECT_EQ(k.advisor_mode_store("Scan-time"), -EINVAL);
  EXPECT_EQ(k.advisor_mode_store(""), -EINVAL);
  EXPECT_EQ(k.advisor_mode_store("scan-time "), -EINVAL);
  EXPECT_EQ(k.advisor_mode_store("scan-time\n"), 0);  // sysfs_streq: echo's newline
  EXPECT_EQ(k.advisor_mode_show(), "none [scan-time]");
  EXPECT_EQ(k.knobs().pages_to_scan, 500u);
  // pages_to_scan_store: EINVAL while an advisor runs, whatever the value.
  EXPECT_EQ(k.StoreKnob("pages_to_scan", 1000), -EINVAL);
  EXPECT_EQ(k.StoreKnob("pages_to_scan", -1), -EINVAL);
  // The same mode again changes nothing (no set_advisor_defaults).
  ASSERT_EQ(k.StoreKnob("advisor_min_pages_to_scan", 700), 0);
  EXPECT_EQ(k.advisor_mode_store("scan-time"), 0);
  EXPECT_EQ(k.knobs().pages_to_scan, 500u);
  // Back to none: DEFAULT_PAGES_TO_SCAN, and pages_to_scan is writable again.
  EXPECT_EQ(k.StoreKnob("advisor_mode", KSM_ADVISOR_NONE), 0);
  EXPECT_EQ(k.knobs().pages_to_scan, 100u);
  EXPECT_EQ(k.StoreKnob("pages_to_scan", 1000), 0);
  EXPECT_EQ(k.StoreKnob("advisor_mode", KSM_ADVISOR_SCAN_TIME), 0);
  EXPECT_EQ(k.knobs().pages_to_scan, 700u);
  EXPECT_EQ(k.StoreKnob("advisor_mode", 2), -EINVAL);  // a string the kernel does not know
  EXPECT_EQ(k.knobs().ksm_advisor, KSM_ADVISOR_SCAN_TIME);
  // Not a counter: the result's counters are numbers (WORKLOAD-FORMAT.md).
  EXPECT_FALSE(k.SysfsValues().contains("advisor_mode"));
}

TEST_F(AdvisorTest, AdvisorKnobWriteRules) {
  // kstrtoul, then kept in an unsigned int: 2^32 + 5 reads back as 5.
  EXPECT_EQ(k.StoreKnob("advisor_max_cpu", (int64_t{1} << 32) + 5), 0);
  EXPECT_EQ(k.SysfsValues()["advisor_max_cpu"], 5);
  EXPECT_EQ(k.StoreKnob("advisor_max_cpu", -1), -EINVAL);
  EXPECT_EQ(k.StoreKnob("advisor_target_scan_time", 0), -EINVAL);
  EXPECT_EQ(k.SysfsValues()["advisor_target_scan_time"], 200);
  EXPECT_EQ(k.StoreKnob("advisor_target_scan_time", 1), 0);
  EXPECT_EQ(k.StoreKnob("advisor_min_pages_to_scan", 0), 0);  // no lower bound
  EXPECT_EQ(k.StoreKnob("advisor_max_pages_to_scan", 0), 0);
  EXPECT_EQ(k.SysfsValues()["advisor_max_pages_to_scan"], 0);
  EXPECT_EQ(k.knobs().pages_to_scan, 100u);  // none of them moves pages_to_scan
}

TEST(AdvisorProfile, Linux61HasNoAdvisor) {
  mmu::Machine m{mmu::MachineConfig{}};
  Ksm k{m, Profile::k61};
  EXPECT_EQ(k.advisor_mode_store("scan-time"), -ENOENT);
  EXPECT_EQ(k.StoreKnob("advisor_mode", KSM_ADVISOR_SCAN_TIME), -ENOENT);
  EXPECT_EQ(k.StoreKnob("pages_to_scan", 1000), 0);
}

}  // namespace
}  // namespace ksmsim::ksm

namespace ksmsim::workloads::ksm_port {
namespace {

// 2000 distinct pages of one process, mergeable; with the advisor from the start. A pass is
// 2000 pages: at pages_to_scan 500 four batches 20 ms apart (scan_time 0 s -> 1), ksmd's
// CPU a few ms (cpu_percent 0 -> 1); so scan 1 gives max(0, 500/1 * 10) = 5000, scan 2
// (change ewma(30, 100) = 51, pages 5000*100/20000 * 51/100 = 12) max(12, 50000) capped at
// 30000, and 30000 from then on.
std::string AdvisorRun(std::string_view knobs) {
  return W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "heap", "pages": 2000},
    {"op": "write", "proc": "a", "region": "heap", "data": {"unique": true}},
    {"op": "madvise", "proc": "a", "region": "heap", "advice": "mergeable"},
    {"op": "snapshot", "label": "start"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1}, {"op": "snapshot", "label": "pass 1"},
    {"op": "wait", "full_scans": 1}, {"op": "snapshot", "label": "pass 2"},
    {"op": "wait", "full_scans": 1}, {"op": "snapshot", "label": "pass 3"})",
           knobs, R"("kernel": "6.12",)");
}

TEST(AdvisorRun, PagesToScanAdaptsPassAfterPass) {
  Outcome o = RunOk(AdvisorRun(R"("advisor_mode": "scan-time")"));
  EXPECT_EQ(Ksm(o, 0, "pages_to_scan"), 500);  // after W()'s pages_to_scan 10000
  EXPECT_EQ(Ksm(o, 1, "pages_to_scan"), 5000);
  EXPECT_EQ(Ksm(o, 2, "pages_to_scan"), 30000);
  EXPECT_EQ(Ksm(o, 3, "pages_to_scan"), 30000);
  // Without the advisor, pages_to_scan stays as written.
  Outcome none = RunOk(AdvisorRun(R"("advisor_mode": "none")"));
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(Ksm(none, i, "pages_to_scan"), 10000) << i;
}

TEST(AdvisorRun, EmitsTheKsmAdvisorTracepointBeforeStopScan) {
  ParseOutcome parsed = ParseWorkloadText(AdvisorRun(R"("advisor_mode": "scan-time")"), "a.json");
  ASSERT_TRUE(parsed.ok());
  std::vector<std::string> names;
  std::vector<ksm::KsmEvent> advisor;
  DriverOptions opt;
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t) {
    if (e.name == "ksm_advisor" || e.name == "ksm_stop_scan") names.emplace_back(e.name);
    if (e.name == "ksm_advisor") advisor.push_back(e);
  };
  Driver d(*parsed.workload, opt);
  d.Run();
  EXPECT_EQ(names, (std::vector<std::string>{"ksm_advisor", "ksm_stop_scan", "ksm_advisor",
                                             "ksm_stop_scan", "ksm_advisor", "ksm_stop_scan"}));
  ASSERT_EQ(advisor.size(), 3u);
  EXPECT_EQ(advisor[0].scan_time, 1);
  EXPECT_EQ(advisor[0].pages_to_scan, 5000u);
  EXPECT_EQ(advisor[0].cpu_percent, 1u);
  EXPECT_EQ(advisor[1].pages_to_scan, 30000u);
  EXPECT_EQ(advisor[2].pages_to_scan, 30000u);
  EXPECT_EQ(advisor[0].seq, 0u);  // ksm_scan.seqnr before the pass's ++
}

TEST(AdvisorRun, KsmStepWritesAdvisorModeAndPagesToScanFails) {
  Outcome o = RunOk(W(R"(
    {"op": "ksm", "set": {"advisor_mode": "scan-time"}},
    {"op": "snapshot", "label": "on"},
    {"op": "ksm", "set": {"pages_to_scan": 1000}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"advisor_mode": "none"}},
    {"op": "snapshot", "label": "off"})",
                      "", R"("kernel": "6.12",)"));
  EXPECT_EQ(Ksm(o, 0, "pages_to_scan"), 500);
  EXPECT_EQ(Ksm(o, 1, "pages_to_scan"), 100);
  EXPECT_EQ(o.doc["outcomes"][0]["writes"][0]["value"], "scan-time");
}

std::string ParseErrors(const std::string& text) {
  ParseOutcome parsed = ParseWorkloadText(text, "w.json");
  std::string all;
  for (const auto& e : parsed.errors) all += e.ToString() + "\n";
  return all;
}

TEST(AdvisorFormat, Linux61WorkloadNamesTheKnob) {
  std::string initial =
      ParseErrors(W(R"({"op": "snapshot", "label": "x"})", R"("advisor_mode": "scan-time")"));
  EXPECT_NE(initial.find("advisor_mode exists only with kernel \"6.12\""), std::string::npos)
      << initial;
  std::string step = ParseErrors(W(R"({"op": "ksm", "set": {"advisor_mode": "none"}})"));
  EXPECT_NE(step.find("steps[0].set.advisor_mode"), std::string::npos) << step;
  EXPECT_NE(step.find("advisor_mode exists only with kernel \"6.12\""), std::string::npos) << step;
}

TEST(AdvisorFormat, ValuesAndOrder) {
  std::string bad = ParseErrors(
      W(R"({"op": "ksm", "set": {"advisor_mode": "fast"}})", "", R"("kernel": "6.12",)"));
  EXPECT_NE(bad.find("advisor_mode is \"none\" or \"scan-time\", got \"fast\""), std::string::npos)
      << bad;
  std::string number = ParseErrors(
      W(R"({"op": "snapshot", "label": "x"})", R"("advisor_mode": 1)", R"("kernel": "6.12",)"));
  EXPECT_NE(number.find("ksm.advisor_mode"), std::string::npos) << number;
  // W() gives pages_to_scan first: fine. After advisor_mode scan-time it could never be
  // written (pages_to_scan_store: EINVAL).
  std::string after = ParseErrors(
      R"({"ksmsim": 1, "kernel": "6.12", "ksm": {"advisor_mode": "scan-time",
          "pages_to_scan": 100}, "steps": [{"op": "snapshot", "label": "x"}]})");
  EXPECT_NE(after.find("ksm.pages_to_scan: pages_to_scan cannot be written after advisor_mode"),
            std::string::npos)
      << after;
  EXPECT_EQ(ParseErrors(W(R"({"op": "snapshot", "label": "x"})", R"("advisor_mode": "scan-time")",
                          R"("kernel": "6.12",)")),
            "");
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
