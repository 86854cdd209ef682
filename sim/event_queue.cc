// The discrete-event core: see event_queue.h.
#include "sim/event_queue.h"

#include <stdexcept>
#include <string>

namespace ksmsim::sim {

uint64_t EventQueue::Schedule(SimTime when, std::function<void()> fn) {
  if (when < now_) {
    throw std::logic_error("EventQueue::Schedule: event at " + std::to_string(when) +
                           " ns is in the past (now is " + std::to_string(now_) +
                           " ns); simulated time never goes backwards");
  }
  if (!fn) {
    throw std::logic_error("EventQueue::Schedule: empty callback for the event at " +
                           std::to_string(when) + " ns");
  }
  uint64_t id = next_id_++;
  events_.emplace(Key{when, id}, std::move(fn));
  time_of_.emplace(id, when);
  return id;
}

uint64_t EventQueue::ScheduleAfter(SimTime delay, std::function<void()> fn) {
  return Schedule(AddTime(now_, delay), std::move(fn));
}

bool EventQueue::Cancel(uint64_t id) {
  auto it = time_of_.find(id);
  if (it == time_of_.end()) return false;
  events_.erase(Key{it->second, id});
  time_of_.erase(it);
  return true;
}

bool EventQueue::RunNext() {
  if (events_.empty()) return false;
  auto node = events_.extract(events_.begin());
  time_of_.erase(node.key().second);
  now_ = node.key().first;
  node.mapped()();
  return true;
}

void EventQueue::RunUntil(SimTime t) {
  if (t < now_) {
    throw std::logic_error("EventQueue::RunUntil: target " + std::to_string(t) +
                           " ns is before now (" + std::to_string(now_) +
                           " ns); simulated time never goes backwards");
  }
  while (!events_.empty() && events_.begin()->first.first <= t) RunNext();
  now_ = t;
}

std::optional<SimTime> EventQueue::next_time() const {
  if (events_.empty()) return std::nullopt;
  return events_.begin()->first.first;
}

}  // namespace ksmsim::sim
