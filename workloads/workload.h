// The typed form of a workload file (docs/WORKLOAD-FORMAT.md, version 1): the machine,
// the initial KSM knobs and the script of steps (step.h), as parse.h produces it after
// validation.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/field_values.h"
#include "workloads/ops.h"
#include "workloads/step.h"

namespace ksmsim::workloads {

inline constexpr int64_t kFormatVersion = 1;
// The behaviour profile (`kernel`): plain Linux 6.1 mm/ksm.c, 6.1 with the seed-001 patch
// that flags, counts and unshares zero pages placed by KSM, Linux 6.12's mm/ksm.c, or the
// March 2009 /dev/ksm driver of seed 004 (ksm/ksm2009/, docs/FIDELITY.md "2009").
enum class KernelProfile { k61, k61ZeroUnshare, k612, k2009 };
// "6.1", "6.1-zero-unshare", "6.12", "2009"
std::string_view KernelProfileName(KernelProfile profile);
// Every profile's name, for messages.
const std::vector<std::string_view>& KernelProfileNames();
std::optional<KernelProfile> KernelProfileFromName(std::string_view name);

struct NodeSpec {
  uint64_t memory_mib = 1024;
  // Memory of the node outside its blocks (the oracle guest's boot memory), allocated last
  // and never offlined; unset: 64 MiB when the workload has offline/online steps, else 0.
  std::optional<uint64_t> reserve_mib;
};

// `machine`: NUMA nodes (PFNs laid out node after node), swap and hotplug granularity.
struct MachineSpec {
  std::vector<NodeSpec> nodes = {NodeSpec{}};
  uint64_t swap_mib = 0;
  uint64_t memory_block_mib = 128;
  uint64_t page_size = kPageSize;

  // Number of hotplug memory blocks on `node` (its memory divided by memory_block_mib,
  // rounded up); 0 for a node that does not exist.
  uint64_t BlocksOnNode(uint64_t node) const;
};

struct Workload {
  int64_t version = kFormatVersion;
  std::string name;
  std::string description;
  uint64_t seed = 0;
  KernelProfile kernel = KernelProfile::k61;
  MachineSpec machine;
  KnobList ksm;  // initial knob values, in file order; absent knobs keep kernel defaults
  std::vector<Step> steps;
};

// One step of the script with `repeat` expanded. `step` points into the Workload passed
// to Flatten, which must outlive the FlatStep; it is never a repeat step.
struct FlatStep {
  uint64_t index = 0;  // position in the flattened script (`step` in the result document)
  std::string path;    // JSON path of the step in the file
  const Step* step = nullptr;
};

// The script in execution order with every repeat expanded (a repeat contributes its
// body `times` times and no entry of its own).
std::vector<FlatStep> Flatten(const Workload& workload);

// Visits the flattened script in order without materialising it; stops early (and
// returns false) when `visit` returns false.
bool ForEachFlatStep(const Workload& workload, const std::function<bool(const FlatStep&)>& visit);

// Length of the flattened script, saturating at UINT64_MAX.
uint64_t FlattenedSize(const Workload& workload);
uint64_t FlattenedSize(const std::vector<Step>& steps);

// Number of steps of the script, counting every nested step once (repeat steps included).
uint64_t NestedSize(const Workload& workload);

}  // namespace ksmsim::workloads
