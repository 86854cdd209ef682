#include "workloads/budget.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "fmt/format.h"

namespace ksmsim::workloads {

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kBytesPerEntry = 4096;    // a result entry (every counter, per process)
constexpr uint64_t kBytesPerOutcome = 512;   // an outcomes entry
constexpr uint64_t kBytesPerRegion = 1024;   // VMA, anon_vma, map entries
constexpr uint64_t kBaseBytes = 8ull << 20;  // machine, KSM, tables of an empty run

uint64_t Add(uint64_t a, uint64_t b) { return a > kMax - b ? kMax : a + b; }
uint64_t Mul(uint64_t a, uint64_t b) { return a != 0 && b > kMax / a ? kMax : a * b; }

class Estimator {
 public:
  Estimator(const Workload& w, uint64_t limit) : limit_(limit) {
    uint64_t mib = 0;
    for (const NodeSpec& n : w.machine.nodes) mib = Add(mib, n.memory_mib);
    // The frame directory: 8 bytes per 64 GiB of machine, plus one 256 KiB directory and
    // the swap records up to the touched pages (counted per page).
    total_ = Add(kBaseBytes, Mul(mib / 65536 + 1, 8));
  }

  void Walk(const std::vector<Step>& steps, uint64_t mult, uint64_t& index) {
    for (const Step& s : steps) {
      if (const RepeatStep* r = s.get_if<RepeatStep>()) {
        uint64_t body = FlattenedSize(r->steps);
        uint64_t first = index;
        Walk(r->steps, Mul(mult, r->times), index);
        index = Add(first, Mul(body, r->times));
        continue;
      }
      std::visit([&](const auto& payload) { Visit(payload, mult); }, s.payload);
      if (!result_.over_step && total_ > limit_) {
        result_.over_step = index;
        result_.over_op = s.op();
        result_.over_path = s.path;
        result_.over_bytes = total_;
      }
      index = Add(index, 1);
    }
  }

  HostEstimate Finish() {
    result_.bytes = total_;
    return result_;
  }

 private:
  struct Region {
    uint64_t cap = 0;      // the most pages it was ever mapped with
    uint64_t touched = 0;  // pages touched, summed over every step (saturating)
  };
  using Key = std::pair<std::string, std::string>;

  // Raises the running total by what region `key` now adds.
  void Touch(const Key& key, uint64_t pages) {
    Region& r = regions_[key];
    uint64_t before = std::min(r.cap, r.touched);
    r.touched = Add(r.touched, pages);
    uint64_t after = std::min(r.cap, r.touched);
    total_ = Add(total_, Mul(after - before, kHostBytesPerTouchedPage));
  }

  void Visit(const MmapStep& s, uint64_t mult) {
    Region& r = regions_[{s.proc, s.region}];
    if (s.pages && *s.pages > r.cap) {
      // A larger mapping under the same name: what was touched may now count more.
      uint64_t before = std::min(r.cap, r.touched);
      r.cap = *s.pages;
      total_ = Add(total_, Mul(std::min(r.cap, r.touched) - before, kHostBytesPerTouchedPage));
    }
    total_ = Add(total_, std::min(mult, uint64_t{1024}) * kBytesPerRegion);
  }

  // Pages the step touches: write, read, verify, pin.
  void TouchRange(const RangeFields& s, uint64_t mult) {
    Key key{s.proc, s.region};
    uint64_t pages = s.range ? s.range->size() : regions_[key].cap;
    Touch(key, Mul(pages, mult));
  }
  void Visit(const WriteStep& s, uint64_t mult) { TouchRange(s, mult); }
  void Visit(const ReadStep& s, uint64_t mult) { TouchRange(s, mult); }
  void Visit(const VerifyStep& s, uint64_t mult) { TouchRange(s, mult); }
  void Visit(const PinStep& s, uint64_t mult) { TouchRange(s, mult); }

