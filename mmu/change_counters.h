// The machine's change counters: what KSM's tree-walk snapshots (ksm/snapshot.h) rely on
// to know that nothing a lookup reads has changed since a snapshot was taken. Every
// mutator of the machine calls the bump point that names what it changed; KSM's checker
// (ksm/ksm_check.cc, after every step with --check) finds any snapshot a forgotten bump
// left valid while its page changed. Simulator-only: the kernel has no such counters.
#pragma once

#include <cstdint>

namespace ksmsim::mmu {

class ChangeCounters {
 public:
  // ---- bump points: what follow_page()/get_mergeable_page() read, other than PTEs ----
  void frame_allocated() { bump_lookup(); }  // it is about to get content and a mapping
  void content_written() { bump_lookup(); }  // a frame's content replaced in place
  void vma_changed() { bump_lookup(); }      // a VMA added, split, removed or re-flagged
  void anon_vma_assigned() { bump_lookup(); }
  void mm_forked() { bump_lookup(); }
  void mm_exited() { bump_lookup(); }
  // ---- what get_ksm_page() reads ----
  void ksm_page_freed() { ++ksm_page_epoch_; }
  void page_migrated() { ++ksm_page_epoch_; }
  // ---- a page table's access that may change a PTE (PageTable::writes()) ----
  void page_table_written(uint64_t n = 1) { change_count_ += n; }

  // Grows with every bump point of the first group (freeing a frame is none: a freed frame
  // is mapped by no PTE). With the mm's PageTable::writes(), KSM's unstable-tree tag.
  uint64_t lookup_epoch() const { return lookup_epoch_; }
  // lookup_epoch() plus every page table's writes: bounds how far any of them moved.
  uint64_t change_count() const { return change_count_; }
  // Grows whenever a KSM page is freed or any page is migrated: with lookup_epoch() and
  // KSM's own count of stable-node remappings, KSM's stable-tree tag.
  uint64_t ksm_page_epoch() const { return ksm_page_epoch_; }

 private:
  void bump_lookup() {
    ++lookup_epoch_;
    ++change_count_;
  }
  // lookup_epoch_ and change_count_ are not side by side: the compiler then bumped both
  // with one 16-byte load-add-store, which an 8-byte page_table_written() store just
  // before cannot forward to; perf showed that load as alloc_page's cost (scale's set-up
  // 4% faster apart).
  uint64_t lookup_epoch_ = 1;
  uint64_t ksm_page_epoch_ = 0;
  uint64_t change_count_ = 0;
};

}  // namespace ksmsim::mmu
