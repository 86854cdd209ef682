// Tests for actors: self-scheduling wake-ups on the event queue.
#include "sim/actor.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ksmsim::sim {
namespace {

// Wakes every `period` ns, recording the times, until it has woken `limit` times.
class Ticker : public Actor {
 public:
  Ticker(std::string name, SimTime period, int limit, std::vector<std::string>* log)
      : name_(std::move(name)), period_(period), limit_(limit), log_(log) {}
  std::string_view name() const override { return name_; }
  void Wake(EventQueue& q) override {
    log_->push_back(name_ + "@" + std::to_string(q.now()));
    if (++wakes_ < limit_) ScheduleWake(q, *this, q.now() + period_);
  }

 private:
  std::string name_;
  SimTime period_;
  int limit_;
  int wakes_ = 0;
  std::vector<std::string>* log_;
};

TEST(ActorTest, ActorsRescheduleThemselvesAndInterleaveByTime) {
  EventQueue q;
  std::vector<std::string> log;
  Ticker a("a", 20, 3, &log);
  Ticker b("b", 30, 2, &log);
  ScheduleWake(q, a, 0);
  ScheduleWake(q, b, 0);
  while (q.RunNext()) {
  }
  std::vector<std::string> want = {"a@0", "b@0", "a@20", "b@30", "a@40"};
  EXPECT_EQ(log, want);
  EXPECT_EQ(a.name(), "a");
}

TEST(ActorTest, ScheduledWakeCanBeCancelled) {
  EventQueue q;
  std::vector<std::string> log;
  Ticker a("a", 20, 5, &log);
  uint64_t id = ScheduleWake(q, a, 10);
  EXPECT_TRUE(q.Cancel(id));
  q.RunUntil(1000);
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace ksmsim::sim
