// The expansion of `repeat` into the flattened script, and the kernel profile names.
#include "workloads/workload.h"

#include <limits>

namespace ksmsim::workloads {
namespace {

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max()
                                                      : a + b;
}

uint64_t SaturatingMul(uint64_t a, uint64_t b) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) {
    return std::numeric_limits<uint64_t>::max();
  }
  return a * b;
}

uint64_t FlattenedSizeOf(const std::vector<Step>& steps) {
  uint64_t n = 0;
  for (const Step& s : steps) {
    const RepeatStep* r = s.get_if<RepeatStep>();
    n = SaturatingAdd(n, r != nullptr ? SaturatingMul(r->times, FlattenedSizeOf(r->steps)) : 1);
  }
  return n;
}

uint64_t NestedSizeOf(const std::vector<Step>& steps) {
  uint64_t n = 0;
  for (const Step& s : steps) n += 1 + NestedSizeOf(BodyOf(s));
  return n;
}

// Visits `steps` in order; `index` is the next flattened index. Returns false to stop.
bool Visit(const std::vector<Step>& steps, uint64_t& index,
           const std::function<bool(const FlatStep&)>& visit) {
  for (const Step& s : steps) {
    if (const RepeatStep* r = s.get_if<RepeatStep>()) {
      // A body with no step (only empty repeats) contributes nothing however often it runs.
      if (FlattenedSizeOf(r->steps) == 0) continue;
      for (uint64_t i = 0; i < r->times; ++i) {
        if (!Visit(r->steps, index, visit)) return false;
      }
      continue;
    }
    if (!visit(FlatStep{index++, s.path, &s})) return false;
  }
  return true;
}

}  // namespace

std::string_view KernelProfileName(KernelProfile profile) {
  switch (profile) {
    case KernelProfile::k61:
      return "6.1";
    case KernelProfile::k61ZeroUnshare:
      return "6.1-zero-unshare";
    case KernelProfile::k612:
      return "6.12";
    case KernelProfile::k2009:
      return "2009";
  }
  return "6.1";
}

const std::vector<std::string_view>& KernelProfileNames() {
  static const std::vector<std::string_view> names = {"6.1", "6.1-zero-unshare", "6.12", "2009"};
  return names;
}

std::optional<KernelProfile> KernelProfileFromName(std::string_view name) {
  for (KernelProfile p : {KernelProfile::k61, KernelProfile::k61ZeroUnshare, KernelProfile::k612,
                          KernelProfile::k2009})
    if (name == KernelProfileName(p)) return p;
  return std::nullopt;
}

uint64_t MachineSpec::BlocksOnNode(uint64_t node) const {
  if (node >= nodes.size() || memory_block_mib == 0) return 0;
  return (nodes[node].memory_mib + memory_block_mib - 1) / memory_block_mib;
}

std::vector<FlatStep> Flatten(const Workload& workload) {
  std::vector<FlatStep> out;
  ForEachFlatStep(workload, [&out](const FlatStep& s) {
    out.push_back(s);
    return true;
  });
  return out;
}

bool ForEachFlatStep(const Workload& workload, const std::function<bool(const FlatStep&)>& visit) {
  uint64_t index = 0;
  return Visit(workload.steps, index, visit);
}

uint64_t FlattenedSize(const Workload& workload) { return FlattenedSizeOf(workload.steps); }
uint64_t FlattenedSize(const std::vector<Step>& steps) { return FlattenedSizeOf(steps); }

const std::vector<Step>& BodyOf(const Step& step) {
  static const std::vector<Step> kNone;
  const RepeatStep* r = step.get_if<RepeatStep>();
  return r != nullptr ? r->steps : kNone;
}

uint64_t NestedSize(const Workload& workload) { return NestedSizeOf(workload.steps); }

}  // namespace ksmsim::workloads
