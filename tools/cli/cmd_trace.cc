// `ksmsim trace info|validate|convert|bench`: inspect, check, re-encode traces, and measure
// the encodings' write/read throughput and size (docs/TRACE-FORMAT.md "Performance").
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "traces/replay.h"

namespace ksmsim::tools {
namespace {

struct TraceArgs {
  std::string file;
  std::string out;
  std::string to;
  bool force = false;
  double seconds = 1;
};

const char* EncodingName(traces::Encoding e) {
  return e == traces::Encoding::kBinary ? "binary" : "jsonl";
}

// The trace in `path` ("-": stdin); throws TraceError naming it.
traces::Trace ReadTrace(const std::string& path, traces::Encoding* enc = nullptr,
                        uint64_t* size = nullptr) {
  std::string bytes;
  std::ostringstream err;
  if (!ReadInput(path, &bytes, err)) {
    std::string m = err.str();
    if (!m.empty() && m.back() == '\n') m.pop_back();
    throw traces::TraceError{m};
  }
  if (size != nullptr) *size = bytes.size();
  try {
    return traces::Decode(bytes, enc);
  } catch (const traces::TraceError& e) {
    throw traces::TraceError{InputName(path) + ": " + e.message};
  }
}

int Info(const TraceArgs& a) {
  try {
    traces::Encoding enc;
    auto t0 = std::chrono::steady_clock::now();
    uint64_t size = 0;
    traces::Trace t = ReadTrace(a.file, &enc, &size);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::map<std::string, uint64_t> ops;
    uint64_t starts = 0, stops = 0;
    for (const auto& op : t.ops) {
      ++ops[op.fields["op"].get<std::string>()];
      if (op.scans) starts += op.scans->first, stops += op.scans->second;
    }
    std::cout << fmt::format("{}: ksmsim trace version {}, {} encoding, {} bytes\n",
                             InputName(a.file), t.header.version, EncodingName(enc), size);
    std::cout << fmt::format("  workload {:?}, seed {}, kernel {}\n", t.header.name,
                             t.header.seed, t.header.kernel);
    std::cout << fmt::format("  machine {}\n  initial knobs {}\n", t.header.machine.dump(),
                             t.header.ksm.dump());
    std::cout << fmt::format("  {} ops, {} pages written, ksmd scans started {} stopped {}\n",
                             t.ops.size(), traces::PagesWritten(t), starts, stops);
    for (const auto& [name, n] : ops) std::cout << fmt::format("    {:<10} {}\n", name, n);
    std::cout << fmt::format("  read in {:.3f} s ({:.0f} ops/s)\n", secs,
                             secs > 0 ? t.ops.size() / secs : 0.0);
    return 0;
  } catch (const traces::TraceError& e) {
    std::cerr << e.message << "\n";
    return 2;
  }
}

int Validate(const TraceArgs& a) {
  try {
    traces::Trace t = ReadTrace(a.file);
    try {
      traces::TraceWorkload(t);
    } catch (const traces::TraceError& e) {
      throw traces::TraceError{InputName(a.file) + ": " + e.message};
    }
    std::cout << fmt::format("{}: valid trace, {} ops\n", InputName(a.file), t.ops.size());
    return 0;
  } catch (const traces::TraceError& e) {
    std::cerr << e.message << "\n";
    return 2;
  }
}

int Convert(const TraceArgs& a) {
  traces::Encoding to;
  if (a.to == "jsonl") to = traces::Encoding::kJsonl;
  else if (a.to == "binary") to = traces::Encoding::kBinary;
  else if (a.to.empty())
    to = a.out.ends_with(".ksmt") ? traces::Encoding::kBinary : traces::Encoding::kJsonl;
  else {
    std::cerr << fmt::format("--to {}: expected jsonl or binary\n", a.to);
    return 2;
  }
  if (!CheckOutputs({a.out}, a.force)) return 2;
  try {
    traces::Encoding from;
    traces::Trace t = ReadTrace(a.file, &from);
    if (!WriteOutput(a.out, traces::Encode(t, to))) return 2;
    // On stderr when the trace itself takes stdout.
    (a.out == kStdio ? std::cerr : std::cout)
        << fmt::format("{} ({}) -> {} ({}): {} ops\n", InputName(a.file), EncodingName(from),
                       a.out, EncodingName(to), t.ops.size());
    return 0;
  } catch (const traces::TraceError& e) {
    std::cerr << e.message << "\n";
    return 2;
  }
}

// Encodes (or decodes) the trace in memory for about `seconds`; returns ops per second.
template <typename F>
double OpsPerSecond(size_t ops, double seconds, F once) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  uint64_t rounds = 0;
  double secs = 0;
  do {
    once();
    ++rounds;
    secs = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (secs < seconds);
  return static_cast<double>(ops) * static_cast<double>(rounds) / secs;
}

int Bench(const TraceArgs& a) {
  try {
    traces::Trace t = ReadTrace(a.file);
    if (t.ops.empty()) throw traces::TraceError{InputName(a.file) + ": no ops to measure"};
    std::cout << fmt::format("{}: {} ops, {} pages written; in-memory encode/decode, {} s each\n",
                             InputName(a.file), t.ops.size(), traces::PagesWritten(t), a.seconds);
    std::cout << fmt::format("  {:<8} {:>12} {:>14} {:>14} {:>10} {:>11} {:>10}\n", "encoding",
                             "bytes", "write ops/s", "read ops/s", "bytes/op", "write MB/s",
                             "read MB/s");
    for (traces::Encoding e : {traces::Encoding::kJsonl, traces::Encoding::kBinary}) {
      std::string bytes = traces::Encode(t, e);
      size_t sink = 0;
      double w =
          OpsPerSecond(t.ops.size(), a.seconds, [&] { sink += traces::Encode(t, e).size(); });
      double r =
          OpsPerSecond(t.ops.size(), a.seconds, [&] { sink += traces::Decode(bytes).ops.size(); });
      double per_op = static_cast<double>(bytes.size()) / static_cast<double>(t.ops.size());
      std::cout << fmt::format("  {:<8} {:>12} {:>14.0f} {:>14.0f} {:>10.1f} {:>11.1f} {:>10.1f}\n",
                               EncodingName(e), bytes.size(), w, r, per_op, w * per_op / 1e6,
                               r * per_op / 1e6);
      if (sink == 0) return 1;  // keeps the loops from being optimised away
    }
    return 0;
  } catch (const traces::TraceError& e) {
    std::cerr << e.message << "\n";
    return 2;
  }
}

RegisterCommand reg{{"trace", "Inspect, validate or convert a trace (exit 2 on a bad trace)",
                     [](CLI::App* sub) {
                       auto a = std::make_shared<TraceArgs>();
                       sub->require_subcommand(1);
                       auto* info = sub->add_subcommand("info", "summarise a trace");
                       info->add_option("trace", a->file, "the trace ('-': stdin)")->required();
                       auto* val = sub->add_subcommand(
                           "validate", "check a trace's encoding and that it can be replayed");
                       val->add_option("trace", a->file, "the trace ('-': stdin)")->required();
                       auto* conv = sub->add_subcommand(
                           "convert", "re-encode a trace losslessly (input detected from content)");
                       conv->add_option("trace", a->file, "the trace ('-': stdin)")->required();
                       AddOutputOption(conv, "--out,-o", &a->out, "the output trace")->required();
                       conv->add_option("--to", a->to,
                                        "jsonl or binary (default: binary when --out ends in "
                                        ".ksmt)");
                       AddForceFlag(conv, &a->force);
                       auto* bench = sub->add_subcommand(
                           "bench",
                           "measure write/read ops per second and bytes per op of "
                           "both encodings on a trace");
                       bench->add_option("trace", a->file, "the trace ('-': stdin)")->required();
                       bench->add_option("--seconds", a->seconds, "time per measurement")
                           ->capture_default_str()
                           ->check(NumberIn(0.001));
                       return [a, info, val, bench] {
                         if (info->parsed()) return Info(*a);
                         if (val->parsed()) return Validate(*a);
                         if (bench->parsed()) return Bench(*a);
                         return Convert(*a);
                       };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
