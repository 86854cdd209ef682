#include "tools/cli/run_limits.h"

#include <unistd.h>

#include <iostream>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "workloads/budget.h"

namespace ksmsim::tools {

void RunLimits::AddOptions(CLI::App* sub, bool work_limits) {
  sub->add_option("--max-memory", max_memory_mib,
                  "host memory the run may need, in MiB (default: MemAvailable); a workload "
                  "estimated to need more stops before it starts, exit 3")
      ->check(UnsignedIn(0));
  if (!work_limits) return;
  sub->add_option("--max-steps", max_steps,
                  "stop before flattened step N (repeat expanded), exit 3")
      ->check(UnsignedIn(0));
  sub->add_option("--max-batches", max_batches, "stop once ksmd has run N batches, exit 3")
      ->check(UnsignedIn(0));
  sub->add_flag("--progress,!--no-progress", progress,
                "show (or never show) a progress line on stderr; default: when stderr is a "
                "terminal and the run takes more than 2 s");
}

bool RunLimits::CheckBudget(const workloads::Workload& w, const std::string& file) const {
  std::optional<std::string> over = workloads::CheckHostBudget(w, max_memory_mib);
  if (!over) return true;
  std::cerr << fmt::format("{}: {}\n", file, *over);
  return false;
}

// --progress wins over --quiet; by default a quiet run shows nothing.
bool RunLimits::Show() const { return progress.value_or(tty_ && !quiet); }

void RunLimits::Install(workloads::DriverOptions& opt, workloads::Driver* const* driver) {
  driver_ = driver;
  tty_ = isatty(STDERR_FILENO) != 0;
  start_ = last_ = step_start_ = std::chrono::steady_clock::now();
  opt.max_steps = max_steps;
  opt.max_batches = max_batches;
  {  // warnings go to stderr, also under --quiet
    opt.on_notice = [this](const std::string& text) {
      if (shown_ && tty_) std::cerr << "\r\033[K";
      std::cerr << "note: " << text << "\n";
    };
  }
  if (!Show()) return;
  auto prev_progress = opt.on_progress;
  opt.on_progress = [this, prev_progress](uint64_t step, uint64_t total) {
    if (prev_progress) prev_progress(step, total);
    step_ = step;
    total_ = total;
    step_start_ = std::chrono::steady_clock::now();
    if (*driver_ != nullptr) {
      step_start_ns_ = (*driver_)->queue().now();
      step_start_scans_ = (*driver_)->ksm().full_scans();
    }
    Tick(false);
  };
  auto prev_work = opt.on_work;
  opt.on_work = [this, prev_work] {
    if (prev_work) prev_work();
    if (++ticks_ % 64 == 0) Tick(false);
  };
}

void RunLimits::Tick(bool force) {
  if (!Show() || *driver_ == nullptr) return;
  auto now = std::chrono::steady_clock::now();
  double since_start = std::chrono::duration<double>(now - start_).count();
  double since_last = std::chrono::duration<double>(now - last_).count();
  // Forced (--progress): from the start; by default only once the run has taken 2 s.
  if (!force && (since_last < 0.5 || (!progress && since_start < 2))) return;
  workloads::Driver& d = **driver_;
  uint64_t batches = d.ksmd().batches();
  if (since_last > 0)
    pages_per_s_ =
        static_cast<double>(batches - last_batches_) * d.ksm().knobs().pages_to_scan / since_last;
  last_batches_ = batches;
  last_ = now;
  // What is left: within a wait, by the share of its simulated time or scans done so far;
  // otherwise by the share of steps done.
  std::string left = "?";
  double in_step = std::chrono::duration<double>(now - step_start_).count();
  double frac = -1;
  const workloads::FlatStep* fs = d.current();
  if (const auto* wait = fs ? fs->step->get_if<workloads::WaitStep>() : nullptr) {
    const workloads::WaitSpec w = wait->spec();
    if (w.unit == workloads::WaitSpec::Unit::kMs && w.amount > 0)
      frac = static_cast<double>(d.queue().now() - step_start_ns_) / (w.amount * 1e6);
    else if (w.amount > 0)
      frac = static_cast<double>(d.ksm().full_scans() - step_start_scans_) / w.amount;
  }
  if (frac > 0) {
    left = fmt::format("~{:.0f} s left in this step", in_step * (1 - frac) / frac);
  } else if (step_ > 0 && total_ > step_) {
    left = fmt::format("~{:.0f} s left", since_start * (total_ - step_) / step_);
  }
  std::string line = fmt::format(
      "step {} of {} | simulated {:.3f} s | full scans {} | {:.3g} pages/s | {}", step_ + 1, total_,
      d.queue().now() / 1e9, d.ksm().full_scans(), pages_per_s_, left);
  if (tty_) {
    std::cerr << "\r\033[K" << line << std::flush;
  } else {
    std::cerr << "progress: " << line << "\n";
  }
  shown_ = true;
}

void RunLimits::Finish() {
  if (shown_ && tty_) std::cerr << "\r\033[K" << std::flush;
  shown_ = false;
}

}  // namespace ksmsim::tools
