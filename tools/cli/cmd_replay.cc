// `ksmsim replay TRACE`: run a recorded trace on a fresh machine (docs/TRACE-FORMAT.md).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "fmt/format.h"
#include "tools/cli/command.h"
#include "tools/cli/run_limits.h"
#include "traces/replay.h"

namespace ksmsim::tools {
namespace {

struct ReplayArgs {
  std::string file;
  std::string out;
  std::vector<std::string> set;
  bool check = false;
  bool force = false;
  bool quiet = false;
  RunLimits limits;
};

int Replay(const ReplayArgs& a) {
  workloads::KnobList set;
  for (const std::string& s : a.set) {
    size_t eq = s.find('=');
    std::string key = s.substr(0, eq);
    if (eq == std::string::npos || key.rfind("ksm.", 0) != 0) {
      std::cerr << fmt::format("--set {}: expected ksm.KNOB=VALUE\n", s);
      return 2;
    }
    try {
      size_t used = 0;
      int64_t v = std::stoll(s.substr(eq + 1), &used);
      if (used != s.size() - eq - 1) throw std::invalid_argument("trailing");
      set.emplace_back(key.substr(4), v);
    } catch (const std::exception&) {
      std::cerr << fmt::format("--set {}: the value must be an integer\n", s);
      return 2;
    }
  }
  if (!a.out.empty() && std::filesystem::exists(a.out) && !a.force) {
    std::cerr << fmt::format("{}: already exists; pass --force to overwrite it\n", a.out);
    return 2;
  }
  traces::ReplayOutcome r;
  try {
    traces::Trace t = traces::ReadTraceFile(a.file);
    try {
      if (!a.limits.CheckBudget(traces::TraceWorkload(t, set), a.file)) return kExitCannotRun;
      r = traces::Replay(t, set, a.check);
    } catch (const traces::TraceError& e) {
      throw traces::TraceError{a.file + ": " + e.message};
    }
  } catch (const traces::TraceError& e) {
    std::cerr << e.message << "\n" << a.file << ": invalid trace, nothing was replayed\n";
    return 2;
  }
  if (!a.out.empty()) {
    std::ofstream out(a.out);
    out << r.document.dump(2) << "\n";
    if (!out) {
      std::cerr << fmt::format("{}: cannot write the result\n", a.out);
      return 2;
    }
  }
  for (const auto& d : r.divergences)
    std::cerr << fmt::format("{}: ksmd diverged: {}\n", a.file, d);
  if (!a.quiet) {
    std::cout << fmt::format("{}: replayed {} ({} results, {} errors){}\n", a.file,
                             r.document["workload"].get<std::string>(),
                             r.document["results"].size(), r.document["errors"].size(),
                             r.divergences.empty()
                                 ? ", ksmd ran as recorded"
                                 : fmt::format(", ksmd diverged at {} waits{}",
                                               r.divergences.size(),
                                               set.empty() ? "" : " (expected with --set)"));
    for (const auto& e : r.document["errors"]) std::cout << "  error: " << e.get<std::string>() << "\n";
  }
  if (!r.divergences.empty() && set.empty()) return 1;
  return r.exit_status;
}

RegisterCommand reg{{"replay",
                     "Replay a recorded trace; exit 0 as recorded, 1 an expect/verify failed or "
                     "ksmd diverged (without --set), 2 invalid trace, 3 cannot be carried out",
                     [](CLI::App* sub) {
                       auto a = std::make_shared<ReplayArgs>();
                       sub->add_option("trace", a->file, "the trace (JSON Lines or binary)")
                           ->required();
                       sub->add_option("--out,-o", a->out, "write the result document here");
                       sub->add_option("--set", a->set,
                                       "override an initial knob: ksm.KNOB=VALUE (repeatable)");
                       sub->add_flag("--check", a->check,
                                     "run the invariant checker after every step");
                       sub->add_flag("--quiet,-q", a->quiet, "print no summary");
                       sub->add_flag("--force", a->force, "overwrite the output file");
                       a->limits.AddOptions(sub, /*work_limits=*/false);
                       return [a] { return Replay(*a); };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
