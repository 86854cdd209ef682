// Address spaces: struct mm_struct with its VMAs (ordered by address), its page table and
// the anon_vma objects that let reverse mapping find every PTE of an anonymous page.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mmu/page_table.h"

namespace ksmsim::mmu {

struct Mm;
struct Vma;

// VMA flags (VM_*), the subset that decides KSM's madvise and the fault paths.
enum VmFlag : uint64_t {
  VM_READ = 1 << 0,
  VM_WRITE = 1 << 1,
  VM_SHARED = 1 << 3,
  VM_MAYSHARE = 1 << 7,
  VM_LOCKED = 1 << 13,
  VM_IO = 1 << 14,
  VM_DONTEXPAND = 1 << 18,
  VM_PFNMAP = 1 << 10,
  VM_HUGETLB = 1 << 22,
  VM_MIXEDMAP = 1 << 28,
  VM_MERGEABLE = 1ULL << 31,
};

// struct anon_vma: the reverse-mapping anchor of anonymous pages. A page points to the
// anon_vma of the VMA it was faulted in; every VMA that may map it (the original and its
// forks) is linked here (the anon_vma_chain, kept as a list in link order).
struct AnonVma {
  AnonVma* root = this;
  int refcount = 1;  // VMAs using it as their own anon_vma + get_anon_vma() holders
  std::vector<Vma*> vmas;
  uint64_t id = 0;
};

// struct vm_area_struct for an anonymous private mapping.
struct Vma {
  Mm* mm = nullptr;
  uint64_t start = 0, end = 0;
  uint64_t flags = VM_READ | VM_WRITE;
  AnonVma* anon_vma = nullptr;  // assigned by the first fault (anon_vma_prepare)
  std::vector<AnonVma*> chain;  // anon_vmas this VMA is linked into
  int policy_node = -1;  // mbind(MPOL_PREFERRED) of the mapping; -1: the faulting task's policy
  std::string region;    // the workload's region name
  // swap_readahead_info: the last swap fault's address, readahead window and hits, packed
  // as mm/swap_state.c's SWAP_RA_VAL() does (0: never used; mmu/swap_readahead.h).
  uint64_t swap_readahead_info = 0;

  bool contains(uint64_t addr) const { return addr >= start && addr < end; }
};

// struct mm_struct: one process's address space.
struct Mm {
  uint64_t id = 0;
  std::string name;
  int mm_users = 1;                               // 0 once the process has exited (ksm_test_exit)
  bool mmf_vm_mergeable = false;                  // MMF_VM_MERGEABLE
  bool mmf_vm_merge_any = false;                  // MMF_VM_MERGE_ANY (prctl, 6.3+)
  int node = 0;                                   // default allocation node of the process
  std::map<uint64_t, std::unique_ptr<Vma>> vmas;  // by start address
  PageTable page_table;
  uint64_t next_region_addr = 0x200000000000ULL;
  int64_t anon_rss = 0;           // MM_ANONPAGES
  int64_t swap_ents = 0;          // MM_SWAPENTS
  int64_t ksm_merging_pages = 0;  // /proc/PID/ksm_merging_pages
  int64_t ksm_zero_pages = 0;     // mm->ksm_zero_pages (6.12: /proc/PID/ksm_stat)
  int64_t ksm_rmap_items = 0;     // /proc/PID/ksm_stat
  // What fork copied from the parent into the two counters above (dup_mm's memcpy; 6.1
  // does not reset them), kept so the checker can subtract it.
  int64_t ksm_rmap_items_inherited = 0;

  // vma_lookup(): the VMA containing addr, or null.
  Vma* vma_lookup(uint64_t addr) const;
  // The first VMA ending above addr (find_vma), or null.
  Vma* find_vma(uint64_t addr) const;
};

}  // namespace ksmsim::mmu
