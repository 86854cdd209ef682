// Machine scenarios run through the workload driver with the invariant checker on after
// every step: fork and copy-on-write, swap out and back, migration, memory hotremove with
// and without a pinned page, out-of-memory, and exit freeing every frame.
#include <gtest/gtest.h>

#include <string>

#include "nlohmann/json.hpp"
#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::workloads {
namespace {

using nlohmann::ordered_json;

struct Outcome {
  int status = -1;
  ordered_json doc;
};

std::string Errors(const ordered_json& doc) {
  std::string s;
  for (const auto& e : doc["errors"]) s += "  " + e.get<std::string>() + "\n";
  return s;
}

Outcome RunWorkload(const std::string& json, const std::string& name) {
  ParseOutcome parsed = ParseWorkloadText(json, name);
  Outcome out;
  if (!parsed.ok()) {
    for (const auto& e : parsed.errors) ADD_FAILURE() << e.ToString();
    return out;
  }
  Driver d(*parsed.workload, {.check = true});
  out.doc = d.Run();
  out.status = d.exit_status();
  return out;
}

// The result entry (snapshot or expect) with this label.
const ordered_json& Entry(const ordered_json& doc, const std::string& label) {
  for (const auto& e : doc["results"])
    if (e["label"] == label) return e;
  static const ordered_json none;
  ADD_FAILURE() << "no result entry labelled " << label;
  return none;
}

uint64_t FramesInUse(const ordered_json& entry, int node) {
  return entry["machine"]["nodes"][node]["frames_in_use"].get<uint64_t>();
}

uint64_t FramesFree(const ordered_json& entry, int node) {
  return entry["machine"]["nodes"][node]["frames_free"].get<uint64_t>();
}

uint64_t Vmstat(const ordered_json& entry, const std::string& name) {
  return entry["vmstat"][name].get<uint64_t>();
}

TEST(MachineScenariosTest, ForkThenChildWritesLeavesTheParentUnchanged) {
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "fork, child writes", "seed": 3,
    "machine": {"nodes": [{"memory_mib": 64}]},
    "steps": [
      {"op": "spawn", "proc": "parent"},
      {"op": "mmap", "proc": "parent", "region": "heap", "pages": 1000},
      {"op": "write", "proc": "parent", "region": "heap", "data": {"unique": true}},
      {"op": "fork", "proc": "parent", "child": "child"},
      {"op": "snapshot", "label": "forked"},
      {"op": "write", "proc": "child", "region": "heap", "range": [0, 500], "data": {"fill": 7}},
      {"op": "write", "proc": "child", "region": "heap", "range": [500, 600],
       "data": {"patch": {"offset": 17, "value": 255}}},
      {"op": "snapshot", "label": "child wrote"},
      {"op": "verify", "proc": "parent", "region": "heap"},
      {"op": "verify", "proc": "child", "region": "heap"},
      {"op": "write", "proc": "parent", "region": "heap", "range": [0, 100], "data": {"key": "x"}},
      {"op": "verify", "proc": "parent", "region": "heap"},
      {"op": "verify", "proc": "child", "region": "heap"},
      {"op": "snapshot", "label": "parent wrote"}
    ]})", "fork.json");
  EXPECT_EQ(r.status, 0) << Errors(r.doc);
  EXPECT_TRUE(r.doc["errors"].empty()) << Errors(r.doc);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "forked"), 0), 1000u);
  EXPECT_EQ(Entry(r.doc, "forked")["machine"]["resident_pages"]["child"], 1000);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "child wrote"), 0), 1600u);
  // The parent's pages 0..99 are its own since the child copied them: rewritten in place.
  EXPECT_EQ(FramesInUse(Entry(r.doc, "parent wrote"), 0), 1600u);
}

