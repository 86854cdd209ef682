// Branch coverage of the mm/ksm.c port, end to end: each test is a small inline workload
// run through the Driver with the invariant checker on after every step. The expected
// counters in every `expect` step were derived by hand from seed 000 (mm/ksm.c, Linux 6.1)
// and seed 001 (the zero-page unsharing patch); the comment above each expectation says
// which kernel lines produce it. Line numbers "L<n>" refer to seed 000 unless marked.
//
// Conventions shared by every workload below (see W()): one 64 MiB node, pages_to_scan
// 10000 and sleep_millisecs 20, so that one ksmd batch is one whole pass: a pass that
// reaches the list head increments full_scans and ends the batch (L2380-2386). Processes
// are scanned in the order they first called madvise(MADV_MERGEABLE) or were forked,
// because __ksm_enter() inserts a new mm just behind the cursor (L2526), and the cursor is
// at the list head whenever a `wait` returns.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::workloads {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view kOneNode = R"({"nodes": [{"memory_mib": 64}]})";
constexpr std::string_view kTwoNodes = R"({"nodes": [{"memory_mib": 64}, {"memory_mib": 64}]})";

// A workload document around `steps` (the inside of the steps array). `knobs` adds initial
// knob values; `top` adds top-level fields (it must end with a comma).
std::string W(std::string_view steps, std::string_view knobs = "", std::string_view top = "",
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

Outcome RunText(const std::string& text) {
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
Outcome RunOk(const std::string& text) {
  Outcome o = RunText(text);
  EXPECT_EQ(o.status, 0) << o.doc["errors"].dump(2);
  EXPECT_TRUE(o.doc["errors"].empty()) << o.doc["errors"].dump(2);
  return o;
}

// Two processes with one page of 0x41 each, merged after two passes; then `more`.
std::string TwoMerged(std::string_view knobs, std::string_view more);

int64_t Ksm(const Outcome& o, size_t entry, const char* name) {
  return o.doc["results"][entry]["ksm"][name].get<int64_t>();
}

// ---------------------------------------------------------------------------------------
// cmp_and_merge_page: the two-visit rule, unstable tree hit, stable tree hit, volatile.

TEST(KsmPortTest, NewRmapItemNeedsTwoVisitsBeforeTheUnstableTree) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "range": [0, 1], "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"full_scans": 1, "pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
             "pages_volatile": 2},
     "procs": {"a": {"ksm_rmap_items": 1, "ksm_merging_pages": 0},
               "b": {"ksm_rmap_items": 1, "ksm_merging_pages": 0}}},
    {"op": "write", "proc": "a", "region": "r", "range": [1, 2], "data": {"fill": 66}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
             "pages_volatile": 1},
     "procs": {"a": {"ksm_rmap_items": 2, "ksm_merging_pages": 1},
               "b": {"ksm_rmap_items": 1, "ksm_merging_pages": 1}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 1, "pages_volatile": 0}}
  )"));
  // Pass 1: get_next_rmap_item() allocates zeroed rmap_items (L2207), so oldchecksum is 0
  // != calc_checksum(): L2095-2098 store the checksum and return. Both pages are volatile
  // (rmap_items - shared - sharing - unshared, L3094).
  // Pass 2: a[0] enters the unstable tree (L1971-1977); b[0] finds it (L1966) and
  // try_to_merge_two_pages makes b's page the KSM page (1 shared + 1 sharing, L2012-2015).
  // a[1] was written after pass 1: its new rmap_item is volatile for this one pass.
  // Pass 3: a[1]'s checksum is unchanged, nothing matches it: unstable (unshared 1).
}

TEST(KsmPortTest, UnstableTreeHitMakesANewKsmPage) {
  Outcome o = RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"key": "x"}},
    {"op": "write", "proc": "b", "region": "r", "data": {"key": "x"}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect",
     "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
             "pages_volatile": 0, "stable_node_chains": 0, "stable_node_dups": 0},
     "procs": {"a": {"ksm_rmap_items": 1, "ksm_merging_pages": 1},
               "b": {"ksm_rmap_items": 1, "ksm_merging_pages": 1}},
     "vmstat": {"cow_ksm": 0}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect",
     "ksm": {"full_scans": 5, "pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
             "pages_volatile": 0}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // Pass 2: a's item goes into the unstable tree (unshared 1), then b's item hits it:
  // try_to_merge_with_ksm_page removes a's item from the unstable tree again
  // (L1287 -> L772-787, unshared back to 0); stable_tree_insert adds one node, and
  // stable_tree_append runs for tree_rmap_item first (hlist empty: pages_shared++) and then
  // for rmap_item (hlist.next set: pages_sharing++), L2155-2158.
  // Later passes: both pages are PageKsm with rmap_item->head == stable_node: L2049-2051
  // return at once, nothing changes.
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 1);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 1);
}

TEST(KsmPortTest, ThirdPageInTheSamePassHitsTheStableTree) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"}, {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect",
     "ksm": {"pages_shared": 1, "pages_sharing": 2, "pages_unshared": 0, "pages_volatile": 0},
     "procs": {"c": {"ksm_rmap_items": 1, "ksm_merging_pages": 1}}}
  )"));
  // Pass 2: a -> unstable, b -> new KSM page with 2 mappings; c: stable_tree_search finds
  // that node (rmap_hlist_len 2 < max_page_sharing 256, a sharing candidate, L1501-1503),
  // try_to_merge_with_ksm_page succeeds and stable_tree_append adds a sharer (L2073-2081).
}

TEST(KsmPortTest, StableTreeHitMergesOnTheFirstVisit) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 3},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect",
     "ksm": {"full_scans": 3, "pages_shared": 1, "pages_sharing": 4, "pages_unshared": 0,
             "pages_volatile": 0},
     "procs": {"c": {"ksm_rmap_items": 3, "ksm_merging_pages": 3}}}
  )"));
  // c's rmap_items are brand new (oldchecksum 0) but cmp_and_merge_page searches the stable
  // tree before it looks at the checksum (L2060-2087 come before L2094): each of c's three
  // pages merges into the existing KSM page during its very first visit.
}

TEST(KsmPortTest, PageRewrittenBetweenPassesStaysOutOfTheUnstableTree) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "repeat", "times": 3, "steps": [
      {"op": "write", "proc": "a", "region": "r", "data": {"fill": 66}},
      {"op": "wait", "full_scans": 1},
      {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                               "pages_volatile": 1}},
      {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
      {"op": "wait", "full_scans": 1},
      {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                               "pages_volatile": 1}}
    ]},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 8, "pages_shared": 1, "pages_sharing": 1,
                             "pages_unshared": 0, "pages_volatile": 0}}
  )"));
  // a's page changes between every two passes, so at each visit its checksum differs from
  // oldchecksum: L2095-2098 return before the unstable tree; a stays volatile. b's page is
  // unchanged: every pass it is removed from the (already reset) unstable tree (L2067,
  // age != 0 so no rb_erase, L781-787) and inserted again: unshared stays 1. Once a stops
  // changing, the next pass puts a into the tree first and b hits it: merged.
}

