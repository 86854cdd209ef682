// The ksmtuned policy of a sweep point: the controller of the ksmtuned script that Debian,
// Proxmox and others ship, as an actor on the simulated machine's event queue. Every
// KSM_MONITOR_INTERVAL seconds of simulated time it runs the script's adjust(): stop KSM
// when the memory committed to the processes plus the threshold is below the total and
// free memory is above the threshold; otherwise boost pages_to_scan by KSM_NPAGES_BOOST
// when free memory is below the threshold (else decay it by KSM_NPAGES_DECAY), clamp it to
// [KSM_NPAGES_MIN, KSM_NPAGES_MAX], and write pages_to_scan, sleep_millisecs and run=1.
#pragma once

#include <cstdint>

#include "sim/actor.h"
#include "tools/sweep/spec.h"
#include "workloads/driver.h"

namespace ksmsim::tools::sweep {

class Ksmtuned final : public sim::Actor {
 public:
  Ksmtuned(workloads::Driver& driver, const KsmtunedConf& conf) : d_(driver), c_(conf) {}
  std::string_view name() const override { return "ksmtuned"; }
  // The script's loop: sleep KSM_MONITOR_INTERVAL, then adjust (the first one interval
  // after the start).
  void Start();
  void Wake(sim::EventQueue& q) override;
  uint64_t adjustments() const { return adjustments_; }

 private:
  void adjust();
  workloads::Driver& d_;
  KsmtunedConf c_;
  int64_t npages_ = 0;  // the script's npages, 0 at its start
  uint64_t adjustments_ = 0;
};

}  // namespace ksmsim::tools::sweep
