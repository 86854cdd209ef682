// kthread_ksm_scan_thread() of the 2009 driver (kthread.h).
#include "ksm/ksm2009/kthread.h"

#include <algorithm>

namespace ksmsim::ksm::ksm2009 {

namespace {
// usecs_to_jiffies() at HZ=1000, and at least one jiffy so that simulated time moves (the
// kernel's schedule_timeout(0) returns at once and the thread spins; see FIDELITY "2009").
uint64_t SleepNs(uint32_t usecs) {
  uint64_t jiffies = std::max<uint64_t>(1, (uint64_t{usecs} + 999) / 1000);
  return jiffies * 1'000'000;
}
}  // namespace

void Kthread::Wake(sim::EventQueue& q) {
  wake_id_ = 0;
  if (!dev_.running()) return;  // wait_event_interruptible(kthread_wait, ...)
  dev_.ksm_scan_start(&dev_.kthread_ksm_scan(), dev_.kthread_info().pages_to_scan);
  ++batches_;
  const DevKsm::Work& w = dev_.last_work();
  uint64_t busy = w.pages * cost_.per_page_ns + w.checksums * cost_.per_checksum_ns +
                  w.compares * cost_.per_compare_ns + w.merges * cost_.per_merge_ns +
                  w.faults * cost_.per_fault_ns;
  wake_id_ = sim::ScheduleWake(q, *this, q.now() + busy + SleepNs(dev_.kthread_info().sleep));
}

void Kthread::Kick() {
  if (wake_id_ == 0 && dev_.running()) wake_id_ = sim::ScheduleWake(q_, *this, q_.now());
}

}  // namespace ksmsim::ksm::ksm2009