// ---------------------------------------------------------------------------------------
// Stable node chains: max_page_sharing 2, 3, 4 with ten identical pages (a[0..4], b[0..4],
// scanned in that order during pass 2).
//
// The first page of a group enters the unstable tree, the second hits it and makes a KSM
// page with 2 mappings, and each further page merges into that KSM page while its
// rmap_hlist_len < max_page_sharing (is_page_sharing_candidate, L1338-1339). When the dup is
// full, stable_tree_search still finds the content but with no candidate dup returns NULL
// (L1646-1662): that page goes into the unstable tree and the next one makes a new KSM page,
// which stable_tree_insert links as a new dup under a chain (L1885-1894; the first time the
// chain is created, L1888). So each KSM page takes max_page_sharing consecutive pages;
// a remainder of 1 page stays unshared.

std::string ChainWorkload(int max_page_sharing) {
  return W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 5},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 5},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "pass2"},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "pass4"}
  )",
           "\"max_page_sharing\": " + std::to_string(max_page_sharing));
}

struct ChainCase {
  int max_page_sharing;
  int64_t shared, sharing, unshared, chains, dups, a_merging, b_merging;
};

void CheckChain(const ChainCase& c) {
  Outcome o = RunOk(ChainWorkload(c.max_page_sharing));
  ASSERT_EQ(o.doc["results"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {  // the same after pass 2 and after pass 4
    SCOPED_TRACE(o.doc["results"][i]["label"].get<std::string>());
    EXPECT_EQ(Ksm(o, i, "pages_shared"), c.shared);
    EXPECT_EQ(Ksm(o, i, "pages_sharing"), c.sharing);
    EXPECT_EQ(Ksm(o, i, "pages_unshared"), c.unshared);
    EXPECT_EQ(Ksm(o, i, "pages_volatile"), 0);
    EXPECT_EQ(Ksm(o, i, "stable_node_chains"), c.chains);
    EXPECT_EQ(Ksm(o, i, "stable_node_dups"), c.dups);
    EXPECT_EQ(o.doc["results"][i]["procs"]["a"]["ksm_merging_pages"].get<int64_t>(), c.a_merging);
    EXPECT_EQ(o.doc["results"][i]["procs"]["b"]["ksm_merging_pages"].get<int64_t>(), c.b_merging);
    EXPECT_EQ(o.doc["results"][i]["procs"]["b"]["ksm_rmap_items"].get<int64_t>(), 5);
  }
}

TEST(KsmPortTest, ChainMaxPageSharing2) {
  // Groups (a0,a1) (a2,a3) (a4,b0) (b1,b2) (b3,b4): 5 KSM pages of 2 mappings, all dups of
  // one chain.
  CheckChain({2, /*shared*/ 5, /*sharing*/ 5, /*unshared*/ 0, /*chains*/ 1, /*dups*/ 5, 5, 5});
}

TEST(KsmPortTest, ChainMaxPageSharing3) {
  // Groups (a0,a1,a2) (a3,a4,b0) (b1,b2,b3), b4 alone: full dups are skipped, so b4 goes
  // into the unstable tree and finds no partner. 3 KSM pages, 6 sharers, 1 unshared.
  CheckChain({3, 3, 6, 1, 1, 3, 5, 4});
}

TEST(KsmPortTest, ChainMaxPageSharing4) {
  // Groups (a0..a3) (a4,b0,b1,b2) (b3,b4): 3 KSM pages; the last has only 2 mappings.
  CheckChain({4, 3, 7, 0, 1, 3, 5, 5});
}

TEST(KsmPortTest, NoChainWhenMaxPageSharingIsNotReached) { CheckChain({11, 1, 9, 0, 0, 0, 5, 5}); }

// ---------------------------------------------------------------------------------------
// Chain pruning and collapse (stable_node_dup, L1348-1465). Setup, max_page_sharing 2:
// region r = 4 pages of 0x41 -> chain [K2 (r2,r3), K1 (r0,r1)]; region u = 1 page of 0x42,
// scanned after r, never merges but calls stable_tree_search every pass, so it walks the
// chain at the tree root (chain_prune, L1574).

std::string CollapseSetup(std::string_view knobs, std::string_view more_steps) {
  std::string steps = R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
    {"op": "mmap", "proc": "a", "region": "u", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "a", "region": "u", "data": {"fill": 66}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "a", "region": "u", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 2}},
  )";
  steps += more_steps;
  std::string all = "\"max_page_sharing\": 2";
  if (!knobs.empty()) all += ", " + std::string(knobs);
  return W(steps, all);
}

TEST(KsmPortTest, ChainCollapsesWhenPruningFindsOneCandidateDup) {
  RunOk(CollapseSetup(R"("stable_node_chains_prune_millisecs": 0)", R"(
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 1], "advice": "unmergeable"},
    {"op": "madvise", "proc": "a", "region": "r", "range": [2, 4], "advice": "unmergeable"},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "stable_node_chains": 1,
                             "stable_node_dups": 2},
                     "vmstat": {"cow_ksm": 3}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 0,
                             "stable_node_dups": 0},
                     "procs": {"a": {"ksm_rmap_items": 2, "ksm_merging_pages": 1}},
                     "vmstat": {"cow_ksm": 3}},
    {"op": "verify", "proc": "a", "region": "r"}
  )"));
  // Unmerging r0, r2, r3 breaks COW at once (cow_ksm 3: do_wp_page always copies a KSM
  // page) but leaves the rmap_items for the next pass (L804-815). Pass 3: at r1,
  // get_next_rmap_item frees r0's item: K1 is still mapped (by r1), so it just loses a
  // sharer (L754-763). At u, r2's and r3's items go: K2's page has been freed, get_ksm_page
  // finds it stale and remove_node_from_stable_tree drops K2 with both items (dups 1).
  // Then u's stable_tree_search calls chain_prune; prune_millisecs 0 means
  // !time_before(jiffies, chain_prune_time): prune. The walk finds one live dup (nr == 1),
  // K1, with rmap_hlist_len 1 < 2 (found): L1409-1432 put K1 in the chain's place in the
  // rbtree and free the chain: chains 0, dups 0. K1 keeps one mapping (shared 1).
}

TEST(KsmPortTest, ChainKeptWhenTheLastDupIsFull) {
  RunOk(CollapseSetup(R"("stable_node_chains_prune_millisecs": 0)", R"(
    {"op": "madvise", "proc": "a", "region": "r", "range": [2, 4], "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 1},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [1, 2], "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 0,
                             "stable_node_dups": 0},
                     "vmstat": {"cow_ksm": 3}}
  )"));
  // Pass 3: K2 goes stale and is removed; the prune walk sees nr == 1 but K1 still has
  // rmap_hlist_len 2 == max_page_sharing, so it is not a candidate and `found` stays NULL:
  // the nr == 1 collapse needs `found` (L1408-1409), the chain survives with one dup.
  // Pass 4: r1's item is dropped (K1 down to 1 mapping, a candidate again); u's search
  // prunes once more and this time collapses the chain.
}

TEST(KsmPortTest, ChainCollapseWaitsForThePruneInterval) {
  RunOk(CollapseSetup("", R"(
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 1], "advice": "unmergeable"},
    {"op": "madvise", "proc": "a", "region": "r", "range": [2, 4], "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0, "pages_unshared": 1,
                             "stable_node_chains": 1, "stable_node_dups": 1}},
    {"op": "wait", "ms": 2100},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0, "pages_unshared": 1,
                             "stable_node_chains": 0, "stable_node_dups": 0}}
  )"));
  // Default stable_node_chains_prune_millisecs 2000: pass 3 runs ~20 ms after the chain
  // was made (chain_prune_time = jiffies, L566), time_before() holds, no pruning: the walk
  // stops at the first candidate (K1) and never collapses (L1393-1394, L1409). The chain
  // keeps its single dup until a search runs 500 jiffies (HZ 250) after chain_prune_time;
  // u's search does that during the 2.1 s wait.
}