  void Visit(const ForkStep& s, uint64_t mult) {
    // The child maps (and page-table-copies) what the parent touched.
    std::vector<std::pair<Key, Region>> parent;
    for (const auto& [key, r] : regions_)
      if (key.first == s.proc) parent.emplace_back(key, r);
    for (const auto& [key, r] : parent) {
      Key child{s.child, key.second};
      regions_[child].cap = std::max(regions_[child].cap, r.cap);
      Touch(child, Mul(std::min(r.cap, r.touched), mult));
    }
  }

  // A result entry.
  void Visit(const ExpectStep&, uint64_t mult) { total_ = Add(total_, Mul(mult, kBytesPerEntry)); }
  void Visit(const SnapshotStep&, uint64_t mult) {
    total_ = Add(total_, Mul(mult, kBytesPerEntry));
  }

  // An outcomes entry.
  void Visit(const KsmStep&, uint64_t mult) { total_ = Add(total_, Mul(mult, kBytesPerOutcome)); }
  void Visit(const OfflineStep&, uint64_t mult) {
    total_ = Add(total_, Mul(mult, kBytesPerOutcome));
  }
  void Visit(const OnlineStep&, uint64_t mult) {
    total_ = Add(total_, Mul(mult, kBytesPerOutcome));
  }

  // Nothing the estimate counts (repeat is walked above).
  // The 2009 driver's ioctls: an outcome each (the slots and rmap_items they lead to are
  // the size of the pages ksmd scans, which the writes have counted).
  template <class S>
  requires(requires(const S& s) { s.fd; }) void Visit(const S&, uint64_t mult) {
    total_ = Add(total_, Mul(mult, kBytesPerOutcome));
  }
  void Visit(const SpawnStep&, uint64_t) {}
  void Visit(const ExitStep&, uint64_t) {}
  void Visit(const MunmapStep&, uint64_t) {}
  void Visit(const MadviseStep&, uint64_t) {}
  void Visit(const PrctlStep&, uint64_t) {}
  void Visit(const MigrateStep&, uint64_t) {}
  void Visit(const UnpinStep&, uint64_t) {}
  void Visit(const WaitStep&, uint64_t) {}
  void Visit(const RepeatStep&, uint64_t) {}

  uint64_t limit_;
  uint64_t total_ = 0;
  std::map<Key, Region> regions_;
  HostEstimate result_;
};

}  // namespace

HostEstimate EstimateHostMemory(const Workload& workload, uint64_t limit_bytes) {
  Estimator e(workload, limit_bytes);
  uint64_t index = 0;
  e.Walk(workload.steps, 1, index);
  return e.Finish();
}

std::optional<uint64_t> HostMemAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kib = 0;
    if (fields >> kib) return Mul(kib, 1024);
  }
  return std::nullopt;
}

std::optional<std::string> CheckHostBudget(const Workload& workload, uint64_t max_memory_mib) {
  uint64_t limit = kMax;
  std::string what;
  if (std::optional<uint64_t> avail = HostMemAvailable()) {
    limit = *avail;
    what =
        fmt::format("the {} MiB of memory available (MemAvailable, /proc/meminfo)", *avail >> 20);
  }
  if (max_memory_mib != 0 && Mul(max_memory_mib, 1 << 20) < limit) {
    limit = Mul(max_memory_mib, 1 << 20);
    what = fmt::format("the limit of {} MiB (--max-memory)", max_memory_mib);
  }
  HostEstimate e = EstimateHostMemory(workload, limit);
  if (!e.over_step) return std::nullopt;
  return fmt::format(
      "step {} ({}, {}) needs about {} MiB of host memory by the estimate of what the workload "
      "touches up to there, more than {}; nothing was run",
      *e.over_step, OpName(e.over_op), e.over_path, (e.over_bytes + (1 << 20) - 1) >> 20, what);
}

}  // namespace ksmsim::workloads
