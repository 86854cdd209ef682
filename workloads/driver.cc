#include "workloads/driver.h"

#include <cerrno>
#include <cstring>

#include "fmt/format.h"
#include "ksm/ksm_check.h"
#include "mmu/checker.h"
#include "workloads/counters.h"

namespace ksmsim::workloads {

using nlohmann::ordered_json;

ksm::Profile KsmProfile(KernelProfile profile) {
  switch (profile) {
    case KernelProfile::k61:
      return ksm::Profile::k61;
    case KernelProfile::k61ZeroUnshare:
      return ksm::Profile::k61ZeroUnshare;
    case KernelProfile::k612:
      return ksm::Profile::k612;
    case KernelProfile::k2009:
      return ksm::Profile::k61;  // the machine's (idle) Ksm; the driver is ksm2009::DevKsm
  }
  return ksm::Profile::k61;
}

std::string EngineName(KernelProfile profile) {
  return fmt::format("ksmsim 0.1.0 (kernel profile {})", KernelProfileName(profile));
}

namespace {
constexpr uint64_t kPagesPerMib = 256;
}  // namespace

namespace {

mmu::Advice ToMmu(Advice a) {
  switch (a) {
    case Advice::kMergeable:
      return mmu::Advice::kMergeable;
    case Advice::kUnmergeable:
      return mmu::Advice::kUnmergeable;
    case Advice::kDontneed:
      return mmu::Advice::kDontneed;
    case Advice::kPageout:
      return mmu::Advice::kPageout;
  }
  return mmu::Advice::kMergeable;
}
// Whether any step, repeat bodies included, offlines or onlines memory.
bool UsesHotplug(const std::vector<Step>& steps) {
  for (const Step& s : steps)
    if (s.op() == Op::kOffline || s.op() == Op::kOnline || UsesHotplug(BodyOf(s))) return true;
  return false;
}
constexpr uint64_t kDefaultHotplugReserveMib = 64;
}  // namespace

Driver::Driver(const Workload& workload, DriverOptions options)
    : w_(workload), opt_(std::move(options)) {
  mmu::MachineConfig mc;
  mc.node_pages.clear();
  for (const NodeSpec& n : w_.machine.nodes) mc.node_pages.push_back(n.memory_mib * kPagesPerMib);
  // The oracle's guest hotplugs the workload's memory as DIMMs beside its own boot memory
  // (docs/ORACLE.md "Memory hotplug"); what the kernel leaves free of it is the reserve.
  const bool hotplug = UsesHotplug(w_.steps);
  for (const NodeSpec& n : w_.machine.nodes)
    mc.reserve_pages.push_back(n.reserve_mib.value_or(hotplug ? kDefaultHotplugReserveMib : 0) *
                               kPagesPerMib);
  mc.swap_pages = w_.machine.swap_mib * kPagesPerMib;
  mc.block_pages = w_.machine.memory_block_mib * kPagesPerMib;
  const ksm::ProfileFeatures& features = ksm::FeaturesOf(KsmProfile(w_.kernel));
  mc.pagevec_size = features.pagevec_size;
  mc.activate_batch = !features.mglru;
  machine_ = std::make_unique<mmu::Machine>(mc);
  ksm_ = std::make_unique<ksm::Ksm>(*machine_, KsmProfile(w_.kernel));
  machine_->set_ksm(ksm_.get());
  ksmd_ = std::make_unique<ksm::Ksmd>(*ksm_, queue_);
  if (opt_.before_batch) ksmd_->set_before_batch(opt_.before_batch);
  if (opt_.after_batch) ksmd_->set_after_batch(opt_.after_batch);
  gen_ = std::make_unique<ContentGenerator>(machine_->contents(), w_.seed);
  if (opt_.on_event) {
    ksm_->set_event_sink(
        [this](const ksm::KsmEvent& e) { opt_.on_event(e, ksmd_->event_time(queue_.now())); });
    machine_->set_page_event_sink([this](const mmu::PageEvent& p) { OnPageEvent(p); });
  }
  if (w_.kernel == KernelProfile::k2009) {
    dev_ = std::make_unique<ksm::ksm2009::DevKsm>(*machine_);
    kthread_ = std::make_unique<ksm::ksm2009::Kthread>(*dev_, queue_);
  }
  for (const auto& [knob, value] : w_.ksm) {
    if (dev_) {
      dev_->StoreKnob(knob, value);
    } else {
      ksm_->StoreKnob(knob, value);
    }
  }
}

Driver::~Driver() {
  for (auto& [name, p] : procs_) ReleaseExpected(p);
  machine_->set_ksm(nullptr);
}

void Driver::ReleaseExpected(Process& p) {
  for (auto& [name, r] : p.regions) r.expected.Release();
  p.regions.clear();
}

void Driver::Fail(const FlatStep& fs, const std::string& what) {
  failed_ = true;
  errors_.push_back(
      fmt::format("step {} ({}, {}): {}", fs.index, OpName(fs.step->op()), fs.path, what));
}

void Driver::CannotRun(const FlatStep& fs, const std::string& what) {
  Fail(fs, what);
  cannot_run_ = true;
}

void Driver::NoticeLongWait(const FlatStep& fs, const WaitSpec& wait) {
  const ksm::KsmKnobs& k = ksm_->knobs();
  if (!opt_.on_notice || !ksm_->ksmd_should_run() || k.pages_to_scan == 0) return;
  // ksmd sleeps sleep_millisecs between batches (a batch itself takes simulated time too,
  // so this is an upper bound).
  double batches = static_cast<double>(wait.amount) / std::max<double>(1, k.sleep_millisecs);
  if (batches < 1e6) return;
  opt_.on_notice(fmt::format(
      "step {} (wait, {}): this wait is {} ms of simulated time: about {:.3g} ksmd batches "
      "of up to {} pages each; this may take a very long time (--max-batches bounds it)",
      fs.index, fs.path, wait.amount, batches, k.pages_to_scan));
}

bool Driver::WithinBatchLimit(const FlatStep& fs) {
  if (opt_.on_work) opt_.on_work();
  if (opt_.max_batches == 0 || ksmd_->batches() < opt_.max_batches) return true;
  CannotRun(fs, fmt::format("stopped after {} ksmd batches (--max-batches {})", ksmd_->batches(),
                            opt_.max_batches));
  return false;
}

std::optional<Driver::PageLocation> Driver::LocateAddress(const mmu::Mm* mm, uint64_t addr) const {
  if (!mm) return std::nullopt;
  for (const auto& [pname, p] : procs_) {
    if (p.mm != mm) continue;
    for (const auto& [rname, r] : p.regions) {
      if (addr >= r.start && addr < r.start + r.pages * mmu::kPageSize)
        return PageLocation{&pname, &rname, (addr - r.start) / mmu::kPageSize};
    }
  }
  return std::nullopt;
}

std::string Driver::DescribeAddress(const mmu::Mm* mm, uint64_t addr) const {
  if (!mm) return "?";
  if (auto loc = LocateAddress(mm, addr))
    return fmt::format("{}:{}[{}]", *loc->proc, *loc->region, loc->index);
  return fmt::format("{}:{:#x}", mm->name, addr);
}

void Driver::OnPageEvent(const mmu::PageEvent& p) {
  using Kind = mmu::PageEvent::Kind;
  ksm::KsmEvent e{.name = p.kind == Kind::kCowKsm   ? "ksmsim_cow_ksm"
                          : p.kind == Kind::kSwapIn ? "ksmsim_swapin"
                                                    : "ksmsim_migrate",
                  .seq = ksm_->full_scans(),
                  .mm = p.mm,
                  .addr = p.addr,
                  .pfn = static_cast<int64_t>(p.pfn)};
  if (p.kind != Kind::kSwapIn) e.new_pfn = static_cast<int64_t>(p.new_pfn);
  e.nid = p.nid;
  e.swap_read = p.swap_read;
  opt_.on_event(e, ksmd_->event_time(queue_.now()));
}

std::string Driver::PageName(const RangeFields& s, uint64_t i) const {
  return fmt::format("{}:{}[{}]", s.proc, s.region, i);
}

ordered_json Driver::Counters() {
  ordered_json out;
  ordered_json k = ordered_json::object();
  if (dev_) {
    for (const auto& [name, v] : dev_->SysfsValues()) k[name] = v;
  } else {
    for (const auto& [name, v] : ksm_->SysfsValues()) k[name] = v;
  }
  out["ksm"] = k;
  ordered_json procs = ordered_json::object();
  for (auto& [name, p] : procs_) {
    if (dev_) break;  // 2009: no /proc/PID/ksm_* files
    ordered_json c = ordered_json::object();
    for (const auto& [counter, v] : ksm_->ProcValues(*p.mm)) c[counter] = v;
    procs[name] = std::move(c);
  }
  out["procs"] = procs;
  const auto& vm = machine_->vmstat();
  out["vmstat"] = {{"cow_ksm", vm.cow_ksm},
                   {"ksm_swpin_copy", vm.ksm_swpin_copy},
                   {"pswpin", vm.pswpin},
                   {"pswpout", vm.pswpout}};
  ordered_json m;
  ordered_json nodes = ordered_json::array();
  for (int n = 0; n < machine_->phys().num_nodes(); ++n) {
    ordered_json node = {{"frames_in_use", machine_->phys().used_pages(n)},
                         {"frames_free", machine_->phys().free_pages(n)}};
    if (machine_->phys().reserve_pages(n) > 0)
      node["reserve_in_use"] = machine_->phys().reserve_used(n);
    nodes.push_back(std::move(node));
  }
  m["nodes"] = nodes;
  ordered_json res = ordered_json::object();
  for (auto& [name, p] : procs_) res[name] = machine_->resident_pages(p.mm);
  m["resident_pages"] = res;
  m["swap_slots_in_use"] = machine_->swap().used();
  m["contents_live"] = machine_->contents().live_contents();
  out["machine"] = m;
  return out;
}

void Driver::RecordEntry(const FlatStep& fs) {
  const Step& s = *fs.step;
  ordered_json c = Counters();
  ordered_json e;
  e["step"] = fs.index;
  e["op"] = std::string(OpName(s.op()));
  e["label"] = s.label;
  e["time_ns"] = queue_.now();
  e["ksm"] = c["ksm"];
  e["procs"] = c["procs"];
  e["vmstat"] = c["vmstat"];
  e["machine"] = c["machine"];
  ordered_json mism = ordered_json::array();
  if (const ExpectStep* expect = s.get_if<ExpectStep>()) {
    auto check = [&](const std::string& counter, const ordered_json& actual, int64_t expected) {
      if (actual.is_null()) {
        mism.push_back({{"counter", counter}, {"expected", expected}, {"actual", nullptr}});
      } else if (actual.get<int64_t>() != expected) {
        mism.push_back({{"counter", counter}, {"expected", expected}, {"actual", actual}});
      }
    };
    for (const auto& [name, v] : expect->ksm)
      check("ksm." + name, c["ksm"].contains(name) ? c["ksm"][name] : ordered_json(), v);
    for (const auto& [proc, counters] : expect->procs) {
      for (const auto& [name, v] : counters) {
        const ordered_json& p = c["procs"];
        check("procs." + proc + "." + name, p.contains(proc) ? p[proc][name] : ordered_json(), v);
      }
    }
    for (const auto& [name, v] : expect->vmstat) check("vmstat." + name, c["vmstat"][name], v);
    if (!mism.empty()) {
      failed_ = true;
      for (const auto& m : mism)
        errors_.push_back(fmt::format("step {} (expect, {}): {} expected {}, got {}", fs.index,
                                      fs.path, m["counter"].get<std::string>(),
                                      m["expected"].dump(), m["actual"].dump()));
    }
  }
  e["mismatches"] = mism;
  results_.push_back(e);
}

bool Driver::DoWait(const FlatStep& fs, const WaitSpec& wait) {
  if (wait.unit == WaitSpec::Unit::kMs) {
    NoticeLongWait(fs, wait);
    uint64_t until = queue_.now() + sim::Ms(wait.amount);
    while (queue_.next_time() && *queue_.next_time() <= until) {
      if (!WithinBatchLimit(fs)) return false;
      if (opt_.before_time) opt_.before_time(*queue_.next_time());
      queue_.RunNext();
    }
    if (opt_.before_time) opt_.before_time(until);
    queue_.RunUntil(until);
    ksm_->set_now_ns(queue_.now());
    return true;
  }
  if (dev_) return DoWait2009(fs, wait);
  uint64_t target = ksm_->full_scans() + wait.amount;
  while (ksm_->full_scans() < target) {
    if (!ksm_->ksmd_should_run() || ksm_->knobs().pages_to_scan == 0) {
      std::string why =
          !(ksm_->knobs().run & ksm::KSM_RUN_MERGE)
              ? fmt::format("ksmd is not running (run is {}; set it to 1 first)", ksm_->knobs().run)
          : ksm_->knobs().pages_to_scan == 0
              ? std::string("pages_to_scan is 0, so ksmd scans nothing")
              : std::string(
                    "no process has mergeable memory (madvise "
                    "mergeable first), so ksmd has nothing to scan");
      CannotRun(fs, fmt::format("wait for {} full scans can never finish: {}; full_scans is {}",
                                wait.amount, why, ksm_->full_scans()));
      return false;
    }
    if (!WithinBatchLimit(fs)) return false;
    ksmd_->Kick();
    if (opt_.before_time && queue_.next_time()) opt_.before_time(*queue_.next_time());
    if (!queue_.RunNext()) {
      Fail(fs, "internal error: ksmd should run but nothing is scheduled");
      return false;
    }
  }
  return true;
}

void Driver::DoKsm(const FlatStep& fs) {
  const KsmStep& s = fs.step->as<KsmStep>();
  int first_err = 0;
  ordered_json writes = ordered_json::array();
  for (const auto& [knob, value] : s.set) {
    int err = dev_ ? -dev_->StoreKnob(knob, value) : -ksm_->StoreKnob(knob, value);
    if (err && !first_err) first_err = err;
    ordered_json shown = knob == kAdvisorMode ? ordered_json(std::string(AdvisorModeName(value)))
                                              : ordered_json(value);
    writes.push_back({{"knob", knob}, {"value", shown}, {"error", ErrnoName(err)}});
  }
  ksmd_->Kick();
  outcomes_.push_back(
      {{"step", fs.index}, {"op", "ksm"}, {"writes", writes}, {"error", ErrnoName(first_err)}});
  if (s.expect_error) {
    std::string want(ExpectedErrorName(*s.expect_error));
    if (want != ErrnoName(first_err))
      Fail(fs, fmt::format("expected error {}, got {}", want, ErrnoName(first_err)));
  }
}

void Driver::DoHotplug(const FlatStep& fs, const HotplugFields& s) {
  const Op op = fs.step->op();
  int node = static_cast<int>(s.node);
  int err = op == Op::kOffline ? machine_->OfflineBlock(node, s.block)
                               : machine_->OnlineBlock(node, s.block);
  outcomes_.push_back({{"step", fs.index},
                       {"op", std::string(OpName(op))},
                       {"node", node},
                       {"block", s.block},
                       {"error", ErrnoName(err)}});
  if (s.expect_error) {
    std::string want(ExpectedErrorName(*s.expect_error));
    if (want != ErrnoName(err))
      Fail(fs, fmt::format("expected error {}, got {}", want, ErrnoName(err)));
  }
}

bool Driver::DoPages(const FlatStep& fs, const RangeFields& s) {
  const Op op = fs.step->op();
  Process& p = procs_.at(s.proc);
  Region& r = p.regions.at(s.region);
  PageRange range = s.range.value_or(PageRange{0, r.pages});
  uint64_t first = range.first, end = range.end;
  uint64_t a0 = r.start + first * mmu::kPageSize, a1 = r.start + end * mmu::kPageSize;
  auto& cs = machine_->contents();
  switch (op) {
    case Op::kMunmap:
      machine_->Munmap(p.mm, a0, a1);
      return true;
    case Op::kMadvise: {
      const Advice advice = fs.step->as<MadviseStep>().advice;
      auto err = machine_->Madvise(p.mm, a0, a1, ToMmu(advice));
      if (advice == Advice::kDontneed && !err) r.expected.Reset(first, end);
      ksmd_->Kick();
      if (err) Fail(fs, fmt::format("madvise failed: {} ({})", err->message, ErrnoName(err->err)));
      return true;
    }
    case Op::kMigrate:
      if (auto err =
              machine_->Migrate(p.mm, a0, a1, static_cast<int>(fs.step->as<MigrateStep>().node)))
        Fail(fs, err->message);
      return true;
    default:
      break;
  }
  for (uint64_t i = first; i < end; ++i) {
    if (opt_.on_work && (i - first) % 4096 == 4095) opt_.on_work();
    uint64_t addr = r.start + i * mmu::kPageSize;
    std::optional<mmu::MachineError> err;
    if (op == Op::kWrite) {
      mmu::ContentId current = cs.Fill(0);  // what the page holds now (patch reads it)
      if (mmu::PteRef pte = machine_->pte_of(p.mm, addr)) {
        mmu::ContentId c = pte->present()   ? machine_->pfn_to_page(pte->pfn())->content
                           : pte->is_swap() ? machine_->swap().content(pte->swap_slot())
                                            : current;
        cs.Ref(c);
        cs.Unref(current);
        current = c;
      }
      mmu::ContentId next = opt_.content_source
                                ? opt_.content_source(fs, i, current)
                                : gen_->Next(fs.step->as<WriteStep>().data, i, current);
      cs.Unref(current);
      cs.Ref(next);
      err = machine_->WritePage(p.mm, addr, next);
      if (!err) {
        r.expected.Set(i, next);
      } else {
        cs.Unref(next);
        std::string what = fmt::format("{} at {} after {} of {} pages were written", err->message,
                                       PageName(s, i), i - first, end - first);
        if (err->err == ENOMEM) {
          CannotRun(fs, what);
        } else {
          Fail(fs, what);
        }
        return false;
      }
    } else if (op == Op::kRead || op == Op::kVerify) {
      mmu::ContentId got = 0;
      err = machine_->ReadPage(p.mm, addr, &got);
      if (!err && op == Op::kVerify && cs.MemcmpPages(got, r.expected.Get(i)) != 0) {
        Fail(fs, fmt::format("verify failed: {} does not hold what the process last wrote",
                             PageName(s, i)));
      }
    } else if (op == Op::kPin) {
      err = machine_->Pin(p.mm, addr);
    } else if (op == Op::kUnpin) {
      err = machine_->Unpin(p.mm, addr);
    }
    if (err) {
      std::string what = fmt::format("{} at {}", err->message, PageName(s, i));
      if (err->err == ENOMEM) {
        CannotRun(fs, what);
        return false;
      }
      Fail(fs, what);
      return true;
    }
  }
  return true;
}

bool Driver::RunStep(const FlatStep& fs) {
  const Step& s = *fs.step;
  ksm_->set_now_ns(queue_.now());
  bool ok = true;
  switch (s.op()) {
    case Op::kSpawn: {
      const SpawnStep& spawn = s.as<SpawnStep>();
      Process p;
      p.mm = machine_->CreateMm(spawn.proc, static_cast<int>(spawn.node.value_or(0)));
      procs_[spawn.proc] = std::move(p);
      break;
    }
    case Op::kFork: {
      const ForkStep& fork = s.as<ForkStep>();
      Process& parent = procs_.at(fork.proc);
      mmu::Mm* child = nullptr;
      if (auto err = machine_->Fork(parent.mm, &child, fork.child)) {
        if (err->err == ENOMEM) {
          CannotRun(fs, err->message);
        } else {
          Fail(fs, err->message);
        }
        return false;
      }
      Process c;
      c.mm = child;
      for (const auto& [name, r] : parent.regions)
        c.regions[name] = Region{r.start, r.pages, r.expected.Clone()};
      procs_[fork.child] = std::move(c);
      ksmd_->Kick();
      break;
    }
    case Op::kExit: {
      const std::string& proc = s.as<ExitStep>().proc;
      Process& p = procs_.at(proc);
      CloseDevFiles(p);  // its fds close first (2009: an SMA's regions go)
      machine_->Exit(p.mm);
      ReleaseExpected(p);
      procs_.erase(proc);
      break;
    }
    case Op::kMmap: {
      const MmapStep& mmap = s.as<MmapStep>();
      Process& p = procs_.at(mmap.proc);
      Region r;
      r.pages = *mmap.pages;
      // mbind() only when the step names a node; otherwise the faulting task's policy applies.
      int node = mmap.node ? static_cast<int>(*mmap.node) : -1;
      // mmap() fails with ENOMEM when the 128 TiB user address space (TASK_SIZE) has no room
      // (validate refuses such a script where it can follow it; this guards the rest).
      constexpr uint64_t kTaskSize = 0x7ffffffff000ULL;
      if (r.pages > (kTaskSize - std::min(kTaskSize, p.mm->next_region_addr)) / mmu::kPageSize) {
        CannotRun(fs, fmt::format("mmap of {} pages: ENOMEM, the process's 128 TiB address "
                                  "space has no room left for it",
                                  r.pages));
        return false;
      }
      r.expected = ExpectedPages(machine_->contents(), r.pages);
      r.start = machine_->Mmap(p.mm, mmap.region, r.pages, node, mmap.locked);
      p.regions[mmap.region] = std::move(r);
      if (p.mm->mmf_vm_merge_any) ksmd_->Kick();  // ksm_add_vma() may __ksm_enter() it
      break;
    }
    case Op::kPrctl: {
      const PrctlStep& prctl = s.as<PrctlStep>();
      if (auto err = machine_->Prctl(procs_.at(prctl.proc).mm, prctl.memory_merge != 0))
        Fail(fs, fmt::format("{} ({})", err->message, ErrnoName(err->err)));
      ksmd_->Kick();
      break;
    }
    case Op::kMunmap:
    case Op::kMadvise:
    case Op::kWrite:
    case Op::kRead:
    case Op::kVerify:
    case Op::kMigrate:
    case Op::kPin:
    case Op::kUnpin:
      ok = DoPages(fs, *RangeOf(s));
      break;
    case Op::kOffline:
      DoHotplug(fs, s.as<OfflineStep>());
      break;
    case Op::kOnline:
      DoHotplug(fs, s.as<OnlineStep>());
      break;
    case Op::kKsm:
      DoKsm(fs);
      break;
    case Op::kWait:
      ok = DoWait(fs, s.as<WaitStep>().spec());
      break;
    case Op::kExpect:
    case Op::kSnapshot:
      RecordEntry(fs);
      break;
    case Op::kRepeat:
      break;  // flattened away
    case Op::kKsmOpen:
    case Op::kKsmCreateSharedMemoryArea:
    case Op::kKsmRegisterMemoryRegion:
    case Op::kKsmRemoveMemoryRegion:
    case Op::kKsmStartStopKthread:
    case Op::kKsmGetInfoKthread:
      DoDevKsm(fs);
      break;
  }
  if (opt_.check) {
    std::vector<std::string> problems = mmu::CheckMachine(*machine_);
    for (auto& p : ksm::CheckKsm(*ksm_, *machine_)) problems.push_back(std::move(p));
    for (auto& p : problems) Fail(fs, "invariant violated: " + p);
    if (!problems.empty()) return false;
  }
  if (opt_.after_step) opt_.after_step(fs);
  return ok;
}

ordered_json Driver::Run() {
  // The script is walked as it runs, never expanded: a repeat of 10^8 costs no memory.
  total_steps_ = FlattenedSize(w_);
  ForEachFlatStep(w_, [&](const FlatStep& fs) {
    current_step_ = fs.index;
    if (opt_.max_steps != 0 && fs.index >= opt_.max_steps) {
      cannot_run_ = true;
      errors_.push_back(fmt::format("the run stopped before step {} of {}: --max-steps {}",
                                    fs.index, total_steps_, opt_.max_steps));
      return false;
    }
    current_ = &fs;
    if (opt_.on_progress) opt_.on_progress(fs.index, total_steps_);
    bool ok = RunStep(fs);
    current_ = nullptr;
    if (!ok) {
      errors_.push_back(fmt::format("the run stopped at step {}", fs.index));
      return false;
    }
    return true;
  });
  ordered_json doc;
  doc["ksmsim"] = 1;
  doc["workload"] = w_.name;
  doc["engine"] = EngineName(w_.kernel);
  doc["seed"] = w_.seed;
  doc["results"] = results_;
  doc["outcomes"] = outcomes_;
  doc["errors"] = errors_;
  return doc;
}

}  // namespace ksmsim::workloads