// Which dup of a chain receives a new sharer: with pruning, stable_node_dup walks every dup
// and takes the candidate with the largest rmap_hlist_len (L1384-1398); without, it takes
// the first candidate from the head of the chain's list (L1393-1394). Setup with
// max_page_sharing 3: a's six pages make K1 (r0,r1,r2) and K2 (r3,r4,r5), list [K2, K1]
// (new dups go to the head, L350). Unmerging r0, r4, r5 leaves K1 with 2 mappings and K2
// with 1 (counters settle one pass later, without any stable tree search). Then b's one
// page arrives; after it, r3 (K2's last original sharer) is unmerged.

std::string DupChoice(std::string_view knobs) {
  std::string all = "\"max_page_sharing\": 3";
  if (!knobs.empty()) all += ", " + std::string(knobs);
  return W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 6},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 4, "stable_node_chains": 1,
                             "stable_node_dups": 2}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 1], "advice": "unmergeable"},
    {"op": "madvise", "proc": "a", "region": "r", "range": [4, 6], "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 1, "stable_node_chains": 1,
                             "stable_node_dups": 2}},
    {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "pages_volatile": 0},
                     "procs": {"b": {"ksm_merging_pages": 1}}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [3, 4], "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "snapshot", "label": "end"},
    {"op": "verify", "proc": "b", "region": "r"}
  )",
           all);
}

TEST(KsmPortTest, PruningWalkGivesTheNewSharerToTheFullestDup) {
  Outcome o = RunOk(DupChoice(R"("stable_node_chains_prune_millisecs": 0)"));
  // b joins K1 (2 > 1 mappings; K1 then is full, so it is not moved to the head). r3's
  // unmerge leaves K2 unmapped: the pass drops r3's item through get_ksm_page, which finds
  // K2 stale and removes it. K1 keeps r1, r2, b.
  EXPECT_EQ(Ksm(o, 3, "pages_shared"), 1);
  EXPECT_EQ(Ksm(o, 3, "pages_sharing"), 2);
  EXPECT_EQ(Ksm(o, 3, "stable_node_chains"), 1);
  EXPECT_EQ(Ksm(o, 3, "stable_node_dups"), 1);
  EXPECT_EQ(o.doc["results"][3]["vmstat"]["cow_ksm"].get<int64_t>(), 4);
}

TEST(KsmPortTest, NonPruningWalkGivesTheNewSharerToTheFirstCandidate) {
  Outcome o = RunOk(DupChoice(""));
  // Within the 2 s prune interval the walk stops at the list head, K2 (1 mapping): b
  // joins K2. Unmerging r3 then leaves K2 mapped by b: one sharer less, no node removed.
  EXPECT_EQ(Ksm(o, 3, "pages_shared"), 2);
  EXPECT_EQ(Ksm(o, 3, "pages_sharing"), 1);
  EXPECT_EQ(Ksm(o, 3, "stable_node_chains"), 1);
  EXPECT_EQ(Ksm(o, 3, "stable_node_dups"), 2);
  EXPECT_EQ(o.doc["results"][3]["vmstat"]["cow_ksm"].get<int64_t>(), 4);
}

TEST(KsmPortTest, FoundDupMovesToTheChainHead) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 8},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 6, "stable_node_dups": 2}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 2], "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 4}},
    {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 5}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [7, 8], "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 4}},
    {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 5}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [2, 4], "advice": "unmergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "stable_node_chains": 1,
                             "stable_node_dups": 2},
                     "procs": {"c": {"ksm_merging_pages": 1}}}
  )",
          R"("max_page_sharing": 4)"));
  // max_page_sharing 4, no pruning (default interval): K1 (r0-r3) and K2 (r4-r7), chain
  // list [K2, K1]. With r0, r1 gone, b's walk skips the full head K2 and stops at K1
  // (2 mappings); K1 is not the head and can take one more besides b
  // (__is_page_sharing_candidate(found, 1)), so it moves to the head (L1440-1459): [K1, K2].
  // r7 goes (K2: 3). c's walk now stops at the head, K1 (3 mappings): c joins K1, not K2.
  // Unmerging r2, r3 and b then leaves K1 with c alone (still a KSM page, shared 1) and K2
  // with r4-r6 (shared 1, sharing 2). Had c joined K2, K1 would have been freed: 1 and 3.
}

// A chain whose dups have all gone stale stays in the tree, empty, until a tree walk meets
// it (stable_node_dup_any frees it, L1472-1474) or sysfs removes every stable node.

std::string EmptyChain(bool with_u, std::string_view more) {
  std::string steps = R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
    {"op": "mmap", "proc": "a", "region": "u", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "a", "region": "u", "data": {"fill": 66}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
  )";
  if (with_u) steps += R"({"op": "madvise", "proc": "a", "region": "u", "advice": "mergeable"},)";
  steps += R"(
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "stable_node_chains": 1,
                             "stable_node_dups": 2}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "unmergeable"},
    {"op": "wait", "full_scans": 1},
  )";
  steps += more;
  return W(steps, R"("max_page_sharing": 2)");
}

TEST(KsmPortTest, EmptyChainLingersUntilSysfsRemovesIt) {
  RunOk(EmptyChain(false, R"(
    {"op": "expect", "ksm": {"full_scans": 3, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 0,
                             "stable_node_chains": 1, "stable_node_dups": 0},
                     "procs": {"a": {"ksm_rmap_items": 0}}},
    {"op": "ksm", "set": {"max_page_sharing": 3}, "expect_error": "none"},
    {"op": "expect", "ksm": {"stable_node_chains": 0, "stable_node_dups": 0,
                             "max_page_sharing": 3}}
  )"));
  // The pass drops a's four rmap_items (no VM_MERGEABLE VMA left); each dup's page was
  // freed by the unmerge, so get_ksm_page removes both dups (dups 0), but nothing walks
  // the tree: the chain stays (chains 1). remove_all_stable_nodes frees it (L892-915).
}

TEST(KsmPortTest, EmptyChainIsFreedByTheNextTreeWalk) {
  RunOk(EmptyChain(true, R"(
    {"op": "expect", "ksm": {"full_scans": 3, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 1, "pages_volatile": 0,
                             "stable_node_chains": 0, "stable_node_dups": 0}}
  )"));
  // Here u's stable_tree_search (after the dups were removed at u's get_next_rmap_item)
  // finds no dup: stable_node_dup_any sees the empty chain, frees it and the search
  // restarts on the empty tree (L1593-1598).
}

TEST(KsmPortTest, ReplaceMovesAMigratedDupOutOfItsChain) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 66}},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 5},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 3, "pages_unshared": 1,
                             "stable_node_chains": 1, "stable_node_dups": 2}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "migrate", "proc": "a", "region": "r", "range": [3, 5], "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 3, "pages_unshared": 0,
                             "pages_volatile": 1, "stable_node_chains": 1,
                             "stable_node_dups": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 3, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 1},
                     "procs": {"c": {"ksm_merging_pages": 0}}}
  )",
          R"("max_page_sharing": 3, "merge_across_nodes": 0)", "", kTwoNodes));
  // Tree 0 holds a chain [K2 (r3,r4), K1 (r0-r2)]; K2's page moves to node 1. c, scanned
  // first, matches the chain; its first candidate dup K2 is on the wrong node, so `replace`
  // unlinks K2 from the chain (__stable_node_dup_del, dups 1) onto migrate_nodes and c gets
  // nothing (L1735-1752). a's scan of r3 then files K2 in tree 1. c's next search sees only
  // the full K1: it goes into unstable tree 0 and never merges across nodes.
}

