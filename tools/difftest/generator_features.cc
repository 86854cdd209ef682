// The difftest generator's wider features (GenFeature beyond "classic"): pins, memory
// hotplug, multi-batch passes, zero pages around use_zero_pages, swap-in and knob changes
// after run 2; and the feature names of `--features`.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "tools/difftest/gen_state.h"
#include "tools/difftest/generator.h"

namespace ksmsim::workloads {
namespace gen_internal {

// pin: an extra reference on written pages (the oracle's vmsplice), held until unpin or
// exit. One pinned range per region at a time.
bool Gen::PinStep() {
  Proc* p = PickProc(true);
  if (!p) return false;
  Region& r = p->regions[Below(p->regions.size())];
  if (r.pinned || !r.all_written || r.lo == r.hi) return false;
  auto rg = SubRange(r);
  steps_.push_back(RegionStep("pin", *p, r, rg));
  r.pinned = true;
  r.pin_lo = rg.first;
  r.pin_hi = rg.second;
  ++pins_held_;
  return true;
}

bool Gen::UnpinStep() {
  std::vector<std::pair<Proc*, Region*>> pinned;
  for (Proc& p : procs_)
    for (Region& r : p.regions)
      if (r.pinned) pinned.emplace_back(&p, &r);
  if (pinned.empty()) return false;
  auto [p, r] = pinned[Below(pinned.size())];
  steps_.push_back(RegionStep("unpin", *p, *r, {r->pin_lo, r->pin_hi}));
  r->pinned = false;
  --pins_held_;
  return true;
}

// offline, then online again, of memory the workload's pages live in. No expect_error:
// a page that rmap cannot find, or that CPU 0's mlock batch holds, makes it EBUSY, and
// the outcomes are compared anyway. Race-free and the same in the oracle's guest only
// when: a pass has just ended (no stale stable node whose
// freed page's placement decides whether offlining drops it), no page is pinned (it
// would never move: the kernel retries until a signal), pages have somewhere to go that
// the simulator has too (the node's other block, or the other node), and a node's pages
// all move together (which of them sit in a block is the buddy allocator's business).
bool Gen::HotplugStep() {
  if (pins_held_ > 0 || !CanWait()) return false;
  Wait();
  int node = nodes_ == 1 ? 0 : static_cast<int>(Below(2));
  std::vector<int> blocks;
  if (nodes_ == 1) {
    blocks.push_back(static_cast<int>(Below(2)));
  } else {
    blocks = {0, 1};
  }
  for (int b : blocks) steps_.push_back(Json{{"op", "offline"}, {"node", node}, {"block", b}});
  steps_.push_back(Json{{"op", "snapshot"}, {"label", fmt::format("offline-{}", waits_)}});
  if (Chance(50) && CanWait()) Wait();
  for (int b : blocks) steps_.push_back(Json{{"op", "online"}, {"node", node}, {"block", b}});
  return true;
}

// Zero-filled pages with use_zero_pages switched before or after they are written.
bool Gen::ZeroStep() {
  Proc* p = PickProc(true);
  if (!p) return false;
  Region& r = p->regions[Below(p->regions.size())];
  if (r.lo == r.hi) return false;
  bool flip_first = Chance(50);
  auto flip = [&] {
    use_zero_pages_ ^= 1;
    steps_.push_back(Json{
        {"op", "ksm"}, {"set", {{"use_zero_pages", use_zero_pages_}}}, {"expect_error", "none"}});
  };
  if (flip_first) flip();
  WriteRange(*p, r, SubRange(r), Json{{"fill", 0}});
  if (!flip_first && Chance(60)) flip();
  return true;
}

// pageout of a never-mergeable range, then reads or writes that swap (part of) it in.
bool Gen::SwapInStep() {
  if (swap_ == 0) return false;
  Proc* p = PickProc(true);
  if (!p) return false;
  Region& r = p->regions[Below(p->regions.size())];
  if (r.ever_mergeable || r.locked || r.pinned || r.lo == r.hi) return false;
  auto rg = SubRange(r);
  Madvise(*p, r, "pageout", rg);
  uint64_t a = rg.first + Below(rg.second - rg.first);
  uint64_t b = a + 1 + Below(rg.second - a);
  if (Chance(50)) {
    steps_.push_back(RegionStep("read", *p, r, {a, b}));
  } else {
    WriteRange(*p, r, {a, b}, Data());
  }
  return true;
}

void Gen::MergeAny(Proc& p, Region& r) {
  r.mergeable = r.ever_mergeable = r.surely_mergeable = true;
  p.ksm_mm = true;
}

bool Gen::PrctlStep() {
  Proc* p = PickProc(false);
  if (!p) return false;
  // On for a process that has it off; mostly off for one that has it on, sometimes on
  // again, which ksm_enable_merge_any() accepts and ignores (it marks no VMA again).
  const bool on = !p->merge_any || Chance(20);
  Json s = Step("prctl", *p);
  s["memory_merge"] = on ? 1 : 0;
  steps_.push_back(s);
  if (on == p->merge_any) return true;
  p->merge_any = on;
  for (Region& r : p->regions) {
    // As MADV_MERGEABLE or MADV_UNMERGEABLE (Madvise): pages this region shares through
    // fork may be KSM pages that a sharer's VMA, not mergeable, keeps mapped through `run` 2.
    if (r.fork_shared) run2_may_leave_ksm_pages_ = true;
    if (on) {
      MergeAny(*p, r);  // ksm_add_vmas(): every VMA, split parts included
    } else {
      // ksm_del_vmas(): every VM_MERGEABLE VMA is unmerged and cleared, madvised or not;
      // the mm stays on KSM's list until a pass finds no mergeable VMA.
      r.mergeable = r.surely_mergeable = false;
    }
  }
  return true;
}

bool Gen::SmartScanStep() {
  smart_scan_ ^= 1;
  steps_.push_back(Json{{"op", "ksm"}, {"set", {{"smart_scan", smart_scan_}}}});
  return true;
}

// After run 2 has unmerged everything: knobs that need no KSM page, and the others.
void Gen::KnobsAfterRun2() {
  if (Chance(50) && !run2_may_leave_ksm_pages_) {
    merge_across_nodes_ ^= 1;  // merge_across_nodes_store(): EBUSY only while shared
    steps_.push_back(Json{{"op", "ksm"},
                          {"set", {{"merge_across_nodes", merge_across_nodes_}}},
                          {"expect_error", "none"}});
  }
  if (Chance(40)) {
    use_zero_pages_ ^= 1;
    steps_.push_back(Json{
        {"op", "ksm"}, {"set", {{"use_zero_pages", use_zero_pages_}}}, {"expect_error", "none"}});
  }
  if (Has(kGenBatches) && Chance(40)) {
    pages_to_scan_ = Chance(50) ? SeveralBatches() : WholePassBatch();
    steps_.push_back(Json{
        {"op", "ksm"}, {"set", {{"pages_to_scan", pages_to_scan_}}}, {"expect_error", "none"}});
  }
}

}  // namespace gen_internal

namespace {
constexpr std::array<std::pair<const char*, uint32_t>, 13> kFeatureNames = {{
    {"locked", kGenLocked},
    {"fork", kGenFork},
    {"migrate", kGenMigrate},
    {"swap", kGenSwap},
    {"pin", kGenPin},
    {"hotplug", kGenHotplug},
    {"batches", kGenBatches},
    {"deepfork", kGenDeepFork},
    {"zero", kGenZero},
    {"swapin", kGenSwapIn},
    {"knobs", kGenKnobs},
    {"smartscan", kGenSmartScan},
    {"prctl", kGenPrctl},
}};
}  // namespace

std::optional<uint32_t> ParseGenFeatures(std::string_view text, std::string* error) {
  uint32_t set = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view name = text.substr(pos, comma - pos);
    pos = comma + 1;
    if (name == "all") {
      set |= kGenAll;
      continue;
    }
    if (name == "classic") {
      set |= kGenClassic;
      continue;
    }
    auto it = std::find_if(kFeatureNames.begin(), kFeatureNames.end(),
                           [&](const auto& f) { return name == f.first; });
    if (it == kFeatureNames.end()) {
      std::string known = "all, classic";
      for (const auto& f : kFeatureNames) {
        known += ", ";
        known += f.first;
      }
      *error = fmt::format("unknown feature '{}'; known: {}", name, known);
      return std::nullopt;
    }
    set |= it->second;
  }
  return set;
}

std::string GenFeatureNames(uint32_t features) {
  if (features == kGenAll) return "all";
  if (features == kGenClassic) return "classic";
  std::string out;
  for (const auto& f : kFeatureNames)
    if (features & f.second) {
      if (!out.empty()) out += ',';
      out += f.first;
    }
  return out.empty() ? "none" : out;
}

}  // namespace ksmsim::workloads
