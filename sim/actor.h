// An actor is a simulated agent (ksmd, the workload driver, a reclaimer) that does its
// work when woken and schedules its own next wake-up on the event queue.
#pragma once

#include <cstdint>
#include <string_view>

#include "sim/event_queue.h"
#include "sim/time.h"

namespace ksmsim::sim {

class Actor {
 public:
  virtual ~Actor();
  // A short stable name for logs and errors, e.g. "ksmd".
  virtual std::string_view name() const = 0;
  // Does one unit of work at q.now() and, if it wants to run again, schedules its next
  // wake-up (usually with ScheduleWake).
  virtual void Wake(EventQueue& q) = 0;
};

// Schedules actor.Wake(q) at `when` and returns the event id (for EventQueue::Cancel).
// The actor must outlive the event or cancel it.
uint64_t ScheduleWake(EventQueue& q, Actor& actor, SimTime when);

}  // namespace ksmsim::sim
