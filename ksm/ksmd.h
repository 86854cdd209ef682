// ksmd as a simulation actor (ksm_scan_thread): each wake-up runs ksm_do_scan(pages_to_scan),
// takes simulated time by a cost model, then sleeps sleep_millisecs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

#include "ksm/ksm.h"
#include "sim/actor.h"

namespace ksmsim::ksm {

// What a batch of ksmd costs in simulated time: nanoseconds per unit of work. The defaults
// are host measurements of the kernel's work per item (docs/FIDELITY.md, "ksmd's clock").
struct KsmdCost {
  uint64_t per_page_ns = 250;       // follow_page + rmap_item lookup
  uint64_t per_checksum_ns = 1000;  // xxhash of 4 KiB
  uint64_t per_compare_ns = 150;    // memcmp_pages, stopping early on a difference
  uint64_t per_merge_ns = 2000;     // write_protect_page + replace_page + TLB flush
  uint64_t per_fault_ns = 1500;     // break_ksm's COW fault (copy 4 KiB)
};

class Ksmd final : public sim::Actor, public KsmdClock {
 public:
  Ksmd(Ksm& ksm, sim::EventQueue& queue, KsmdCost cost = {}) : ksm_(ksm), q_(queue), cost_(cost) {
    ksm_.set_ksmd_clock(this);
  }
  ~Ksmd() { ksm_.set_ksmd_clock(nullptr); }
  Ksmd(const Ksmd&) = delete;
  Ksmd& operator=(const Ksmd&) = delete;
  std::string_view name() const override { return "ksmd"; }
  void Wake(sim::EventQueue& q) override;
  // wake_up_interruptible(&ksm_thread_wait / &ksm_iter_wait): called after anything that
  // may let an idle ksmd run (run, new mm) or changes its sleep.
  void Kick();
  uint64_t batches() const { return batches_; }
  // ksmd's simulated CPU time so far (the sum of every batch's cost) and the pages its
  // batches scanned (for `ksmsim sweep`; the model never reads them).
  uint64_t busy_ns() const { return busy_ns_; }
  uint64_t pages_scanned() const { return pages_scanned_; }
  // Called as a batch starts, before ksm_do_scan (for stepping; changes nothing).
  void set_before_batch(std::function<void()> f) { before_batch_ = std::move(f); }
  // Called as a batch ends, with its simulated start and end (for timelines).
  void set_after_batch(std::function<void(uint64_t start_ns, uint64_t end_ns)> f) {
    after_batch_ = std::move(f);
  }
  // What the work done so far costs by the cost model, in ns.
  uint64_t busy_ns(const Ksm::Work& w) const {
    return w.pages * cost_.per_page_ns + w.checksums * cost_.per_checksum_ns +
           w.compares * cost_.per_compare_ns + w.merges * cost_.per_merge_ns +
           w.faults * cost_.per_fault_ns;
  }
  // True while ksm_do_scan runs.
  bool in_batch() const { return in_batch_; }
  // KsmdClock, for 6.12's scan-time advisor: ktime_get() is event_time() (so a pass's end
  // inside a batch is the batch's start plus the cost of its work so far); ksmd's CPU time
  // is busy_ns() plus, inside a batch, the cost of the batch's work so far.
  uint64_t ktime_get() const override { return event_time(q_.now()); }
  uint64_t task_sched_runtime() const override {
    return busy_ns_ + (in_batch_ ? busy_ns(ksm_.last_work()) : 0);
  }
  // The simulated time of something happening now (an event). The model does a batch's
  // work at its start and counts its cost before ksmd's next wake; events show it spread
  // out: inside a batch, the batch's start plus the cost of the work done so far. Outside,
  // `now`, but not before the last batch's end: a step after a wait that ended in a batch
  // comes after that batch (so event times never go back).
  uint64_t event_time(uint64_t now) const {
    return in_batch_ ? batch_start_ + busy_ns(ksm_.last_work()) : std::max(now, batch_end_);
  }

 private:
  Ksm& ksm_;
  sim::EventQueue& q_;
  KsmdCost cost_;
  uint64_t wake_id_ = 0;        // the pending wake-up, 0 when idle
  bool sleeping_ = false;       // in wait_event_interruptible_timeout (vs. idle)
  unsigned sleep_ms_ = 0;       // the sleep_millisecs that sleep was started with
  uint64_t batches_ = 0;
  bool in_batch_ = false;
  uint64_t batch_start_ = 0;
  uint64_t batch_end_ = 0;  // the last batch's end
  uint64_t busy_ns_ = 0;
  uint64_t pages_scanned_ = 0;
  std::function<void()> before_batch_;
  std::function<void(uint64_t, uint64_t)> after_batch_;
};

}  // namespace ksmsim::ksm
