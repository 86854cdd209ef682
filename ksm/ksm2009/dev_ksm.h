// The March 2009 KSM driver of seed 004 ("add ksm kernel shared memory driver", v2): the
// /dev/ksm character device and its SMA fds, the registered slots, the rmap_hash, the stable
// and unstable trees of tree_items, kpages, and the scan the kernel thread runs. Kernel
// "2009" of the workload format (docs/FIDELITY.md "2009" says what the seed shows, what is
// modelled and what is assumed). It shares nothing with the 6.1/6.12 port but the machine
// and the red-black tree; kpages are frames it allocates that are not PageAnon, so the
// machine copies them on a write fault and reclaim never takes them.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ksm/rbtree.h"
#include "ksm/slab.h"
#include "mmu/machine.h"
#include "sim/arena.h"

namespace ksmsim::ksm::ksm2009 {

using mmu::Mm;
using mmu::Page;

// include/linux/ksm.h of the seed.
inline constexpr long KSM_API_VERSION = 1;
inline constexpr uint32_t ksm_control_flags_run = 1;
enum Ioctl : unsigned {
  KSM_GET_API_VERSION = 0xAB00,            // _IO(KSMIO, 0x00)
  KSM_CREATE_SHARED_MEMORY_AREA = 0xAB01,  // _IO(KSMIO, 0x01): returns the SMA fd
  KSM_START_STOP_KTHREAD = 0xAB02,         // _IOW(KSMIO, 0x02, struct ksm_kthread_info)
  KSM_GET_INFO_KTHREAD = 0xAB03,           // _IOW(KSMIO, 0x03, struct ksm_kthread_info)
  KSM_REGISTER_MEMORY_REGION = 0xAB20,     // _IOW(KSMIO, 0x20, struct ksm_memory_region)
  KSM_REMOVE_MEMORY_REGION = 0xAB21,       // _IO(KSMIO, 0x21)
};

struct ksm_memory_region {
  uint32_t npages = 0;
  uint64_t addr = 0;
};
struct ksm_kthread_info {
  uint32_t sleep = 0;  // microseconds between iterations
  uint32_t pages_to_scan = 0;
  uint32_t flags = 0;  // ksm_control_flags_run
};

// The user memory an ioctl's argument points at: `readable` false makes copy_from_user and
// copy_to_user fail (the seed's EFAULT branches). `fd` is what anon_inode_getfd() returns
// for a new SMA (the process's lowest free fd, chosen by the caller); `sma` receives it.
struct struct_ksm_sma;
struct UserArg {
  bool readable = true;
  ksm_memory_region region;
  ksm_kthread_info info;
  int fd = -1;
  struct_ksm_sma* sma = nullptr;
};

// struct ksm_mem_slot: a registered range [addr, addr + npages pages) of mm.
struct KsmMemSlot {
  Mm* mm = nullptr;
  uint64_t addr = 0;
  uint32_t npages = 0;
};

// struct ksm_sma: an SMA fd's slots (sma_link), in registration order.
struct struct_ksm_sma {
  std::vector<KsmMemSlot*> sma_slots;
};

struct RmapItem;

// struct tree_item: a node of the stable or the unstable tree (16-byte aligned, in the KSM
// arena, as every RbNode).
struct alignas(16) TreeItem : RbNode {
  RmapItem* rmap_item = nullptr;
  // (simulator) The unstable tree it was linked into (DevKsm::unstable_gen_), 0 when in none:
  // see remove_rmap_item_from_tree.
  uint64_t unstable_gen = 0;
};

// struct rmap_item: one scanned virtual address, in the rmap_hash; in a stable tree node it
// is linked to the other addresses mapping the same kpage (next/prev).
struct RmapItem {
  Mm* mm = nullptr;
  uint64_t address = 0;
  uint32_t oldchecksum = 0;
  bool stable_tree = false;
  TreeItem* tree_item = nullptr;
  RmapItem* next = nullptr;
  RmapItem* prev = nullptr;
};

// struct ksm_scan: the cursor (slot_index null until the first scan).
struct KsmScan {
  KsmMemSlot* slot_index = nullptr;
  uint64_t page_index = 0;
};

class DevKsm {
 public:
  explicit DevKsm(mmu::Machine& machine);
  ~DevKsm();
  DevKsm(const DevKsm&) = delete;
  DevKsm& operator=(const DevKsm&) = delete;

  // ---- the ioctls (dev_ksm_ioctl.cc): the value ioctl() returns, a negative errno for an
  // error, or (the seed's own sign slips) a positive EINVAL/EPERM. `current` is the caller.
  long ksm_dev_ioctl(Mm* current, unsigned ioctl, UserArg& arg);
  long ksm_sma_ioctl(struct_ksm_sma* sma, Mm* current, unsigned ioctl, UserArg& arg);
  // The SMA fd's last close (close() or the process's exit): its regions are removed.
  int ksm_sma_release(struct_ksm_sma* sma);

  // ---- the kernel thread (kthread.h runs it) ----
  // ksm_scan_start(): scans scan_npages positions of the registered slots; -EAGAIN when
  // no slot is registered.
  int ksm_scan_start(KsmScan* ksm_scan, unsigned scan_npages);
  KsmScan& kthread_ksm_scan() { return kthread_ksm_scan_; }
  const ksm_kthread_info& kthread_info() const { return kthread_; }
  bool running() const { return (kthread_.flags & ksm_control_flags_run) != 0; }

  // What a batch did, for the thread's cost in simulated time (kthread.h).
  struct Work {
    uint64_t pages = 0;      // positions whose PTE was looked at
    uint64_t checksums = 0;  // calc_checksum
    uint64_t compares = 0;   // memcmp_pages
    uint64_t merges = 0;     // try_to_merge_one_page that mapped a kpage
    uint64_t faults = 0;     // a half-made kpage broken again (get_user_pages write)
  };
  const Work& last_work() const { return work_; }
  void reset_work() { work_ = {}; }

