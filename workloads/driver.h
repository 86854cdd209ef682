// The driver: executes a parsed workload on the machine with KSM and ksmd, step by step,
// and builds the result document of WORKLOAD-FORMAT.md "The result".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ksm/ksm.h"
#include "ksm/ksm2009/dev_ksm.h"
#include "ksm/ksm2009/kthread.h"
#include "ksm/ksmd.h"
#include "mmu/machine.h"
#include "nlohmann/json.hpp"
#include "sim/event_queue.h"
#include "workloads/content_gen.h"
#include "workloads/expected_pages.h"
#include "workloads/workload.h"

namespace ksmsim::workloads {

struct DriverOptions {
  bool check = false;  // run the invariant checker after every step
  // The event log: KSM's events, and the machine's page events as "ksmsim_cow_ksm",
  // "ksmsim_swapin" and "ksmsim_migrate". time_ns is the simulated time of the event: in a
  // ksmd batch, its start plus the cost of the work done so far (Ksmd::event_time).
  std::function<void(const ksm::KsmEvent&, uint64_t time_ns)> on_event{};
  std::function<void(uint64_t step, uint64_t total)> on_progress{};
  // Called now and then during long work (each ksmd batch a wait runs, every 4096 pages a
  // step touches): for a progress display. Changes nothing.
  std::function<void()> on_work{};
  // Something the user should know before long work starts (a wait whose simulated work
  // is enormous); one line, no newline.
  std::function<void(const std::string&)> on_notice{};
  // Work limits (0 = none): the run stops with exit status 3 before flattened step
  // max_steps, or once ksmd has run max_batches batches.
  uint64_t max_steps = 0;
  uint64_t max_batches = 0;
  // Called after every step (for traces, step-through and dumps).
  std::function<void(const FlatStep&)> after_step{};
  // Called during a wait before simulated time moves to `time_ns` (before each event the
  // wait runs, and at the wait's end): for sampling counters on a time grid (--timeline).
  std::function<void(uint64_t time_ns)> before_time{};
  // Called as each ksmd batch starts, before ksm_do_scan (for `ksmsim step`).
  std::function<void()> before_batch{};
  // Called as each ksmd batch ends, with its simulated start and end (for timelines).
  std::function<void(uint64_t start_ns, uint64_t end_ns)> after_batch{};
  // When set, a write step's page contents come from here instead of the step's `data`
  // (traces: recording resolves identities, replay supplies them). Given the flattened step,
  // the page's index in its region and its current content; returns a new reference.
  std::function<mmu::ContentId(const FlatStep&, uint64_t index, mmu::ContentId current)>
      content_source{};
};

class Driver {
 public:
  Driver(const Workload& workload, DriverOptions options = {});
  ~Driver();

  // Runs every step; returns the result document. Exit status per WORKLOAD-FORMAT: 0 when
  // every expect and verify held, 1 when one failed, 3 when the workload could not be
  // carried out (see exit_status()).
  nlohmann::ordered_json Run();
  int exit_status() const { return cannot_run_ ? 3 : failed_ ? 1 : 0; }
  // True once the run met something it cannot carry out: the simulated machine out of
  // memory, a wait that can never finish, an address space exhausted, a work limit.
  bool cannot_run() const { return cannot_run_; }
  // Flattened steps in all (saturating), and the index of the step running now.
  uint64_t total_steps() const { return total_steps_; }
  uint64_t current_step() const { return current_step_; }
  // The step running now (null between steps): for a progress display.
  const FlatStep* current() const { return current_; }

  // Runs one flattened step; false when the run must stop (a step failed hard).
  bool RunStep(const FlatStep& fs);
  // All counters now, in the result-entry shape (ksm, procs, vmstat, machine).
  nlohmann::ordered_json Counters();

