// Typed steps through traces: every op of tests/workloads/every_op.json goes parse -> step
// -> trace record (both encodings) -> step and comes back equal (a write's data aside: a
// trace holds its resolved contents instead); the trace field table is the op table's, with
// the binary field ids of docs/TRACE-FORMAT.md.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "traces/replay.h"
#include "traces/trace.h"
#include "traces/trace_codec.h"
#include "workloads/parse.h"

namespace ksmsim::traces {
namespace {

using Json = nlohmann::ordered_json;
using workloads::Op;
using workloads::Step;

workloads::Workload EveryOp(const std::string& file = "every_op.json") {
  auto parsed =
      workloads::ParseWorkloadFile(std::string(KSMSIM_SOURCE_DIR) + "/tests/workloads/" + file);
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? std::move(*parsed.workload) : workloads::Workload{};
}

// The trace of the workload's flattened steps, as a recording would write it; each write's
// pages get fill(0) as their content.
Trace TraceOf(const workloads::Workload& w) {
  Trace t;
  t.header = HeaderOf(w);
  std::map<std::string, uint64_t> region_pages;  // "proc/region" (every_op forks no writer)
  workloads::ForEachFlatStep(w, [&](const workloads::FlatStep& fs) {
    TraceOp op;
    op.fields = StepFields(*fs.step, fs.path);
    if (const auto* mmap = fs.step->get_if<workloads::MmapStep>()) {
      region_pages[mmap->proc + "/" + mmap->region] = *mmap->pages;
    }
    if (const auto* write = fs.step->get_if<workloads::WriteStep>()) {
      uint64_t pages =
          write->range ? write->range->size() : region_pages.at(write->proc + "/" + write->region);
      op.contents.push_back({pages, ContentRef{}});
    }
    t.ops.push_back(std::move(op));
    return true;
  });
  return t;
}

TEST(StepTraceTest, EveryOpRoundTripsThroughBothEncodings) {
  std::set<Op> seen;
  // every_op_2009.json: the ops only kernel "2009" has.
  for (const char* file : {"every_op.json", "every_op_2009.json"}) {
    workloads::Workload w = EveryOp(file);
    std::vector<workloads::FlatStep> flat = workloads::Flatten(w);
    ASSERT_FALSE(flat.empty());
    Trace trace = TraceOf(w);
    for (Encoding e : {Encoding::kJsonl, Encoding::kBinary}) {
      Trace decoded = Decode(Encode(trace, e));
      ASSERT_EQ(decoded, trace);
      workloads::Workload back = TraceWorkload(decoded);
      ASSERT_EQ(back.steps.size(), flat.size());
      for (size_t i = 0; i < flat.size(); ++i) {
        Step want = *flat[i].step;
        want.path = flat[i].path;
        if (auto* write = std::get_if<workloads::WriteStep>(&want.payload)) {
          write->data = workloads::DataSpec{};  // fill(0): the trace's contents replace it
        }
        EXPECT_EQ(back.steps[i], want) << want.path;
        seen.insert(want.op());
      }
    }
  }
  // Every op but repeat (which a trace has flattened) was in the trace.
  EXPECT_EQ(seen.size(), workloads::kNumOps - 1);
}

TEST(StepTraceTest, FieldIdsAreTheFormats) {
  // Binary traces name fields by these ids: they never change (docs/TRACE-FORMAT.md).
  const std::vector<std::pair<std::string_view, int>> want = {{"path", 0},
                                                              {"proc", 1},
                                                              {"child", 2},
                                                              {"region", 3},
                                                              {"pages", 4},
                                                              {"node", 5},
                                                              {"locked", 6},
                                                              {"range", 7},
                                                              {"advice", 8},
                                                              {"block", 9},
                                                              {"expect_error", 10},
                                                              {"set", 11},
                                                              {"ms", 12},
                                                              {"full_scans", 13},
                                                              {"ksm", 14},
                                                              {"procs", 15},
                                                              {"vmstat", 16},
                                                              {"label", 17},
                                                              {"memory_merge", 20},
                                                              // kernel "2009"
                                                              {"fd", 21},
                                                              {"sma", 22},
                                                              {"offset", 23},
                                                              {"npages", 24},
                                                              {"running", 25},
                                                              {"pages_to_scan", 26},
                                                              {"sleep", 27},
                                                              {"bad_arg", 28}};
  std::vector<std::pair<std::string_view, int>> have;
  for (const internal::Field& f : internal::TraceFields()) have.emplace_back(f.name, f.id);
  EXPECT_EQ(have, want);
  EXPECT_EQ(internal::NumFieldIds(), 29);
}

}  // namespace
}  // namespace ksmsim::traces
