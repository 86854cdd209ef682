// Tests for the statistics registry: counters, gauges, JSON shape and name rules.
#include "sim/stats.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ksmsim::sim {
namespace {

TEST(StatsTest, CounterOperations) {
  StatsRegistry reg;
  Counter& c = reg.AddCounter("ksm.pages_shared", "pages", "KSM pages in use");
  EXPECT_EQ(c.value(), 0u);
  c.Inc();
  c.Inc(4);
  EXPECT_EQ(c.value(), 5u);
  c.Dec(2);
  EXPECT_EQ(c.value(), 3u);
  c.Set(10);
  EXPECT_EQ(c.value(), 10u);
  EXPECT_EQ(c.name(), "ksm.pages_shared");
  EXPECT_EQ(reg.Read("ksm.pages_shared"), 10);
}

TEST(StatsTest, CounterBelowZeroThrowsAndNamesTheCounter) {
  StatsRegistry reg;
  Counter& c = reg.AddCounter("vmstat.cow_ksm", "events", "copies of KSM pages on write");
  c.Inc();
  try {
    c.Dec(2);
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("vmstat.cow_ksm"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.value(), 1u);
}

TEST(StatsTest, ReferencesStayValidAcrossRegistrations) {
  StatsRegistry reg;
  Counter& first = reg.AddCounter("m.first", "events", "the first");
  first.Inc(7);
  for (int i = 0; i < 1000; ++i) {
    reg.AddCounter("m.c" + std::to_string(i), "events", "filler");
  }
  first.Inc();
  EXPECT_EQ(reg.Read("m.first"), 8);
}

TEST(StatsTest, GaugeIsReadOnDemand) {
  StatsRegistry reg;
  int64_t backing = 3;
  reg.AddGauge("ksm.pages_volatile", "pages", "rmap_items neither shared nor unshared",
               [&] { return backing; });
  EXPECT_EQ(reg.Read("ksm.pages_volatile"), 3);
  backing = -2;
  EXPECT_EQ(reg.Read("ksm.pages_volatile"), -2);
  EXPECT_EQ(reg.ToJson(false)["ksm.pages_volatile"], -2);
}

TEST(StatsTest, JsonIsSortedByNameWithoutMeta) {
  StatsRegistry reg;
  reg.AddCounter("z.last", "events", "registered first").Inc(1);
  reg.AddGauge("a.first", "ns", "registered second", [] { return int64_t{2}; });
  reg.AddCounter("m.middle", "pages", "registered third").Inc(3);
  nlohmann::json j = reg.ToJson(false);
  EXPECT_EQ(j.dump(), R"({"a.first":2,"m.middle":3,"z.last":1})");
}

TEST(StatsTest, JsonWithMetaHasValueUnitDescription) {
  StatsRegistry reg;
  reg.AddCounter("ksm.full_scans", "scans", "passes over all mergeable areas").Inc(3);
  nlohmann::json j = reg.ToJson(true);
  ASSERT_TRUE(j.contains("ksm.full_scans"));
  const nlohmann::json& s = j["ksm.full_scans"];
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s["value"], 3);
  EXPECT_EQ(s["unit"], "scans");
  EXPECT_EQ(s["description"], "passes over all mergeable areas");
}

TEST(StatsTest, OutputDoesNotDependOnRegistrationOrder) {
  StatsRegistry r1, r2;
  r1.AddCounter("b", "events", "b").Inc(2);
  r1.AddCounter("a", "events", "a").Inc(1);
  r2.AddCounter("a", "events", "a").Inc(1);
  r2.AddCounter("b", "events", "b").Inc(2);
  EXPECT_EQ(r1.ToJson(true).dump(), r2.ToJson(true).dump());
  EXPECT_EQ(r1.Names(), (std::vector<std::string>{"a", "b"}));
}

TEST(StatsTest, EmptyRegistryIsAnEmptyObject) {
  StatsRegistry reg;
  EXPECT_EQ(reg.ToJson(false).dump(), "{}");
  EXPECT_EQ(reg.ToJson(true).dump(), "{}");
}

TEST(StatsTest, DuplicateNameIsALogicError) {
  StatsRegistry reg;
  reg.AddCounter("ksm.pages_shared", "pages", "x");
  EXPECT_THROW(reg.AddCounter("ksm.pages_shared", "pages", "y"), std::logic_error);
  EXPECT_THROW(reg.AddGauge("ksm.pages_shared", "pages", "y", [] { return int64_t{0}; }),
               std::logic_error);
}

TEST(StatsTest, MalformedRegistrationsAreLogicErrors) {
  StatsRegistry reg;
  for (const char* bad : {"", ".a", "a.", "a..b", "a b", "a-b"}) {
    EXPECT_THROW(reg.AddCounter(bad, "events", "d"), std::logic_error) << '"' << bad << '"';
  }
  EXPECT_THROW(reg.AddCounter("a", "", "d"), std::logic_error);
  EXPECT_THROW(reg.AddCounter("b", "events", ""), std::logic_error);
  EXPECT_THROW(reg.AddCounter("c", "events", "two\nlines"), std::logic_error);
  EXPECT_THROW(reg.AddGauge("d", "events", "no reader", nullptr), std::logic_error);
  EXPECT_TRUE(reg.Names().empty()) << "a failed registration must not leave a stat behind";
}

TEST(StatsTest, UnknownNameReadsAsNullopt) {
  StatsRegistry reg;
  EXPECT_FALSE(reg.Read("nope").has_value());
  EXPECT_FALSE(reg.Contains("nope"));
}

}  // namespace
}  // namespace ksmsim::sim
