// Following process and region names through the script (see parse_names.h).
#include "workloads/parse_names.h"

#include <fmt/format.h>

#include <limits>
#include <map>
#include <set>

#include "workloads/counters.h"
#include "workloads/parse_json.h"

namespace ksmsim::workloads {
namespace {

constexpr uint64_t k2MiB = uint64_t{2} << 20;
// A repeat whose body still changes which names exist after this many repetitions is
// followed no further; the simulator reports what remains at run time.
constexpr uint64_t kMaxFollowedRepetitions = 64;

uint64_t AlignUp2MiB(uint64_t bytes) { return (bytes + k2MiB - 1) / k2MiB * k2MiB; }

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

struct RegionState {
  std::optional<uint64_t> pages;  // unset when the mmap's pages field was invalid
  friend bool operator==(const RegionState&, const RegionState&) = default;
};

struct ProcState {
  std::map<std::string, RegionState> regions;
  uint64_t next_address = kFirstRegionAddress;  // where the next mmap places its region
};

struct NameState {
  std::map<std::string, ProcState> live;
  std::set<std::string> exited;
};

// Equal names (processes, their regions, exited names); addresses are not compared.
bool SameNames(const NameState& a, const NameState& b) {
  if (a.exited != b.exited || a.live.size() != b.live.size()) return false;
  for (auto ia = a.live.begin(), ib = b.live.begin(); ia != a.live.end(); ++ia, ++ib) {
    if (ia->first != ib->first || ia->second.regions != ib->second.regions) return false;
  }
  return true;
}

class NameChecker {
 public:
  explicit NameChecker(Reader& r) : r_(r) {}

  void Run(const std::vector<Step>& steps) {
    for (const Step& s : steps) RunStep(s);
  }

 private:
  void Report(const std::string& path, std::string message) {
    if (reported_.emplace(path, message).second) r_.Error(path, std::move(message));
  }

  std::string MissingProcess(const std::string& name) const {
    if (state_.exited.count(name) != 0) {
      return fmt::format("process \"{}\" has exited", name);
    }
    return fmt::format("no process \"{}\": no earlier step spawns or forks it", name);
  }

  ProcState* Proc(const std::string& path, const std::string& name) {
    if (name.empty()) return nullptr;  // already reported by the field parser
    auto it = state_.live.find(name);
    if (it != state_.live.end()) return &it->second;
    Report(JoinKey(path, "proc"), MissingProcess(name));
    return nullptr;
  }

  // The region the step names, after checking that its range fits; null if unknown.
  const RegionState* Region(const std::string& path, const RangeFields& s, ProcState* proc) {
    if (proc == nullptr || s.region.empty()) return nullptr;
    auto it = proc->regions.find(s.region);
    if (it == proc->regions.end()) {
      std::vector<std::string_view> names;
      for (const auto& [name, region] : proc->regions) names.push_back(name);
      Report(JoinKey(path, "region"),
             fmt::format("process \"{}\" has no region \"{}\"; {}", s.proc, s.region,
                         names.empty() ? std::string("it has no regions")
                                       : fmt::format("its regions: {}", JoinNames(names))));
      return nullptr;
    }
    const RegionState& region = it->second;
    if (s.range && region.pages && s.range->end > *region.pages) {
      Report(JoinKey(path, "range"),
             fmt::format("range [{}, {}) ends past region \"{}\" of process \"{}\", which has "
                         "{} pages (indices 0..{})",
                         s.range->first, s.range->end, s.region, s.proc, *region.pages,
                         *region.pages - 1));
      return nullptr;
    }
    return &region;
  }

  void RunStep(const Step& s) {
    std::visit([&](const auto& payload) { Run(s.path, payload); }, s.payload);
  }

  // ---- one overload per op (a new op does not compile until it says what names it uses) --

  void Run(const std::string& path, const SpawnStep& s) {
    if (s.proc.empty()) return;
    if (state_.live.count(s.proc) != 0) {
      Report(JoinKey(path, "proc"),
             fmt::format("process \"{}\" already exists; a name can be used again only "
                         "after its exit",
                         s.proc));
      return;
    }
    state_.live[s.proc] = ProcState{};
    state_.exited.erase(s.proc);
  }

  void Run(const std::string& path, const ForkStep& s) {
    ProcState* parent = Proc(path, s.proc);
    if (s.child.empty()) return;
    if (state_.live.count(s.child) != 0) {
      Report(JoinKey(path, "child"),
             fmt::format("process \"{}\" already exists; fork needs a new child name", s.child));
      return;
    }
    ProcState copy = parent != nullptr ? *parent : ProcState{};
    state_.live[s.child] = std::move(copy);
    state_.exited.erase(s.child);
  }

  void Run(const std::string& path, const PrctlStep& s) { Proc(path, s.proc); }

  void Run(const std::string& path, const ExitStep& s) {
    if (Proc(path, s.proc) != nullptr) {
      state_.live.erase(s.proc);
      state_.exited.insert(s.proc);
    }
  }

