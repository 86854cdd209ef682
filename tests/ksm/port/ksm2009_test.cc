// Kernel "2009": the /dev/ksm driver of seed 004 (ksm/ksm2009/), end to end through the
// Driver with the invariant checkers on. Each test follows a sentence or a branch of the
// seed (quoted above it); docs/FIDELITY.md "2009" says which parts come from past the
// seed's excerpt.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

// A kernel "2009" workload around `steps`; `knobs` are the initial ones (max_kernel_pages).
std::string W9(std::string_view steps, std::string_view knobs = "",
               std::string_view machine = kOneNode) {
  std::string s = R"({"ksmsim": 1, "name": "inline", "kernel": "2009", "machine": )";
  s += machine;
  s += R"(, "ksm": {)";
  s += knobs;
  s += R"(}, "steps": [)";
  s += steps;
  s += "]}";
  return s;
}

// Processes a and b, each with region r of `pages` pages written with fill 65, /dev/ksm
// opened by each (fd "ksm") with an SMA (fd "s") registering the whole region.
std::string Registered(int pages) {
  std::string p = std::to_string(pages);
  return R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": )" +
         p + R"(},
    {"op": "mmap", "proc": "b", "region": "r", "pages": )" +
         p + R"(},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_open", "proc": "b", "fd": "ksm"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "ksm", "sma": "s"},
    {"op": "ksm_create_shared_memory_area", "proc": "b", "fd": "ksm", "sma": "s"},
    {"op": "ksm_register_memory_region", "proc": "a", "fd": "s", "region": "r"},
    {"op": "ksm_register_memory_region", "proc": "b", "fd": "s", "region": "r"},)";
}

constexpr std::string_view kStart = R"(
    {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "ksm", "running": 1,
     "pages_to_scan": 100, "sleep": 20000},)";

const ordered_json& OutcomeOf(const Outcome& o, size_t step) {
  for (const auto& e : o.doc["outcomes"])
    if (e["step"] == step) return e;
  static const ordered_json none;
  ADD_FAILURE() << "no outcome for step " << step;
  return none;
}

// "KSM_GET_API_VERSION: Give the userspace the api version of the module."
// (#define KSM_API_VERSION 1); "KSM_CREATE_SHARED_MEMORY_AREA: Create shared memory reagion
// fd" (anon_inode_getfd: the lowest free fd).
TEST(Ksm2009Test, OpenGivesApiVersionOneAndAnSmaFd) {
  Outcome o = RunOk(W9(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "ksm", "sma": "s",
     "expect_error": "none"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "ksm", "sma": "t"})"));
  EXPECT_EQ(OutcomeOf(o, 1)["api_version"], 1);
  EXPECT_EQ(OutcomeOf(o, 1)["ret"], 3);
  EXPECT_EQ(OutcomeOf(o, 2)["ret"], 4);
  EXPECT_EQ(OutcomeOf(o, 3)["ret"], 5);
}

// ksm_sma_ioctl(): `int r = EINVAL;` and no case for /dev/ksm's ioctls: +22, not -EINVAL.
// ksm_dev_ioctl(): `long r = -EINVAL;` for an SMA's ioctl on /dev/ksm.
TEST(Ksm2009Test, AnIoctlOnTheWrongFdIsEinvalWithTheSeedsSigns) {
  Outcome o = RunOk(W9(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "ksm", "sma": "s"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "s", "sma": "t",
     "expect_error": "EINVAL"},
    {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "s", "running": 1,
     "pages_to_scan": 10, "sleep": 0, "expect_error": "EINVAL"},
    {"op": "ksm_register_memory_region", "proc": "a", "fd": "ksm", "region": "r",
     "expect_error": "EINVAL"},
    {"op": "ksm_remove_memory_region", "proc": "a", "fd": "ksm", "expect_error": "EINVAL"},
    {"op": "ksm_remove_memory_region", "proc": "a", "fd": "nope", "expect_error": "EBADF"})"));
  EXPECT_EQ(OutcomeOf(o, 4)["ret"], 22);
  EXPECT_EQ(OutcomeOf(o, 5)["ret"], 22);
  EXPECT_EQ(OutcomeOf(o, 6)["ret"], -22);
  EXPECT_EQ(OutcomeOf(o, 7)["ret"], -22);
  EXPECT_EQ(OutcomeOf(o, 8)["ret"], -9);
}

// "r = -EFAULT; if (copy_from_user(...)) goto out;" (register, start/stop) and
// copy_to_user (get info).
TEST(Ksm2009Test, AnUnreadableArgumentIsEfault) {
  Outcome o = RunOk(W9(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "ksm", "sma": "s"},
    {"op": "ksm_register_memory_region", "proc": "a", "fd": "s", "region": "r",
     "bad_arg": true, "expect_error": "EFAULT"},
    {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "ksm", "running": 1,
     "pages_to_scan": 10, "sleep": 0, "bad_arg": true, "expect_error": "EFAULT"},
    {"op": "ksm_get_info_kthread", "proc": "a", "fd": "ksm", "bad_arg": true,
     "expect_error": "EFAULT"},
    {"op": "ksm_get_info_kthread", "proc": "a", "fd": "ksm", "running": 0,
     "pages_to_scan": 0, "sleep": 0})"));
  EXPECT_EQ(OutcomeOf(o, 4)["ret"], -14);
}