  mmu::Machine& machine() { return *machine_; }
  ksm::Ksm& ksm() { return *ksm_; }
  // Kernel "2009"'s driver, or null.
  ksm::ksm2009::DevKsm* dev_ksm() { return dev_.get(); }
  sim::EventQueue& queue() { return queue_; }
  const ksm::Ksmd& ksmd() const { return *ksmd_; }
  // For a controller that writes knobs between steps (a sweep's ksmtuned policy) and must
  // wake ksmd as a sysfs write does.
  ksm::Ksmd& ksmd() { return *ksmd_; }
  const std::vector<std::string>& errors() const { return errors_; }
  // "proc:region[index]" for a virtual address of a live process (for explain and dumps);
  // the mm's name and the hex address when no region of the workload holds it.
  std::string DescribeAddress(const mmu::Mm* mm, uint64_t addr) const;
  // The workload's name of a page: its process, region and index in the region; nullopt
  // when no region of a live process of the workload holds the address.
  struct PageLocation {
    const std::string* proc;
    const std::string* region;
    uint64_t index;
  };
  std::optional<PageLocation> LocateAddress(const mmu::Mm* mm, uint64_t addr) const;

 private:
  struct Region {
    uint64_t start = 0;
    uint64_t pages = 0;
    ExpectedPages expected;  // what the process last wrote (references held)
  };
  // An open file of the 2009 driver: /dev/ksm (sma null) or an SMA fd.
  struct DevFile {
    int fd = -1;
    ksm::ksm2009::struct_ksm_sma* sma = nullptr;
  };
  struct Process {
    mmu::Mm* mm = nullptr;
    std::map<std::string, Region> regions;
    std::map<std::string, DevFile> files;  // kernel "2009": the workload's fd names
  };
  void Fail(const FlatStep& fs, const std::string& what);
  // Fail, and the workload cannot be carried out (exit status 3).
  void CannotRun(const FlatStep& fs, const std::string& what);
  // Tells the user when a `wait ms` will make ksmd run an enormous number of batches.
  void NoticeLongWait(const FlatStep& fs, const WaitSpec& w);
  // False (after CannotRun) when ksmd has run max_batches batches.
  bool WithinBatchLimit(const FlatStep& fs);
  bool DoWait(const FlatStep& fs, const WaitSpec& w);
  bool DoPages(const FlatStep& fs, const RangeFields& s);
  void DoKsm(const FlatStep& fs);
  void DoHotplug(const FlatStep& fs, const HotplugFields& s);
  // Kernel "2009" (driver_dev_ksm.cc): an ioctl step, a wait, the files an exit closes.
  void DoDevKsm(const FlatStep& fs);
  bool DoWait2009(const FlatStep& fs, const WaitSpec& w);
  void CloseDevFiles(Process& p);
  void RecordEntry(const FlatStep& fs);
  void ReleaseExpected(Process& p);
  // The machine's page event as an event of the log (on_event).
  void OnPageEvent(const mmu::PageEvent& p);
  std::string PageName(const RangeFields& s, uint64_t i) const;

  const Workload& w_;
  DriverOptions opt_;
  std::unique_ptr<mmu::Machine> machine_;
  std::unique_ptr<ksm::Ksm> ksm_;
  sim::EventQueue queue_;
  std::unique_ptr<ksm::Ksmd> ksmd_;
  // Kernel "2009": the /dev/ksm driver and its thread (null for the other kernels, whose
  // Ksm then serves the machine alone; under 2009 that Ksm stays idle: nothing is
  // madvised, run stays 0).
  std::unique_ptr<ksm::ksm2009::DevKsm> dev_;
  std::unique_ptr<ksm::ksm2009::Kthread> kthread_;
  std::unique_ptr<ContentGenerator> gen_;
  std::map<std::string, Process> procs_;
  nlohmann::ordered_json results_ = nlohmann::ordered_json::array();
  nlohmann::ordered_json outcomes_ = nlohmann::ordered_json::array();
  std::vector<std::string> errors_;
  bool failed_ = false;
  bool cannot_run_ = false;
  uint64_t total_steps_ = 0;
  uint64_t current_step_ = 0;
  const FlatStep* current_ = nullptr;
};

// "ksmsim 0.1.0 (kernel profile 6.1)"
std::string EngineName(KernelProfile profile);
// The ksm layer's profile of a workload's `kernel`.
ksm::Profile KsmProfile(KernelProfile profile);

}  // namespace ksmsim::workloads