TEST(KsmPortTest, MigratedSharedKsmPageAppendedToAFullNodeLosesOneSharer) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "spawn", "proc": "c", "node": 1}, {"op": "spawn", "proc": "d", "node": 1},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "d", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "d", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "d", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "stable_node_chains": 0}},
    {"op": "migrate", "proc": "a", "region": "r", "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 1, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 2},
                     "procs": {"a": {"ksm_merging_pages": 0}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 2},
                     "procs": {"a": {"ksm_merging_pages": 1}}}
  )",
          R"("max_page_sharing": 2, "merge_across_nodes": 0)", "", kTwoNodes));
  // As in MigratedSharedKsmPageJoinsAChainOnItsNewNode, but both KSM pages are full
  // (max_page_sharing 2): chain_append uses stable_node_any (L1755-1757), and the appended
  // node, full, is no sharing candidate, so stable_tree_search returns NULL (L1700-1705).
  // cmp_and_merge_page then removes a's rmap_item from the node (L2067; sharing--) and,
  // the checksum being unchanged, puts it in unstable tree 1: a maps a KSM page yet counts
  // as unshared. Next pass a's page is a KSM page on its own node's chain, and the "ksm page
  // forked" path gives the item back to it (L1555-1558, L2073-2081).
}

// ---------------------------------------------------------------------------------------
// Stale stable nodes (get_ksm_page's keyhole, L664-737).

TEST(KsmPortTest, StaleStableNodeIsRemovedWhenALookupMeetsIt) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 66}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 67}},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1},
                     "procs": {"a": {"ksm_merging_pages": 1}, "b": {"ksm_merging_pages": 1}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "EBUSY"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 2},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 1},
                               "b": {"ksm_merging_pages": 0, "ksm_rmap_items": 1}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "none"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 2,
                             "pages_volatile": 0, "max_page_sharing": 10}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // Both writes copy the KSM page (COW_KSM: 2); the second leaves it unmapped and freed.
  // Nobody looks at the stable node, so the counters keep their values (the node lingers)
  // and max_page_sharing, which tests the ksm_pages_shared counter (L3057), still fails
  // with EBUSY. Pass 3: a's stable_tree_search meets the node at the root; get_ksm_page
  // sees page->mapping no longer pointing at it and remove_node_from_stable_tree drops it
  // with both rmap_items (L600-636). Both checksums changed: volatile 2. Pass 4: unshared.
}

TEST(KsmPortTest, MeasuredLinux61Table) {
  // DESIGN.md's table, measured on a real 6.1 kernel: two processes of 1000 pages of 0x41.
  std::string steps = R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "heap", "pages": 1000},
    {"op": "mmap", "proc": "b", "region": "heap", "pages": 1000},
    {"op": "write", "proc": "a", "region": "heap", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "heap", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "heap", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "heap", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 2000, "stable_node_chains": 0,
                             "stable_node_dups": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1992, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "write", "proc": "a", "region": "heap", "range": [0, 1],
     "data": {"patch": {"offset": 100, "value": 1}}},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1992, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1991, "pages_unshared": 0,
                             "pages_volatile": 1, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 8, "pages_sharing": 1991, "pages_unshared": 1,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 8}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "expect", "ksm": {"full_scans": 0, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 0,
                             "stable_node_chains": 0, "stable_node_dups": 0},
                     "vmstat": {"cow_ksm": 2000}},
    {"op": "verify", "proc": "a", "region": "heap"},
    {"op": "verify", "proc": "b", "region": "heap"}
  )";
  RunOk(W(steps, "", "", R"({"nodes": [{"memory_mib": 256}]})"));
  // 2000 = 7 * 256 + 208: eight KSM pages (seven full dups and one with 208 mappings).
  // The patched page: copied at once (cow_ksm 1), its rmap_item leaves its dup one pass
  // later (L2067: the checksum changed, so volatile), and enters the unstable tree the pass
  // after. run 2 breaks COW on the 1999 remaining KSM mappings (cow_ksm 2000 in all).

  // With max_page_sharing 10000 the same pages make one KSM page (the table's other row).
  std::string single = steps.substr(0, steps.find(R"({"op": "expect", "ksm": {"pages_shared": 8)"));
  single += R"({"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1999,
                                  "pages_unshared": 0, "pages_volatile": 0,
                                  "stable_node_chains": 0, "stable_node_dups": 0}})";
  RunOk(W(single, R"("max_page_sharing": 10000)", "", R"({"nodes": [{"memory_mib": 256}]})"));
}

// ---------------------------------------------------------------------------------------
// write_protect_page refuses a page with an extra reference: page_count !=
// page_mapcount + 1 + PageSwapCache (L1069), as a pin (GUP/O_DIRECT) makes it.

TEST(KsmPortTest, PinnedTreePageRefusedAndTheHalfMergedPageIsBroken) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "pin", "proc": "a", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"cow_ksm": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "unpin", "proc": "a", "region": "r"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // a (pinned) is the unstable tree page, b the scanned page. try_to_merge_two_pages first
  // turns b's own page into a KSM page (kpage NULL, L1240-1253), then fails to
  // write-protect a's page (count = 1 map + 1 pin + 1 ksmd ref = 3 != 1 + 1), so break_cow
  // undoes b (L1322-1323): do_wp_page copies a PageKsm page and counts COW_KSM. Every pass
  // repeats it: cow_ksm +1 per pass, a stays unshared, b volatile (its item was taken out of
  // the tree at L2067 and the merge failed). Once unpinned, the merge succeeds.
}

TEST(KsmPortTest, PinnedScannedPageRefusedWithoutCow) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "pin", "proc": "b", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 4},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"cow_ksm": 0}}
  )"));
  // Here the pinned page is the scanned one: the first try_to_merge_with_ksm_page (kpage
  // NULL) already fails in write_protect_page, nothing was made KSM, nothing to break.
}

TEST(KsmPortTest, PinnedPageWithAStableMatchStaysVolatile) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"}, {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "pin", "proc": "c", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 1},
                     "procs": {"c": {"ksm_merging_pages": 0, "ksm_rmap_items": 1}}},
    {"op": "unpin", "proc": "c", "region": "r"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 2, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"c": {"ksm_merging_pages": 1}}}
  )"));
  // c finds a stable match every pass, so cmp_and_merge_page returns after the failed
  // try_to_merge_with_ksm_page (L2069-2087) and never reaches the checksum or the unstable
  // tree: c is volatile, not unshared, for as long as the pin lasts.
}

// ---------------------------------------------------------------------------------------
// merge_across_nodes with two NUMA nodes: regions x on node 0 and y on node 1 in a and b.

