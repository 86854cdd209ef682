// Helpers shared by the port's end-to-end tests (tests/ksm/port/*_test.cc): branch
// coverage of the mm/ksm.c port, one kernel area per file. Each test is a small inline
// workload run through the Driver with the invariant checker on after every step. The
// expected counters in every `expect` step were derived by hand from seed 000 (mm/ksm.c,
// Linux 6.1) and seed 001 (the zero-page unsharing patch); the comment above each
// expectation says which kernel lines produce it. Line numbers "L<n>" refer to seed 000
// unless marked.
//
// Conventions shared by every workload (see W()): one 64 MiB node, pages_to_scan 10000
// and sleep_millisecs 20, so that one ksmd batch is one whole pass: a pass that reaches the
// list head increments full_scans and ends the batch (L2380-2386). Processes are scanned in
// the order they first called madvise(MADV_MERGEABLE) or were forked, because __ksm_enter()
// inserts a new mm just behind the cursor (L2526), and the cursor is at the list head
// whenever a `wait` returns.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::workloads::ksm_port {

using nlohmann::ordered_json;

inline constexpr std::string_view kOneNode = R"({"nodes": [{"memory_mib": 64}]})";
inline constexpr std::string_view kTwoNodes =
    R"({"nodes": [{"memory_mib": 64}, {"memory_mib": 64}]})";

// A workload document around `steps` (the inside of the steps array). `knobs` adds initial
// knob values; `top` adds top-level fields (it must end with a comma).
inline std::string W(std::string_view steps, std::string_view knobs = "", std::string_view top = "",
                     std::string_view machine = kOneNode) {
  std::string s = R"({"ksmsim": 1, "name": "inline", )";
  s += top;
  s += R"( "machine": )";
  s += machine;
  s += R"(, "ksm": {"pages_to_scan": 10000, "sleep_millisecs": 20)";
  if (!knobs.empty()) s += std::string(", ") + std::string(knobs);
  s += R"(}, "steps": [)";
  s += steps;
  s += "]}";
  return s;
}

struct Outcome {
  ordered_json doc;
  int status = -1;
};

inline Outcome RunText(const std::string& text) {
  ParseOutcome parsed = ParseWorkloadText(text, "inline.json");
  Outcome out;
  if (!parsed.ok()) {
    std::string all;
    for (const auto& e : parsed.errors) all += e.ToString() + "\n";
    ADD_FAILURE() << "workload does not parse:\n" << all << text;
    return out;
  }
  Driver driver(*parsed.workload, DriverOptions{.check = true});
  out.doc = driver.Run();
  out.status = driver.exit_status();
  return out;
}

// Runs the workload and requires every expect (and the invariant checker) to hold.
inline Outcome RunOk(const std::string& text) {
  Outcome o = RunText(text);
  EXPECT_EQ(o.status, 0) << o.doc["errors"].dump(2);
  EXPECT_TRUE(o.doc["errors"].empty()) << o.doc["errors"].dump(2);
  return o;
}

inline int64_t Ksm(const Outcome& o, size_t entry, const char* name) {
  return o.doc["results"][entry]["ksm"][name].get<int64_t>();
}

// Two processes with one page of 0x41 each, merged after two passes; then `more`.
inline std::string TwoMerged(std::string_view knobs, std::string_view more) {
  std::string steps = R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1}},
  )";
  steps += more;
  return W(steps, knobs);
}

// Two processes with four pages of 0x41 each, merged after two passes; then `more`.
inline std::string EightPages(std::string_view more) {
  std::string steps = R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 4},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7},
                     "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}},
  )";
  steps += more;
  return W(steps);
}

}  // namespace ksmsim::workloads::ksm_port
