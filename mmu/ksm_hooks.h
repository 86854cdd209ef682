// The interface through which the machine calls KSM (mm/ksm.c's entry points into the rest
// of mm/). mmu declares it; ksm implements it; NoKsm serves when KSM is absent.
#pragma once

#include <cstdint>
#include <functional>

#include "mmu/page_table.h"

namespace ksmsim::mmu {

struct Mm;
struct Page;
struct Vma;

enum class Advice { kMergeable, kUnmergeable, kDontneed, kPageout };

// struct rmap_walk_control: rmap_one returns false to stop the walk; done() true stops too.
struct RmapWalkControl {
  std::function<bool(Page* page, Vma* vma, uint64_t addr)> rmap_one;
  std::function<bool(Page* page)> done;
};

// Memory hotplug notifier actions (include/linux/memory.h).
enum class MemAction { kGoingOffline, kOffline, kCancelOffline, kGoingOnline, kOnline };

class KsmHooks {
 public:
  virtual ~KsmHooks() = default;
  // ksm_madvise(): MADV_MERGEABLE / MADV_UNMERGEABLE on [start, end) of vma; may change
  // *vm_flags. Returns 0 or a negative errno.
  virtual int ksm_madvise(Vma& vma, uint64_t start, uint64_t end, Advice advice,
                          uint64_t* vm_flags) = 0;
  // ksm_fork(): called by dup_mmap before the VMAs are copied.
  virtual void ksm_fork(Mm& mm, Mm& oldmm) = 0;
  // ksm_exit(): called by mmput before exit_mmap tears the address space down.
  virtual void ksm_exit(Mm& mm) = 0;
  // ksm_might_need_to_copy(): swap-in of a page that may belong to another anon_vma or be
  // a KSM page. Returns the page to map: `page`, or a new copy (null on OOM).
  virtual Page* ksm_might_need_to_copy(Page* page, Vma& vma, uint64_t address) = 0;
  // rmap_walk_ksm(): visit every PTE mapping a KSM page.
  virtual void rmap_walk_ksm(Page* page, RmapWalkControl& rwc) = 0;
  // folio_migrate_ksm(): the KSM page `oldpage` moved to `newpage`.
  virtual void folio_migrate_ksm(Page* newpage, Page* oldpage) = 0;
  // ksm_memory_callback(): the memory hotplug notifier.
  virtual void memory_callback(MemAction action, uint64_t start_pfn, uint64_t nr_pages) = 0;
  // ksm_might_unmap_zero_page() (6.12, include/linux/ksm.h): `pte`, a zero-page PTE of mm
  // that was just zapped or replaced by a copy-on-write fault, is one KSM placed
  // (Machine::is_ksm_zero_pte): uncount it.
  virtual void ksm_might_unmap_zero_page(Mm& mm, Pte pte) = 0;
  // ksm_add_vma() (6.3+): mmap_region() made `vma`; mergeable at once if its mm is
  // MMF_VM_MERGE_ANY.
  virtual void ksm_add_vma(Vma& vma) = 0;
  // ksm_enable_merge_any() / ksm_disable_merge_any(): prctl(PR_SET_MEMORY_MERGE, 1 / 0).
  // Return 0 or a negative errno.
  virtual int ksm_enable_merge_any(Mm& mm) = 0;
  virtual int ksm_disable_merge_any(Mm& mm) = 0;
};

// What the machine does with no KSM configured: the advice only sets or clears the flag.
class NoKsm final : public KsmHooks {
 public:
  int ksm_madvise(Vma& vma, uint64_t start, uint64_t end, Advice advice,
                  uint64_t* vm_flags) override;
  void ksm_fork(Mm&, Mm&) override {}
  void ksm_add_vma(Vma& vma) override;
  int ksm_enable_merge_any(Mm& mm) override;
  int ksm_disable_merge_any(Mm& mm) override;
  void ksm_exit(Mm&) override {}
  Page* ksm_might_need_to_copy(Page* page, Vma&, uint64_t) override { return page; }
  void rmap_walk_ksm(Page*, RmapWalkControl&) override {}
  void folio_migrate_ksm(Page*, Page*) override {}
  void memory_callback(MemAction, uint64_t, uint64_t) override {}
  void ksm_might_unmap_zero_page(Mm&, Pte) override {}
};

}  // namespace ksmsim::mmu