std::string NumaWorkload(int merge_across_nodes) {
  return W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "x", "pages": 1, "node": 0},
    {"op": "mmap", "proc": "a", "region": "y", "pages": 1, "node": 1},
    {"op": "mmap", "proc": "b", "region": "x", "pages": 1, "node": 0},
    {"op": "mmap", "proc": "b", "region": "y", "pages": 1, "node": 1},
    {"op": "write", "proc": "a", "region": "x", "data": {"fill": 65}},
    {"op": "write", "proc": "a", "region": "y", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "x", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "y", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "x", "advice": "mergeable"},
    {"op": "madvise", "proc": "a", "region": "y", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "x", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "y", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "merged"},
    {"op": "ksm", "set": {"merge_across_nodes": )" +
               std::to_string(1 - merge_across_nodes) +
               R"(}, "expect_error": "EBUSY"}
  )",
           "\"merge_across_nodes\": " + std::to_string(merge_across_nodes), "", kTwoNodes);
}

TEST(KsmPortTest, MergeAcrossNodes1MakesOneKsmPage) {
  Outcome o = RunOk(NumaWorkload(1));
  // One stable and one unstable tree for all nodes (get_kpfn_nid returns 0, L556): a.x
  // goes into the unstable tree, a.y hits it, b.x and b.y hit the stable node.
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 1);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 3);
  EXPECT_EQ(Ksm(o, 0, "pages_unshared"), 0);
}

TEST(KsmPortTest, MergeAcrossNodes0MakesOneKsmPagePerNode) {
  Outcome o = RunOk(NumaWorkload(0));
  // A stable and an unstable tree per node: a.x -> unstable tree 0, a.y -> unstable tree
  // 1, b.x hits tree 0, b.y hits tree 1: two KSM pages, one per node.
  EXPECT_EQ(Ksm(o, 0, "pages_shared"), 2);
  EXPECT_EQ(Ksm(o, 0, "pages_sharing"), 2);
  EXPECT_EQ(Ksm(o, 0, "pages_unshared"), 0);
  EXPECT_EQ(Ksm(o, 0, "merge_across_nodes"), 0);
}

TEST(KsmPortTest, MergeAcrossNodes0KeepsNodesApart) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b", "node": 1},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 2,
                             "pages_volatile": 0}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "ksm", "set": {"merge_across_nodes": 1, "run": 1}, "expect_error": "none"},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0}}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // With one page per node and separate trees they never meet: unshared 2. After run 2
  // (nothing shared, so the knob may change) merging across nodes joins them.
}

// Migrated KSM pages with merge_across_nodes 0 (stable_tree_search's migrate_nodes paths).

TEST(KsmPortTest, MigratedKsmPageIsReplacedWhenAnotherNodeSearchesForIt) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 66}},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 1}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "migrate", "proc": "a", "region": "r", "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 1, "stable_node_chains": 0,
                             "stable_node_dups": 0}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 1,
                             "pages_volatile": 0},
                     "procs": {"c": {"ksm_merging_pages": 0}}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // Scan order c, a, b. The KSM page of a and b (node 0, stable tree 0) moves to node 1
  // with both mappings. Next pass c, now holding the same bytes on node 0, is scanned
  // first: stable_tree_search in tree 0 matches the node, but its kpfn is on node 1
  // (L1683-1686), so `replace` erases it from tree 0 and parks it on migrate_nodes
  // (L1715-1752) and returns NULL: c does not merge across nodes (and, its checksum having
  // changed, is volatile). Then a's scan finds its page's node on migrate_nodes, searches
  // tree 1, finds nothing and links the node there (L1695-1704): a and b stay merged.
  // From then on c is alone in tree 0: unshared.
}

TEST(KsmPortTest, MigratedSharedKsmPageJoinsAChainOnItsNewNode) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "spawn", "proc": "c", "node": 1}, {"op": "spawn", "proc": "d", "node": 1},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "d", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "d", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "d", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "stable_node_chains": 0}},
    {"op": "migrate", "proc": "a", "region": "r", "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 2, "pages_sharing": 2, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 1,
                             "stable_node_dups": 2}},
    {"op": "verify", "proc": "b", "region": "r"}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // One KSM page per node after pass 2. a and b's page then moves to node 1, where c and
  // d's page has the same content. a's scan moves its node to migrate_nodes (L2042-2048);
  // stable_tree_search finds the equal node in tree 1 and, the migrated page being mapped
  // twice, takes `chain_append` (L1642-1643): the tree-1 node becomes a chain with both
  // pages as dups (L1755-1786). Nothing is unmerged.
}

TEST(KsmPortTest, MunmapDropsItemsAndThenTheMmSlot) {
  RunOk(TwoMerged("", R"(
    {"op": "munmap", "proc": "a", "region": "r"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 3, "pages_shared": 1, "pages_sharing": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_rmap_items": 0, "ksm_merging_pages": 0}}},
    {"op": "munmap", "proc": "b", "region": "r"},
    {"op": "wait", "ms": 500},
    {"op": "expect", "ksm": {"full_scans": 4, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 0},
                     "procs": {"b": {"ksm_rmap_items": 0}}}
  )"));
  // With no VMA left, the walk of a ends with ksm_scan.address == 0: its rmap_items are
  // trailing (L2343; the KSM page is still b's, so a pages_sharing--) and the slot is freed
  // like __ksm_exit would (L2349-2365). Then b: its item finds the freed KSM page stale.
  // With no mm left ksmd stops (ksmd_should_run, L2409): one more full scan, no more.
}

// Steps between two batches of one pass: pages_to_scan 1 makes every batch one page, and
// a batch runs every 20 ms (sleep_millisecs; the cost of one page is microseconds). After
// `wait full_scans` returns (the batch that ended the pass), `wait ms 30` runs exactly one
// more batch: a's page of the next pass. b's page comes in the batch after.

TEST(KsmPortTest, UnstableTreePageMigratedMidPassIsNotMerged) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1, "pages_to_scan": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "wait", "ms": 30},
    {"op": "expect", "ksm": {"full_scans": 1, "pages_unshared": 1, "pages_volatile": 1}},
    {"op": "migrate", "proc": "a", "region": "r", "node": 1},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 1, "pages_volatile": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"full_scans": 4, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 2, "pages_volatile": 0}}
  )",
          R"("merge_across_nodes": 0)", "", kTwoNodes));
  // a's page enters unstable tree 0, then moves to node 1. b's search in tree 0 compares
  // equal with it, but with merge_across_nodes 0 a tree page now on another node is left
  // alone and b is not inserted either (L1956-1964): b stays volatile. From the next pass
  // each page sits in its own node's unstable tree: 2 unshared, never merged.
}

TEST(KsmPortTest, ExitMidPassErasesItemsInsertedThisPass) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1, "pages_to_scan": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "wait", "ms": 30},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 1}},
    {"op": "exit", "proc": "a"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 1, "pages_volatile": 0},
                     "procs": {"b": {"ksm_rmap_items": 1}}}
  )"));
  // a exits while the cursor is still on its slot, so __ksm_exit leaves the slot alone
  // (L2556). The next batch finds the mm exiting and frees its rmap_items; a's item was
  // inserted into the unstable tree by this very pass, so remove_rmap_item_from_tree must
  // rb_erase it (age 0, L775-785) before b searches the tree: b finds nothing and goes in.
}

// ---------------------------------------------------------------------------------------
// use_zero_pages: empty pages are merged with the kernel's zero page (L2101-2126).

std::string ZeroWorkload(std::string_view top, std::string_view more) {
  std::string steps = R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 0}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
  )";
  steps += more;
  return W(steps, R"("use_zero_pages": 1)", top);
}

