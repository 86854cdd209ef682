// The decisions KSM reports about each scanned page ("ksmsim_decision" events, for
// `ksmsim explain` and the stepper): which kernel function decided, and what. The kernel
// has no tracepoint for these; they name the branches of cmp_and_merge_page, the merges it
// calls and the two tree walks. A new branch is a new value here; the compiler then asks
// for its name below and its explain text (tools/teach/decision_text.cc).
#pragma once

#include <cstdint>
#include <string_view>

namespace ksmsim::ksm {

enum class Decision : uint8_t {
  // should_skip_rmap_item (6.12 smart scan): the page is skipped, never reaches
  // cmp_and_merge_page, and leaves its tree; like kScan it opens the page's decisions
  kSmartScanSkip,
  // cmp_and_merge_page
  kScan,             // opens each call: the page's mm/addr/pfn; the decisions up to the
                     // next kScan are about that page
  kInStable,         // already in the stable tree with this rmap_item: nothing to do
  kKpageIsPage,      // stable_tree_search found the page itself
  kBusy,             // the KSM page found is locked: -EBUSY, skipped
  kChecksumChanged,  // volatile: not inserted into the unstable tree
  // try_to_merge_with_ksm_page, after a stable tree match
  kMergedKsm,
  kMergeKsmFailed,
  // the empty page and the kernel zero page (use_zero_pages): try_to_merge_one_page in
  // 6.1, try_to_merge_with_kernel_zero_page in the seed-001 profile
  kZeroMerged,
  kZeroFailed,
  kKernelZeroMerged,
  kKernelZeroFailed,
  // try_to_merge_two_pages, after an unstable tree match
  kMergedTwo,
  kMergeTwoFailed,
  // stable_tree_search
  kStableKsmPageForked,  // the page is already a KSM page (a fork shares it)
  kStableChainFull,      // a chain matches but every dup is full (max_page_sharing)
  kStableNodeFull,       // a plain node matches but is full
  kStableBusy,           // the matching dup's page is locked
  kStableReplace,        // the matching dup's page is on another NUMA node now
  kStableMatch,          // a plain node matches
  kStableMatchChain,     // a dup of a chain matches
  kStableNoMatch,
  kStableMigratedInserted,  // a migrated KSM page becomes a node of this tree
  kStableChainAppend,       // a migrated KSM page becomes another dup of a chain
  // unstable_tree_search_insert
  kUnstableTreePageGone,  // the tree's page is gone or not anonymous: stop searching
  kUnstableSamePage,      // the tree's page is this very page (forked)
  kUnstableOtherNode,     // a match on another NUMA node: skipped
  kUnstableMatch,
  kUnstableInserted,  // no match: inserted into the unstable tree (keep this one last)
};
inline constexpr int kDecisionCount = static_cast<int>(Decision::kUnstableInserted) + 1;

// A decision's event name: the kernel function that decided (`func`) and a short code
// (`what`), as `explain --json` and the stepper print them.
struct DecisionName {
  std::string_view func, what;
};

constexpr DecisionName decision_name(Decision d) {
  constexpr std::string_view cmp = "cmp_and_merge_page", sts = "stable_tree_search",
                             utsi = "unstable_tree_search_insert";
  switch (d) {
    case Decision::kScan:
      return {cmp, "scan"};
    case Decision::kSmartScanSkip:
      return {"should_skip_rmap_item", "skipped"};
    case Decision::kInStable:
      return {cmp, "in_stable"};
    case Decision::kKpageIsPage:
      return {cmp, "kpage_is_page"};
    case Decision::kBusy:
      return {cmp, "busy"};
    case Decision::kChecksumChanged:
      return {cmp, "checksum_changed"};
    case Decision::kMergedKsm:
      return {"try_to_merge_with_ksm_page", "merged_ksm"};
    case Decision::kMergeKsmFailed:
      return {"try_to_merge_with_ksm_page", "merge_ksm_failed"};
    case Decision::kZeroMerged:
      return {"try_to_merge_one_page", "zero_merged"};
    case Decision::kZeroFailed:
      return {"try_to_merge_one_page", "zero_failed"};
    case Decision::kKernelZeroMerged:
      return {"try_to_merge_with_kernel_zero_page", "zero_merged"};
    case Decision::kKernelZeroFailed:
      return {"try_to_merge_with_kernel_zero_page", "zero_failed"};
    case Decision::kMergedTwo:
      return {"try_to_merge_two_pages", "merged_two"};
    case Decision::kMergeTwoFailed:
      return {"try_to_merge_two_pages", "merge_two_failed"};
    case Decision::kStableKsmPageForked:
      return {sts, "ksm_page_forked"};
    case Decision::kStableChainFull:
      return {sts, "chain_full"};
    case Decision::kStableNodeFull:
      return {sts, "node_full"};
    case Decision::kStableBusy:
      return {sts, "busy"};
    case Decision::kStableReplace:
      return {sts, "replace"};
    case Decision::kStableMatch:
      return {sts, "match"};
    case Decision::kStableMatchChain:
      return {sts, "match_chain"};
    case Decision::kStableNoMatch:
      return {sts, "no_match"};
    case Decision::kStableMigratedInserted:
      return {sts, "migrated_inserted"};
    case Decision::kStableChainAppend:
      return {sts, "chain_append"};
    case Decision::kUnstableTreePageGone:
      return {utsi, "tree_page_gone"};
    case Decision::kUnstableSamePage:
      return {utsi, "same_page"};
    case Decision::kUnstableOtherNode:
      return {utsi, "other_node"};
    case Decision::kUnstableMatch:
      return {utsi, "match"};
    case Decision::kUnstableInserted:
      return {utsi, "inserted"};
  }
  return {};  // not reached: every value has its case (-Werror=switch)
}

}  // namespace ksmsim::ksm