TEST(MachineScenariosTest, SwapOutAndBack) {
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "swap out and back",
    "machine": {"nodes": [{"memory_mib": 64}], "swap_mib": 16},
    "steps": [
      {"op": "spawn", "proc": "p"},
      {"op": "mmap", "proc": "p", "region": "heap", "pages": 1000},
      {"op": "write", "proc": "p", "region": "heap", "data": {"unique": true}},
      {"op": "madvise", "proc": "p", "region": "heap", "advice": "pageout"},
      {"op": "expect", "label": "out", "vmstat": {"pswpout": 1000, "pswpin": 0}},
      {"op": "verify", "proc": "p", "region": "heap", "range": [0, 400]},
      {"op": "expect", "label": "half in", "vmstat": {"pswpout": 1000, "pswpin": 400}},
      {"op": "write", "proc": "p", "region": "heap", "range": [400, 500],
       "data": {"patch": {"offset": 4095, "value": 1}}},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "expect", "label": "in", "vmstat": {"pswpout": 1000, "pswpin": 1000}}
    ]})", "swap.json");
  EXPECT_EQ(r.status, 0) << Errors(r.doc);
  EXPECT_TRUE(r.doc["errors"].empty()) << Errors(r.doc);
  const ordered_json& out = Entry(r.doc, "out");
  EXPECT_EQ(FramesInUse(out, 0), 0u);
  EXPECT_EQ(out["machine"]["swap_slots_in_use"], 1000);
  EXPECT_EQ(out["machine"]["resident_pages"]["p"], 0);
  const ordered_json& in = Entry(r.doc, "in");
  EXPECT_EQ(FramesInUse(in, 0), 1000u);
  EXPECT_EQ(in["machine"]["swap_slots_in_use"], 0);  // every slot released on swap-in
}

TEST(MachineScenariosTest, MigrateBetweenNodes) {
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "migrate",
    "machine": {"nodes": [{"memory_mib": 16}, {"memory_mib": 16}]},
    "steps": [
      {"op": "spawn", "proc": "p"},
      {"op": "mmap", "proc": "p", "region": "heap", "pages": 500, "node": 0},
      {"op": "write", "proc": "p", "region": "heap", "data": {"cycle": 7}},
      {"op": "snapshot", "label": "written"},
      {"op": "migrate", "proc": "p", "region": "heap", "range": [0, 300], "node": 1},
      {"op": "snapshot", "label": "moved"},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "write", "proc": "p", "region": "heap", "range": [0, 10], "data": {"fill": 1}},
      {"op": "migrate", "proc": "p", "region": "heap", "node": 0},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "snapshot", "label": "back"}
    ]})", "migrate.json");
  EXPECT_EQ(r.status, 0) << Errors(r.doc);
  EXPECT_TRUE(r.doc["errors"].empty()) << Errors(r.doc);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "written"), 0), 500u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "written"), 1), 0u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "moved"), 0), 200u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "moved"), 1), 300u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "back"), 0), 500u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "back"), 1), 0u);
}

TEST(MachineScenariosTest, OfflineWithAPinnedPageIsEbusyThenSucceedsAfterUnpin) {
  // One node of 4 MiB in 1 MiB blocks (256 pages): the 300 pages fill block 0 and part of
  // block 1.
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "offline with a pin",
    "machine": {"nodes": [{"memory_mib": 4}, {"memory_mib": 4}], "memory_block_mib": 1},
    "steps": [
      {"op": "spawn", "proc": "p"},
      {"op": "mmap", "proc": "p", "region": "heap", "pages": 300},
      {"op": "write", "proc": "p", "region": "heap", "data": {"unique": true}},
      {"op": "pin", "proc": "p", "region": "heap", "range": [10, 11]},
      {"op": "offline", "node": 0, "block": 0, "expect_error": "EBUSY"},
      {"op": "snapshot", "label": "refused"},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "unpin", "proc": "p", "region": "heap", "range": [10, 11]},
      {"op": "offline", "node": 0, "block": 0, "expect_error": "none"},
      {"op": "snapshot", "label": "offline"},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "online", "node": 0, "block": 0, "expect_error": "none"},
      {"op": "snapshot", "label": "online"},
      {"op": "exit", "proc": "p"},
      {"op": "snapshot", "label": "exited"}
    ]})", "offline_pin.json");
  EXPECT_EQ(r.status, 0) << Errors(r.doc);
  EXPECT_TRUE(r.doc["errors"].empty()) << Errors(r.doc);
  ASSERT_EQ(r.doc["outcomes"].size(), 3u);
  EXPECT_EQ(r.doc["outcomes"][0]["error"], "EBUSY");
  EXPECT_EQ(r.doc["outcomes"][1]["error"], "none");
  EXPECT_EQ(r.doc["outcomes"][2]["error"], "none");
  // Every page of block 0 but the pinned one moved to node 1 and stays there.
  EXPECT_EQ(FramesInUse(Entry(r.doc, "refused"), 0), 45u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "refused"), 1), 255u);
  EXPECT_EQ(FramesFree(Entry(r.doc, "refused"), 0), 1024u - 45);
  // Every page moved out of block 0, to the other node (do_migrate_range() leaves the
  // block's own node out); the block is not free memory.
  EXPECT_EQ(FramesInUse(Entry(r.doc, "offline"), 0), 44u);
  EXPECT_EQ(FramesFree(Entry(r.doc, "offline"), 0), 1024u - 256 - 44);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "offline"), 1), 256u);
  EXPECT_EQ(FramesFree(Entry(r.doc, "online"), 0), 1024u - 44);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "exited"), 0), 0u);
  EXPECT_EQ(FramesFree(Entry(r.doc, "exited"), 0), 1024u);
}

