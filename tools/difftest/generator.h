// Random workloads for differential testing against the real kernel (`ksmsim gen`,
// `ksmsim difftest`): valid WORKLOAD-FORMAT v1, race-free by construction (every wait is
// `wait full_scans`, each ksmd batch is a whole pass, chain pruning cannot depend on wall
// time), and only using what docs/ORACLE.md lists as comparable.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ksmsim::workloads {

enum class GenSize { kSmall, kMedium };

struct GenOptions {
  uint64_t seed = 0;
  GenSize size = GenSize::kSmall;
};

// The workload for `opt.seed`: same seed and size, byte-identical document.
nlohmann::ordered_json GenerateWorkload(const GenOptions& opt);

}  // namespace ksmsim::workloads
