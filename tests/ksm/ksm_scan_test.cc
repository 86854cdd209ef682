// Direct tests of the KSM port on a bare machine (no workload driver): ksm_do_scan's batch
// boundaries, where __ksm_enter puts a new mm relative to the scan cursor, and the sysfs
// store rules that the driver's error names cannot show (ENOENT, ERANGE). Expected values
// are derived from seed 000 (mm/ksm.c 6.1); "L<n>" are its line numbers.
#include <cerrno>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "ksm/ksm.h"
#include "ksm/ksm_check.h"
#include "mmu/machine.h"

namespace ksmsim::ksm {
namespace {

class KsmScanTest : public ::testing::Test {
 protected:
  KsmScanTest() : m_(Config()), ksm_(m_, Profile::k61) { m_.set_ksm(&ksm_); }
  ~KsmScanTest() override { m_.set_ksm(nullptr); }

  static mmu::MachineConfig Config() {
    mmu::MachineConfig c;
    c.node_pages = {4096};
    return c;
  }

  // A process with `pages` pages of `fill`, madvised mergeable; returns its mm.
  mmu::Mm* Process(const std::string& name, uint64_t pages, uint8_t fill) {
    mmu::Mm* mm = m_.CreateMm(name, 0);
    uint64_t start = m_.Mmap(mm, "r", pages, 0, false);
    for (uint64_t i = 0; i < pages; ++i)
      EXPECT_FALSE(m_.WritePage(mm, start + i * mmu::kPageSize, m_.contents().Fill(fill)));
    EXPECT_FALSE(m_.Madvise(mm, start, start + pages * mmu::kPageSize, mmu::Advice::kMergeable));
    return mm;
  }

  void Check() {
    for (const std::string& p : CheckKsm(ksm_, m_)) ADD_FAILURE() << p;
  }