// KSM_START_STOP_KTHREAD "(can stop the kernel thread from working by setting running =
// 0)"; running without pages_to_scan is refused with a positive EPERM and changes nothing;
// KSM_GET_INFO_KTHREAD reads the values back.
TEST(Ksm2009Test, StartStopSetsWhatGetInfoReadsBack) {
  Outcome o = RunOk(W9(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "ksm", "running": 1,
     "pages_to_scan": 0, "sleep": 5, "expect_error": "EPERM"},
    {"op": "ksm_get_info_kthread", "proc": "a", "fd": "ksm", "running": 0,
     "pages_to_scan": 0, "sleep": 0},
    {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "ksm", "running": 1,
     "pages_to_scan": 64, "sleep": 3000},
    {"op": "ksm_get_info_kthread", "proc": "a", "fd": "ksm", "running": 1,
     "pages_to_scan": 64, "sleep": 3000},
    {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "ksm", "running": 0,
     "pages_to_scan": 0, "sleep": 0},
    {"op": "ksm_get_info_kthread", "proc": "a", "fd": "ksm", "running": 0})"));
  EXPECT_EQ(OutcomeOf(o, 2)["ret"], 1);
  // And a read-back that differs fails the run as an expect does.
  Outcome bad = RunText(W9(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_get_info_kthread", "proc": "a", "fd": "ksm", "pages_to_scan": 7})"));
  EXPECT_EQ(bad.status, 1);
}

// "When ksm finds two identical pages, it marks them as readonly and merges them into
// single one page" -- a kpage: eight identical pages of two registered regions end as one
// kpage mapped eight times (pages_shared 1, pages_sharing 7).
TEST(Ksm2009Test, RegisteredRegionsMergeIntoOneKpage) {
  RunOk(W9(Registered(4) + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"})"));
}

// "Ksm scan just memory areas that were registred to be scanned by it": an unregistered
// region of identical pages stays apart; and the thread does not run until started.
TEST(Ksm2009Test, OnlyRegisteredMemoryIsScanned) {
  RunOk(W9(Registered(2) + R"(
    {"op": "wait", "ms": 1000},
    {"op": "expect", "ksm": {"pages_shared": 0, "full_scans": 0}},
    {"op": "mmap", "proc": "a", "region": "u", "pages": 4},
    {"op": "write", "proc": "a", "region": "u", "data": {"fill": 66}},)" +
           std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3}})"));
}

// "Pages that are merged are marked as readonly and are COWed when any application try to
// change them": a write copies the kpage (no COW_KSM event in 2009: cow_ksm stays 0).
TEST(Ksm2009Test, AWriteCopiesTheKpage) {
  RunOk(W9(Registered(2) + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3}},
    {"op": "write", "proc": "b", "region": "r", "range": [0, 1], "data": {"fill": 9}},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 2}, "vmstat": {"cow_ksm": 0}},
    {"op": "verify", "proc": "b", "region": "r"})"));
}

// The review: "Is the above "kpage" is free from global LRU and never be reclaimed(swapped-out)
// by global LRU?" -- "Right now this pages are not swappable". A kpage left with one mapping
// is one pageout would take if it were anonymous; it is not, so swap cannot take it.
TEST(Ksm2009Test, SwapCannotTakeAKpage) {
  RunOk(W9(Registered(1) + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 9}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "pageout"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0},
                     "vmstat": {"pswpout": 0}},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "pageout"},
    {"op": "expect", "vmstat": {"pswpout": 1}},
    {"op": "verify", "proc": "a", "region": "r"})",
           "", R"({"nodes": [{"memory_mib": 64}], "swap_mib": 16})"));
}

// "this page cant be swapped" (PageKsm's comment): a kpage is on no LRU and no rmap finds
// its mappings, so memory hotremove cannot move it either (EBUSY), and it stays put.
TEST(Ksm2009Test, HotremoveCannotMoveAKpage) {
  // a and b run on node 1; the kpage comes from node 0 (ksmd's CPU), alone in its block.
  std::string steps = Registered(1);
  for (const char* p : {"a", "b"}) {
    std::string from = std::string(R"({"op": "spawn", "proc": ")") + p + R"("})";
    steps.replace(steps.find(from), from.size(),
                  std::string(R"({"op": "spawn", "proc": ")") + p + R"(", "node": 1})");
  }
  RunOk(W9(steps + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1}},
    {"op": "offline", "node": 0, "block": 0, "expect_error": "EBUSY"},
    {"op": "offline", "node": 1, "block": 0, "expect_error": "none"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1}},
    {"op": "verify", "proc": "a", "region": "r"})",
           "", R"({"nodes": [{"memory_mib": 128}, {"memory_mib": 128}], "memory_block_mib": 64})"));
}

