// Random workloads for differential testing against the real kernel (`ksmsim gen`,
// `ksmsim difftest`): valid WORKLOAD-FORMAT v1, race-free by construction (every wait is
// `wait full_scans`, each ksmd batch is a whole pass, chain pruning cannot depend on wall
// time), and only using what docs/ORACLE.md lists as comparable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ksmsim::workloads {

enum class GenSize { kSmall, kMedium };

// What a generated workload may use (`ksmsim gen --features`). The first four are what the
// generator of the 2026-12 campaigns used ("classic": those seeds stay byte-identical);
// the rest widen it to every op and knob the oracle can run race-free.
enum GenFeature : uint32_t {
  kGenLocked = 1u << 0,    // `locked` mappings
  kGenFork = 1u << 1,      // fork and exit
  kGenMigrate = 1u << 2,   // migrate between two nodes
  kGenSwap = 1u << 3,      // a swap device and madvise pageout
  kGenPin = 1u << 4,       // pin / unpin of written pages
  kGenHotplug = 1u << 5,   // offline / online of memory blocks
  kGenBatches = 1u << 6,   // pages_to_scan below the mergeable pages: passes of many batches
  kGenDeepFork = 1u << 7,  // fork trees three generations deep, parents exiting
  kGenZero = 1u << 8,      // zero-filled ranges with use_zero_pages switched around them
  kGenSwapIn = 1u << 9,    // pageout followed at once by reads and writes (swap-in)
  kGenKnobs = 1u << 10,    // run 2 followed by knob changes (merge_across_nodes, ...)
  // Linux 6.12 only (GenOptions::kernel_612; a 6.1 workload never draws them, so "all"
  // generates the same 6.1 workloads as before they existed):
  kGenSmartScan = 1u << 11,  // smart_scan starting 0 or 1 and switched between passes
  kGenPrctl = 1u << 12,      // prctl(PR_SET_MEMORY_MERGE) on and off, inherited on fork
};
inline constexpr uint32_t kGenClassic = kGenLocked | kGenFork | kGenMigrate | kGenSwap;
inline constexpr uint32_t kGenAll = (kGenPrctl << 1) - 1;
inline constexpr uint32_t kGen612Only = kGenSmartScan | kGenPrctl;

// "all", "classic", or a comma-separated list of names (locked,fork,migrate,swap,pin,
// hotplug,batches,deepfork,zero,swapin,knobs,smartscan,prctl); a name may follow a preset
// ("classic,pin").
// nullopt and a message for an unknown name.
std::optional<uint32_t> ParseGenFeatures(std::string_view text, std::string* error);
// The canonical spelling of a set: "all", "classic", or the names in the order above.
std::string GenFeatureNames(uint32_t features);

struct GenOptions {
  uint64_t seed = 0;
  GenSize size = GenSize::kSmall;
  uint32_t features = kGenAll;
  bool kernel_612 = false;  // the workload is for the 6.12 profile: kGen612Only may be used
};

// The workload for `opt.seed`: same seed and size, byte-identical document.
nlohmann::ordered_json GenerateWorkload(const GenOptions& opt);

}  // namespace ksmsim::workloads
