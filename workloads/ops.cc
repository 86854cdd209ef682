// The op table (see ops.h) and the op names derived from it.
#include "workloads/ops.h"

namespace ksmsim::workloads {
namespace {

using T = FieldType;

FieldSpec F(std::string_view name, FieldType type) { return FieldSpec{name, type, 0, 0, ""}; }
FieldSpec U(std::string_view name, uint64_t min, uint64_t max, std::string_view note) {
  return FieldSpec{name, T::kUint, min, max, note};
}

const FieldSpec kProc = F("proc", T::kName);
const FieldSpec kRegion = F("region", T::kName);
const FieldSpec kRange = F("range", T::kRange);
const FieldSpec kNode = U("node", 0, kMaxNodes - 1, "a NUMA node index");
const FieldSpec kBlock =
    U("block", 0, std::numeric_limits<uint64_t>::max(), "a memory block index within the node");
const FieldSpec kExpectError = F("expect_error", T::kExpectedError);

std::vector<OpSpec> MakeTable() {
  return {
      {Op::kSpawn, "spawn", {kProc}, {kNode}},
      {Op::kFork, "fork", {kProc, F("child", T::kName)}, {}},
      {Op::kExit, "exit", {kProc}, {}},
      {Op::kMmap,
       "mmap",
       {kProc, kRegion,
        U("pages", 1, kMaxRegionPages,
          "pages of 4 KiB; 34359738368 fill the 128 TiB user address space")},
       {kNode, F("locked", T::kBool)}},
      {Op::kMunmap, "munmap", {kProc, kRegion}, {kRange}},
      {Op::kMadvise, "madvise", {kProc, kRegion, F("advice", T::kAdvice)}, {kRange}},
      {Op::kWrite, "write", {kProc, kRegion, F("data", T::kData)}, {kRange}},
      {Op::kRead, "read", {kProc, kRegion}, {kRange}},
      {Op::kVerify, "verify", {kProc, kRegion}, {kRange}},
      {Op::kMigrate, "migrate", {kProc, kRegion, kNode}, {kRange}},
      {Op::kPin, "pin", {kProc, kRegion}, {kRange}},
      {Op::kUnpin, "unpin", {kProc, kRegion}, {kRange}},
      {Op::kOffline, "offline", {kNode, kBlock}, {kExpectError}},
      {Op::kOnline, "online", {kNode, kBlock}, {kExpectError}},
      {Op::kKsm, "ksm", {F("set", T::kKnobWrites)}, {kExpectError}},
      {Op::kWait,
       "wait",
       {},
       {U("ms", 0, kMaxWaitMs, "milliseconds"),
        U("full_scans", 1, kMaxCount, "completed passes of ksmd to wait for")}},
      {Op::kExpect,
       "expect",
       {},
       {F("ksm", T::kCounters), F("procs", T::kProcCounters), F("vmstat", T::kCounters)}},
      {Op::kSnapshot, "snapshot", {F("label", T::kString)}, {}},
      {Op::kRepeat, "repeat", {U("times", 1, kMaxCount, "repetitions"), F("steps", T::kSteps)}, {}},
  };
}

}  // namespace

const FieldSpec* OpSpec::Find(std::string_view field) const {
  for (const auto* list : {&required, &optional}) {
    for (const FieldSpec& f : *list) {
      if (f.name == field) return &f;
    }
  }
  return nullptr;
}

const std::vector<OpSpec>& OpTable() {
  static const std::vector<OpSpec> table = MakeTable();
  return table;
}

const OpSpec& SpecOf(Op op) { return OpTable()[static_cast<size_t>(op)]; }

std::string_view OpName(Op op) {
  size_t i = static_cast<size_t>(op);
  return i < OpTable().size() ? OpTable()[i].name : "?";
}

std::optional<Op> OpFromName(std::string_view name) {
  for (const OpSpec& s : OpTable()) {
    if (s.name == name) return s.op;
  }
  return std::nullopt;
}

const std::vector<Op>& AllOps() {
  static const std::vector<Op> ops = [] {
    std::vector<Op> v;
    for (const OpSpec& s : OpTable()) v.push_back(s.op);
    return v;
  }();
  return ops;
}

}  // namespace ksmsim::workloads
