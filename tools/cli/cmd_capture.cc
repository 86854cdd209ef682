// `ksmsim capture --pid PID[,PID...] -o T`: sample live processes' anonymous private memory
// (page hashes only) every --interval-ms for --duration-s and write the samples as a
// replayable trace (docs/TRACE-FORMAT.md "Capture").
#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "traces/proc_capture.h"
#include "traces/capture.h"

namespace ksmsim::tools {
namespace {

struct CaptureArgs {
  std::vector<int> pids;
  uint64_t interval_ms = 1000;
  double duration_s = 10;
  std::string out;
  std::string to;
  bool force = false;
  bool quiet = false;
};

volatile std::sig_atomic_t g_stop = 0;
extern "C" void OnSignal(int) { g_stop = 1; }

int Capture(const CaptureArgs& a) {
  traces::Encoding enc;
  if (a.to == "jsonl") {
    enc = traces::Encoding::kJsonl;
  } else if (a.to == "binary") {
    enc = traces::Encoding::kBinary;
  } else if (a.to.empty()) {
    enc = a.out.ends_with(".ksmt") ? traces::Encoding::kBinary : traces::Encoding::kJsonl;
  } else {
    std::cerr << fmt::format("--to {}: expected jsonl or binary\n", a.to);
    return 2;
  }
  if (!CheckOutputs({a.out}, a.force)) return 2;
  traces::CaptureBuilder builder(
      fmt::format("capture of pid {}", fmt::join(a.pids, ",")),
      fmt::format("ksmsim capture: every {} ms for {} s; page hashes (XXH3-128) only, no "
                  "memory contents",
                  a.interval_ms, a.duration_s),
      a.interval_ms);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto interval = std::chrono::milliseconds(a.interval_ms);
  const auto duration = std::chrono::duration<double>(a.duration_s);
  std::vector<bool> alive(a.pids.size(), true);
  for (uint64_t k = 0;; ++k) {
    const auto at = start + k * interval;
    if (k > 0 && at - start > duration) break;
    std::this_thread::sleep_until(at);
    if (g_stop) break;
    std::vector<traces::ProcessSample> sample;
    try {
      for (size_t i = 0; i < a.pids.size(); ++i) {
        if (!alive[i]) continue;
        sample.push_back(traces::SampleProcess(a.pids[i]));
        alive[i] = sample.back().alive;
        if (k == 0 && !a.quiet) {
          for (const std::string& range : sample.back().skipped)
            std::cerr << fmt::format(
                "ksmsim capture: pid {}: VMA {} left out: larger than {} GiB (a reservation "
                "such as a sanitizer's shadow memory)\n",
                a.pids[i], range, (traces::kMaxCapturedVmaPages * 4096) >> 30);
        }
        if (!alive[i] && k == 0) {
          std::cerr << fmt::format("pid {}: no such process (or a zombie)\n", a.pids[i]);
          return 2;
        }
      }
    } catch (const traces::ProcError& e) {
      std::cerr << "ksmsim capture: " << e.message << "\n";
      return 2;
    }
    builder.AddSample(sample);
    if (std::none_of(alive.begin(), alive.end(), [](bool b) { return b; })) break;
  }
  traces::Trace t = builder.Finish();
  if (!WriteOutput(a.out, traces::Encode(t, enc))) return 2;
  if (!a.quiet) {
    // On stderr when the trace itself takes stdout.
    (a.out == kStdio ? std::cerr : std::cout) << fmt::format(
        "{}: {} samples of pid {}, {} ops, {} pages written, at most {} pages present; "
        "machine {} MiB\n",
        a.out, builder.samples(), fmt::join(a.pids, ","), t.ops.size(), traces::PagesWritten(t),
        builder.max_present_pages(), traces::CaptureMachineMib(builder.max_present_pages()));
  }
  return 0;
}

RegisterCommand reg{
    {"capture",
     "Sample live processes' anonymous memory (page hashes only) into a replayable trace; "
     "needs root (exit 2 without permission)",
     [](CLI::App* sub) {
       auto a = std::make_shared<CaptureArgs>();
       sub->add_option("--pid,-p", a->pids, "the processes to sample: PID[,PID...]")
           ->required()
           ->delimiter(',')
           ->check(IntegerIn(1, 2147483647));
       sub->add_option("--interval-ms", a->interval_ms,
                       "time between samples in ms; each advances simulated time as much")
           ->capture_default_str()
           ->check(UnsignedIn(1));
       sub->add_option("--duration-s", a->duration_s, "how long to sample")
           ->capture_default_str()
           ->check(NumberIn(0));
       AddOutputOption(sub, "--out,-o", &a->out, "the trace to write")->required();
       sub->add_option("--to", a->to, "jsonl or binary (default: binary when --out ends in .ksmt)");
       AddForceFlag(sub, &a->force);
       sub->add_flag("--quiet,-q", a->quiet, "print no summary");
       return [a] { return Capture(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
