// The generator options `gen` and `difftest` share: --features, checked as it is parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "tools/difftest/generator.h"

namespace ksmsim::tools {

inline void AddGenFeaturesOption(CLI::App* sub, std::string* features) {
  sub->add_option("--features", *features,
                  "what the workloads may use: all, classic (locked,fork,migrate,swap: the "
                  "first generator), or a list of locked,fork,migrate,swap,pin,hotplug,batches,"
                  "deepfork,zero,swapin,knobs (presets may be combined with names)")
      ->check(CLI::Validator(
          [](std::string& v) {
            std::string error;
            return workloads::ParseGenFeatures(v, &error) ? std::string() : error;
          },
          "FEATURES"))
      ->capture_default_str();
}

}  // namespace ksmsim::tools