TEST(MachineScenariosTest, OfflineOfAFullNodeMovesPagesToTheOtherNode) {
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "offline to the other node",
    "machine": {"nodes": [{"memory_mib": 2, "reserve_mib": 0}, {"memory_mib": 2, "reserve_mib": 0}],
                "memory_block_mib": 1},
    "steps": [
      {"op": "spawn", "proc": "p"},
      {"op": "mmap", "proc": "p", "region": "heap", "pages": 512, "node": 0},
      {"op": "write", "proc": "p", "region": "heap", "data": {"pool": 50}},
      {"op": "offline", "node": 0, "block": 1, "expect_error": "none"},
      {"op": "snapshot", "label": "offline"},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "offline", "node": 0, "block": 0, "expect_error": "none"},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "snapshot", "label": "node 0 offline"},
      {"op": "offline", "node": 1, "block": 0, "expect_error": "EBUSY"},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "snapshot", "label": "refused"}
    ]})", "offline_full.json");
  EXPECT_EQ(r.status, 0) << Errors(r.doc);
  EXPECT_TRUE(r.doc["errors"].empty()) << Errors(r.doc);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "offline"), 0), 256u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "offline"), 1), 256u);
  EXPECT_EQ(FramesFree(Entry(r.doc, "offline"), 0), 0u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "node 0 offline"), 0), 0u);
  EXPECT_EQ(FramesInUse(Entry(r.doc, "node 0 offline"), 1), 512u);
  // No free frame anywhere to move node 1's pages to (no reserve: the default 64 MiB of a
  // hotplug workload would take them): EBUSY, and nothing moved or lost.
  EXPECT_EQ(FramesInUse(Entry(r.doc, "refused"), 1), 512u);
  EXPECT_EQ(FramesFree(Entry(r.doc, "refused"), 1), 0u);
}

TEST(MachineScenariosTest, OutOfMemoryWithoutSwapIsAClearError) {
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "oom",
    "machine": {"nodes": [{"memory_mib": 1}]},
    "steps": [
      {"op": "spawn", "proc": "p"},
      {"op": "mmap", "proc": "p", "region": "heap", "pages": 300},
      {"op": "write", "proc": "p", "region": "heap", "data": {"unique": true}},
      {"op": "snapshot", "label": "never"}
    ]})", "oom.json");
  EXPECT_EQ(r.status, 3);  // a valid workload the machine cannot carry out
  ASSERT_FALSE(r.doc["errors"].empty());
  std::string first = r.doc["errors"][0].get<std::string>();
  EXPECT_NE(first.find("out of memory"), std::string::npos) << first;
  EXPECT_NE(first.find("p:heap[256]"), std::string::npos) << first;
  EXPECT_NE(first.find("step 2"), std::string::npos) << first;
  EXPECT_NE(Errors(r.doc).find("the run stopped at step 2"), std::string::npos) << Errors(r.doc);
  EXPECT_EQ(Errors(r.doc).find("invariant"), std::string::npos) << Errors(r.doc);
  EXPECT_TRUE(r.doc["results"].empty());
}

