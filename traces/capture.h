// Captures of live processes as traces (docs/TRACE-FORMAT.md "Capture"): turns successive
// samples of processes' anonymous private memory (page hashes only, never contents) into the
// ops of a trace that `ksmsim replay` can run. Reading /proc is the tool's job
// (traces/proc_capture.h); this layer only converts samples to records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "traces/trace.h"

namespace ksmsim::traces {

// The XXH3-128 hash of one page's 4096 bytes.
struct PageHash {
  uint64_t lo = 0, hi = 0;
  friend bool operator==(const PageHash&, const PageHash&) = default;
  friend auto operator<=>(const PageHash&, const PageHash&) = default;
};

struct CapturedPage {
  enum class State : uint8_t { kAbsent, kPresent, kSwapped };
  State state = State::kAbsent;
  PageHash hash;      // present pages only
  int16_t fill = -1;  // present pages whose 4096 bytes all equal B: B (0..255), else -1
  friend bool operator==(const CapturedPage&, const CapturedPage&) = default;
};

// One anonymous private VMA at one sample. `kind` is "heap", "stack" or "anon".
struct CapturedVma {
  uint64_t start = 0, end = 0;  // virtual addresses, [start, end)
  std::string kind = "anon";
  std::vector<CapturedPage> pages;  // (end - start) / 4096 entries
};

struct ProcessSample {
  int pid = 0;
  bool alive = true;              // false: the process has exited (or is a zombie); vmas are empty
  std::vector<CapturedVma> vmas;  // ascending start
  // VMAs left out because they are larger than kMaxCapturedVmaPages ("start-end" in hex).
  std::vector<std::string> skipped;
};

// The largest VMA a capture samples: 64 GiB. Larger anonymous mappings are reservations
// (a sanitizer's shadow memory, a JIT's or a runtime's heap reservation), mostly never
// touched; reading their pagemap would take hours and a dense page list would not fit.
inline constexpr uint64_t kMaxCapturedVmaPages = uint64_t{1} << 24;

// Builds a trace from samples taken interval_ms apart. Process `pid` is named "pid<PID>";
// a VMA's region is named by its kind ("heap", "stack", "anon-<start hex>"), with ".N"
// appended when the process already used the name (a VMA that moved or changed size is a
// new region). Each sample emits, per process: spawn (first sample), munmap of VMAs that
// vanished or changed bounds, mmap + madvise mergeable of new VMAs, madvise dontneed of pages
// that were present and are now neither present nor swapped, writes of the pages that are new
// or changed (consecutive pages in one write), exit of processes that ended; then
// `wait ms interval_ms` and a `snapshot` labelled "sample N".
class CaptureBuilder {
 public:
  CaptureBuilder(std::string name, std::string description, uint64_t interval_ms);
  void AddSample(const std::vector<ProcessSample>& sample);
  // The trace: header (machine sized for the pages seen, knobs run 1 and the kernel
  // defaults) and the ops so far.
  Trace Finish() const;
  uint64_t samples() const { return samples_; }
  uint64_t max_present_pages() const { return max_present_; }
  // The content a captured page becomes: fill B for uniform pages, else gen(X) with X the
  // hash's low 64 bits (probing X+1, X+2... when another hash already took X).
  ContentRef ContentOf(const CapturedPage& p);

 private:
  struct Region {
    std::string name;
    uint64_t start = 0, end = 0;
    std::vector<CapturedPage> pages;
  };
  struct Proc {
    std::string name;
    std::map<uint64_t, Region> regions;  // by start address
    std::set<std::string> used_names;
  };
  void Emit(nlohmann::ordered_json fields, std::vector<ContentRun> contents = {});
  std::string RegionName(Proc& p, const CapturedVma& v);
  void SampleProcess(const ProcessSample& s);

  std::string name_, description_;
  uint64_t interval_ms_;
  uint64_t samples_ = 0;
  uint64_t max_present_ = 0;
  std::vector<TraceOp> ops_;
  std::map<int, Proc> procs_;
  std::set<int> exited_;
  std::map<PageHash, uint64_t> gen_of_;
  std::map<uint64_t, PageHash> hash_of_gen_;
};

// The machine a capture replays on: one node of at least 256 MiB, twice the most pages
// present at once plus 64 MiB, rounded up to 128 MiB memory blocks.
uint64_t CaptureMachineMib(uint64_t max_present_pages);

}  // namespace ksmsim::traces
