// `ksmsim gen --seed N`: print a random race-free workload for differential testing.
#include <iostream>
#include <memory>
#include <string>

#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/gen_options.h"
#include "tools/cli/io.h"
#include "tools/difftest/generator.h"

namespace ksmsim::tools {
namespace {

struct GenArgs {
  uint64_t seed = 0;
  std::string size = "small";
  std::string features = "all";
  std::string kernel_profile = "6.1";
  std::string out = "-";
  bool force = false;
};

int RunGen(const GenArgs& a) {
  if (!CheckOutputs({a.out}, a.force)) return 2;
  workloads::GenOptions o;
  o.seed = a.seed;
  o.size = a.size == "medium" ? workloads::GenSize::kMedium : workloads::GenSize::kSmall;
  std::string error;
  o.features = *workloads::ParseGenFeatures(a.features, &error);  // checked by the option
  o.kernel_612 = a.kernel_profile == "6.12";
  if (!GenFeaturesFitProfile(o, a.kernel_profile)) return 2;
  std::string text =
      WithKernelProfile(workloads::GenerateWorkload(o), a.kernel_profile).dump(2) + "\n";
  return WriteOutput(a.out, text) ? 0 : 2;
}

RegisterCommand reg{
    {"gen",
     "print a random race-free workload (docs/WORKLOAD-FORMAT.md) for "
     "differential testing; same seed, same file",
     [](CLI::App* sub) {
       auto a = std::make_shared<GenArgs>();
       sub->add_option("--seed", a->seed, "the seed")->required()->check(UnsignedIn(0));
       sub->add_option("--size", a->size,
                       "small (20-120 pages per region) or "
                       "medium (20-500)")
           ->check(CLI::IsMember({"small", "medium"}))
           ->capture_default_str();
       AddGenFeaturesOption(sub, &a->features);
       AddKernelProfileOption(sub, &a->kernel_profile);
       AddOutputOption(sub, "-o,--out", &a->out, "write the workload here")->capture_default_str();
       AddForceFlag(sub, &a->force);
       return [a] { return RunGen(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
