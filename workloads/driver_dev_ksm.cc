// The driver's part for kernel "2009": the ioctl steps of the /dev/ksm driver issued on a
// process's files, `wait full_scans` on its kernel thread, and the files an exit closes
// (docs/WORKLOAD-FORMAT.md "The 2009 driver").
#include <cerrno>

#include "fmt/format.h"
#include "workloads/driver.h"

namespace ksmsim::workloads {

using nlohmann::ordered_json;
namespace k9 = ksm::ksm2009;

namespace {

// The process's lowest free fd (0..2 are stdin, stdout, stderr), as open() and
// anon_inode_getfd() choose it.
template <class Files>
int LowestFreeFd(const Files& files) {
  for (int fd = 3;; ++fd) {
    bool used = false;
    for (const auto& [name, f] : files) used |= f.fd == fd;
    if (!used) return fd;
  }
}

unsigned IoctlOf(Op op) {
  switch (op) {
    case Op::kKsmCreateSharedMemoryArea:
      return k9::KSM_CREATE_SHARED_MEMORY_AREA;
    case Op::kKsmRegisterMemoryRegion:
      return k9::KSM_REGISTER_MEMORY_REGION;
    case Op::kKsmRemoveMemoryRegion:
      return k9::KSM_REMOVE_MEMORY_REGION;
    case Op::kKsmStartStopKthread:
      return k9::KSM_START_STOP_KTHREAD;
    case Op::kKsmGetInfoKthread:
      return k9::KSM_GET_INFO_KTHREAD;
    default:
      return k9::KSM_GET_API_VERSION;
  }
}

}  // namespace

void Driver::CloseDevFiles(Process& p) {
  if (!dev_) return;
  // close() of each fd, lowest first: an SMA's last close releases its regions.
  std::map<int, k9::struct_ksm_sma*> by_fd;
  for (const auto& [name, f] : p.files) by_fd[f.fd] = f.sma;
  for (const auto& [fd, sma] : by_fd)
    if (sma) dev_->ksm_sma_release(sma);
  p.files.clear();
}

void Driver::DoDevKsm(const FlatStep& fs) {
  const Step& s = *fs.step;
  const Op op = s.op();
  std::string proc, fd_name;
  std::visit(
      [&](const auto& payload) {
        if constexpr (requires { payload.fd; }) {
          proc = payload.proc;
          fd_name = payload.fd;
        }
      },
      s.payload);
  Process& p = procs_.at(proc);
  ordered_json out = {{"step", fs.index}, {"op", std::string(OpName(op))}, {"fd", fd_name}};

  if (op == Op::kKsmOpen) {
    if (p.files.count(fd_name)) {
      Fail(fs, fmt::format("process \"{}\" has an fd \"{}\" open already", proc, fd_name));
      return;
    }
    DevFile f{LowestFreeFd(p.files), nullptr};
    p.files[fd_name] = f;
    k9::UserArg arg;
    long version = dev_->ksm_dev_ioctl(p.mm, k9::KSM_GET_API_VERSION, arg);
    out["ret"] = f.fd;
    out["api_version"] = version;
    out["error"] = "none";
    outcomes_.push_back(std::move(out));
    return;
  }

  k9::UserArg arg;
  long r = -EBADF;  // an fd name the process has not opened
  int err = EBADF;
  auto it = p.files.find(fd_name);
  bool ok_fd = it != p.files.end();
  if (const auto* reg = s.get_if<KsmRegisterMemoryRegionStep>()) {
    arg.readable = !reg->bad_arg;
    auto rit = p.regions.find(reg->region);
    if (rit == p.regions.end()) {
      Fail(fs, fmt::format("process \"{}\" has no region \"{}\" now", proc, reg->region));
      return;
    }
    uint64_t offset = reg->offset.value_or(0);
    if (!reg->npages && offset >= rit->second.pages) {
      Fail(fs, fmt::format("offset {} is past region \"{}\" ({} pages): give npages", offset,
                           reg->region, rit->second.pages));
      return;
    }
    arg.region.addr = rit->second.start + offset * mmu::kPageSize;
    arg.region.npages = static_cast<uint32_t>(reg->npages.value_or(rit->second.pages - offset));
    out["addr"] = arg.region.addr;
    out["npages"] = arg.region.npages;
  } else if (const auto* ss = s.get_if<KsmStartStopKthreadStep>()) {
    arg.readable = !ss->bad_arg;
    arg.info.flags = static_cast<uint32_t>(ss->running);
    arg.info.pages_to_scan = static_cast<uint32_t>(ss->pages_to_scan);
    arg.info.sleep = static_cast<uint32_t>(ss->sleep);
  } else if (const auto* gi = s.get_if<KsmGetInfoKthreadStep>()) {
    arg.readable = !gi->bad_arg;
  }
  if (ok_fd) {
    const unsigned ioctl = IoctlOf(op);
    k9::struct_ksm_sma* sma = it->second.sma;
    if (op == Op::kKsmCreateSharedMemoryArea) arg.fd = LowestFreeFd(p.files);
    r = sma ? dev_->ksm_sma_ioctl(sma, p.mm, ioctl, arg) : dev_->ksm_dev_ioctl(p.mm, ioctl, arg);
    err = r < 0 ? static_cast<int>(-r) : 0;
    // The seed's positive errors: `int r = EINVAL` of ksm_sma_ioctl for an ioctl it does
    // not know, `rc = EPERM` of ksm_dev_ioctl_start_stop_kthread.
    if (r > 0 && sma && ioctl != k9::KSM_REGISTER_MEMORY_REGION &&
        ioctl != k9::KSM_REMOVE_MEMORY_REGION)
      err = static_cast<int>(r);
    if (r > 0 && !sma && op == Op::kKsmStartStopKthread) err = static_cast<int>(r);
  }
  out["ret"] = r;
  out["error"] = ErrnoName(err);

  if (err == 0) {
    if (const auto* cs = s.get_if<KsmCreateSharedMemoryAreaStep>()) {
      if (p.files.count(cs->sma)) {
        Fail(fs, fmt::format("process \"{}\" has an fd \"{}\" open already", proc, cs->sma));
        dev_->ksm_sma_release(arg.sma);
        return;
      }
      p.files[cs->sma] = DevFile{static_cast<int>(r), arg.sma};
    } else if (op == Op::kKsmStartStopKthread) {
      kthread_->Kick();  // wake_up_interruptible(&kthread_wait) when it runs
    } else if (const auto* gi = s.get_if<KsmGetInfoKthreadStep>()) {
      out["running"] = arg.info.flags & k9::ksm_control_flags_run;
      out["pages_to_scan"] = arg.info.pages_to_scan;
      out["sleep"] = arg.info.sleep;
      auto check = [&](const char* name, const std::optional<uint64_t>& want, uint64_t got) {
        if (want && *want != got)
          Fail(fs, fmt::format("ksm_get_info_kthread: {} is {}, expected {}", name, got, *want));
      };
      check("running", gi->running, arg.info.flags & k9::ksm_control_flags_run);
      check("pages_to_scan", gi->pages_to_scan, arg.info.pages_to_scan);
      check("sleep", gi->sleep, arg.info.sleep);
    }
  }
  outcomes_.push_back(std::move(out));
  if (const auto* want = ExpectErrorOf(s); want && *want) {
    std::string name(ExpectedErrorName(**want));
    if (name != ErrnoName(err))
      Fail(fs,
           fmt::format("expected error {}, got {} (ioctl returned {})", name, ErrnoName(err), r));
  }
}

bool Driver::DoWait2009(const FlatStep& fs, const WaitSpec& wait) {
  uint64_t target = dev_->full_scans() + wait.amount;
  while (dev_->full_scans() < target) {
    if (!dev_->running() || dev_->slot_count() == 0) {
      std::string why = !dev_->running() ? std::string(
                                               "the 2009 driver's kernel thread is stopped "
                                               "(ksm_start_stop_kthread with running 1 first)")
                                         : std::string(
                                               "no memory region is registered (ksm_register_"
                                               "memory_region first), so the thread has nothing "
                                               "to scan");
      CannotRun(fs, fmt::format("wait for {} full scans can never finish: {}; full_scans is {}",
                                wait.amount, why, dev_->full_scans()));
      return false;
    }
    if (opt_.on_work) opt_.on_work();
    if (opt_.max_batches != 0 && kthread_->batches() >= opt_.max_batches) {
      CannotRun(fs, fmt::format("stopped after {} batches of the kernel thread (--max-batches {})",
                                kthread_->batches(), opt_.max_batches));
      return false;
    }
    kthread_->Kick();
    if (opt_.before_time && queue_.next_time()) opt_.before_time(*queue_.next_time());
    if (!queue_.RunNext()) {
      Fail(fs, "internal error: the kernel thread should run but nothing is scheduled");
      return false;
    }
  }
  return true;
}

}  // namespace ksmsim::workloads
