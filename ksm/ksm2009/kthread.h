// The 2009 driver's kernel thread (kthread_ksm_scan_thread) as a simulation actor: while
// ksm_control_flags_run is set it runs ksm_scan_start(pages_to_scan), takes simulated time
// by ksmd's cost model (ksm/ksmd.h), then sleeps `sleep` microseconds; stopped, it waits to
// be woken by KSM_START_STOP_KTHREAD.
#pragma once

#include <cstdint>

#include "ksm/ksm2009/dev_ksm.h"
#include "ksm/ksmd.h"
#include "sim/actor.h"

namespace ksmsim::ksm::ksm2009 {

class Kthread final : public sim::Actor {
 public:
  Kthread(DevKsm& dev, sim::EventQueue& queue, KsmdCost cost = {})
      : dev_(dev), q_(queue), cost_(cost) {}
  std::string_view name() const override { return "kksmd"; }
  void Wake(sim::EventQueue& q) override;
  // wake_up_interruptible(&kthread_wait): after KSM_START_STOP_KTHREAD. Wakes a stopped
  // thread that may now run; a sleeping one finishes its sleep.
  void Kick();
  uint64_t batches() const { return batches_; }
  // Whether a wake-up is pending (the thread runs or sleeps rather than waits).
  bool scheduled() const { return wake_id_ != 0; }

 private:
  DevKsm& dev_;
  sim::EventQueue& q_;
  KsmdCost cost_;
  uint64_t wake_id_ = 0;
  uint64_t batches_ = 0;
};

}  // namespace ksmsim::ksm::ksm2009