TEST(KsmPortTest, ZeroPagesMergeIntoTheKernelZeroPageUncounted) {
  Outcome o = RunOk(ZeroWorkload("", R"(
    {"op": "snapshot", "label": "pass2"},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 4},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 2}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0},
                               "b": {"ksm_merging_pages": 0, "ksm_rmap_items": 0}}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "snapshot", "label": "run2"},
    {"op": "verify", "proc": "a", "region": "r"}
  )"));
  // Pass 2: each page's checksum equals zero_checksum; try_to_merge_one_page(page,
  // ZERO_PAGE) replaces the PTE with a special zero-page PTE (L1156-1170) and returns: no
  // stable node, no counter besides the rmap_item (volatile 4). Pass 3: follow_page gives
  // the zero page, which is not PageAnon (L2313), so no rmap_item is returned and
  // remove_trailing_rmap_items frees them (L2343).
  EXPECT_EQ(o.doc["results"][0]["machine"]["resident_pages"]["a"].get<int64_t>(), 0);
  // Plain 6.1 cannot find those zero pages again: run 2 leaves them mapped (the bug that
  // seed 001 fixes).
  EXPECT_EQ(o.doc["results"][3]["machine"]["resident_pages"]["a"].get<int64_t>(), 0);
  EXPECT_EQ(o.doc["results"][3]["machine"]["resident_pages"]["b"].get<int64_t>(), 0);
}

TEST(KsmPortTest, ZeroFilledPagesWithoutUseZeroPagesMakeAKsmPage) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 0}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_volatile": 0}}
  )"));
}

TEST(KsmPortTest, ZeroUnshareProfileCountsAndUnmergeableUnshares) {
  Outcome o = RunOk(ZeroWorkload(R"("kernel": "6.1-zero-unshare",)", R"(
    {"op": "expect", "ksm": {"ksm_zero_pages": 4, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 4}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"ksm_zero_pages": 4, "pages_volatile": 4},
                     "procs": {"a": {"ksm_rmap_items": 2, "ksm_merging_pages": 0},
                               "b": {"ksm_rmap_items": 2, "ksm_merging_pages": 0}}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "unmergeable"},
    {"op": "snapshot", "label": "after-unmergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "snapshot", "label": "after-pass"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 2, "pages_volatile": 2},
                     "procs": {"a": {"ksm_rmap_items": 0}, "b": {"ksm_rmap_items": 2}},
                     "vmstat": {"cow_ksm": 0}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "snapshot", "label": "run2"},
    {"op": "expect", "ksm": {"ksm_zero_pages": 0, "pages_volatile": 0, "full_scans": 0},
                     "procs": {"b": {"ksm_rmap_items": 0}}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "verify", "proc": "b", "region": "r"}
  )"));
  // Seed 001: try_to_merge_with_kernel_zero_page sets ZERO_PAGE_FLAG on the rmap_item and
  // the count goes up (4). Pass 3: scan_get_next_rmap_item returns the flagged items of
  // zero-page PTEs (so they survive) and cmp_and_merge_page returns early (flag already
  // set). MADV_UNMERGEABLE calls break_ksm(.., NULL/false): the zero pages stay for now
  // (resident 0 right after), but the VMA is no longer VM_MERGEABLE, so the next pass frees
  // a's items, and free_rmap_item -> unshare_zero_pages -> break_ksm(.., true) write-faults
  // them: a's two pages are its own again (resident 2). run 2 does the same for b through
  // remove_trailing_rmap_items (L974).
  const auto& r = o.doc["results"];
  auto resident = [&](size_t i, const char* p) {
    return r[i]["machine"]["resident_pages"][p].get<int64_t>();
  };
  EXPECT_EQ(r[2]["label"], "after-unmergeable");
  EXPECT_EQ(resident(2, "a"), 0);
  EXPECT_EQ(resident(3, "a"), 2);
  EXPECT_EQ(resident(3, "b"), 0);
  EXPECT_EQ(resident(5, "b"), 2);
}

TEST(KsmPortTest, ZeroUnshareFlagDroppedAfterTheZeroPageIsWritten) {
  RunOk(ZeroWorkload(R"("kernel": "6.1-zero-unshare",)", R"(
    {"op": "write", "proc": "a", "region": "r", "range": [0, 1], "data": {"fill": 7}},
    {"op": "expect", "ksm": {"ksm_zero_pages": 4}, "vmstat": {"cow_ksm": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"ksm_zero_pages": 4, "pages_unshared": 0, "pages_volatile": 4}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"ksm_zero_pages": 3, "pages_unshared": 1, "pages_volatile": 3},
                     "procs": {"a": {"ksm_rmap_items": 2}}}
  )"));
  // The write copies the zero page (not a KSM page: no cow_ksm). Next pass, a[0]'s page is
  // anon again and get_next_rmap_item returns its old, still flagged item: the checksum
  // changed (L2095), so it returns before the use_zero_pages block and the flag stays. The
  // pass after, the checksum is stable and != zero_checksum with the flag set: the flag is
  // cleared and the count drops (seed 001's "COW happens" branch), then a[0] goes into the
  // unstable tree.
}

TEST(KsmPortTest, ZeroUnshareFlaggedZeroPageSearchesNodeZerosTrees) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 0}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"ksm_zero_pages": 1, "pages_volatile": 1}},
    {"op": "ksm", "set": {"use_zero_pages": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_unshared": 1, "pages_volatile": 0, "ksm_zero_pages": 1},
                     "procs": {"a": {"ksm_rmap_items": 0}, "b": {"ksm_rmap_items": 1}}}
  )",
          R"("use_zero_pages": 1, "merge_across_nodes": 0)", R"("kernel": "6.1-zero-unshare",)",
          kTwoNodes));
  // Seed 001 hands the flagged item of a KSM-placed zero page to cmp_and_merge_page with
  // the zero page itself. With use_zero_pages switched off, that item goes through the
  // unstable tree of get_kpfn_nid(zero page) -- node 0, where the kernel's zero page lives.
  // b's empty page (node 0, second visit) then meets it in unstable tree 0, gets the zero
  // page back from get_mergeable_page, which is not PageAnon: NULL, b is not inserted
  // (L1935-1938), so b stays volatile. The pass after, a's item has lost ZERO_PAGE_FLAG to
  // remove_rmap_item_from_tree's `address &= PAGE_MASK` (L787), is no longer returned for
  // the zero-page PTE, and is freed without unsharing (the count stays 1): b is alone.
}

// ---------------------------------------------------------------------------------------
// Unmerging: madvise(MADV_UNMERGEABLE) on a range, and run 2.

std::string EightPages(std::string_view more) {
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

TEST(KsmPortTest, UnmergeRangeThenMergeableAgain) {
  RunOk(EightPages(R"(
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 2], "advice": "unmergeable"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7},
                     "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 5, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 2, "ksm_rmap_items": 2},
                               "b": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}},
    {"op": "madvise", "proc": "a", "region": "r", "range": [0, 2], "advice": "mergeable"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7, "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}},
                     "vmstat": {"cow_ksm": 2}},
    {"op": "verify", "proc": "a", "region": "r"}
  )"));
  // unmerge_ksm_pages breaks COW on a[0], a[1] at once (cow_ksm 2) and leaves the
  // rmap_items (L811-815): counters unchanged until the next pass, where
  // get_next_rmap_item frees the two items below a[2] (L2196-2205); the KSM page is still
  // mapped, so each is a pages_sharing-- (L758-761). Made mergeable again, the two copies
  // get new rmap_items that hit the stable tree on their first visit.
}

