// Turns a workload into the oracle's flat action list. The host has validated the workload
// with `ksmsim validate`'s parser (tools/oracle/host/admit.cc) before the guest gets it, so
// this file checks no field names, types or ranges: it refuses only what the kernel oracle
// cannot run (docs/ORACLE.md "Limitations"), and a malformed value it meets anyway throws
// nlohmann's exception, which the guest reports as fatal.
#include "tools/oracle/guest/plan.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "sim/hash.h"

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

// Steps of a JSON step list with repeat expanded (saturating).
uint64_t FlatCount(const Json& steps) {
  uint64_t n = 0;
  for (const Json& s : steps) {
    bool repeat = s.at("op") == "repeat";
    n = SatAdd(n, repeat ? SatMul(s.at("times").get<uint64_t>(), FlatCount(s.at("steps"))) : 1);
  }
  return n;
}

uint64_t U64(const Json& obj, const char* field, uint64_t def) {
  return obj.contains(field) ? obj.at(field).get<uint64_t>() : def;
}

std::string Str(const Json& obj, const char* field) {
  return obj.contains(field) ? obj.at(field).get<std::string>() : "";
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

  void Steps(const Json& steps, const std::string& where) {
    for (size_t i = 0; i < steps.size(); ++i) {
      Step(steps[i], where + "[" + std::to_string(i) + "]");
    }
  }

 private:
  void Step(const Json& s, const std::string& where) {
    std::string op = s.at("op").get<std::string>();
    if (op == "repeat") {
      uint64_t times = s.at("times").get<uint64_t>();
      uint64_t body = FlatCount(s.at("steps"));
      if (SatAdd(step_, SatMul(times, body)) > kMaxActions) {
        Limitation(where, "it runs at most " + std::to_string(kMaxActions) +
                              " steps with repeat expanded");
      }
      // A body of empty repeats plans nothing: plan it once instead of `times` times.
      if (body == 0) times = std::min<uint64_t>(times, 1);
      for (uint64_t t = 0; t < times; ++t) Steps(s.at("steps"), where + ".steps");
      return;
    }
    if (step_ >= kMaxActions) {
      Limitation(where,
                 "it runs at most " + std::to_string(kMaxActions) + " steps with repeat expanded");
    }
    Action a;
    a.step = step_++;
    a.op = op;
    a.path = where;
    a.label = Str(s, "label");
    if (op == "spawn") {
      a.kind = ActionKind::kSpawn;
      std::string name = Str(s, "proc");
      if (procs_.count(name)) {
        Limitation(where + ".proc", "process \"" + name + "\" already exists" + kNamesAhead);
      }
      a.node = static_cast<int>(U64(s, "node", 0));
      a.proc = NewProc(name);
    } else if (op == "fork") {
      a.kind = ActionKind::kFork;
      ProcState& parent = Proc(s, where);
      a.proc = parent.id;
      std::string child = Str(s, "child");
      if (procs_.count(child)) {
        Limitation(where + ".child", "process \"" + child + "\" already exists" + kNamesAhead);
      }
      ProcState copy = parent;
      a.child = NewProc(child);
      copy.id = a.child;
      procs_[child] = copy;
    } else if (op == "exit") {
      a.kind = ActionKind::kExit;
      a.proc = Proc(s, where).id;
      procs_.erase(plan_.proc_names[a.proc]);
    } else if (op == "mmap") {
      a.kind = ActionKind::kMmap;
      ProcState& p = Proc(s, where);
      a.proc = p.id;
      a.region = Str(s, "region");
      if (p.regions.count(a.region)) {
        Limitation(where + ".region", "region \"" + a.region + "\" already exists" + kNamesAhead);
      }
      a.pages = U64(s, "pages", 0);
      a.node = s.contains("node") ? static_cast<int>(U64(s, "node", 0)) : -1;
      a.locked = s.contains("locked") && s.at("locked").get<bool>();
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
    } else if (op == "munmap") {
      a.kind = ActionKind::kMunmap;
      RegionState& r = Range(s, where, a, /*need_mapped=*/false);
      r.Unmap(a.region_first, a.region_first + a.pages);
      if (r.FirstUnmapped(0, r.pages) == 0 && r.unmapped.begin()->second >= r.pages) {
        procs_[plan_.proc_names[a.proc]].regions.erase(a.region);
      }
    } else if (op == "madvise") {
      a.kind = ActionKind::kMadvise;
      Range(s, where, a, true);
      std::string adv = Str(s, "advice");
      a.advice = adv == "unmergeable" ? Advice::kUnmergeable
                 : adv == "dontneed"  ? Advice::kDontneed
                 : adv == "pageout"   ? Advice::kPageout
                                      : Advice::kMergeable;
    } else if (op == "write") {
      a.kind = ActionKind::kWrite;
      Range(s, where, a, true);
      Data(s.at("data"), a);
    } else if (op == "read" || op == "verify" || op == "pin" || op == "unpin") {
      a.kind = op == "read"     ? ActionKind::kRead
               : op == "verify" ? ActionKind::kVerify
               : op == "pin"    ? ActionKind::kPin
                                : ActionKind::kUnpin;
      Range(s, where, a, true);
    } else if (op == "migrate") {
      a.kind = ActionKind::kMigrate;
      Range(s, where, a, true);
      a.node = static_cast<int>(U64(s, "node", 0));
    } else if (op == "offline" || op == "online") {
      a.kind = op == "offline" ? ActionKind::kOffline : ActionKind::kOnline;
      a.node = static_cast<int>(U64(s, "node", 0));
      a.block = static_cast<int>(U64(s, "block", 0));
      a.expect_error = Str(s, "expect_error");
      plan_.uses_hotplug = true;
    } else if (op == "ksm") {
      a.kind = ActionKind::kKsm;
      a.knobs = Knobs(s.at("set"));
      a.expect_error = Str(s, "expect_error");
    } else if (op == "wait") {
      a.kind = s.contains("ms") ? ActionKind::kWaitMs : ActionKind::kWaitFullScans;
      a.amount = s.contains("ms") ? U64(s, "ms", 0) : U64(s, "full_scans", 0);
    } else if (op == "expect") {
      a.kind = ActionKind::kExpect;
      a.expect = Json::object();
      if (s.contains("ksm")) a.expect["ksm"] = s.at("ksm");
      if (s.contains("vmstat")) a.expect["vmstat"] = s.at("vmstat");
      if (s.contains("procs")) {
        for (const auto& [name, c] : s.at("procs").items()) {
          if (!procs_.count(name)) {
            Limitation(where + ".procs." + name, "no live process \"" + name + "\"" + kNamesAhead);
          }
        }
        a.expect["procs"] = s.at("procs");
      }
    } else {
      a.kind = ActionKind::kSnapshot;  // "snapshot": validate knows no other op
    }
    plan_.actions.push_back(std::move(a));
  }

  int NewProc(const std::string& name) {
    int id = static_cast<int>(plan_.proc_names.size());
    plan_.proc_names.push_back(name);
    procs_[name].id = id;
    return id;
  }

  ProcState& Proc(const Json& s, const std::string& where) {
    std::string name = Str(s, "proc");
    auto it = procs_.find(name);
    if (it == procs_.end()) {
      Limitation(where + ".proc", "no live process \"" + name + "\"" + kNamesAhead);
    }
    return it->second;
  }

  RegionState& Range(const Json& s, const std::string& where, Action& a, bool need_mapped) {
    ProcState& p = Proc(s, where);
    a.proc = p.id;
    a.region = Str(s, "region");
    auto it = p.regions.find(a.region);
    if (it == p.regions.end()) {
      Limitation(where + ".region", "no region \"" + a.region + "\"" + kNamesAhead);
    }
    RegionState& r = it->second;
    uint64_t first = 0, end = r.pages;
    if (s.contains("range")) {
      first = s.at("range").at(0).get<uint64_t>();
      end = s.at("range").at(1).get<uint64_t>();
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

  void Data(const Json& d, Action& a) {
    const std::string k = d.begin().key();
    const Json& v = d.begin().value();
    if (k == "fill") {
      a.data.kind = DataKind::kFill;
      a.data.byte = static_cast<uint8_t>(v.get<uint64_t>());
    } else if (k == "unique") {
      a.data.kind = DataKind::kUnique;
      a.data.first_n = unique_n_;
      unique_n_ += a.pages;
    } else if (k == "key") {
      a.data.kind = DataKind::kKey;
      a.data.key = v.get<std::string>();
    } else if (k == "cycle" || k == "pool") {
      a.data.kind = k == "cycle" ? DataKind::kCycle : DataKind::kPool;
      a.data.k = v.get<uint64_t>();
      if (k == "pool") {
        a.data.first_n = pool_n_;
        pool_n_ += a.pages;
      }
    } else {  // "patch"
      a.data.kind = DataKind::kPatch;
      a.data.offset = static_cast<uint16_t>(v.at("offset").get<uint64_t>());
      a.data.byte = static_cast<uint8_t>(v.at("value").get<uint64_t>());
    }
  }

  void Note(const Action& a) {
    plan_.max_pages_per_action = std::max(plan_.max_pages_per_action, a.pages);
  }

 public:
  static std::vector<std::pair<std::string, Json>> Knobs(const Json& set) {
    std::vector<std::pair<std::string, Json>> out;
    for (const auto& [k, v] : set.items()) out.emplace_back(k, v);
    return out;
  }

 private:
  Plan& plan_;
  std::map<std::string, ProcState> procs_;
  uint64_t step_ = 0;
  uint64_t pool_n_ = 0;
  uint64_t unique_n_ = 0;
};

}  // namespace

Plan MakePlan(const Json& w) {
  Plan plan;
  plan.name = Str(w, "name");
  plan.seed = U64(w, "seed", 0);
  if (w.contains("kernel")) plan.kernel = Str(w, "kernel");
  if (plan.kernel != "6.1" && plan.kernel != "6.12") {
    Limitation("kernel",
               "it runs Debian's Linux 6.1 and 6.12, profiles \"6.1\" and \"6.12\" only (got \"" +
                   plan.kernel + "\")");
  }
  plan.node_mib = {1024};
  if (w.contains("machine")) {
    const Json& m = w.at("machine");
    if (m.contains("nodes")) {
      plan.node_mib.clear();
      for (const Json& node : m.at("nodes")) plan.node_mib.push_back(U64(node, "memory_mib", 0));
    }
    plan.swap_mib = U64(m, "swap_mib", 0);
    plan.block_mib = U64(m, "memory_block_mib", 128);
    if (plan.block_mib != 128) {
      Limitation("machine.memory_block_mib",
                 "its x86-64 guest has 128 MiB memory blocks only (got " +
                     std::to_string(plan.block_mib) + ")");
    }
  }
  if (w.contains("ksm")) plan.initial_knobs = Planner::Knobs(w.at("ksm"));
  Planner planner(plan);
  planner.Steps(w.at("steps"), "steps");
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
