// The discrete-event core: callbacks scheduled at simulated times, run in (time, sequence)
// order so that events at the same time run in the order they were scheduled.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "sim/time.h"

namespace ksmsim::sim {

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Schedules `fn` to run at `when` (>= now()) and returns its id, a sequence number
  // unique within this queue (the first is 1). Throws std::logic_error when `when` is in
  // the past or `fn` is empty.
  uint64_t Schedule(SimTime when, std::function<void()> fn);

  // Schedule(now() + delay, fn).
  uint64_t ScheduleAfter(SimTime delay, std::function<void()> fn);

  // Removes a pending event. Returns false when `id` is not pending (already run,
  // already cancelled, or never issued).
  bool Cancel(uint64_t id);

  // Runs the earliest pending event after advancing now() to its time. The event is
  // removed before it runs, so it may schedule or cancel others. Returns false, doing
  // nothing, when no event is pending.
  bool RunNext();

  // Runs every event whose time is <= t, including events those events schedule, then
  // sets now() to t. Throws std::logic_error when t < now().
  void RunUntil(SimTime t);

  SimTime now() const { return now_; }
  // Time of the earliest pending event, if any.
  std::optional<SimTime> next_time() const;
  size_t pending() const { return events_.size(); }

 private:
  using Key = std::pair<SimTime, uint64_t>;  // (time, sequence id)

  SimTime now_ = 0;
  uint64_t next_id_ = 1;
  std::map<Key, std::function<void()>> events_;
  // id -> time of each pending event, for Cancel. Only looked up, never iterated.
  std::unordered_map<uint64_t, SimTime> time_of_;
};

}  // namespace ksmsim::sim
