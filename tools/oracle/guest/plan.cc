// Turns a workload into the oracle's flat action list, validating as it goes.
#include "tools/oracle/guest/plan.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include "sim/hash.h"

namespace ksmsim::oracle {
namespace {

using sim::Fnv1a64;
using sim::Mix64;

const std::vector<std::string>& KsmKnobs() {
  static const std::vector<std::string> knobs = {"run",
                                                 "pages_to_scan",
                                                 "sleep_millisecs",
                                                 "max_page_sharing",
                                                 "merge_across_nodes",
                                                 "use_zero_pages",
                                                 "stable_node_chains_prune_millisecs"};
  return knobs;
}

[[noreturn]] void Fail(const std::string& where, const std::string& what) {
  throw PlanError(where + ": " + what);
}

// The limits of `ksmsim validate` (workloads/parse*.cc), so that both refuse the same
// sizes, and the oracle's own bound on the plan (each action is a few hundred bytes here
// and a round trip to the guest there).
constexpr uint64_t kMaxMib = uint64_t{1} << 32;                     // 4 PiB in all
constexpr uint64_t kMaxSwapMib = (uint64_t{0xffffffff} - 1) / 256;  // 32-bit swap slots
constexpr uint64_t kMaxRegionPages = uint64_t{1} << 35;             // 128 TiB
constexpr uint64_t kMaxWaitMs = 1'000'000'000'000;                  // ~31 years
constexpr uint64_t kMaxCount = 0xffffffff;                          // times, full_scans
constexpr uint64_t kMaxActions = 1'000'000;

uint64_t SatAdd(uint64_t a, uint64_t b) { return a > ~uint64_t{0} - b ? ~uint64_t{0} : a + b; }
uint64_t SatMul(uint64_t a, uint64_t b) {
  return a != 0 && b > ~uint64_t{0} / a ? ~uint64_t{0} : a * b;
}

// Steps of a JSON step list with repeat expanded (saturating; malformed steps count 1).
uint64_t FlatCount(const Json& steps) {
  if (!steps.is_array()) return 0;
  uint64_t n = 0;
  for (const Json& s : steps) {
    bool repeat = s.is_object() && s.contains("op") && s.at("op") == "repeat" &&
                  s.contains("times") && s.at("times").is_number_unsigned() && s.contains("steps");
    n = SatAdd(n, repeat ? SatMul(s.at("times").get<uint64_t>(), FlatCount(s.at("steps"))) : 1);
  }
  return n;
}

void CheckFields(const Json& obj, const std::string& where,
                 std::initializer_list<const char*> allowed) {
  if (!obj.is_object()) Fail(where, "must be an object");
  for (const auto& item : obj.items()) {
    const std::string& k = item.key();  // clang 14 cannot capture a structured binding
    // Every op accepts "label", as the simulator's parser does (required only for snapshot).
    bool ok = k == "label" ||
              std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
    if (!ok) Fail(where + "." + k, "unknown field");
  }
}

uint64_t GetU64(const Json& obj, const char* field, const std::string& where, bool required,
                uint64_t def) {
  if (!obj.contains(field)) {
    if (required) Fail(where, std::string("missing field \"") + field + "\"");
    return def;
  }
  const Json& v = obj.at(field);
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    Fail(where + "." + field, "must be a non-negative integer");
  }
  return v.get<uint64_t>();
}

// GetU64 with validate's upper bound.
uint64_t GetU64Max(const Json& obj, const char* field, const std::string& where, bool required,
                   uint64_t def, uint64_t max, const char* why) {
  uint64_t v = GetU64(obj, field, where, required, def);
  if (v > max) Fail(where + "." + field, "at most " + std::to_string(max) + " (" + why + ")");
  return v;
}

std::string GetString(const Json& obj, const char* field, const std::string& where, bool required) {
  if (!obj.contains(field)) {
    if (required) Fail(where, std::string("missing field \"") + field + "\"");
    return "";
  }
  if (!obj.at(field).is_string()) Fail(where + "." + field, "must be a string");
  return obj.at(field).get<std::string>();
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

class Planner {
 public:
  explicit Planner(Plan& plan) : plan_(plan) {}

  void Steps(const Json& steps, const std::string& where) {
    if (!steps.is_array()) Fail(where, "must be an array");
    for (size_t i = 0; i < steps.size(); ++i) {
      Step(steps[i], where + "[" + std::to_string(i) + "]");
    }
  }

 private:
  void Step(const Json& s, const std::string& where) {
    if (!s.is_object()) Fail(where, "a step must be an object");
    std::string op = GetString(s, "op", where, true);
    if (op == "repeat") {
      CheckFields(s, where, {"op", "times", "steps"});
      uint64_t times = GetU64Max(s, "times", where, true, 0, kMaxCount, "repetitions");
      if (!s.contains("steps")) Fail(where, "missing field \"steps\"");
      if (SatAdd(step_, SatMul(times, FlatCount(s.at("steps")))) > kMaxActions) {
        Fail(where, "the kernel oracle runs at most " + std::to_string(kMaxActions) +
                        " steps with repeat expanded");
      }
      // A body of empty repeats plans nothing: check it once instead of `times` times.
      if (FlatCount(s.at("steps")) == 0) times = std::min<uint64_t>(times, 1);
      for (uint64_t t = 0; t < times; ++t) Steps(s.at("steps"), where + ".steps");
      return;
    }
    if (step_ >= kMaxActions) {
      Fail(where, "the kernel oracle runs at most " + std::to_string(kMaxActions) +
                      " steps with repeat expanded");
    }
    Action a;
    a.step = step_++;
    a.op = op;
    a.path = where;
    std::string at = "step " + std::to_string(a.step) + " (" + op + ") at " + where;
    if (s.contains("label")) a.label = GetString(s, "label", at, false);
    if (op == "spawn") {
      CheckFields(s, at, {"op", "proc", "node"});
      a.kind = ActionKind::kSpawn;
      std::string name = GetString(s, "proc", at, true);
      if (procs_.count(name)) Fail(at, "process \"" + name + "\" already exists");
      a.node = Node(s, at, 0);
      a.proc = NewProc(name);
    } else if (op == "fork") {
      CheckFields(s, at, {"op", "proc", "child"});
      a.kind = ActionKind::kFork;
      ProcState& parent = Proc(s, at);
      a.proc = parent.id;
      std::string child = GetString(s, "child", at, true);
      if (procs_.count(child)) Fail(at + ".child", "process \"" + child + "\" already exists");
      ProcState copy = parent;
      a.child = NewProc(child);
      copy.id = a.child;
      procs_[child] = copy;
    } else if (op == "exit") {
      CheckFields(s, at, {"op", "proc"});
      a.kind = ActionKind::kExit;
      a.proc = Proc(s, at).id;
      procs_.erase(plan_.proc_names[a.proc]);
    } else if (op == "mmap") {
      CheckFields(s, at, {"op", "proc", "region", "pages", "node", "locked"});
      a.kind = ActionKind::kMmap;
      ProcState& p = Proc(s, at);
      a.proc = p.id;
      a.region = GetString(s, "region", at, true);
      if (p.regions.count(a.region))
        Fail(at + ".region", "region \"" + a.region + "\" already exists in this process");
      a.pages = GetU64Max(s, "pages", at, true, 0, kMaxRegionPages,
                          "the 128 TiB user address space in 4 KiB pages");
      if (a.pages == 0) Fail(at + ".pages", "must be at least 1");
      a.node = Node(s, at, -1);
      if (s.contains("locked")) {
        if (!s.at("locked").is_boolean()) Fail(at + ".locked", "must be true or false");
        a.locked = s.at("locked").get<bool>();
      }
      a.addr = p.next_addr;
      constexpr uint64_t kTaskSize = 0x7ffffffff000ULL;  // as validate: addresses never reused
      if (a.pages > (kTaskSize - std::min(kTaskSize, a.addr)) / kPageSize) {
        Fail(at + ".pages", "the region does not fit in the process's 128 TiB address space");
      }
      uint64_t size = a.pages * kPageSize;
      p.next_addr = a.addr + (size + kRegionAlign - 1) / kRegionAlign * kRegionAlign + kRegionAlign;
      p.regions[a.region] = RegionState{a.addr, a.pages, {}};
      Note(a);
    } else if (op == "munmap") {
      CheckFields(s, at, {"op", "proc", "region", "range"});
      a.kind = ActionKind::kMunmap;
      RegionState& r = Range(s, at, a, /*need_mapped=*/false);
      r.Unmap(a.region_first, a.region_first + a.pages);
      if (r.FirstUnmapped(0, r.pages) == 0 && r.unmapped.begin()->second >= r.pages) {
        procs_[plan_.proc_names[a.proc]].regions.erase(a.region);
      }
    } else if (op == "madvise") {
      CheckFields(s, at, {"op", "proc", "region", "range", "advice"});
      a.kind = ActionKind::kMadvise;
      Range(s, at, a, true);
      std::string adv = GetString(s, "advice", at, true);
      if (adv == "mergeable")
        a.advice = Advice::kMergeable;
      else if (adv == "unmergeable")
        a.advice = Advice::kUnmergeable;
      else if (adv == "dontneed")
        a.advice = Advice::kDontneed;
      else if (adv == "pageout")
        a.advice = Advice::kPageout;
      else
        Fail(at + ".advice",
             "unknown advice \"" + adv + "\" (mergeable, unmergeable, dontneed or pageout)");
    } else if (op == "write") {
      CheckFields(s, at, {"op", "proc", "region", "range", "data"});
      a.kind = ActionKind::kWrite;
      Range(s, at, a, true);
      if (!s.contains("data")) Fail(at, "missing field \"data\"");
      Data(s.at("data"), at + ".data", a);
    } else if (op == "read" || op == "verify" || op == "pin" || op == "unpin") {
      CheckFields(s, at, {"op", "proc", "region", "range"});
      a.kind = op == "read"     ? ActionKind::kRead
               : op == "verify" ? ActionKind::kVerify
               : op == "pin"    ? ActionKind::kPin
                                : ActionKind::kUnpin;
      Range(s, at, a, true);
    } else if (op == "migrate") {
      CheckFields(s, at, {"op", "proc", "region", "range", "node"});
      a.kind = ActionKind::kMigrate;
      Range(s, at, a, true);
      if (!s.contains("node")) Fail(at, "missing field \"node\"");
      a.node = Node(s, at, 0);
    } else if (op == "offline" || op == "online") {
      CheckFields(s, at, {"op", "node", "block", "expect_error"});
      a.kind = op == "offline" ? ActionKind::kOffline : ActionKind::kOnline;
      if (!s.contains("node")) Fail(at, "missing field \"node\"");
      a.node = Node(s, at, 0);
      uint64_t block = GetU64(s, "block", at, true, 0);
      uint64_t blocks = plan_.node_mib[a.node] / plan_.block_mib;
      if (block >= blocks) {
        Fail(at + ".block", "node " + std::to_string(a.node) + " has " + std::to_string(blocks) +
                                " memory blocks");
      }
      a.block = static_cast<int>(block);
      a.expect_error = GetString(s, "expect_error", at, false);
      if (!a.expect_error.empty() && a.expect_error != "none" && a.expect_error != "EBUSY" &&
          a.expect_error != "EINVAL") {
        Fail(at + ".expect_error", "must be \"EBUSY\", \"EINVAL\" or \"none\"");
      }
      plan_.uses_hotplug = true;
    } else if (op == "ksm") {
      CheckFields(s, at, {"op", "set", "expect_error"});
      a.kind = ActionKind::kKsm;
      if (!s.contains("set")) Fail(at, "missing field \"set\"");
      a.knobs = Knobs(s.at("set"), at + ".set");
      a.expect_error = GetString(s, "expect_error", at, false);
      if (!a.expect_error.empty() && a.expect_error != "none" && a.expect_error != "EBUSY" &&
          a.expect_error != "EINVAL") {
        Fail(at + ".expect_error", "must be \"EBUSY\", \"EINVAL\" or \"none\"");
      }
    } else if (op == "wait") {
      CheckFields(s, at, {"op", "ms", "full_scans"});
      if (s.contains("ms") == s.contains("full_scans")) {
        Fail(at, "give exactly one of \"ms\" and \"full_scans\"");
      }
      a.kind = s.contains("ms") ? ActionKind::kWaitMs : ActionKind::kWaitFullScans;
      a.amount = s.contains("ms")
                     ? GetU64Max(s, "ms", at, true, 0, kMaxWaitMs, "about 31 years")
                     : GetU64Max(s, "full_scans", at, true, 0, kMaxCount, "completed passes");
    } else if (op == "expect") {
      CheckFields(s, at, {"op", "ksm", "procs", "vmstat"});
      a.kind = ActionKind::kExpect;
      a.expect = Json::object();
      if (s.contains("ksm")) a.expect["ksm"] = Counters(s.at("ksm"), at + ".ksm", IsKsmCounter);
      if (s.contains("vmstat")) {
        a.expect["vmstat"] = Counters(s.at("vmstat"), at + ".vmstat", IsVmstatCounter);
      }
      if (s.contains("procs")) {
        const Json& procs = s.at("procs");
        if (!procs.is_object()) Fail(at + ".procs", "must be an object");
        Json out = Json::object();
        for (const auto& [name, c] : procs.items()) {
          if (!procs_.count(name)) Fail(at + ".procs." + name, "no live process \"" + name + "\"");
          out[name] = Counters(c, at + ".procs." + name, IsProcCounter);
        }
        a.expect["procs"] = out;
      }
    } else if (op == "snapshot") {
      CheckFields(s, at, {"op", "label"});
      a.kind = ActionKind::kSnapshot;
      a.label = GetString(s, "label", at, false);
    } else {
      Fail(at + ".op", "unknown op \"" + op + "\"");
    }
    plan_.actions.push_back(std::move(a));
  }

  int NewProc(const std::string& name) {
    int id = static_cast<int>(plan_.proc_names.size());
    plan_.proc_names.push_back(name);
    procs_[name].id = id;
    return id;
  }

  ProcState& Proc(const Json& s, const std::string& at) {
    std::string name = GetString(s, "proc", at, true);
    auto it = procs_.find(name);
    if (it == procs_.end()) Fail(at + ".proc", "no live process \"" + name + "\"");
    return it->second;
  }

  int Node(const Json& s, const std::string& at, int def) {
    if (!s.contains("node")) return def;
    uint64_t node = GetU64(s, "node", at, true, 0);
    if (node >= plan_.node_mib.size()) {
      Fail(at + ".node",
           "the machine has " + std::to_string(plan_.node_mib.size()) + " NUMA node(s)");
    }
    return static_cast<int>(node);
  }

  RegionState& Range(const Json& s, const std::string& at, Action& a, bool need_mapped) {
    ProcState& p = Proc(s, at);
    a.proc = p.id;
    a.region = GetString(s, "region", at, true);
    auto it = p.regions.find(a.region);
    if (it == p.regions.end()) Fail(at + ".region", "no region \"" + a.region + "\"");
    RegionState& r = it->second;
    uint64_t first = 0, end = r.pages;
    if (s.contains("range")) {
      const Json& rg = s.at("range");
      if (!rg.is_array() || rg.size() != 2 || !rg[0].is_number_integer() ||
          !rg[1].is_number_integer() || rg[0].get<int64_t>() < 0 ||
          rg[1].get<int64_t>() <= rg[0].get<int64_t>() || rg[1].get<uint64_t>() > r.pages) {
        Fail(at + ".range", "must be [first, end) with 0 <= first < end <= " +
                                std::to_string(r.pages) + " (the region's pages)");
      }
      first = rg[0].get<uint64_t>();
      end = rg[1].get<uint64_t>();
    }
    if (need_mapped) {
      if (uint64_t i = r.FirstUnmapped(first, end); i < end) {
        Fail(at + ".range",
             "page " + std::to_string(i) + " of region \"" + a.region + "\" is unmapped");
      }
    }
    a.addr = r.addr + first * kPageSize;
    a.pages = end - first;
    a.region_first = first;
    Note(a);
    return r;
  }

  void Data(const Json& d, const std::string& at, Action& a) {
    if (!d.is_object() || d.size() != 1) Fail(at, "must be an object with one field");
    const auto it = d.begin();
    const std::string k = it.key();
    const Json& v = *it;
    if (k == "fill") {
      uint64_t b = GetU64(d, "fill", at, true, 0);
      if (b > 255) Fail(at + ".fill", "must be 0..255");
      a.data.kind = DataKind::kFill;
      a.data.byte = static_cast<uint8_t>(b);
    } else if (k == "unique") {
      if (!v.is_boolean() || !v.get<bool>()) Fail(at + ".unique", "must be true");
      a.data.kind = DataKind::kUnique;
      a.data.first_n = unique_n_;
      unique_n_ += a.pages;
    } else if (k == "key") {
      a.data.kind = DataKind::kKey;
      a.data.key = GetString(d, "key", at, true);
    } else if (k == "cycle" || k == "pool") {
      a.data.kind = k == "cycle" ? DataKind::kCycle : DataKind::kPool;
      a.data.k = GetU64(d, k.c_str(), at, true, 0);
      if (a.data.k == 0) Fail(at + "." + k, "must be at least 1");
      if (k == "pool") {
        a.data.first_n = pool_n_;
        pool_n_ += a.pages;
      }
    } else if (k == "patch") {
      CheckFields(v, at + ".patch", {"offset", "value"});
      uint64_t off = GetU64(v, "offset", at + ".patch", true, 0);
      uint64_t val = GetU64(v, "value", at + ".patch", true, 0);
      if (off >= kPageSize) Fail(at + ".patch.offset", "must be 0..4095");
      if (val > 255) Fail(at + ".patch.value", "must be 0..255");
      a.data.kind = DataKind::kPatch;
      a.data.offset = static_cast<uint16_t>(off);
      a.data.byte = static_cast<uint8_t>(val);
    } else {
      Fail(at + "." + k, "unknown data kind (fill, unique, key, cycle, pool or patch)");
    }
  }

  Json Counters(const Json& c, const std::string& at, bool (*known)(const std::string&)) {
    if (!c.is_object()) Fail(at, "must be an object");
    for (const auto& [k, v] : c.items()) {
      if (!known(k)) Fail(at + "." + k, "unknown counter");
      if (!v.is_number_integer()) Fail(at + "." + k, "must be an integer");
    }
    return c;
  }

  void Note(const Action& a) {
    plan_.max_pages_per_action = std::max(plan_.max_pages_per_action, a.pages);
  }

 public:
  static std::vector<std::pair<std::string, Json>> Knobs(const Json& set, const std::string& at) {
    if (!set.is_object()) Fail(at, "must be an object");
    std::vector<std::pair<std::string, Json>> out;
    for (const auto& [k, v] : set.items()) {
      if (!IsKsmKnob(k)) Fail(at + "." + k, "not a writable /sys/kernel/mm/ksm knob");
      if (!v.is_number_integer()) Fail(at + "." + k, "must be an integer");
      out.emplace_back(k, v);
    }
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
  CheckFields(w, "workload",
              {"ksmsim", "name", "description", "seed", "kernel", "machine", "ksm", "steps"});
  if (!w.contains("ksmsim") || !w.at("ksmsim").is_number_integer() ||
      w.at("ksmsim").get<int64_t>() != 1) {
    Fail("workload.ksmsim", "must be 1 (the format version)");
  }
  plan.name = GetString(w, "name", "workload", false);
  GetString(w, "description", "workload", false);
  plan.seed = GetU64(w, "seed", "workload", false, 0);
  if (w.contains("kernel")) plan.kernel = GetString(w, "kernel", "workload", true);
  if (plan.kernel != "6.1") {
    Fail("workload.kernel",
         "the kernel oracle runs Debian's Linux 6.1, profile \"6.1\" only (got \"" + plan.kernel +
             "\")");
  }
  plan.node_mib = {1024};
  if (w.contains("machine")) {
    const Json& m = w.at("machine");
    CheckFields(m, "machine", {"nodes", "swap_mib", "memory_block_mib", "page_size"});
    if (m.contains("nodes")) {
      const Json& nodes = m.at("nodes");
      if (!nodes.is_array() || nodes.empty()) Fail("machine.nodes", "must be a non-empty array");
      plan.node_mib.clear();
      for (size_t i = 0; i < nodes.size(); ++i) {
        std::string at = "machine.nodes[" + std::to_string(i) + "]";
        // reserve_mib describes this guest's own boot memory to the simulator: not applied.
        CheckFields(nodes[i], at, {"memory_mib", "reserve_mib"});
        uint64_t mib = GetU64(nodes[i], "memory_mib", at, true, 0);
        if (mib == 0) Fail(at + ".memory_mib", "must be at least 1");
        uint64_t before = 0;
        for (uint64_t m : plan.node_mib) before += m;
        if (mib > kMaxMib - before) {
          Fail(at + ".memory_mib",
               "all nodes together may have at most " + std::to_string(kMaxMib) + " MiB (4 PiB)");
        }
        plan.node_mib.push_back(mib);
      }
    }
    plan.swap_mib = GetU64Max(m, "swap_mib", "machine", false, 0, kMaxSwapMib, "32-bit swap slots");
    plan.block_mib = GetU64(m, "memory_block_mib", "machine", false, 128);
    if (plan.block_mib != 128) {
      Fail("machine.memory_block_mib", "the kernel oracle's x86-64 guest has 128 MiB blocks only");
    }
    if (GetU64(m, "page_size", "machine", false, 4096) != 4096) {
      Fail("machine.page_size", "must be 4096");
    }
  }
  if (w.contains("ksm")) plan.initial_knobs = Planner::Knobs(w.at("ksm"), "ksm");
  if (!w.contains("steps")) Fail("workload", "missing field \"steps\"");
  Planner planner(plan);
  planner.Steps(w.at("steps"), "steps");
  if (plan.uses_hotplug) {
    for (size_t i = 0; i < plan.node_mib.size(); ++i) {
      if (plan.node_mib[i] % plan.block_mib != 0) {
        Fail("machine.nodes[" + std::to_string(i) + "].memory_mib",
             "must be a multiple of memory_block_mib when the workload offlines memory");
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

bool IsKsmKnob(const std::string& name) {
  const auto& k = KsmKnobs();
  return std::find(k.begin(), k.end(), name) != k.end();
}

bool IsKsmCounter(const std::string& name) {
  static const std::set<std::string> counters = {
      "pages_shared", "pages_sharing",      "pages_unshared",   "pages_volatile",
      "full_scans",   "stable_node_chains", "stable_node_dups", "ksm_zero_pages"};
  return IsKsmKnob(name) || counters.count(name) > 0;
}

bool IsProcCounter(const std::string& name) {
  return name == "ksm_merging_pages" || name == "ksm_rmap_items";
}

const std::vector<std::string>& VmstatCounters() {
  static const std::vector<std::string> names = {"cow_ksm", "ksm_swpin_copy", "pswpin", "pswpout"};
  return names;
}

bool IsVmstatCounter(const std::string& name) {
  const auto& v = VmstatCounters();
  return std::find(v.begin(), v.end(), name) != v.end();
}

}  // namespace ksmsim::oracle