// Kamezawa: "please show the amount of kpage, allow users to set limit for usage of
// kpages" -- max_kernel_pages (2.6.32's name): no new kpage while pages_shared >= the limit.
TEST(Ksm2009Test, MaxKernelPagesLimitsNewKpages) {
  std::string two_contents = R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"cycle": 2}},
    {"op": "write", "proc": "b", "region": "r", "data": {"cycle": 2}},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "ksm", "sma": "s"},
    {"op": "ksm_register_memory_region", "proc": "a", "fd": "s", "region": "r"},
    {"op": "ksm_open", "proc": "b", "fd": "ksm"},
    {"op": "ksm_create_shared_memory_area", "proc": "b", "fd": "ksm", "sma": "s"},
    {"op": "ksm_register_memory_region", "proc": "b", "fd": "s", "region": "r"},)";
  // Unlimited (0, the default): two kpages.
  RunOk(W9(two_contents + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 4},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "max_kernel_pages": 0}})"));
  // At 1: the second pair finds no kpage; raising the limit lets it merge.
  RunOk(W9(two_contents + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 4},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "max_kernel_pages": 1}},
    {"op": "ksm", "set": {"max_kernel_pages": 2}},
    {"op": "wait", "full_scans": 4},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2}})",
           R"("max_kernel_pages": 1)"));
}

// The limit bounds kpages, not merging: pages still map an existing kpage at the limit.
TEST(Ksm2009Test, AtTheLimitPagesStillMergeIntoAnExistingKpage) {
  RunOk(W9(Registered(3) + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 4},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 5, "max_kernel_pages": 1}})",
           R"("max_kernel_pages": 1)"));
}

// KSM_REMOVE_MEMORY_REGION: "Remove memory region from ksm" -- every region of the SMA; the
// pages merged stay merged (nothing unmerges), and new identical pages no longer merge.
TEST(Ksm2009Test, RemovingRegionsStopsMergingButKeepsKpages) {
  RunOk(W9(Registered(2) + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3}},
    {"op": "ksm_remove_memory_region", "proc": "a", "fd": "s"},
    {"op": "ksm_remove_memory_region", "proc": "b", "fd": "s"},
    {"op": "write", "proc": "a", "region": "r", "range": [1, 2], "data": {"fill": 7}},
    {"op": "write", "proc": "b", "region": "r", "range": [1, 2], "data": {"fill": 7}},
    {"op": "wait", "ms": 1000},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1}})"));
}

// The SMA fd goes with its process (ksm_sma_release): an exit removes the regions and
// unmaps its share of the kpage.
TEST(Ksm2009Test, AnExitReleasesTheSma) {
  RunOk(W9(Registered(2) + std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "exit", "proc": "a"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1}},
    {"op": "write", "proc": "b", "region": "r", "range": [0, 1], "data": {"fill": 1}},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0}},
    {"op": "write", "proc": "b", "region": "r", "range": [1, 2], "data": {"fill": 1}},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0}})"));
}

// ksm_sma_ioctl_register_memory_region() stores addr and npages as given: a region past the
// mapping is accepted, and the scan skips what has no present PTE.
TEST(Ksm2009Test, RegisteringIsNotCheckedAgainstTheMappings) {
  RunOk(W9(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 3}},
    {"op": "ksm_open", "proc": "a", "fd": "ksm"},
    {"op": "ksm_create_shared_memory_area", "proc": "a", "fd": "ksm", "sma": "s"},
    {"op": "ksm_register_memory_region", "proc": "a", "fd": "s", "region": "r", "npages": 1000,
     "expect_error": "none"},)" +
           std::string(kStart) + R"(
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1}})"));
}

// The seed's loop (ksm_scan_start calls scan_get_next_index once more after its batch): the
// position after each batch's last page is passed over. With two one-page regions and
// pages_to_scan 1, a's page is never scanned and nothing merges; with 2, they merge.
TEST(Ksm2009Test, TheBatchEndSkipsAPosition) {
  auto run = [](int pages_to_scan) {
    return W9(Registered(1) + R"(
    {"op": "ksm_start_stop_kthread", "proc": "a", "fd": "ksm", "running": 1,
     "pages_to_scan": )" +
              std::to_string(pages_to_scan) + R"(, "sleep": 1000},
    {"op": "wait", "full_scans": 10},
    {"op": "snapshot", "label": "after"})");
  };
  Outcome one = RunOk(run(1));
  EXPECT_EQ(Ksm(one, 0, "pages_shared"), 0);
  Outcome two = RunOk(run(2));
  EXPECT_EQ(Ksm(two, 0, "pages_shared"), 1);
}

// A wait for passes that can never come is refused, naming what the 2009 driver lacks.
TEST(Ksm2009Test, AWaitWithTheThreadStoppedCannotRun) {
  Outcome o = RunText(W9(Registered(1) + R"(
    {"op": "wait", "full_scans": 1})"));
  EXPECT_EQ(o.status, 3);
  EXPECT_NE(o.doc["errors"].dump().find("ksm_start_stop_kthread"), std::string::npos);
}

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
