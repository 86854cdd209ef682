// The simulated machine: NUMA physical memory, address spaces, the fault handler, swap,
// reverse mapping, migration and memory hotremove. KSM plugs in through KsmHooks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "mmu/change_counters.h"
#include "mmu/content_store.h"
#include "mmu/ksm_hooks.h"
#include "mmu/mm.h"
#include "mmu/page.h"
#include "mmu/phys_mem.h"
#include "mmu/swap.h"
#include "sim/arena.h"

namespace ksmsim::mmu {

struct MachineConfig {
  std::vector<uint64_t> node_pages{262144};  // pages of memory per NUMA node
  uint64_t swap_pages = 0;
  uint64_t block_pages = 32768;  // memory block (hotplug granularity)
  // Per node: frames outside its memory blocks, allocated last and never offlined (the
  // oracle guest's boot memory when the workload hotplugs memory); empty: none.
  std::vector<uint64_t> reserve_pages;
  // vm.page-cluster: swap readahead reads up to 2^page_cluster pages (swap_setup() sets 3
  // on every machine of 16 MiB or more, as the oracle's guest is; 0 turns readahead off).
  unsigned page_cluster = 3;
  // PAGEVEC_SIZE (include/linux/pagevec.h): the size of ksmd's mlock and activate batches;
  // 15 in Linux 6.1, 31 in 6.12 (the kernel profile's; 6.12 keeps no activate batch).
  size_t pagevec_size = 15;
  // mark_page_accessed() of a referenced, inactive page queues it on the CPU's activate
  // batch (folio_activate), which holds a reference until the batch fills or drains: the
  // classic LRU of the 6.1 profile. 6.12's kernel runs the multi-gen LRU
  // (CONFIG_LRU_GEN_ENABLED), whose folio_mark_accessed() only counts references.
  bool activate_batch = true;
};

// Global event counters of /proc/vmstat that the simulator models.
struct Vmstat {
  uint64_t cow_ksm = 0;
  uint64_t ksm_swpin_copy = 0;
  uint64_t pswpin = 0;
  uint64_t pswpout = 0;
  uint64_t swap_ra = 0;      // pages read by swap readahead (not in the result document)
  uint64_t swap_ra_hit = 0;  // of those, found by a fault (not in the result document)
};

// (simulator) What happened to a user page, for the event log and timelines: a write that
// copied a KSM page (COW_KSM), a swap-in fault, a page migrated (once per mapping).
// Reported only while a sink is set (Machine::set_page_event_sink); changes nothing.
struct PageEvent {
  enum class Kind : uint8_t { kCowKsm, kSwapIn, kMigrate };
  Kind kind = Kind::kCowKsm;
  const Mm* mm = nullptr;
  uint64_t addr = 0;
  Pfn pfn = 0;             // the page before (COW, migration), or the page mapped (swap-in)
  Pfn new_pfn = 0;         // the copy (COW) or the new frame (migration)
  int nid = -1;            // migration: the node moved to
  bool swap_read = false;  // swap-in: read from the device (pswpin), not the swapcache
};

// handle_mm_fault() flags and results (the subset used).
// FAULT_FLAG_UNSHARE (6.12's break_ksm()): give the mapping an exclusive copy, but leave its
// PTE read-only and clean, as a read access would.
enum FaultFlag : unsigned { FAULT_FLAG_WRITE = 1, FAULT_FLAG_REMOTE = 2, FAULT_FLAG_UNSHARE = 4 };
enum FaultResult : unsigned {
  VM_FAULT_OK = 0,
  VM_FAULT_OOM = 1,
  VM_FAULT_SIGBUS = 2,
  VM_FAULT_SIGSEGV = 4,
  VM_FAULT_WRITE = 8,
};

// A failed machine operation, for the person reading the result.
struct MachineError {
  int err = 0;  // positive errno (ENOMEM, EBUSY, EFAULT, ...)
  std::string message;
};

class Machine {
 public:
  explicit Machine(const MachineConfig& config);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  void set_ksm(KsmHooks* ksm) { ksm_ = ksm ? ksm : &no_ksm_; }
  void set_page_event_sink(std::function<void(const PageEvent&)> sink) {
    page_event_ = std::move(sink);
  }

