// Turns a workload into the oracle's flat action list. The workload comes typed from
// `ksmsim validate`'s parser (workloads/parse.h; in the guest too), so this file checks no
// field names, types or ranges: it refuses only what the kernel oracle cannot run
// (docs/ORACLE.md "Limitations").
#include "tools/oracle/guest/plan.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "sim/hash.h"
#include "workloads/counters.h"
#include "workloads/ops.h"

namespace ksmsim::oracle {
namespace {

using sim::Fnv1a64;
using sim::Mix64;

// Every refusal of the planner: something `ksmsim validate` accepts and the simulator
// runs, but the kernel oracle cannot.
[[noreturn]] void Limitation(const std::string& where, const std::string& what) {
  throw PlanError(where + ": a limitation of the kernel oracle: " + what);
}

// The oracle's own bound on the plan (each action is a few hundred bytes here and a round
// trip to the guest there).
constexpr uint64_t kMaxActions = 1'000'000;

uint64_t SatAdd(uint64_t a, uint64_t b) { return a > ~uint64_t{0} - b ? ~uint64_t{0} : a + b; }
uint64_t SatMul(uint64_t a, uint64_t b) {
  return a != 0 && b > ~uint64_t{0} / a ? ~uint64_t{0} : a * b;
}

using workloads::FlattenedSize;
using workloads::Step;

std::string ExpectErrorText(const std::optional<workloads::ExpectedError>& e) {
  return e ? std::string(workloads::ExpectedErrorName(*e)) : "";
}

std::vector<std::pair<std::string, Json>> Knobs(const workloads::KnobList& set) {
  std::vector<std::pair<std::string, Json>> out;
  for (const auto& [k, v] : set) {
    // advisor_mode is written as its string ("none", "scan-time").
    if (k == workloads::kAdvisorMode)
      out.emplace_back(k, std::string(workloads::AdvisorModeName(v)));
    else
      out.emplace_back(k, v);
  }
  return out;
}

Json CountersJson(const workloads::CounterMap& m) {
  Json o = Json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

struct RegionState {
  uint64_t addr = 0;
  uint64_t pages = 0;
  std::map<uint64_t, uint64_t> unmapped;  // [first, end) page ranges munmap'd, disjoint

  // Marks [first, end) unmapped, merging with the ranges it touches.
  void Unmap(uint64_t first, uint64_t end) {
    auto it = unmapped.upper_bound(first);
    if (it != unmapped.begin() && std::prev(it)->second >= first) --it;
    while (it != unmapped.end() && it->first <= end) {
      first = std::min(first, it->first);
      end = std::max(end, it->second);
      it = unmapped.erase(it);
    }
    unmapped[first] = end;
  }
  // The first unmapped page in [first, end), or end.
  uint64_t FirstUnmapped(uint64_t first, uint64_t end) const {
    auto it = unmapped.upper_bound(first);
    if (it != unmapped.begin() && std::prev(it)->second > first) return first;
    return it != unmapped.end() && it->first < end ? it->first : end;
  }
};

struct ProcState {
  int id = -1;
  uint64_t next_addr = kFirstRegionAddress;
  std::map<std::string, RegionState> regions;
};

// The names a step uses must exist when it runs: validate follows them through at most 64
// repetitions of a repeat (the simulator reports the rest at run time), the planner through
// all of them, and cannot plan a step whose names do not resolve.
constexpr const char* kNamesAhead = " (the oracle resolves every name before the run)";

class Planner {
 public:
  explicit Planner(Plan& plan) : plan_(plan) {}

  void Steps(const std::vector<Step>& steps) {
    for (const Step& s : steps) PlanStep(s);
  }

 private:
  void PlanStep(const Step& s) {
    const std::string& where = s.path;
    if (const auto* repeat = s.get_if<workloads::RepeatStep>()) {
      uint64_t times = repeat->times;
      uint64_t body = FlattenedSize(repeat->steps);
      if (SatAdd(step_, SatMul(times, body)) > kMaxActions) {
        Limitation(where, "it runs at most " + std::to_string(kMaxActions) +
                              " steps with repeat expanded");
      }
      // A body of empty repeats plans nothing: plan it once instead of `times` times.
      if (body == 0) times = std::min<uint64_t>(times, 1);
      for (uint64_t t = 0; t < times; ++t) Steps(repeat->steps);
      return;
    }
    if (step_ >= kMaxActions) {
      Limitation(where,
                 "it runs at most " + std::to_string(kMaxActions) + " steps with repeat expanded");
    }
    Action a;
    a.step = step_++;
    a.op = std::string(workloads::OpName(s.op()));
    a.path = where;
    a.label = s.label;
    std::visit([&](const auto& payload) { PlanOp(payload, where, a); }, s.payload);
    plan_.actions.push_back(std::move(a));
  }

  // ---- one overload per op ---------------------------------------------------------------

  void PlanOp(const workloads::SpawnStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kSpawn;
    if (procs_.count(s.proc)) {
      Limitation(where + ".proc", "process \"" + s.proc + "\" already exists" + kNamesAhead);
    }
    a.node = static_cast<int>(s.node.value_or(0));
    a.proc = NewProc(s.proc);
  }

  void PlanOp(const workloads::ForkStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kFork;
    ProcState& parent = Proc(s.proc, where);
    a.proc = parent.id;
    if (procs_.count(s.child)) {
      Limitation(where + ".child", "process \"" + s.child + "\" already exists" + kNamesAhead);
    }
    ProcState copy = parent;
    a.child = NewProc(s.child);
    copy.id = a.child;
    procs_[s.child] = copy;
  }

  void PlanOp(const workloads::PrctlStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kPrctl;
    a.proc = Proc(s.proc, where).id;
    a.amount = s.memory_merge;
  }

  void PlanOp(const workloads::ExitStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kExit;
    a.proc = Proc(s.proc, where).id;
    procs_.erase(plan_.proc_names[a.proc]);
  }

  void PlanOp(const workloads::MmapStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kMmap;
    ProcState& p = Proc(s.proc, where);
    a.proc = p.id;
    a.region = s.region;
    if (p.regions.count(a.region)) {
      Limitation(where + ".region", "region \"" + a.region + "\" already exists" + kNamesAhead);
    }
    a.pages = s.pages.value_or(0);
    a.node = s.node ? static_cast<int>(*s.node) : -1;
    a.locked = s.locked;
    a.addr = p.next_addr;
    constexpr uint64_t kTaskSize = 0x7ffffffff000ULL;  // as validate: addresses never reused
    if (a.pages > (kTaskSize - std::min(kTaskSize, a.addr)) / kPageSize) {
      Limitation(where + ".pages",
                 "the region does not fit in the process's 128 TiB address space" +
                     std::string(kNamesAhead));
    }
    uint64_t size = a.pages * kPageSize;
    p.next_addr = a.addr + (size + kRegionAlign - 1) / kRegionAlign * kRegionAlign + kRegionAlign;
    p.regions[a.region] = RegionState{a.addr, a.pages, {}};
    Note(a);
  }

  void PlanOp(const workloads::MunmapStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kMunmap;
    RegionState& r = Range(s, where, a, /*need_mapped=*/false);
    r.Unmap(a.region_first, a.region_first + a.pages);
    if (r.FirstUnmapped(0, r.pages) == 0 && r.unmapped.begin()->second >= r.pages) {
      procs_[plan_.proc_names[a.proc]].regions.erase(a.region);
    }
  }

  void PlanOp(const workloads::MadviseStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kMadvise;
    Range(s, where, a, true);
    a.advice = s.advice;
  }

  void PlanOp(const workloads::WriteStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kWrite;
    Range(s, where, a, true);
    Data(s.data, a);
  }

  void PlanOp(const workloads::ReadStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kRead;
    Range(s, where, a, true);
  }

  void PlanOp(const workloads::VerifyStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kVerify;
    Range(s, where, a, true);
  }

  void PlanOp(const workloads::PinStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kPin;
    Range(s, where, a, true);
  }

  void PlanOp(const workloads::UnpinStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kUnpin;
    Range(s, where, a, true);
  }

  void PlanOp(const workloads::MigrateStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kMigrate;
    Range(s, where, a, true);
    a.node = static_cast<int>(s.node);
  }

  void PlanOp(const workloads::OfflineStep& s, const std::string&, Action& a) {
    a.kind = ActionKind::kOffline;
    Hotplug(s, a);
  }

  void PlanOp(const workloads::OnlineStep& s, const std::string&, Action& a) {
    a.kind = ActionKind::kOnline;
    Hotplug(s, a);
  }

  void PlanOp(const workloads::KsmStep& s, const std::string&, Action& a) {
    a.kind = ActionKind::kKsm;
    a.knobs = Knobs(s.set);
    a.expect_error = ExpectErrorText(s.expect_error);
  }

  void PlanOp(const workloads::WaitStep& s, const std::string&, Action& a) {
    a.kind = s.ms ? ActionKind::kWaitMs : ActionKind::kWaitFullScans;
    a.amount = s.ms ? *s.ms : s.full_scans.value_or(0);
  }

  void PlanOp(const workloads::ExpectStep& s, const std::string& where, Action& a) {
    a.kind = ActionKind::kExpect;
    a.expect = Json::object();
    if (!s.ksm.empty()) a.expect["ksm"] = CountersJson(s.ksm);
    if (!s.vmstat.empty()) a.expect["vmstat"] = CountersJson(s.vmstat);
    if (!s.procs.empty()) {
      Json procs = Json::object();
      for (const auto& [name, counters] : s.procs) {
        if (!procs_.count(name)) {
          Limitation(where + ".procs." + name, "no live process \"" + name + "\"" + kNamesAhead);
        }
        procs[name] = CountersJson(counters);
      }
      a.expect["procs"] = procs;
    }
  }

  void PlanOp(const workloads::SnapshotStep&, const std::string&, Action& a) {
    a.kind = ActionKind::kSnapshot;
  }

  void PlanOp(const workloads::RepeatStep&, const std::string&, Action&) {}  // expanded above
  // The 2009 /dev/ksm driver's ioctls: no kernel the oracle boots has the driver (the
  // workload's kernel "2009" is refused above as well).
  template <class S>
  requires(requires(const S& s) { s.fd; }) void PlanOp(const S&, const std::string& where,
                                                       Action&) {
    Limitation(where + ".op", "no kernel it boots has the 2009 /dev/ksm driver");
  }

  void Hotplug(const workloads::HotplugFields& s, Action& a) {
    a.node = static_cast<int>(s.node);
    a.block = static_cast<int>(s.block);
    a.expect_error = ExpectErrorText(s.expect_error);
    plan_.uses_hotplug = true;
  }

  int NewProc(const std::string& name) {
    int id = static_cast<int>(plan_.proc_names.size());
    plan_.proc_names.push_back(name);
    procs_[name].id = id;
    return id;
  }

  ProcState& Proc(const std::string& name, const std::string& where) {
    auto it = procs_.find(name);
    if (it == procs_.end()) {
      Limitation(where + ".proc", "no live process \"" + name + "\"" + kNamesAhead);
    }
    return it->second;
  }

  RegionState& Range(const workloads::RangeFields& s, const std::string& where, Action& a,
                     bool need_mapped) {
    ProcState& p = Proc(s.proc, where);
    a.proc = p.id;
    a.region = s.region;
    auto it = p.regions.find(a.region);
    if (it == p.regions.end()) {
      Limitation(where + ".region", "no region \"" + a.region + "\"" + kNamesAhead);
    }
    RegionState& r = it->second;
    uint64_t first = 0, end = r.pages;
    if (s.range) {
      first = s.range->first;
      end = s.range->end;
      if (end > r.pages) {
        Limitation(where + ".range", "the range ends past the region's " + std::to_string(r.pages) +
                                         " pages" + kNamesAhead);
      }
    }
    if (need_mapped) {
      if (uint64_t i = r.FirstUnmapped(first, end); i < end) {
        Limitation(where + ".range", "page " + std::to_string(i) + " of region \"" + a.region +
                                         "\" is unmapped, and a process of the guest cannot "
                                         "touch unmapped memory");
      }
    }
    a.addr = r.addr + first * kPageSize;
    a.pages = end - first;
    a.region_first = first;
    Note(a);
    return r;
  }

  void Data(const workloads::DataSpec& d, Action& a) {
    using Kind = workloads::DataSpec::Kind;
    switch (d.kind) {
      case Kind::kFill:
        a.data.kind = DataKind::kFill;
        a.data.byte = d.fill;
        break;
      case Kind::kUnique:
        a.data.kind = DataKind::kUnique;
        a.data.first_n = unique_n_;
        unique_n_ += a.pages;
        break;
      case Kind::kKey:
        a.data.kind = DataKind::kKey;
        a.data.key = d.key;
        break;
      case Kind::kCycle:
        a.data.kind = DataKind::kCycle;
        a.data.k = d.k;
        break;
      case Kind::kPool:
        a.data.kind = DataKind::kPool;
        a.data.k = d.k;
        a.data.first_n = pool_n_;
        pool_n_ += a.pages;
        break;
      case Kind::kPatch:
        a.data.kind = DataKind::kPatch;
        a.data.offset = d.patch_offset;
        a.data.byte = d.patch_value;
        break;
    }
  }

  void Note(const Action& a) {
    plan_.max_pages_per_action = std::max(plan_.max_pages_per_action, a.pages);
  }

  Plan& plan_;
  std::map<std::string, ProcState> procs_;
  uint64_t step_ = 0;
  uint64_t pool_n_ = 0;
  uint64_t unique_n_ = 0;
};

}  // namespace

Plan MakePlan(const workloads::Workload& w) {
  Plan plan;
  plan.name = w.name;
  plan.seed = w.seed;
  plan.kernel = std::string(workloads::KernelProfileName(w.kernel));
  if (plan.kernel != "6.1" && plan.kernel != "6.12") {
    Limitation("kernel",
               "it runs Debian's Linux 6.1 and 6.12, profiles \"6.1\" and \"6.12\" only (got \"" +
                   plan.kernel + "\")");
  }
  plan.node_mib.clear();
  for (const workloads::NodeSpec& node : w.machine.nodes) plan.node_mib.push_back(node.memory_mib);
  plan.swap_mib = w.machine.swap_mib;
  plan.block_mib = w.machine.memory_block_mib;
  if (plan.block_mib != 128) {
    Limitation("machine.memory_block_mib", "its x86-64 guest has 128 MiB memory blocks only (got " +
                                               std::to_string(plan.block_mib) + ")");
  }
  plan.initial_knobs = Knobs(w.ksm);
  Planner planner(plan);
  planner.Steps(w.steps);
  if (plan.uses_hotplug) {
    for (size_t i = 0; i < plan.node_mib.size(); ++i) {
      if (plan.node_mib[i] % plan.block_mib != 0) {
        Limitation("machine.nodes[" + std::to_string(i) + "].memory_mib",
                   "with offline/online steps every node's memory is a hot-plugged DIMM of "
                   "128 MiB blocks, so a multiple of 128 MiB (got " +
                       std::to_string(plan.node_mib[i]) + ")");
      }
    }
  }
  return plan;
}

PageData PageDataFor(const Plan& plan, const Action& a, uint64_t k) {
  PageData p;
  const DataSpec& d = a.data;
  switch (d.kind) {
    case DataKind::kFill:
      p.kind = PageKind::kFill;
      p.byte = d.byte;
      break;
    case DataKind::kPatch:
      p.kind = PageKind::kPatch;
      p.byte = d.byte;
      p.offset = d.offset;
      break;
    case DataKind::kKey:
      p.kind = PageKind::kGen;
      p.seed = Fnv1a64(d.key);
      break;
    case DataKind::kCycle: {
      uint64_t i = a.region_first + k;
      p.kind = PageKind::kGen;
      p.seed = Fnv1a64("cycle/" + std::to_string(d.k) + "/" + std::to_string(i % d.k));
      break;
    }
    case DataKind::kPool: {
      uint64_t n = d.first_n + k;
      uint64_t j = Mix64(Mix64(plan.seed ^ Fnv1a64("pool")) + n) % d.k;
      p.kind = PageKind::kGen;
      p.seed = Fnv1a64("pool/" + std::to_string(d.k) + "/" + std::to_string(j));
      break;
    }
    case DataKind::kUnique: {
      uint64_t n = d.first_n + k;
      p.kind = PageKind::kGen;
      p.seed = Mix64(Mix64(plan.seed ^ Fnv1a64("unique")) ^ Mix64(n));
      break;
    }
  }
  return p;
}

void GenPage(uint64_t seed, uint8_t* out) {
  for (uint64_t i = 0; i < kPageSize / 8; ++i) {
    uint64_t w = Mix64(seed + i);
    for (int b = 0; b < 8; ++b) out[i * 8 + b] = static_cast<uint8_t>(w >> (8 * b));
  }
}

const std::vector<std::string>& VmstatCounters() {
  static const std::vector<std::string> names = {"cow_ksm", "ksm_swpin_copy", "pswpin", "pswpout"};
  return names;
}

}  // namespace ksmsim::oracle