TEST(KsmPortTest, Run2UnmergesEverythingAndResetsFullScans) {
  RunOk(EightPages(R"(
    {"op": "ksm", "set": {"run": 2}, "expect_error": "none"},
    {"op": "expect", "ksm": {"run": 2, "full_scans": 0, "pages_shared": 0, "pages_sharing": 0,
                             "pages_unshared": 0, "pages_volatile": 0,
                             "stable_node_chains": 0, "stable_node_dups": 0},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0},
                               "b": {"ksm_merging_pages": 0, "ksm_rmap_items": 0}},
                     "vmstat": {"cow_ksm": 8}},
    {"op": "verify", "proc": "a", "region": "r"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 1, "pages_volatile": 8, "pages_shared": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 7}}
  )"));
  // unmerge_and_remove_all_rmap_items: break_ksm on all 8 KSM mappings (each a COW_KSM
  // copy, even the last, since do_wp_page never reuses a KSM page), then
  // remove_trailing_rmap_items for each mm; the last items find the KSM page freed and
  // remove the node; seqnr = 0 (L996). The mm_slots stay listed (L921-922 comment): with
  // run 1 again the processes are rescanned from scratch with new rmap_items.
}

TEST(KsmPortTest, Run0StopsScanning) {
  RunOk(EightPages(R"(
    {"op": "ksm", "set": {"run": 0}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 66}},
    {"op": "wait", "ms": 1000},
    {"op": "expect", "ksm": {"full_scans": 2, "pages_shared": 1, "pages_sharing": 7},
                     "vmstat": {"cow_ksm": 4}}
  )"));
}

// ---------------------------------------------------------------------------------------
// sysfs knobs: EBUSY and EINVAL (L2905-3066).

TEST(KsmPortTest, KnobsBusyWhilePagesAreShared) {
  Outcome o = RunOk(EightPages(R"(
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "EBUSY"},
    {"op": "ksm", "set": {"merge_across_nodes": 0}, "expect_error": "EBUSY"},
    {"op": "ksm", "set": {"max_page_sharing": 256}, "expect_error": "none"},
    {"op": "ksm", "set": {"merge_across_nodes": 1}, "expect_error": "none"},
    {"op": "ksm", "set": {"run": 0}},
    {"op": "ksm", "set": {"max_page_sharing": 10}, "expect_error": "EBUSY"},
    {"op": "ksm", "set": {"pages_to_scan": 5, "max_page_sharing": 10, "sleep_millisecs": 7},
     "expect_error": "EBUSY"},
    {"op": "expect", "ksm": {"max_page_sharing": 256, "merge_across_nodes": 1,
                             "pages_to_scan": 5, "sleep_millisecs": 7, "run": 0}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "ksm", "set": {"max_page_sharing": 10, "merge_across_nodes": 0},
     "expect_error": "none"},
    {"op": "expect", "ksm": {"max_page_sharing": 10, "merge_across_nodes": 0, "run": 2}}
  )"));
  // max_page_sharing and merge_across_nodes refuse to change while ksm_pages_shared != 0
  // (L2970, L3057), whatever `run` is; writing the current value returns early (L2969,
  // L3051). Every write of a step is attempted: pages_to_scan and sleep_millisecs change
  // even though the step fails with max_page_sharing's EBUSY.
  const auto& outcomes = o.doc["outcomes"];
  const ordered_json* multi = nullptr;
  for (const auto& e : outcomes)
    if (e["op"] == "ksm" && e["writes"].size() == 3) multi = &e;
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ((*multi)["error"], "EBUSY");
  EXPECT_EQ((*multi)["writes"][0]["error"], "none");
  EXPECT_EQ((*multi)["writes"][1]["error"], "EBUSY");
  EXPECT_EQ((*multi)["writes"][2]["error"], "none");
}

TEST(KsmPortTest, KnobsRejectInvalidValues) {
  RunOk(W(R"(
    {"op": "ksm", "set": {"run": 3}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"run": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"max_page_sharing": 1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"max_page_sharing": 0}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"max_page_sharing": -5}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"merge_across_nodes": 2}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"merge_across_nodes": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"use_zero_pages": 2}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"use_zero_pages": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"sleep_millisecs": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"pages_to_scan": -1}, "expect_error": "EINVAL"},
    {"op": "ksm", "set": {"stable_node_chains_prune_millisecs": -1}, "expect_error": "EINVAL"},
    {"op": "expect", "ksm": {"run": 0, "max_page_sharing": 256, "merge_across_nodes": 1,
                             "use_zero_pages": 0, "sleep_millisecs": 20,
                             "pages_to_scan": 10000,
                             "stable_node_chains_prune_millisecs": 2000}},
    {"op": "ksm", "set": {"use_zero_pages": 10}, "expect_error": "none"},
    {"op": "ksm", "set": {"max_page_sharing": 2, "run": 2}, "expect_error": "none"},
    {"op": "expect", "ksm": {"use_zero_pages": 1, "max_page_sharing": 2, "run": 2}}
  )"));
  // run > KSM_RUN_UNMERGE (L2914); max_page_sharing < 2, a signed compare (L3044-3049);
  // merge_across_nodes > 1 (after kstrtoul, which also refuses "-1"); kstrtobool looks at
  // the first character only, so "2" and "-1" fail but "10" means true.
}

// ---------------------------------------------------------------------------------------
// fork and exit.

std::string TwoMerged(std::string_view knobs, std::string_view more) {
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

TEST(KsmPortTest, ForkedChildJoinsTheStableNode) {
  RunOk(TwoMerged("", R"(
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1},
                     "procs": {"c": {"ksm_merging_pages": 1, "ksm_rmap_items": 1}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 2, "pages_volatile": 0},
                     "procs": {"c": {"ksm_merging_pages": 2, "ksm_rmap_items": 2}},
                     "vmstat": {"cow_ksm": 0}},
    {"op": "verify", "proc": "c", "region": "r"}
  )"));
  // ksm_fork -> __ksm_enter puts c on the list; fork copies no rmap_items, but dup_mm
  // copies a's per-mm counters (1/1), which c reports on top of its own. Next pass, c's
  // page is the KSM page itself: stable_tree_search returns it ("ksm page forked",
  // L1555-1558), try_to_merge_one_page returns 0 for page == kpage (L1211) and
  // stable_tree_append adds c's rmap_item: first visit, no copy.
}

TEST(KsmPortTest, ForkedChildrenBypassMaxPageSharing) {
  RunOk(TwoMerged(R"("max_page_sharing": 2)", R"(
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "fork", "proc": "a", "child": "d"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_unshared": 0,
                             "pages_volatile": 0, "stable_node_chains": 0,
                             "stable_node_dups": 0},
                     "procs": {"c": {"ksm_merging_pages": 2}, "d": {"ksm_merging_pages": 2}}}
  )"));
  // The node already has 2 == max_page_sharing mappings; for c and d it is not a sharing
  // candidate, so max_page_sharing_bypass is set (L2056-2057) and the "ksm page forked"
  // path appends them anyway: 4 mappings of one KSM page with max_page_sharing 2. (c and
  // d each also report a's 1 merging page, copied by dup_mm at the fork.)
}

