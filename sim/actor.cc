// Actors: see actor.h.
#include "sim/actor.h"

namespace ksmsim::sim {

Actor::~Actor() = default;

uint64_t ScheduleWake(EventQueue& q, Actor& actor, SimTime when) {
  return q.Schedule(when, [&q, &actor] { actor.Wake(q); });
}

}  // namespace ksmsim::sim