  // ---- what is shown (2.6.32's names) and the limit ----
  // Live kpages (2.6.32's pages_shared), mappings of them beyond one each (pages_sharing),
  // completed passes, and max_kernel_pages: the counters of the result's "ksm".
  std::vector<std::pair<std::string, int64_t>> SysfsValues();
  int64_t kpages();
  uint64_t full_scans() const { return full_scans_; }
  // Writes a knob (max_kernel_pages); 0 or -EINVAL.
  int StoreKnob(const std::string& knob, int64_t value);
  uint64_t max_kernel_pages() const { return max_kernel_pages_; }
  // Whether the frame is a kpage of this driver that is still allocated.
  bool IsKpage(const Page* page) const { return page->mapping() == kpage_tag(); }
  size_t slot_count() const { return slots_.size(); }

 private:
  friend struct DevKsmTestPeer;
  // What a kpage's mapping names: this driver's own tag, an arena chunk (Page::mapping
  // holds arena references only) that nothing reads.
  const void* kpage_tag() const { return kpage_tag_; }
  static constexpr size_t kTagBytes = 64;

  // ---- dev_ksm_ioctl.cc ----
  int ksm_sma_ioctl_register_memory_region(struct_ksm_sma* sma, Mm* current,
                                           const ksm_memory_region& mem);
  int ksm_sma_ioctl_remove_memory_region(struct_ksm_sma* sma);
  void remove_mm_from_hash_and_tree(Mm* mm);
  long ksm_dev_ioctl_create_shared_memory_area(UserArg& arg);
  int ksm_dev_ioctl_start_stop_kthread(const ksm_kthread_info& info);
  void ksm_dev_ioctl_get_info_kthread(ksm_kthread_info* info) const { *info = kthread_; }

  // ---- dev_ksm_merge.cc ----
  bool PageKsm(const Page* page) const { return !page->PageAnon(); }
  uint32_t calc_checksum(Page* page);
  int memcmp_pages(Page* a, Page* b);
  bool is_present_pte(Mm* mm, uint64_t addr) const;
  // get_user_pages(mm, addr, 1, write 0): the page with a reference, or null.
  Page* get_user_page(Mm* mm, uint64_t addr);
  // page_wrprotect() of the seed's patch 2/4: write-protects every PTE of the anon page;
  // *odirect_sync 0 when a writable PTE's page has references beyond its mappings and
  // count_offset. Returns the PTEs found.
  int page_wrprotect(Page* page, bool* odirect_sync, int count_offset);
  // replace_page() of patch 3/4: 0 when the PTE of oldpage at addr now maps newpage.
  int replace_page(mmu::Vma* vma, Page* oldpage, Page* newpage, mmu::Pte orig_pte);
  int try_to_merge_one_page(Mm* mm, mmu::Vma* vma, Page* oldpage, Page* newpage);
  int try_to_merge_two_pages(Mm* mm1, Page* page1, Mm* mm2, Page* page2, uint64_t addr1,
                             uint64_t addr2);
  // A new kpage (alloc_page(GFP_HIGHUSER)) or null: null also when max_kernel_pages is
  // reached (2.6.32: no new kpage while ksm_pages_shared >= max_kernel_pages).
  Page* alloc_kpage();
  void break_cow(Mm* mm, uint64_t addr);

  // ---- dev_ksm_scan.cc ----
  RmapItem* get_rmap_item(Mm* mm, uint64_t addr);
  RmapItem* create_new_rmap_item(Mm* mm, uint64_t addr, uint32_t checksum);
  void remove_rmap_item_from_tree(RmapItem* rmap_item);
  void remove_page_from_tree(Mm* mm, uint64_t addr);
  bool is_zapped_item(RmapItem* rmap_item, Page** page);
  RmapItem* stable_tree_search(Page* page, Page** page2, RmapItem* rmap_item);
  int stable_tree_insert(Page* page, TreeItem* new_tree_item, RmapItem* rmap_item);
  TreeItem* unstable_tree_search_insert(Page* page, Page** page2, RmapItem* page_rmap_item);
  bool update_tree(RmapItem* rmap_item, bool* wait);
  int cmp_and_merge_page(KsmScan* ksm_scan, Page* page);
  int scan_get_next_index(KsmScan* ksm_scan);
  void scan_update_old_index(KsmScan* ksm_scan);
  TreeItem* alloc_tree_item();
  void free_tree_item(TreeItem* tree_item);

  mmu::Machine& m_;
  void* kpage_tag_;  // kpage_tag(), owned
  // `slots`: every registered slot, in registration order (the scan's order).
  std::list<std::unique_ptr<KsmMemSlot>> slots_;
  std::vector<std::unique_ptr<struct_ksm_sma>> smas_;
  // rmap_hash: by (mm id, address); only looked up, never walked in an order that matters.
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<RmapItem>> rmap_hash_;
  KmemCache<TreeItem> tree_item_cache_;  // the tree_item slab (in the arena: RbNode links)
  RbRoot root_stable_tree_;
  RbRoot root_unstable_tree_;
  uint64_t unstable_gen_ = 1;  // bumped each time root_unstable_tree is emptied
  ksm_kthread_info kthread_;   // kthread_sleep, kthread_pages_to_scan, ksmd_flags
  KsmScan kthread_ksm_scan_;
  uint64_t max_kernel_pages_ = 0;
  uint64_t full_scans_ = 0;
  std::set<mmu::Pfn> kpages_;  // frames made kpages; pruned of freed ones when counted
  Work work_;
};

}  // namespace ksmsim::ksm::ksm2009