  // The mlock folio batch of CPU 0 (mm/mlock.c mlock_folio, munlock_folio, mlock_new_page),
  // where every process and ksmd run (the oracle pins them there): each mlock or munlock
  // holds a page reference in the batch until it fills (PAGEVEC_SIZE) or a drain empties it,
  // so write_protect_page() refuses such a page and a KSM page it holds is not yet freed
  // (not stale). Drained by ksmd at each pass, by migration, and by lru_add_drain() where a
  // process calls it (munmap, exit, MADV_DONTNEED, MADV_PAGEOUT, mlock).
  // lru_add_drain_all(): empties the batches (mlock, activate), dropping their references.
  void lru_add_drain_all();
  // lru_add_drain(): the calling CPU's batches, which on the one CPU are the same ones.
  void lru_add_drain() { lru_add_drain_all(); }
  // mark_page_accessed() (mm/swap.c folio_mark_accessed, classic LRU): the first call sets
  // PG_referenced; the next one on an evictable, inactive page moves it to ksmd's CPU's
  // activate batch (a page reference until the batch fills, PAGEVEC_SIZE: 15 in 6.1, or
  // drains), which makes it PG_active. Only ksmd calls it here (try_to_merge_one_page), so
  // only its batch is kept.
  void mark_page_accessed(Page* page);
  // How many references CPU 0's batches (mlock, activate) hold on page (for the checker).
  int batch_refs(const Page* page) const;
  // mlock_vma_page() / munlock_vma_page() (mm/internal.h): in a VM_LOCKED VMA, set or clear
  // PG_mlocked through the mlock batch; nothing for other VMAs.
  void mlock_vma_page(Page* page, Vma* vma);
  void munlock_vma_page(Page* page, Vma* vma);
  ContentStore& contents() { return contents_; }
  PhysMem& phys() { return phys_; }
  SwapDevice& swap() { return swap_; }
  Vmstat& vmstat() { return vmstat_; }
  const MachineConfig& config() const { return config_; }

  // ---- pages ----
  Page* pfn_to_page(Pfn pfn) { return pfn == kZeroPfn ? zero_page_ : phys_.page(pfn); }
  Page* zero_page() { return zero_page_; }
  static bool is_zero_pfn(Pfn pfn) { return pfn == kZeroPfn; }
  // is_ksm_zero_pte() (6.12): a zero-page PTE that KSM placed, which it marks dirty (a
  // fault never maps the zero page dirty). Only KSM's 6.12 profile makes such PTEs.
  static bool is_ksm_zero_pte(Pte pte) {
    return pte.present() && is_zero_pfn(pte.pfn()) && pte.dirty();
  }
  int page_to_nid(const Page* page) const {
    return page == zero_page_ ? 0 : phys_.pfn_to_nid(page->pfn());
  }
  // page_private(): the swap slot of a page in the swapcache (PG_swapcache), else
  // kNoSwapSlot. Not a Page field: few pages are in the swapcache at a time.
  uint32_t page_private(const Page* page) const {
    auto it = swap_slots_.find(page->pfn());
    return it == swap_slots_.end() ? kNoSwapSlot : it->second;
  }
  void set_page_private(const Page* page, uint32_t slot) {
    if (slot == kNoSwapSlot)
      swap_slots_.erase(page->pfn());
    else
      swap_slots_[page->pfn()] = slot;
  }
  // References held on the page by pins (GUP) on top of its mappings.
  int page_pincount(const Page* page) const {
    auto it = pincounts_.find(page);
    return it == pincounts_.end() ? 0 : it->second;
  }
  void get_page(Page* page) {
    if (page != zero_page_) page->add_refcount(1);
  }
  // Frees the frame when the last reference goes.
  void put_page(Page* page) {
    if (page != zero_page_ && page->add_refcount(-1) == 0) free_frame(page);
  }
  bool trylock_page(Page* page);
  void unlock_page(Page* page);
  // page_remove_rmap(): one PTE less maps the page.
  void page_remove_rmap(Page* page, Vma* vma);
  // page_add_anon_rmap() for an existing anon/KSM page now mapped at addr too.
  void page_add_anon_rmap(Page* page, Vma* vma, uint64_t addr, bool exclusive);
  // folio_free_swap(): drop the swapcache copy if no PTE refers to the slot any more.
  bool folio_free_swap(Page* page);
  void set_page_content(Page* page, ContentId content);  // takes the caller's reference

  // ---- processes and mappings ----
  Mm* CreateMm(const std::string& name, int node);
  std::optional<MachineError> Fork(Mm* parent, Mm** child, const std::string& child_name);
  void Exit(Mm* mm);
  uint64_t Mmap(Mm* mm, const std::string& region, uint64_t pages, int node, bool locked);
  void Munmap(Mm* mm, uint64_t start, uint64_t end);
  std::optional<MachineError> Madvise(Mm* mm, uint64_t start, uint64_t end, Advice advice);
  // prctl(PR_SET_MEMORY_MERGE, memory_merge): every compatible VMA of mm, and every one it
  // maps later, is mergeable (1); or none is and its KSM pages are unmerged (0).
  std::optional<MachineError> Prctl(Mm* mm, bool memory_merge);
  // Splits VMAs so that [start, end) is covered by whole VMAs; returns them in order.
  std::vector<Vma*> SplitRange(Mm* mm, uint64_t start, uint64_t end);
  const std::map<uint64_t, Mm*>& mms() const { return mms_; }

