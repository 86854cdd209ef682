// The difftest generator's state and steps (tools/difftest/generator.cc: the workload's
// skeleton and the classic steps; generator_features.cc: the steps of the wider features).
// Internal to the generator: include only from those two files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/rng.h"
#include "tools/difftest/generator.h"

namespace ksmsim::workloads::gen_internal {

using Json = nlohmann::ordered_json;

struct Region {
  std::string name;
  uint64_t pages = 0;       // size at mmap (range indices are relative to it)
  uint64_t lo = 0, hi = 0;  // the still-mapped part [lo, hi)
  bool locked = false;
  bool mergeable = false;       // currently VM_MERGEABLE
  bool ever_mergeable = false;  // may hold (or have held) KSM pages: never paged out
  // Madvised mergeable as a whole, and no unmergeable since: while any of it is mapped, the
  // process certainly has a VM_MERGEABLE VMA, so ksmd keeps its mm_slot and keeps counting
  // full scans (scan_get_next_rmap_item drops an mm with no VM_MERGEABLE VMA left).
  bool surely_mergeable = false;
  // Its pages may still be shared with a fork relative's copy of the region.
  bool fork_shared = false;
  // Every page of [lo, hi) has been written and none dropped or paged out since: a pin
  // takes a reference on a written page, never on the zero page or a swap entry.
  bool all_written = false;
  bool pinned = false;  // [pin_lo, pin_hi) holds a pin of this process
  uint64_t pin_lo = 0, pin_hi = 0;
};

struct Proc {
  std::string name;
  bool ksm_mm = false;     // on KSM's mm list (madvised mergeable once, or forked from such)
  bool merge_any = false;  // prctl(PR_SET_MEMORY_MERGE, 1): MMF_VM_MERGE_ANY, fork keeps it
  bool anchor = false;     // the anchor process: never touched after its setup
  std::vector<Region> regions;
};

class Gen {
 public:
  explicit Gen(const GenOptions& o)
      : opt_(o), rng_(sim::RngStream::Derive(o.seed, "difftest-generator")) {}

  bool Has(uint32_t feature) const {
    if ((feature & kGen612Only) != 0 && !opt_.kernel_612) return false;
    return (opt_.features & feature) != 0;
  }

  Json Make();

 private:
  uint64_t Below(uint64_t n) { return rng_.Below(n); }
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }  // [lo, hi]
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }

  uint64_t LivePages() const;
  void NotePeak() { peak_pages_ = std::max(peak_pages_, LivePages()); }

  // A pages_to_scan that covers every page the workload ever maps: one batch per pass.
  uint64_t WholePassBatch() { return std::max<uint64_t>(peak_pages_, 100) + Below(1000); }
  // A pages_to_scan below what is mapped now, so that a pass takes 2 to ~8 batches. It
  // stays above an eighth of the pages: under TCG a batch and its 200 ms sleep take long.
  uint64_t SeveralBatches();

  Json Data();

  void AddRange(Json& s, const Region& r, uint64_t first, uint64_t end);
  // A random non-empty sub-range of the mapped part (often all of it).
  std::pair<uint64_t, uint64_t> SubRange(const Region& r);

  Json Step(const char* op, const Proc& p);
  Json RegionStep(const char* op, const Proc& p, const Region& r, std::pair<uint64_t, uint64_t> rg);

  Proc& Spawn(bool anchor = false);

  Region& Mmap(Proc& p, uint64_t pages, bool allow_locked);

  uint64_t RegionPages() { return small_ ? Range(20, 120) : Range(20, 500); }

  void Setup();

  // Whether ksmd certainly keeps counting full scans: some process has a VM_MERGEABLE VMA.
  bool AnySurelyMergeable() const;
  bool CanWait() const { return run_ == 1 && AnySurelyMergeable(); }

  void Write(Proc& p, Region& r);
  void WriteRange(Proc& p, Region& r, std::pair<uint64_t, uint64_t> rg, Json data);

  void Madvise(Proc& p, Region& r, const char* advice, std::pair<uint64_t, uint64_t> rg);

  void SetRun(int v);

  void Wait();

  // Whether pages_shared is certainly non-zero now: the anchor has had two passes.
  bool SurelyShared() const { return anchor_ && passes_since_reset_ >= 2; }

  void KnobStep();

  // A process that is not the anchor, with a mapped region, chosen at random.
  Proc* PickProc(bool need_region);

  void RandomStep();

  bool TryStep(int op);

  // pin: an extra reference on written pages (the oracle's vmsplice), held until unpin or
  // exit. One pinned range per region at a time.
  bool PinStep();

  bool UnpinStep();

  // offline, then online again, of memory the workload's pages live in. No expect_error:
  // a page that rmap cannot find, or that CPU 0's mlock batch holds, makes it EBUSY, and
  // the outcomes are compared anyway. Race-free and the same in the oracle's guest only
  // when: a pass has just ended (no stale stable node whose
  // freed page's placement decides whether offlining drops it), no page is pinned (it
  // would never move: the kernel retries until a signal), pages have somewhere to go that
  // the simulator has too (the node's other block, or the other node), and a node's pages
  // all move together (which of them sit in a block is the buddy allocator's business).
  bool HotplugStep();

  // Zero-filled pages with use_zero_pages switched before or after they are written.
  bool ZeroStep();

  // pageout of a never-mergeable range, then reads or writes that swap (part of) it in.
  bool SwapInStep();

  // prctl(PR_SET_MEMORY_MERGE) on a process: on, or off again (6.12).
  bool PrctlStep();
  // smart_scan switched (6.12).
  bool SmartScanStep();
  // What prctl on (or an mmap while it is on) makes of a region: VM_MERGEABLE as a whole.
  static void MergeAny(Proc& p, Region& r);

  // After run 2 has unmerged everything: knobs that need no KSM page, and the others.
  void KnobsAfterRun2();

  GenOptions opt_;
  sim::RngStream rng_;
  bool small_ = true;
  int nodes_ = 1;
  uint64_t swap_ = 0;
  uint64_t max_page_sharing_ = 256;
  bool run2_may_leave_ksm_pages_ = false;  // see Madvise
  int use_zero_pages_ = 0;
  int smart_scan_ = 1;  // 6.12's default
  int merge_across_nodes_ = 1;
  bool anchor_ = false;
  int run_ = 0;
  uint64_t passes_since_reset_ = 0;
  int waits_ = 0;
  int next_proc_ = 0;
  int next_region_ = 0;
  uint64_t peak_pages_ = 0;
  uint64_t initial_pages_to_scan_ = 0;  // 0: one batch a pass (WholePassBatch at the end)
  uint64_t pages_to_scan_ = 0;          // the value in force when it is below the pages
  int pins_held_ = 0;
  std::vector<Proc> procs_;
  Json steps_ = Json::array();
};

}  // namespace ksmsim::workloads::gen_internal