TEST(KsmPortTest, ForkedUnmergedPageIsNotSubstitutedForItself) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "procs": {"a": {"ksm_rmap_items": 1}, "c": {"ksm_rmap_items": 1}}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 1, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "vmstat": {"cow_ksm": 0}}
  )"));
  // a and c map the same anonymous page after fork. a's item enters the unstable tree;
  // c's search meets it and gets the very same page back: "don't substitute a ksm page for
  // a forked page" returns NULL without inserting (L1940-1945), so c stays volatile. When
  // c writes, it gets its own copy (a plain COW, not COW_KSM), and the two merge.
}

TEST(KsmPortTest, ForkedCleanPageIsNotMergedWithItself) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 1},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "pageout"},
    {"op": "read", "proc": "a", "region": "r"},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 3},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 1,
                             "pages_volatile": 1},
                     "vmstat": {"pswpout": 1, "pswpin": 1, "cow_ksm": 0}}
  )",
          "", "", R"({"nodes": [{"memory_mib": 64}], "swap_mib": 16})"));
  // The same branch as above where it matters: swapped out and read back in, the page is
  // mapped read-only and clean, and fork clears PageAnonExclusive, so write_protect_page
  // would skip its count check (L1043-1047) and let try_to_merge_two_pages "merge" the
  // page with itself (page == kpage returns 0, L1211), making a KSM page shared by a and
  // c without freeing anything. The page == tree_page test (L1942) prevents that.
}

TEST(KsmPortTest, ExitedProcessItemsDroppedOnTheNextPass) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"}, {"op": "spawn", "proc": "c"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 2},
    {"op": "mmap", "proc": "c", "region": "r", "pages": 2},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "r", "data": {"fill": 65}},
    {"op": "write", "proc": "c", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "c", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 5}},
    {"op": "exit", "proc": "c"},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 5, "pages_volatile": 0}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_rmap_items": 2}, "b": {"ksm_rmap_items": 2}}}
  )"));
  // __ksm_exit leaves a slot with rmap_items on the list, moved just after the cursor
  // (L2556-2565), and exit_mmap unmaps c's pages. The counters only change when ksmd
  // reaches the slot: ksm_test_exit, so remove_trailing_rmap_items on the whole list
  // (L2334-2343): the KSM page is still mapped by a and b, so 2 x pages_sharing--.
}

TEST(KsmPortTest, ExitLeavesAKsmPageWithOneMapping) {
  RunOk(TwoMerged("", R"(
    {"op": "exit", "proc": "b"},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_merging_pages": 1, "ksm_rmap_items": 1}}},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 66}},
    {"op": "expect", "vmstat": {"cow_ksm": 1}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0, "pages_unshared": 0,
                             "pages_volatile": 1},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 1}}}
  )"));
  // b's item was the list head of the node's hlist (appended last); removing it leaves a
  // non-empty hlist, so it counts as a pages_sharing-- (L758-761): a KSM page shared by
  // nobody else remains, pages_shared 1. a's write copies it (COW_KSM) and frees it; a's
  // next stable_tree_search finds the node stale and removes it.
}

// ---------------------------------------------------------------------------------------
// Per-process counters and what gets an rmap_item at all.

TEST(KsmPortTest, PerProcessCountersOnlyCoverMergeableAnonPages) {
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "m", "pages": 8},
    {"op": "mmap", "proc": "b", "region": "m", "pages": 2},
    {"op": "mmap", "proc": "b", "region": "n", "pages": 2},
    {"op": "write", "proc": "a", "region": "m", "range": [0, 2], "data": {"fill": 65}},
    {"op": "write", "proc": "a", "region": "m", "range": [2, 3], "data": {"unique": true}},
    {"op": "read", "proc": "a", "region": "m", "range": [3, 5]},
    {"op": "write", "proc": "b", "region": "m", "data": {"fill": 65}},
    {"op": "write", "proc": "b", "region": "n", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "m", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "m", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 3, "pages_unshared": 1,
                             "pages_volatile": 0},
                     "procs": {"a": {"ksm_rmap_items": 3, "ksm_merging_pages": 2},
                               "b": {"ksm_rmap_items": 2, "ksm_merging_pages": 2}}}
  )"));
  // a: pages 0-1 merge, page 2 (unique) sits in the unstable tree, pages 3-4 were only
  // read (zero-page PTEs: not PageAnon, skipped, L2313) and 5-7 were never touched
  // (follow_page NULL, L2306): 3 rmap_items. b: region n is not VM_MERGEABLE (L2295).
}

TEST(KsmPortTest, SameWorkloadGivesByteIdenticalResults) {
  std::string text = W(R"(
    {"op": "spawn", "proc": "a"}, {"op": "spawn", "proc": "b"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 64},
    {"op": "mmap", "proc": "b", "region": "r", "pages": 64},
    {"op": "write", "proc": "a", "region": "r", "data": {"pool": 8}},
    {"op": "write", "proc": "b", "region": "r", "data": {"pool": 8}},
    {"op": "write", "proc": "b", "region": "r", "range": [60, 64], "data": {"unique": true}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "madvise", "proc": "b", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "merged"},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "write", "proc": "c", "region": "r", "range": [0, 8], "data": {"cycle": 3}},
    {"op": "madvise", "proc": "b", "region": "r", "range": [10, 20], "advice": "unmergeable"},
    {"op": "wait", "ms": 55},
    {"op": "snapshot", "label": "mid"},
    {"op": "wait", "full_scans": 2},
    {"op": "snapshot", "label": "end"}
  )",
                       R"("max_page_sharing": 4)", R"("seed": 12345,)");
  Outcome first = RunOk(text);
  Outcome second = RunOk(text);
  EXPECT_EQ(first.doc.dump(), second.doc.dump());
  EXPECT_EQ(first.doc["results"].size(), 3u);
  EXPECT_GT(Ksm(first, 0, "pages_sharing"), 0);
}

TEST(KsmPortTest, ForkChildStartsWithItsParentsKsmCounters) {
  // dup_mm() copies the mm_struct and 6.1's ksm_fork() does not reset ksm_merging_pages
  // or ksm_rmap_items, so the child reports the parent's figures on top of its own, and
  // keeps them after run 2 has removed every rmap_item (oracle case 21 shows the same).
  RunOk(W(R"(
    {"op": "spawn", "proc": "a"},
    {"op": "mmap", "proc": "a", "region": "r", "pages": 4},
    {"op": "write", "proc": "a", "region": "r", "data": {"fill": 65}},
    {"op": "madvise", "proc": "a", "region": "r", "advice": "mergeable"},
    {"op": "ksm", "set": {"run": 1}},
    {"op": "wait", "full_scans": 2},
    {"op": "expect", "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}},
    {"op": "fork", "proc": "a", "child": "c"},
    {"op": "expect", "procs": {"c": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}},
    {"op": "wait", "full_scans": 1},
    {"op": "expect", "ksm": {"pages_shared": 1, "pages_sharing": 7},
                     "procs": {"a": {"ksm_merging_pages": 4, "ksm_rmap_items": 4},
                               "c": {"ksm_merging_pages": 8, "ksm_rmap_items": 8}}},
    {"op": "ksm", "set": {"run": 2}},
    {"op": "expect", "ksm": {"pages_shared": 0, "pages_sharing": 0},
                     "procs": {"a": {"ksm_merging_pages": 0, "ksm_rmap_items": 0},
                               "c": {"ksm_merging_pages": 4, "ksm_rmap_items": 4}}}
  )"));
}

}  // namespace
}  // namespace ksmsim::workloads
