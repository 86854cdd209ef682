// `ksmsim bench`'s host1t scenario: a 1 TiB KVM host, 128 guests of 8 GiB (in full), whose
// guests hold what VMs hold (docs/PERFORMANCE.md "host1t"). Page i of a guest is, by its
// class (Mix64 of i, so the same in every guest, as guests booted from one image lay out
// their memory alike):
//   30%  common to all guests (kernel, libraries, the OS image): gen(kCommon + i);
//   20%  common to the guest's group (16 groups of 8 guests running one application
//        stack): gen(kGroup + group * pages_per_guest + i);
//   50%  the guest's own: of these, one page in five (10% of all) is zero (memory the
//        guest freed and zeroed), the rest (40% of all) unique.
// Two full passes of ksmd, in batches of 2^20 pages, with a progress line on stderr every
// few seconds: pass, pages scanned, pages/s, RSS.
#include <iostream>

#include "tools/cli/bench_sim.h"

namespace ksmsim::tools::bench {

namespace {

constexpr uint64_t kCommon = 1ULL << 44;
constexpr uint64_t kGroup = 1ULL << 45;
constexpr uint64_t kUnique = 1ULL << 46;
constexpr int kGroupSize = 8;
constexpr unsigned kBatch = 1u << 20;
// Host bytes per simulated page at the peak: an rmap_item, a frame descriptor and a PTE
// each, and 18 B for the rest (content entries, stable nodes, tables), which with today's
// 40 + 16 + 8 B is above the 75.4 B measured at 1/8 size and the 75.3 B at full size
// (docs/PERFORMANCE.md): it errs towards skipping, on a machine where the run would swap.
constexpr uint64_t kBytesPerPageEstimate =
    sizeof(ksm::RmapItem) + sizeof(mmu::Page) + sizeof(mmu::Pte) + 18;
static_assert(kBytesPerPageEstimate == 82, "re-measure host1t at 1/8 size when a size changes");

// Prints at most one line every few seconds.
class Progress {
 public:
  explicit Progress(uint64_t total) : total_(total), start_(Clock::now()), last_(start_) {}
  void Report(const char* what, uint64_t done, bool force = false) {
    auto now = Clock::now();
    if (!force && Seconds(last_, now) < 5) return;
    last_ = now;
    double s = Seconds(start_, now);
    std::fprintf(stderr,
                 "bench: host1t: %s %llu / %llu pages, %.1f s, %.2fM pages/s, RSS %.2f GiB\n", what,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_), s,
                 s > 0 ? double(done) / s / 1e6 : 0.0,
                 double(ProcStatusBytes("VmRSS")) / double(1ULL << 30));
  }
  void Restart(uint64_t total) {
    total_ = total;
    start_ = last_ = Clock::now();
  }

 private:
  uint64_t total_;
  Clock::time_point start_, last_;
};

// MemAvailable of /proc/meminfo in bytes (0 if unreadable).
uint64_t MemAvailable() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  uint64_t kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

}  // namespace

Json Host1t(Json& out, int guests, uint64_t pages_per_guest) {
  auto t0 = Clock::now();
  uint64_t total = uint64_t(guests) * pages_per_guest;
  // Skip a size that would not fit (the figure per page is a little above the measured
  // peak): on a shared machine, better an error than the OOM killer.
  const uint64_t need = total * kBytesPerPageEstimate, avail = MemAvailable();
  if (avail && need > avail) {
    out["skipped"] = std::to_string(total) + " pages need about " + std::to_string(need >> 30) +
                     " GiB, more than the " + std::to_string(avail >> 30) +
                     " GiB available (--host1t-guests, --host1t-pages: a smaller host)";
    return out;
  }
  Sim sim(total);
  mmu::ContentStore& cs = sim.machine.contents();
  for (int g = 0; g < guests; ++g) sim.AddProcess("guest" + std::to_string(g), pages_per_guest);
  Progress progress(total);
  uint64_t unique_x = kUnique, written = 0;
  uint64_t counts[4] = {0, 0, 0, 0};  // common, group, zero, unique
  for (int g = 0; g < guests; ++g) {
    const uint64_t group = uint64_t(g / kGroupSize);
    for (uint64_t i = 0; i < pages_per_guest; ++i) {
      const uint64_t cls = Mix64(i ^ 0x5eed) % 100;
      mmu::ContentId c;
      if (cls < 30) {
        c = cs.Gen(kCommon + i);
        ++counts[0];
      } else if (cls < 50) {
        c = cs.Gen(kGroup + group * pages_per_guest + i);
        ++counts[1];
      } else if (Mix64(uint64_t(g) * pages_per_guest + i) % 5 == 0) {
        c = cs.Fill(0);
        ++counts[2];
      } else {
        c = cs.Gen(unique_x++);
        ++counts[3];
      }
      sim.Write(size_t(g), i, c);
    }
    written += pages_per_guest;
    progress.Report("writing", written, g == guests - 1);
  }
  auto t1 = Clock::now();
  sim.Start(total);
  uint64_t scanned = 0;
  double pass_s[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    auto a = Clock::now();
    std::string what = "pass " + std::to_string(pass + 1);
    progress.Restart(total);
    uint64_t n =
        sim.ScanFull(1, kBatch, [&](uint64_t pages) { progress.Report(what.c_str(), pages); });
    progress.Report(what.c_str(), n, true);
    pass_s[pass] = Seconds(a, Clock::now());
    scanned += n;
  }
  auto t2 = Clock::now();
  out["simulated_pages"] = total;
  out["simulated_gib"] = double(total) * 4096 / (1ULL << 30);
  out["guests"] = guests;
  out["pages_per_guest"] = pages_per_guest;
  out["pages_common"] = counts[0];
  out["pages_group"] = counts[1];
  out["pages_zero"] = counts[2];
  out["pages_unique"] = counts[3];
  out["passes"] = 2;
  out["setup_s"] = Seconds(t0, t1);
  out["pass1_s"] = pass_s[0];
  out["pass2_s"] = pass_s[1];
  out["scan_s"] = Seconds(t1, t2);
  out["wall_s"] = Seconds(t0, t2);
  out["pages_scanned"] = scanned;
  out["pages_per_s"] = double(scanned) / Seconds(t1, t2);
  AddMemory(out, sim);
  return out;
}

}  // namespace ksmsim::tools::bench
