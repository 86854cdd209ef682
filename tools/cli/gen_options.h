// The generator options `gen` and `difftest` share: --features, checked as it is parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "tools/difftest/generator.h"
#include "workloads/workload.h"

namespace ksmsim::tools {

inline void AddGenFeaturesOption(CLI::App* sub, std::string* features) {
  sub->add_option("--features", *features,
                  "what the workloads may use: all, classic (locked,fork,migrate,swap: the "
                  "first generator), or a list of locked,fork,migrate,swap,pin,hotplug,batches,"
                  "deepfork,zero,swapin,knobs, and with --kernel-profile 6.12 smartscan,prctl (all "
                  "includes those two for 6.12 only; presets may be combined with names)")
      ->check(CLI::Validator(
          [](std::string& v) {
            std::string error;
            return workloads::ParseGenFeatures(v, &error) ? std::string() : error;
          },
          "FEATURES"))
      ->capture_default_str();
}

// --kernel-profile P: the generated workloads say `"kernel": P` (right after "ksmsim"), so
// that `run` simulates that profile and `oracle` boots that kernel; 6.1 (the default)
// leaves the document as it was.
inline void AddKernelProfileOption(CLI::App* sub, std::string* profile) {
  sub->add_option("--kernel-profile", *profile,
                  "the workloads' kernel profile: 6.1 (no \"kernel\" field) or 6.12")
      ->check(CLI::IsMember({"6.1", "6.12"}))
      ->capture_default_str();
}

inline nlohmann::ordered_json WithKernelProfile(const nlohmann::ordered_json& w,
                                                const std::string& profile) {
  if (profile == "6.1") return w;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [key, value] : w.items()) {
    out[key] = value;
    if (key == "ksmsim") out["kernel"] = profile;
  }
  return out;
}

// A feature named outright that the profile does not have ("prctl" for 6.1) is an error
// on stderr (false); "all" takes what the profile has.
inline bool GenFeaturesFitProfile(const workloads::GenOptions& o, const std::string& profile) {
  uint32_t only612 = o.features & workloads::kGen612Only;
  if (o.kernel_612 || only612 == 0 || o.features == workloads::kGenAll) return true;
  std::cerr << "ksmsim: --features " << workloads::GenFeatureNames(only612)
            << " exists only with --kernel-profile 6.12 (the profile is " << profile
            << "); drop it or add --kernel-profile 6.12\n";
  return false;
}

}  // namespace ksmsim::tools