  mmu::Machine m_;
  Ksm ksm_;
};

TEST_F(KsmScanTest, ABatchEndsWhereThePassEnds) {
  mmu::Mm* a = Process("a", 5, 65);
  ASSERT_EQ(ksm_.StoreKnob("run", 1), 0);
  // Each call returns after scan_npages rmap_items, or earlier when
  // scan_get_next_rmap_item reaches the list head: it increments seqnr and returns NULL
  // (L2380-2386), which ends ksm_do_scan's loop (L2399-2401).
  ksm_.ksm_do_scan(2);
  EXPECT_EQ(ksm_.full_scans(), 0u);
  EXPECT_EQ(a->ksm_rmap_items, 2);
  ksm_.ksm_do_scan(2);
  EXPECT_EQ(ksm_.full_scans(), 0u);
  EXPECT_EQ(a->ksm_rmap_items, 4);
  ksm_.ksm_do_scan(2);  // a[4], then the pass ends: only one page in this batch
  EXPECT_EQ(ksm_.full_scans(), 1u);
  EXPECT_EQ(ksm_.last_work().pages, 1u);
  EXPECT_EQ(ksm_.rmap_items(), 5u);
  EXPECT_EQ(ksm_.pages_volatile(), 5);
  ksm_.ksm_do_scan(100);  // a whole pass in one batch: 5 pages, then the head
  EXPECT_EQ(ksm_.full_scans(), 2u);
  EXPECT_EQ(ksm_.last_work().pages, 5u);
  // Second visit of five identical pages in one mm: a[0] unstable, a[1] makes the KSM
  // page, a[2..4] join it.
  EXPECT_EQ(ksm_.pages_shared(), 1u);
  EXPECT_EQ(ksm_.pages_sharing(), 4u);
  EXPECT_EQ(a->ksm_merging_pages, 5);
  Check();
}

TEST_F(KsmScanTest, NewMmGoesJustBehindTheCursor) {
  mmu::Mm* a = Process("a", 4, 65);
  ASSERT_EQ(ksm_.StoreKnob("run", 1), 0);
  ksm_.ksm_do_scan(2);  // the cursor is now inside a
  mmu::Mm* b = Process("b", 1, 65);
  // __ksm_enter: list_add_tail(b, cursor) puts b before a (L2526), so the rest of this
  // pass (a[2], a[3]) never reaches b.
  ksm_.ksm_do_scan(100);
  EXPECT_EQ(ksm_.full_scans(), 1u);
  EXPECT_EQ(b->ksm_rmap_items, 0);
  EXPECT_EQ(a->ksm_rmap_items, 4);
  ASSERT_EQ(ksm_.mm_slots().size(), 2u);
  EXPECT_EQ(ksm_.mm_slots()[0]->mm, b);
  EXPECT_EQ(ksm_.mm_slots()[1]->mm, a);
  // Pass 2 scans b first (its new item is volatile), then a: a[0] unstable, a[1..3] merge.
  ksm_.ksm_do_scan(100);
  EXPECT_EQ(b->ksm_rmap_items, 1);
  EXPECT_EQ(ksm_.pages_shared(), 1u);
  EXPECT_EQ(ksm_.pages_sharing(), 3u);
  EXPECT_EQ(ksm_.pages_volatile(), 1);
  // Pass 3: b's second visit finds the stable node first.
  ksm_.ksm_do_scan(100);
  EXPECT_EQ(ksm_.pages_sharing(), 4u);
  EXPECT_EQ(b->ksm_merging_pages, 1);
  Check();
}

TEST_F(KsmScanTest, ExitedMmAtTheCursorIsFreedByKsmd) {
  mmu::Mm* a = Process("a", 2, 65);
  mmu::Mm* b = Process("b", 2, 65);
  ASSERT_EQ(ksm_.StoreKnob("run", 1), 0);
  ksm_.ksm_do_scan(100);
  ksm_.ksm_do_scan(100);
  EXPECT_EQ(ksm_.pages_shared(), 1u);
  EXPECT_EQ(ksm_.pages_sharing(), 3u);
  ksm_.ksm_do_scan(3);  // a[0], a[1], b[0]: the cursor is on b's slot
  m_.Exit(b);
  // __ksm_exit leaves a slot that is the cursor alone (L2556); ksmd meets the exited mm
  // at once, drops its rmap_items (b[0]'s and b[1]'s) and frees the slot (L2334-2365).
  EXPECT_EQ(ksm_.mm_slots().size(), 2u);
  ksm_.ksm_do_scan(100);
  EXPECT_EQ(ksm_.full_scans(), 3u);
  ASSERT_EQ(ksm_.mm_slots().size(), 1u);
  EXPECT_EQ(ksm_.mm_slots()[0]->mm, a);
  EXPECT_EQ(ksm_.rmap_items(), 2u);
  EXPECT_EQ(ksm_.pages_shared(), 1u);
  EXPECT_EQ(ksm_.pages_sharing(), 1u);
  Check();
}

TEST_F(KsmScanTest, SysfsStoreErrorsTheWorkloadCannotName) {
  // Only the writable files exist for writing.
  EXPECT_EQ(ksm_.StoreKnob("pages_shared", 1), -ENOENT);
  EXPECT_EQ(ksm_.StoreKnob("full_scans", 0), -ENOENT);
  // kstrtoint overflows with ERANGE before the `knob < 2` test.
  EXPECT_EQ(ksm_.StoreKnob("max_page_sharing", int64_t{1} << 40), -ERANGE);
  EXPECT_EQ(ksm_.knobs().max_page_sharing, 256);
  // run/pages_to_scan/sleep_millisecs turn every parse error into EINVAL.
  EXPECT_EQ(ksm_.StoreKnob("run", int64_t{1} << 40), -EINVAL);
  EXPECT_EQ(ksm_.StoreKnob("pages_to_scan", int64_t{1} << 40), -EINVAL);
  EXPECT_EQ(ksm_.StoreKnob("sleep_millisecs", int64_t{1} << 40), -EINVAL);
  // The 6.1 directory has 14 files; the zero-unshare profile adds ksm_zero_pages.
  EXPECT_EQ(ksm_.SysfsValues().size(), 14u);
  EXPECT_EQ(ksm_.SysfsValues().count("ksm_zero_pages"), 0u);
  mmu::Machine m2(Config());
  Ksm zero(m2, Profile::k61ZeroUnshare);
  EXPECT_EQ(zero.SysfsValues().size(), 15u);
  EXPECT_EQ(zero.SysfsValues().at("ksm_zero_pages"), 0);
}

}  // namespace
}  // namespace ksmsim::ksm
