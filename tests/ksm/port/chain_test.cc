// Stable node chains and dups (max_page_sharing), chain pruning and collapse
// (stable_node_dup), empty chains, and a migrated dup replaced out of its chain. (The
// conventions: tests/ksm/port/port_util.h.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/ksm/port/port_util.h"

namespace ksmsim::workloads::ksm_port {
namespace {

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

}  // namespace
}  // namespace ksmsim::workloads::ksm_port
