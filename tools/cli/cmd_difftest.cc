// `ksmsim difftest --seeds A..B`: differential testing against the real kernel. For each
// seed: generate a workload (`ksmsim gen`), simulate it, run it on the kernel oracle,
// compare every result; on a difference, shrink it (bounded number of oracle runs) and
// write the minimal workload with both results to DIR/seed-N/.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/cli/gen_options.h"
#include "tools/difftest/shrink.h"
#include "tools/difftest/generator.h"

namespace ksmsim::tools {
namespace {

namespace fs = std::filesystem;
using difftest::Json;
using difftest::Verdict;

struct DifftestArgs {
  std::string seeds;
  std::string size = "small";
  std::string features = "all";
  std::string kernel_profile = "6.1";
  std::string out = "difftest-out";
  bool no_shrink = false;
  bool force = false;
  int budget = 25;
  unsigned timeout_s = 600;
};

void Write(const fs::path& p, const Json& j) { std::ofstream(p) << j.dump(2) << "\n"; }

int RunDifftest(const DifftestArgs& a) {
  uint64_t first = 0, last = 0;
  size_t dots = a.seeds.find("..");
  try {
    if (dots == std::string::npos) {
      first = last = std::stoull(a.seeds);
    } else {
      first = std::stoull(a.seeds.substr(0, dots));
      last = std::stoull(a.seeds.substr(dots + 2));
    }
  } catch (const std::exception&) {
    std::cerr << "ksmsim difftest: --seeds wants A..B or N\n";
    return 2;
  }
  if (last < first) {
    std::cerr << "ksmsim difftest: empty seed range\n";
    return 2;
  }
  if (!CheckOutputs({}, a.force, {a.out})) return 2;
  std::error_code ec;
  fs::create_directories(a.out, ec);
  difftest::Runner runner;
  runner.self = fs::read_symlink("/proc/self/exe", ec).string();
  runner.timeout_s = a.timeout_s;
  runner.work_dir = (fs::path(a.out) / ".work").string();
  fs::create_directories(runner.work_dir, ec);

  int run = 0, agree = 0, differ = 0, invalid = 0, oracle_failed = 0;
  std::map<std::string, std::vector<uint64_t>> failures;  // signature -> seeds
  for (uint64_t seed = first; seed <= last; ++seed) {
    auto t0 = std::chrono::steady_clock::now();
    workloads::GenOptions o;
    o.seed = seed;
    o.size = a.size == "medium" ? workloads::GenSize::kMedium : workloads::GenSize::kSmall;
    std::string error;
    o.features = *workloads::ParseGenFeatures(a.features, &error);  // checked by the option
    o.kernel_612 = a.kernel_profile == "6.12";
    if (!GenFeaturesFitProfile(o, a.kernel_profile)) return 2;
    Json w = WithKernelProfile(workloads::GenerateWorkload(o), a.kernel_profile);
    Verdict v = runner.Judge(w);
    ++run;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (v.kind == Verdict::kAgree) {
      ++agree;
      std::cout << fmt::format("seed {}: agree ({} results, {:.0f} s)\n", seed,
                               v.sim["results"].size(), secs)
                << std::flush;
      continue;
    }
    if (v.kind == Verdict::kSimInvalid) {
      ++invalid;
      std::cout << fmt::format("seed {}: generator bug, the simulator refused it: {}\n", seed,
                               v.problem)
                << std::flush;
      continue;
    }
    if (v.kind == Verdict::kOracleFailed) {
      ++oracle_failed;
      std::cout << fmt::format("seed {}: the oracle failed: {}\n", seed, v.problem) << std::flush;
      continue;
    }
    ++differ;
    std::string sig = difftest::Signature(v.diffs);
    std::cout << fmt::format("seed {}: DIFFER ({} difference(s): {})\n", seed, v.diffs.size(), sig)
              << std::flush;
    for (const std::string& d : v.diffs) std::cout << "    " << d << "\n";
    fs::path dir = fs::path(a.out) / fmt::format("seed-{}", seed);
    fs::create_directories(dir, ec);
    Write(dir / "original.json", w);
    Write(dir / "original.sim.json", v.sim);
    Write(dir / "original.kernel.json", v.kernel);
    difftest::ShrinkResult s{w, v, 0};
    if (!a.no_shrink) {
      s = difftest::Shrink(runner, w, v, a.budget,
                           [](const std::string& line) { std::cout << line << "\n" << std::flush; });
      sig = difftest::Signature(s.verdict.diffs);
    }
    Json mw = s.workload;
    mw["name"] = fmt::format("difftest seed {} (minimal)", seed);
    Write(dir / "minimal.json", mw);
    Write(dir / "minimal.sim.json", s.verdict.sim);
    Write(dir / "minimal.kernel.json", s.verdict.kernel);
    std::ofstream diff(dir / "diff.txt");
    for (const std::string& d : s.verdict.diffs) diff << d << "\n";
    std::cout << fmt::format("seed {}: minimal workload {} ({} steps, {} oracle runs to shrink)\n",
                             seed, (dir / "minimal.json").string(), mw["steps"].size(),
                             s.oracle_runs)
              << std::flush;
    failures[sig].push_back(seed);
  }
  fs::remove_all(runner.work_dir, ec);
  std::cout << fmt::format(
      "\nsummary: {} seed(s) run, {} agree, {} differ, {} distinct failure(s), {} oracle "
      "failure(s), {} generator bug(s), {} oracle runs\n",
      run, agree, differ, failures.size(), oracle_failed, invalid, runner.oracle_runs);
  for (const auto& [sig, seeds] : failures) {
    std::string list;
    for (uint64_t s : seeds) list += (list.empty() ? "" : ", ") + std::to_string(s);
    std::cout << fmt::format("  failure [{}]: seeds {}\n", sig, list);
  }
  return differ == 0 && oracle_failed == 0 && invalid == 0 ? 0 : 1;
}

RegisterCommand reg{{"difftest",
                     "differential testing: random workloads on the simulator and the real "
                     "kernel, differences shrunk to a minimal workload (exit 0 all agree)",
                     [](CLI::App* sub) {
                       auto a = std::make_shared<DifftestArgs>();
                       sub->add_option("--seeds", a->seeds, "seed range A..B (inclusive) or N")
                           ->required();
                       sub->add_option("--size", a->size, "workload size: small or medium")
                           ->check(CLI::IsMember({"small", "medium"}))
                           ->capture_default_str();
                       AddOutputDirOption(sub, "--out", &a->out,
                                          "write each failure's workloads and results to "
                                          "DIR/seed-N/")
                           ->capture_default_str();
                       AddForceFlag(sub, &a->force);
                       AddGenFeaturesOption(sub, &a->features);
                       AddKernelProfileOption(sub, &a->kernel_profile);
                       sub->add_flag("--no-shrink", a->no_shrink, "do not shrink differences");
                       sub->add_option("--shrink-budget", a->budget,
                                       "at most this many oracle runs to shrink one failure")
                           ->capture_default_str()
                           ->check(IntegerIn(0, 1000000));
                       sub->add_option("--timeout-s", a->timeout_s,
                                       "give up on one oracle VM after this many seconds")
                           ->capture_default_str()
                           ->check(UnsignedIn(1, 4294967295));
                       return [a] { return RunDifftest(*a); };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
