#include "ksm/ksmd.h"

namespace ksmsim::ksm {

void Ksmd::Wake(sim::EventQueue& q) {
  wake_id_ = 0;
  sleeping_ = false;
  ksm_.set_now_ns(q.now());
  if (!ksm_.ksmd_should_run()) return;  // wait_event_freezable(ksm_thread_wait, ...)
  if (before_batch_) before_batch_();
  in_batch_ = true;
  batch_start_ = q.now();
  ksm_.ksm_do_scan(ksm_.knobs().pages_to_scan);
  in_batch_ = false;
  ++batches_;
  uint64_t busy = busy_ns(ksm_.last_work());
  busy_ns_ += busy;
  pages_scanned_ += ksm_.last_work().pages;
  batch_end_ = q.now() + busy;
  if (after_batch_) after_batch_(q.now(), q.now() + busy);
  // The batch ends `busy` ns later; then ksmd sleeps sleep_millisecs (or idles).
  sleep_ms_ = ksm_.knobs().sleep_millisecs;
  sleeping_ = true;
  wake_id_ = sim::ScheduleWake(q, *this, q.now() + busy + sim::Ms(sleep_ms_));
}

void Ksmd::Kick() {
  if (wake_id_ == 0) {
    if (ksm_.ksmd_should_run()) wake_id_ = sim::ScheduleWake(q_, *this, q_.now());
    return;
  }
  // A sleep cut short by a new sleep_millisecs value (ksm_iter_wait).
  if (sleeping_ && ksm_.knobs().sleep_millisecs != sleep_ms_) {
    q_.Cancel(wake_id_);
    wake_id_ = sim::ScheduleWake(q_, *this, q_.now());
  }
}

}  // namespace ksmsim::ksm