  // ---- user accesses ----
  std::optional<MachineError> WritePage(Mm* mm, uint64_t addr, ContentId content);
  // Reads the page (faulting it in as a read would); *content gets a borrowed id.
  std::optional<MachineError> ReadPage(Mm* mm, uint64_t addr, ContentId* content);
  std::optional<MachineError> Pin(Mm* mm, uint64_t addr);
  std::optional<MachineError> Unpin(Mm* mm, uint64_t addr);

  // ---- kernel paths used by KSM ----
  unsigned handle_mm_fault(Vma* vma, uint64_t addr, unsigned flags);
  // follow_page(FOLL_GET): the page mapped at addr with a reference taken, or null when
  // nothing is mapped (none or swap PTE). Returns the zero page for a zero-page PTE.
  Page* follow_page(Vma* vma, uint64_t addr) {
    const Pte pte = vma->mm->page_table.Value(addr);
    if (!pte.present()) return nullptr;
    Page* page = pfn_to_page(pte.pfn());
    get_page(page);
    return page;
  }
  PteRef pte_of(Mm* mm, uint64_t addr) { return mm->page_table.Lookup(addr, false); }
  // pte_of() for KSM's write_protect_page()/replace_page() on the page being merged: not
  // counted in PageTable::writes(). Those change only the PTE of the rmap_item being merged,
  // which is out of the unstable tree or leaves it before the tree is walked again (and
  // write-protecting keeps the same page), so no unstable-tree snapshot depends on it.
  PteRef pte_of_merging(Mm* mm, uint64_t addr) { return mm->page_table.LookupUncounted(addr); }
  // The PTE value at addr (0 where there is none): a read that never allocates.
  uint64_t pte_value(const Mm* mm, uint64_t addr) const { return mm->page_table.Value(addr).v; }
  // What KSM's tree-walk snapshots rely on (mmu/change_counters.h).
  const ChangeCounters& changes() const { return changes_; }
  void rmap_walk(Page* page, RmapWalkControl& rwc);
  AnonVma* anon_vma_prepare(Vma* vma);
  void get_anon_vma(AnonVma* av) { ++av->refcount; }
  void put_anon_vma(AnonVma* av);
  // Allocates a frame preferring `nid` (falls back to other nodes, then reclaims).
  Page* alloc_page(int nid);
  // The node a fault in vma allocates on: the VMA's policy (mbind) if it has one, else the
  // faulting task's: the process's own (set_mempolicy) unless a foreign task faults for it.
  int alloc_node(const Vma* vma) const {
    if (vma->policy_node >= 0) return vma->policy_node;
    return foreign_task_node_ >= 0 ? foreign_task_node_ : vma->mm->node;
  }
  // Faults from here on are taken by a task other than the mm's owner, whose default policy
  // allocates on `nid` (its CPU's node): ksmd's break_cow, a `run` 2 write's unmerging.
  // -1 restores the owner. See docs/FIDELITY.md "Whose fault it is".
  void set_foreign_task_node(int nid) { foreign_task_node_ = nid; }

  // ---- swap, migration, hotplug ----
  // Reclaims one page (shrink_page_list for a single isolated page); true when freed.
  bool reclaim_page(Page* page);
  std::optional<MachineError> Pageout(Mm* mm, uint64_t start, uint64_t end);
  // migrate_pages() of one page to `nid`; 0 or a positive errno (EBUSY, ENOMEM).
  int migrate_page(Page* page, int nid, bool avoid_isolated = true);
  std::optional<MachineError> Migrate(Mm* mm, uint64_t start, uint64_t end, int nid);
  // Memory hotremove/hotadd of block `block` of node `nid`: 0, EBUSY (a page cannot move;
  // Linux would retry until interrupted), or EINVAL (already offline/online, no such block).
  int OfflineBlock(int nid, uint64_t block);
  int OnlineBlock(int nid, uint64_t block);

  // Resident (present, non-zero-page) pages of mm, and the machine's own figures.
  uint64_t resident_pages(const Mm* mm) const;