  void Run(const std::string& path, const MunmapStep& s) {
    ProcState* proc = Proc(path, s.proc);
    const RegionState* region = Region(path, s, proc);
    if (region == nullptr) return;
    bool whole =
        !s.range || (s.range->first == 0 && region->pages && s.range->end == *region->pages);
    if (whole) proc->regions.erase(s.region);
  }

  // madvise, write, read, verify, migrate, pin, unpin.
  void Run(const std::string& path, const RangeFields& s) { Region(path, s, Proc(path, s.proc)); }

  void Run(const std::string& path, const ExpectStep& s) {
    for (const auto& [name, counters] : s.procs) {
      if (state_.live.count(name) == 0) {
        Report(JoinKey(JoinKey(path, "procs"), name), MissingProcess(name));
      }
    }
  }

  // The 2009 driver's ioctls: the process must exist, and a registered region too; fd
  // names are the run's business (an fd the process has not opened is EBADF, as in Linux).
  template <class S>
  requires(requires(const S& s) { s.fd; }) void Run(const std::string& path, const S& s) {
    Proc(path, s.proc);
  }
  void Run(const std::string& path, const KsmRegisterMemoryRegionStep& s) {
    ProcState* proc = Proc(path, s.proc);
    if (proc == nullptr || s.region.empty() || proc->regions.count(s.region) != 0) return;
    Report(JoinKey(path, "region"),
           fmt::format("process \"{}\" has no region \"{}\"", s.proc, s.region));
  }
  void Run(const std::string&, const OfflineStep&) {}
  void Run(const std::string&, const OnlineStep&) {}
  void Run(const std::string&, const KsmStep&) {}
  void Run(const std::string&, const WaitStep&) {}
  void Run(const std::string&, const SnapshotStep&) {}

  void Run(const std::string& path, const MmapStep& s) {
    ProcState* proc = Proc(path, s.proc);
    if (proc == nullptr || s.region.empty()) return;
    if (proc->regions.count(s.region) != 0) {
      Report(JoinKey(path, "region"),
             fmt::format("region \"{}\" already exists in process \"{}\"; region names are "
                         "unique within a process",
                         s.region, s.proc));
      return;
    }
    proc->regions[s.region] = RegionState{s.pages};
    if (!s.pages) return;
    uint64_t bytes = *s.pages * kPageSize;
    uint64_t start = proc->next_address;
    if (start > kTaskSize || bytes > kTaskSize - start) {
      Report(JoinKey(path, "pages"),
             fmt::format("region \"{}\" of {} pages does not fit in the 128 TiB user address "
                         "space of process \"{}\": it would span {:#x}..{:#x}, past {:#x} "
                         "(regions are placed upward from {:#x} with 2 MiB gaps and addresses "
                         "are never reused)",
                         s.region, *s.pages, s.proc, start, SaturatingAdd(start, bytes), kTaskSize,
                         kFirstRegionAddress));
      return;
    }
    proc->next_address = start + AlignUp2MiB(bytes) + k2MiB;
  }

  void Run(const std::string& path, const RepeatStep& s) {
    for (uint64_t done = 0; done < s.times && done < kMaxFollowedRepetitions; ++done) {
      NameState before = state_;
      Run(s.steps);
      if (SameNames(before, state_)) {
        ExtrapolateAddresses(path, s, before, s.times - done - 1);
        return;
      }
    }
  }

  // Once a repetition leaves the names as they were, the rest repeat it exactly, except
  // that each may move processes' next region address further up: check where that ends.
  void ExtrapolateAddresses(const std::string& path, const RepeatStep& s, const NameState& before,
                            uint64_t remaining) {
    for (auto& [name, proc] : state_.live) {
      auto it = before.live.find(name);
      if (it == before.live.end() || proc.next_address <= it->second.next_address) continue;
      uint64_t step = proc.next_address - it->second.next_address;
      uint64_t extra = remaining != 0 && step > (std::numeric_limits<uint64_t>::max() / remaining)
                           ? std::numeric_limits<uint64_t>::max()
                           : step * remaining;
      uint64_t final_next = SaturatingAdd(proc.next_address, extra);
      if (final_next - k2MiB > AlignUp2MiB(kTaskSize)) {
        Report(path, fmt::format("repeating {} times exhausts the 128 TiB user address space of "
                                 "process \"{}\": each repetition maps {} MiB of new addresses "
                                 "(addresses are never reused)",
                                 s.times, name, step >> 20));
      }
      proc.next_address = final_next;
    }
  }

  Reader& r_;
  NameState state_;
  std::set<std::pair<std::string, std::string>> reported_;
};

}  // namespace

void CheckScriptNames(const std::vector<Step>& steps, Reader& reader) {
  NameChecker checker(reader);
  checker.Run(steps);
}

}  // namespace ksmsim::workloads
