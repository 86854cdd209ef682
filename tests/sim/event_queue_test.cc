// Tests for the event queue: ordering, ties, cancellation, RunUntil and monotonic time.
#include "sim/event_queue.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/time.h"

namespace ksmsim::sim {
namespace {

TEST(EventQueueTest, StartsEmptyAtTimeZero) {
  EventQueue q;
  EXPECT_EQ(q.now(), 0u);
  EXPECT_EQ(q.pending(), 0u);
  EXPECT_FALSE(q.next_time().has_value());
  EXPECT_FALSE(q.RunNext());
  EXPECT_EQ(q.now(), 0u);
}

TEST(EventQueueTest, RunsInTimeOrderAndAdvancesNow) {
  EventQueue q;
  std::vector<std::pair<int, SimTime>> ran;
  q.Schedule(Ms(30), [&] { ran.emplace_back(3, q.now()); });
  q.Schedule(Ms(10), [&] { ran.emplace_back(1, q.now()); });
  q.Schedule(Ms(20), [&] { ran.emplace_back(2, q.now()); });
  EXPECT_EQ(q.pending(), 3u);
  EXPECT_EQ(q.next_time(), Ms(10));
  while (q.RunNext()) {
  }
  std::vector<std::pair<int, SimTime>> want = {{1, Ms(10)}, {2, Ms(20)}, {3, Ms(30)}};
  EXPECT_EQ(ran, want);
  EXPECT_EQ(q.now(), Ms(30));
}

TEST(EventQueueTest, TiesRunInSchedulingOrder) {
  EventQueue q;
  std::string order;
  // Interleave two times so the tie order cannot come from insertion position alone.
  for (char c : std::string("abcdef")) {
    q.Schedule(Us(5), [&order, c] { order += c; });
    q.Schedule(Us(7), [&order, c] { order += static_cast<char>(c - 'a' + 'A'); });
  }
  q.RunUntil(Us(10));
  EXPECT_EQ(order, "abcdefABCDEF");
}

TEST(EventQueueTest, EventScheduledForNowRunsAfterEarlierTies) {
  EventQueue q;
  std::string order;
  q.Schedule(5, [&] {
    order += "a";
    q.Schedule(q.now(), [&] { order += "c"; });
  });
  q.Schedule(5, [&] { order += "b"; });
  q.RunUntil(5);
  EXPECT_EQ(order, "abc");
}

TEST(EventQueueTest, IdsAreDistinctAndIncreasing) {
  EventQueue q;
  uint64_t a = q.Schedule(9, [] {});
  uint64_t b = q.Schedule(1, [] {});
  uint64_t c = q.Schedule(1, [] {});
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(EventQueueTest, CancelRemovesOnlyThatEvent) {
  EventQueue q;
  std::string order;
  q.Schedule(1, [&] { order += "a"; });
  uint64_t b = q.Schedule(1, [&] { order += "b"; });
  q.Schedule(2, [&] { order += "c"; });
  EXPECT_TRUE(q.Cancel(b));
  EXPECT_EQ(q.pending(), 2u);
  EXPECT_FALSE(q.Cancel(b)) << "a second cancel must report that nothing was pending";
  EXPECT_FALSE(q.Cancel(12345)) << "an id never issued is not pending";
  q.RunUntil(10);
  EXPECT_EQ(order, "ac");
}

TEST(EventQueueTest, CancelAfterRunReturnsFalse) {
  EventQueue q;
  uint64_t id = q.Schedule(1, [] {});
  EXPECT_TRUE(q.RunNext());
  EXPECT_FALSE(q.Cancel(id));
}

TEST(EventQueueTest, AnEventCanCancelALaterOne) {
  EventQueue q;
  bool later_ran = false;
  uint64_t later = q.Schedule(3, [&] { later_ran = true; });
  q.Schedule(2, [&] { EXPECT_TRUE(q.Cancel(later)); });
  q.RunUntil(100);
  EXPECT_FALSE(later_ran);
  EXPECT_EQ(q.pending(), 0u);
}

TEST(EventQueueTest, CancelledEarliestEventIsNotNextTime) {
  EventQueue q;
  uint64_t first = q.Schedule(1, [] {});
  q.Schedule(4, [] {});
  q.Cancel(first);
  EXPECT_EQ(q.next_time(), 4u);
}

TEST(EventQueueTest, RunUntilRunsInclusiveAndSetsNow) {
  EventQueue q;
  std::vector<SimTime> ran;
  for (SimTime t : {Ms(1), Ms(2), Ms(3)}) q.Schedule(t, [&, t] { ran.push_back(t); });
  q.RunUntil(Ms(2));
  EXPECT_EQ(ran, (std::vector<SimTime>{Ms(1), Ms(2)}));
  EXPECT_EQ(q.now(), Ms(2));
  EXPECT_EQ(q.pending(), 1u);
  q.RunUntil(Ms(2) + 500);
  EXPECT_EQ(q.now(), Ms(2) + 500) << "RunUntil sets now() even when no event ran";
  EXPECT_EQ(ran.size(), 2u);
}

TEST(EventQueueTest, RunUntilRunsEventsScheduledDuringTheRun) {
  // A self-rescheduling ticker, as ksmd is: every 10 ns until the horizon.
  EventQueue q;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    q.ScheduleAfter(10, tick);
  };
  q.Schedule(0, tick);
  q.RunUntil(100);
  EXPECT_EQ(ticks, 11);  // at 0, 10, ..., 100
  EXPECT_EQ(q.next_time(), 110u);
}

TEST(EventQueueTest, SchedulingInThePastThrows) {
  EventQueue q;
  q.RunUntil(Ms(5));
  EXPECT_THROW(q.Schedule(Ms(4), [] {}), std::logic_error);
  EXPECT_EQ(q.pending(), 0u);
  EXPECT_NO_THROW(q.Schedule(Ms(5), [] {})) << "now() itself is not the past";
}

TEST(EventQueueTest, PastErrorMessageNamesBothTimes) {
  EventQueue q;
  q.RunUntil(200);
  try {
    q.Schedule(100, [] {});
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("100"), std::string::npos) << msg;
    EXPECT_NE(msg.find("200"), std::string::npos) << msg;
  }
}

TEST(EventQueueTest, RunUntilBackwardsThrowsAndKeepsTime) {
  EventQueue q;
  q.RunUntil(50);
  EXPECT_THROW(q.RunUntil(49), std::logic_error);
  EXPECT_EQ(q.now(), 50u);
}

TEST(EventQueueTest, TimeNeverGoesBackwardsAcrossEvents) {
  EventQueue q;
  SimTime last = 0;
  bool monotonic = true;
  for (SimTime t : {7u, 3u, 3u, 9u, 1u, 7u}) {
    q.Schedule(t, [&] {
      if (q.now() < last) monotonic = false;
      last = q.now();
    });
  }
  while (q.RunNext()) {
  }
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(q.now(), 9u);
}

TEST(EventQueueTest, EmptyCallbackThrows) {
  EventQueue q;
  EXPECT_THROW(q.Schedule(1, std::function<void()>()), std::logic_error);
}

TEST(EventQueueTest, ScheduleAfterOverflowThrows) {
  EventQueue q;
  q.RunUntil(10);
  EXPECT_THROW(q.ScheduleAfter(std::numeric_limits<SimTime>::max(), [] {}), std::overflow_error);
}

TEST(TimeTest, UnitHelpers) {
  EXPECT_EQ(Ns(7), 7u);
  EXPECT_EQ(Us(3), 3'000u);
  EXPECT_EQ(Ms(200), 200'000'000u);
  EXPECT_EQ(Sec(2), 2'000'000'000u);
  EXPECT_THROW(Ms(std::numeric_limits<uint64_t>::max() / 1000), std::overflow_error);
  EXPECT_EQ(AddTime(Ms(1), Us(1)), 1'001'000u);
}

}  // namespace
}  // namespace ksmsim::sim