 private:
  // mlock_folio()/munlock_folio(): into CPU 0's batch (see lru_add_drain_all).
  void mlock_batch_add(Page* page);
  friend class Checker;
  unsigned do_anonymous_page(Vma* vma, uint64_t addr, PteRef pte, unsigned flags);
  unsigned do_wp_page(Vma* vma, uint64_t addr, PteRef pte, bool unshare = false);
  unsigned wp_page_copy(Vma* vma, uint64_t addr, PteRef pte, Page* old, bool unshare = false);
  unsigned do_swap_page(Vma* vma, uint64_t addr, PteRef pte, unsigned flags);
  // The swapcache side of a swap-in and swap readahead (mm/swap_state.c;
  // mmu/swap_readahead.cc). Each returns the page with a reference taken, or null.
  Page* swap_cache_get_folio(uint32_t slot, Vma* vma, uint64_t addr);
  Page* __read_swap_cache_async(uint32_t slot, Vma* vma, uint64_t addr, bool* new_page_allocated);
  Page* read_swap_cache_async(uint32_t slot, Vma* vma, uint64_t addr);
  // swap_readpage(): zram reads synchronously, so __read_swap_cache_async() gave the page
  // its content already; what is left is count_vm_event(PSWPIN).
  void swap_readpage() { ++vmstat_.pswpin; }
  Page* swapin_readahead(uint32_t slot, Vma* vma, uint64_t addr);
  Page* swap_vma_readahead(uint32_t fslot, Vma* vma, uint64_t addr);
  void zap_pte(Vma* vma, uint64_t addr, PteRef pte);
  void zap_range(Vma* vma, uint64_t start, uint64_t end);
  void unlink_vma(Vma* vma);
  // VMA merging (mmu/vma_merge.cc).
  Vma* vma_prev(Mm* mm, const Vma* vma);
  AnonVma* find_mergeable_anon_vma(Vma* vma);
  Vma* vma_merge(Mm* mm, Vma* prev, uint64_t addr, uint64_t end, uint64_t vm_flags,
                 AnonVma* anon_vma, int policy);
  Vma* madvise_update_vma(Vma* vma, Vma** prev, uint64_t start, uint64_t end, uint64_t new_flags);
  void set_vma_start(Vma* vma, uint64_t start);
  void remove_merged_vma(Vma* vma);
  void import_anon_vma(Vma* importer, const Vma* exporter);
  bool try_to_unmap(Page* page);
  // Reclaims up to n pages (oldest allocated first) to make room; true if any was freed.
  bool ReclaimSome(int n);
  void free_frame(Page* page);
  Vma* InsertVma(Mm* mm, std::unique_ptr<Vma> vma);

  MachineConfig config_;
  ContentStore contents_;
  PhysMem phys_;
  SwapDevice swap_;
  Vmstat vmstat_;
  Page* zero_page_;  // phys_.zero_page()
  NoKsm no_ksm_;
  KsmHooks* ksm_ = &no_ksm_;
  int foreign_task_node_ = -1;
  ChangeCounters changes_;  // every mutator bumps what it changed
  std::function<void(const PageEvent&)> page_event_;
  std::vector<Page*> mlock_batch_;          // PAGEVEC_SIZE entries at most
  std::vector<Page*> ksmd_activate_batch_;  // PAGEVEC_SIZE entries at most
  void activate_batch_drain();
  // Every mm_struct, in the arena so that an rmap_item names its mm in 32 bits; exited mms
  // stay (KSM may hold them) until the machine goes away.
  sim::ArenaPool<Mm> mm_pool_;
  std::map<uint64_t, Mm*> mms_;  // by id
  // Every anon_vma, in the arena so that Page::mapping can name it in 32 bits.
  sim::ArenaPool<AnonVma> anon_vmas_;
  uint64_t next_mm_id_ = 1;
  uint64_t reclaim_hand_ = 0;  // ReclaimSome's clock hand over PFNs
  struct PinRecord {
    uint64_t mm_id;
    uint64_t addr;
    Page* page;
  };
  std::vector<PinRecord> pins_;  // in pin order; a page may be pinned more than once
  // page_pincount() of every pinned page (not a Page field: nearly every count is 0).
  std::unordered_map<const Page*, int> pincounts_;
  // page_private() of every page in the swapcache, by PFN (lookup only, never iterated).
  absl::flat_hash_map<Pfn, uint32_t> swap_slots_;
  void unpin_page(Page* page) {
    if (--pincounts_[page] == 0) pincounts_.erase(page);
  }
  uint64_t next_anon_vma_id_ = 1;
};

}  // namespace ksmsim::mmu
