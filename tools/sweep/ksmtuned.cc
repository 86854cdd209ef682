#include "tools/sweep/ksmtuned.h"

#include <algorithm>

namespace ksmsim::tools::sweep {

void Ksmtuned::Start() {
  sim::ScheduleWake(
      d_.queue(), *this,
      d_.queue().now() + sim::Ms(static_cast<uint64_t>(c_.monitor_interval_s) * 1000));
}

void Ksmtuned::Wake(sim::EventQueue& q) {
  adjust();
  sim::ScheduleWake(q, *this,
                    q.now() + sim::Ms(static_cast<uint64_t>(c_.monitor_interval_s) * 1000));
}

void Ksmtuned::adjust() {
  ++adjustments_;
  mmu::Machine& m = d_.machine();
  const int64_t kib_per_page = 4;  // 4 KiB pages
  // MemTotal, MemFree and the processes' resident memory (the script's RSS of the qemu
  // processes: every simulated process is a guest), in KiB.
  int64_t total = static_cast<int64_t>(m.phys().total_pages()) * kib_per_page;
  int64_t free = 0;
  for (int n = 0; n < m.phys().num_nodes(); ++n)
    free += static_cast<int64_t>(m.phys().free_pages(n)) * kib_per_page;
  int64_t committed = 0;
  for (const auto& [id, mm] : m.mms())
    committed += static_cast<int64_t>(m.resident_pages(mm)) * kib_per_page;
  int64_t sleep = total > 0 ? c_.sleep_msec * 16 * 1024 * 1024 / total : 10;
  if (sleep <= 10) sleep = 10;
  int64_t thres = total * c_.thres_coef / 100;
  if (c_.thres_const_kib > thres) thres = c_.thres_const_kib;
  ksm::Ksm& ksm = d_.ksm();
  ksm.set_now_ns(d_.queue().now());
  if (committed + thres < total && free > thres) {
    ksm.StoreKnob("run", 0);  // KSMCTL stop
    d_.ksmd().Kick();
    return;
  }
  npages_ += free < thres ? c_.npages_boost : c_.npages_decay;
  npages_ = std::clamp(npages_, c_.npages_min, c_.npages_max);
  ksm.StoreKnob("pages_to_scan", npages_);  // KSMCTL start npages sleep
  ksm.StoreKnob("sleep_millisecs", sleep);
  ksm.StoreKnob("run", 1);
  d_.ksmd().Kick();
}

}  // namespace ksmsim::tools::sweep
