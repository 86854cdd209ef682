// `ksmsim trace info|validate|convert`: inspect, check and re-encode traces.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>

#include "fmt/format.h"
#include "tools/command.h"
#include "traces/replay.h"

namespace ksmsim::tools {
namespace {

struct TraceArgs {
  std::string file;
  std::string out;
  std::string to;
  bool force = false;
};

const char* EncodingName(traces::Encoding e) {
  return e == traces::Encoding::kBinary ? "binary" : "jsonl";
}

int Info(const TraceArgs& a) {
  try {
    traces::Encoding enc;
    auto t0 = std::chrono::steady_clock::now();
    traces::Trace t = traces::ReadTraceFile(a.file, &enc);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::map<std::string, uint64_t> ops;
    uint64_t starts = 0, stops = 0;
    for (const auto& op : t.ops) {
      ++ops[op.fields["op"].get<std::string>()];
      if (op.scans) starts += op.scans->first, stops += op.scans->second;
    }
    std::cout << fmt::format("{}: ksmsim trace version {}, {} encoding, {} bytes\n", a.file,
                             t.header.version, EncodingName(enc),
                             std::filesystem::file_size(a.file));
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
    traces::Trace t = traces::ReadTraceFile(a.file);
    try {
      traces::TraceWorkload(t);
    } catch (const traces::TraceError& e) {
      throw traces::TraceError{a.file + ": " + e.message};
    }
    std::cout << fmt::format("{}: valid trace, {} ops\n", a.file, t.ops.size());
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
  if (std::filesystem::exists(a.out) && !a.force) {
    std::cerr << fmt::format("{}: already exists; pass --force to overwrite it\n", a.out);
    return 2;
  }
  try {
    traces::Encoding from;
    traces::Trace t = traces::ReadTraceFile(a.file, &from);
    traces::WriteTraceFile(a.out, t, to);
    std::cout << fmt::format("{} ({}) -> {} ({}): {} ops\n", a.file, EncodingName(from), a.out,
                             EncodingName(to), t.ops.size());
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
                       info->add_option("trace", a->file)->required();
                       auto* val = sub->add_subcommand(
                           "validate", "check a trace's encoding and that it can be replayed");
                       val->add_option("trace", a->file)->required();
                       auto* conv = sub->add_subcommand(
                           "convert", "re-encode a trace losslessly (input detected from content)");
                       conv->add_option("trace", a->file)->required();
                       conv->add_option("--out,-o", a->out, "the output trace")->required();
                       conv->add_option("--to", a->to,
                                        "jsonl or binary (default: binary when --out ends in "
                                        ".ksmt)");
                       conv->add_flag("--force", a->force, "overwrite the output file");
                       return [a, info, val] {
                         if (info->parsed()) return Info(*a);
                         if (val->parsed()) return Validate(*a);
                         return Convert(*a);
                       };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