TEST(MachineScenariosTest, OutOfMemoryWithSwapReclaims) {
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "reclaim",
    "machine": {"nodes": [{"memory_mib": 1}], "swap_mib": 4},
    "steps": [
      {"op": "spawn", "proc": "p"},
      {"op": "mmap", "proc": "p", "region": "heap", "pages": 600},
      {"op": "write", "proc": "p", "region": "heap", "data": {"unique": true}},
      {"op": "fork", "proc": "p", "child": "c"},
      {"op": "write", "proc": "c", "region": "heap", "range": [0, 300], "data": {"fill": 9}},
      {"op": "verify", "proc": "p", "region": "heap"},
      {"op": "verify", "proc": "c", "region": "heap"},
      {"op": "snapshot", "label": "done"},
      {"op": "exit", "proc": "c"},
      {"op": "exit", "proc": "p"},
      {"op": "snapshot", "label": "exited"}
    ]})", "reclaim.json");
  EXPECT_EQ(r.status, 0) << Errors(r.doc);
  EXPECT_TRUE(r.doc["errors"].empty()) << Errors(r.doc);
  const ordered_json& done = Entry(r.doc, "done");
  EXPECT_GT(Vmstat(done, "pswpout"), 600u - 256);
  EXPECT_GT(Vmstat(done, "pswpin"), 0u);
  const ordered_json& exited = Entry(r.doc, "exited");
  EXPECT_EQ(FramesInUse(exited, 0), 0u);
  EXPECT_EQ(exited["machine"]["swap_slots_in_use"], 0);
}

TEST(MachineScenariosTest, ExitFreesEveryFrame) {
  Outcome r = RunWorkload(R"({
    "ksmsim": 1, "name": "exit frees", "seed": 11,
    "machine": {"nodes": [{"memory_mib": 64}, {"memory_mib": 64}], "swap_mib": 8},
    "steps": [
      {"op": "spawn", "proc": "a"},
      {"op": "spawn", "proc": "b", "node": 1},
      {"op": "mmap", "proc": "a", "region": "heap", "pages": 2000},
      {"op": "mmap", "proc": "a", "region": "locked", "pages": 50, "locked": true},
      {"op": "mmap", "proc": "b", "region": "heap", "pages": 700},
      {"op": "write", "proc": "a", "region": "heap", "data": {"pool": 100}},
      {"op": "write", "proc": "b", "region": "heap", "data": {"unique": true}},
      {"op": "read", "proc": "a", "region": "locked"},
      {"op": "madvise", "proc": "a", "region": "heap", "range": [0, 100], "advice": "pageout"},
      {"op": "fork", "proc": "a", "child": "a2"},
      {"op": "write", "proc": "a2", "region": "heap", "range": [50, 150], "data": {"key": "k"}},
      {"op": "madvise", "proc": "a2", "region": "heap", "range": [1000, 1100],
       "advice": "dontneed"},
      {"op": "read", "proc": "a2", "region": "heap", "range": [0, 20]},
      {"op": "migrate", "proc": "a2", "region": "heap", "range": [50, 150], "node": 1},
      {"op": "pin", "proc": "b", "region": "heap", "range": [0, 5]},
      {"op": "unpin", "proc": "b", "region": "heap", "range": [0, 5]},
      {"op": "munmap", "proc": "b", "region": "heap", "range": [100, 200]},
      {"op": "verify", "proc": "a", "region": "heap"},
      {"op": "verify", "proc": "a2", "region": "heap"},
      {"op": "snapshot", "label": "busy"},
      {"op": "exit", "proc": "a"},
      {"op": "exit", "proc": "b"},
      {"op": "verify", "proc": "a2", "region": "heap"},
      {"op": "exit", "proc": "a2"},
      {"op": "snapshot", "label": "exited"}
    ]})", "exit.json");
  EXPECT_EQ(r.status, 0) << Errors(r.doc);
  EXPECT_TRUE(r.doc["errors"].empty()) << Errors(r.doc);
  EXPECT_GT(FramesInUse(Entry(r.doc, "busy"), 0), 0u);
  EXPECT_GT(FramesInUse(Entry(r.doc, "busy"), 1), 0u);
  EXPECT_GT(Vmstat(Entry(r.doc, "busy"), "pswpout"), 0u);
  const ordered_json& exited = Entry(r.doc, "exited");
  EXPECT_EQ(FramesInUse(exited, 0), 0u);
  EXPECT_EQ(FramesInUse(exited, 1), 0u);
  EXPECT_EQ(FramesFree(exited, 0), 64u * 256);
  EXPECT_EQ(FramesFree(exited, 1), 64u * 256);
  EXPECT_EQ(exited["machine"]["swap_slots_in_use"], 0);
}

}  // namespace
}  // namespace ksmsim::workloads
