// What every `ksmsim bench` scenario (tools/cli/cmd_bench.cc, bench_host1t.cc) shares:
// the simulated machine with KSM set up as the bench wants it (`Sim`), the clock, the
// process's memory figures and the JSON fields every scenario reports.
#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "ksm/ksm.h"
#include "mmu/machine.h"

namespace ksmsim::tools::bench {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A field of /proc/self/status in bytes (VmHWM, VmRSS), 0 if unreadable.
inline uint64_t ProcStatusBytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  size_t n = strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::stoull(line.substr(n + 1)) * 1024;
    }
  }
  return 0;
}

inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// One simulated machine with KSM, knobs as the bench wants them: every page in one batch,
// no sleep, run = 1.
struct Sim {
  explicit Sim(uint64_t pages) : machine(Config(pages)), ksm(machine, ksm::Profile::k61) {
    machine.set_ksm(&ksm);
  }
  ~Sim() { machine.set_ksm(nullptr); }
  static mmu::MachineConfig Config(uint64_t pages) {
    mmu::MachineConfig c;
    uint64_t frames = pages + pages / 8 + 4096;
    c.block_pages = 32768;
    c.node_pages = {(frames + c.block_pages - 1) / c.block_pages * c.block_pages};
    return c;
  }
  // A process with one mergeable region of `pages` pages; returns its start address.
  uint64_t AddProcess(const std::string& name, uint64_t pages) {
    mmu::Mm* mm = machine.CreateMm(name, 0);
    uint64_t start = machine.Mmap(mm, "r", pages, 0, false);
    if (auto err =
            machine.Madvise(mm, start, start + pages * mmu::kPageSize, mmu::Advice::kMergeable)) {
      throw std::runtime_error("madvise: " + err->message);
    }
    procs.push_back({mm, start, pages});
    return start;
  }
  void Write(size_t proc, uint64_t i, mmu::ContentId c /* consumed */) {
    auto& p = procs[proc];
    if (auto err = machine.WritePage(p.mm, p.start + i * mmu::kPageSize, c)) {
      throw std::runtime_error("write: " + err->message);
    }
  }
  void Start(uint64_t total_pages) {
    unsigned pts = total_pages + 1 > UINT_MAX ? UINT_MAX : unsigned(total_pages + 1);
    if (ksm.StoreKnob("pages_to_scan", pts) != 0 || ksm.StoreKnob("sleep_millisecs", 0) != 0 ||
        ksm.StoreKnob("run", 1) != 0) {
      throw std::runtime_error("cannot set the KSM knobs");
    }
  }
  // ksm_do_scan batches until full_scans has grown by n; returns pages scanned. With a
  // `batch`, each ksm_do_scan scans at most that many pages and `between` is called after
  // each (host1t's progress line).
  uint64_t ScanFull(uint64_t n, unsigned batch = 0,
                    const std::function<void(uint64_t pages)>& between = {}) {
    uint64_t target = ksm.full_scans() + n, pages = 0;
    while (ksm.full_scans() < target) {
      ksm.ksm_do_scan(batch ? batch : ksm.knobs().pages_to_scan);
      const ksm::Ksm::Work& w = ksm.last_work();
      pages += w.pages;
      work.checksums += w.checksums;
      work.compares += w.compares;
      work.merges += w.merges;
      work.snapshot_compares += w.snapshot_compares;
      if (between) between(pages);
    }
    return pages;
  }
  uint64_t Resident() const {
    uint64_t r = 0;
    for (auto& p : procs) r += machine.resident_pages(p.mm);
    return r;
  }
  struct Proc {
    mmu::Mm* mm;
    uint64_t start, pages;
  };
  mmu::Machine machine;
  ksm::Ksm ksm;
  std::vector<Proc> procs;
  ksm::Ksm::Work work;  // summed over every ksm_do_scan (pages aside)
};

// Host bytes per resident simulated page: growth of the peak RSS over the child's RSS at
// start, divided by the resident pages at the end.
inline void AddMemory(Json& out, const Sim& sim) {
  uint64_t resident = sim.Resident();
  out["resident_pages"] = resident;
  out["content_store_bytes"] = const_cast<Sim&>(sim).machine.contents().MemoryBytes();
  out["live_contents"] = const_cast<Sim&>(sim).machine.contents().live_contents();
  out["rmap_items"] = sim.ksm.rmap_items();
  out["pages_shared"] = sim.ksm.pages_shared();
  out["pages_sharing"] = sim.ksm.pages_sharing();
  // What the scans did: checksums computed, tree comparisons (and how many of them a
  // snapshot decided), merges.
  out["checksums"] = sim.work.checksums;
  out["compares"] = sim.work.compares;
  out["snapshot_compares"] = sim.work.snapshot_compares;
  out["merges"] = sim.work.merges;
}

// host1t (bench_host1t.cc): `guests` guests of `pages_per_guest` pages, realistic VM
// contents, two full scans, progress on stderr.
Json Host1t(Json& out, int guests, uint64_t pages_per_guest);

}  // namespace ksmsim::tools::bench
