// The 2009 driver's file operations: ksm_dev_ioctl on /dev/ksm, ksm_sma_ioctl and
// ksm_sma_release on an SMA fd, the slots they register and remove, and what the driver
// shows (seed 004 mm/ksm.c; the parts past the seed's excerpt as docs/FIDELITY.md "2009").
#include <algorithm>
#include <cerrno>

#include "ksm/ksm2009/dev_ksm.h"

namespace ksmsim::ksm::ksm2009 {

DevKsm::DevKsm(mmu::Machine& machine)
    : m_(machine), kpage_tag_(sim::Arena::AllocChunk(kTagBytes)) {}

DevKsm::~DevKsm() { sim::Arena::FreeChunk(kpage_tag_, kTagBytes); }

// ---- /dev/ksm ----------------------------------------------------------------------------

long DevKsm::ksm_dev_ioctl(Mm* /*current*/, unsigned ioctl, UserArg& arg) {
  long r = -EINVAL;
  switch (ioctl) {
    case KSM_GET_API_VERSION:
      r = KSM_API_VERSION;
      break;
    case KSM_CREATE_SHARED_MEMORY_AREA:
      r = ksm_dev_ioctl_create_shared_memory_area(arg);
      break;
    case KSM_START_STOP_KTHREAD:
      r = -EFAULT;
      if (!arg.readable) break;  // copy_from_user()
      r = ksm_dev_ioctl_start_stop_kthread(arg.info);
      break;
    case KSM_GET_INFO_KTHREAD:
      ksm_dev_ioctl_get_info_kthread(&arg.info);
      r = -EFAULT;
      if (!arg.readable) break;  // copy_to_user()
      r = 0;
      break;
    default:  // an SMA fd's ioctl on /dev/ksm
      break;
  }
  return r;
}

long DevKsm::ksm_dev_ioctl_create_shared_memory_area(UserArg& arg) {
  // kmalloc() never fails here (its -1 return, which akpm's review of v3 asked to make
  // -ENOMEM, is not reachable); anon_inode_getfd() gives the caller's lowest free fd.
  smas_.push_back(std::make_unique<struct_ksm_sma>());
  arg.sma = smas_.back().get();
  return arg.fd;
}

// ksm_dev_ioctl_start_stop_kthread(): running without pages_to_scan is refused with EPERM,
// returned positive (`rc = EPERM`), and nothing changes.
int DevKsm::ksm_dev_ioctl_start_stop_kthread(const ksm_kthread_info& info) {
  if ((info.flags & ksm_control_flags_run) && info.pages_to_scan == 0) return EPERM;
  kthread_.sleep = info.sleep;
  kthread_.pages_to_scan = info.pages_to_scan;
  kthread_.flags = info.flags;
  return 0;  // the caller wakes the thread when it runs (wake_up_interruptible)
}

// ---- SMA fds -------------------------------------------------------------------------------

long DevKsm::ksm_sma_ioctl(struct_ksm_sma* sma, Mm* current, unsigned ioctl, UserArg& arg) {
  long r = EINVAL;  // the seed's `int r = EINVAL;`: a /dev/ksm ioctl here returns +22
  switch (ioctl) {
    case KSM_REGISTER_MEMORY_REGION:
      r = -EFAULT;
      if (!arg.readable) break;  // copy_from_user()
      r = ksm_sma_ioctl_register_memory_region(sma, current, arg.region);
      break;
    case KSM_REMOVE_MEMORY_REGION:
      r = ksm_sma_ioctl_remove_memory_region(sma);
      break;
    default:
      break;
  }
  return r;
}

// The region is taken as given: nothing checks that addr..addr + npages is mapped (the scan
// skips what has no present PTE). kzalloc() and get_task_mm() do not fail for a process
// (-ENOMEM, -EPERM: not reachable).
int DevKsm::ksm_sma_ioctl_register_memory_region(struct_ksm_sma* sma, Mm* current,
                                                 const ksm_memory_region& mem) {
  auto slot = std::make_unique<KsmMemSlot>();
  slot->mm = current;  // get_task_mm(): held until removal (an exit releases the SMA first)
  slot->addr = mem.addr;
  slot->npages = mem.npages;
  sma->sma_slots.push_back(slot.get());
  slots_.push_back(std::move(slot));
  return 0;
}

// remove_mm_from_hash_and_tree(): the first slot of mm in `slots` (whichever SMA has it),
// its addresses' rmap_items dropped; the unstable tree is emptied.
void DevKsm::remove_mm_from_hash_and_tree(Mm* mm) {
  auto it = std::find_if(slots_.begin(), slots_.end(),
                         [mm](const std::unique_ptr<KsmMemSlot>& s) { return s->mm == mm; });
  if (it == slots_.end()) return;  // (the seed's BUG_ON(!slot) can never fire: see FIDELITY)
  KsmMemSlot* slot = it->get();
  root_unstable_tree_ = RbRoot{};
  ++unstable_gen_;
  for (uint64_t i = 0; i < slot->npages; ++i)
    remove_page_from_tree(mm, slot->addr + i * mmu::kPageSize);
  if (kthread_ksm_scan_.slot_index == slot) kthread_ksm_scan_.slot_index = nullptr;
  slots_.erase(it);
}

// Every slot of the SMA goes (the ioctl's argument is not looked at). Merged pages stay
// merged: their kpages remain mapped until written, unmapped or the process exits.
int DevKsm::ksm_sma_ioctl_remove_memory_region(struct_ksm_sma* sma) {
  std::vector<KsmMemSlot*> own = std::move(sma->sma_slots);
  sma->sma_slots.clear();
  // Each pass removes the first slot of the mm in `slots`, which may be another of `own`
  // than the one at hand: take the mms first.
  std::vector<Mm*> mms;
  for (KsmMemSlot* slot : own) mms.push_back(slot->mm);
  for (Mm* mm : mms) remove_mm_from_hash_and_tree(mm);  // then mmput()
  return 0;
}

int DevKsm::ksm_sma_release(struct_ksm_sma* sma) {
  int r = ksm_sma_ioctl_remove_memory_region(sma);
  auto it =
      std::find_if(smas_.begin(), smas_.end(),
                   [sma](const std::unique_ptr<struct_ksm_sma>& s) { return s.get() == sma; });
  if (it != smas_.end()) smas_.erase(it);
  return r;
}

// ---- what is shown ---------------------------------------------------------------------------

int64_t DevKsm::kpages() {
  for (auto it = kpages_.begin(); it != kpages_.end();) {
    Page* p = m_.pfn_to_page(*it);
    it = (p->Test(mmu::PG_free) || !IsKpage(p)) ? kpages_.erase(it) : std::next(it);
  }
  return static_cast<int64_t>(kpages_.size());
}

std::vector<std::pair<std::string, int64_t>> DevKsm::SysfsValues() {
  int64_t shared = kpages();
  int64_t mappings = 0;
  for (mmu::Pfn pfn : kpages_) mappings += m_.pfn_to_page(pfn)->mapcount();
  // A kpage with no mapping left is freed at once (its last put_page), so mappings >= shared.
  return {{"pages_shared", shared},
          {"pages_sharing", mappings - shared},
          {"full_scans", static_cast<int64_t>(full_scans_)},
          {"max_kernel_pages", static_cast<int64_t>(max_kernel_pages_)}};
}

int DevKsm::StoreKnob(const std::string& knob, int64_t value) {
  if (knob != "max_kernel_pages" || value < 0) return -EINVAL;
  max_kernel_pages_ = static_cast<uint64_t>(value);
  return 0;
}

}  // namespace ksmsim::ksm::ksm2009
