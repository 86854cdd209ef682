#include "tools/teach/decision_text.h"

#include "fmt/format.h"

namespace ksmsim::tools::teach {

namespace {
std::string Hex(uint64_t v) { return v ? fmt::format("{:#x}", v) : "0"; }
}  // namespace

// One case per decision and no default: a new decision does not compile until it has
// its text here (-Werror=switch).
std::string DecisionText(const ksm::KsmEvent& e, const std::string& other) {
  using ksm::Decision;
  switch (e.decision) {
    case Decision::kScan:
      return "scans the page";
    case Decision::kSmartScanSkip:
      return fmt::format(
          "smart scan skips the page (it has not merged in {} visits; {} more to skip): not "
          "compared, and out of its tree",
          e.skip_age - 1, e.remaining_skips);
    case Decision::kInStable:
      return fmt::format("already merged (stable node {}): nothing to do", e.node_id);
    case Decision::kKpageIsPage:
      return "stable_tree_search found the page itself: nothing to do";
    case Decision::kBusy:
    case Decision::kStableBusy:
      return "the KSM page is locked (-EBUSY): skipped until the next scan";
    case Decision::kChecksumChanged:
      return fmt::format("checksum changed ({} -> {}), not inserted (volatile)", Hex(e.oldchecksum),
                         Hex(e.checksum));
    case Decision::kMergedKsm:
      return fmt::format("merged into KSM page pfn {} (stable node {})", e.other_pfn, e.node_id);
    case Decision::kMergeKsmFailed:
      return fmt::format("merge into KSM page pfn {} failed (err {})", e.other_pfn, e.err);
    case Decision::kZeroMerged:
    case Decision::kKernelZeroMerged:
      return "empty page merged with the kernel zero page (use_zero_pages)";
    case Decision::kZeroFailed:
    case Decision::kKernelZeroFailed:
      return fmt::format("merge with the zero page failed (err {}): go on to the unstable tree",
                         e.err);
    case Decision::kMergedTwo:
      return fmt::format("new KSM page pfn {} (stable node {})", e.other_pfn, e.node_id);
    case Decision::kMergeTwoFailed:
      return fmt::format("failed, {} stays unshared", other);
    case Decision::kStableKsmPageForked:
      return fmt::format("the page is already a KSM page (stable node {}, shared by a fork)",
                         e.node_id);
    case Decision::kStableChainFull:
      return fmt::format(
          "chain {} matches but all dups full (max_page_sharing) -> waits for an unstable match",
          e.node_id);
    case Decision::kStableNodeFull:
      return fmt::format(
          "stable node {} matches but is full (max_page_sharing) -> waits for an unstable match",
          e.node_id);
    case Decision::kStableReplace:
      return fmt::format(
          "identical to KSM page pfn {}, which now sits on another node: node {} moves to "
          "migrate_nodes",
          e.other_pfn, e.node_id);
    case Decision::kStableMatch:
      return fmt::format("identical to KSM page pfn {} (stable node {})", e.other_pfn, e.node_id);
    case Decision::kStableMatchChain:
      return fmt::format("identical to KSM page pfn {} (dup {} of a chain)", e.other_pfn,
                         e.node_id);
    case Decision::kStableNoMatch:
      return fmt::format("no identical KSM page (stable tree nid {})", e.nid);
    case Decision::kStableMigratedInserted:
      return fmt::format("migrated KSM page (stable node {}) re-inserted into tree nid {}",
                         e.node_id, e.nid);
    case Decision::kStableChainAppend:
      return fmt::format("migrated KSM page added as another dup of chain {}", e.node_id);
    case Decision::kUnstableTreePageGone:
      return fmt::format("{} in the tree is gone or no longer anonymous: stop searching", other);
    case Decision::kUnstableSamePage:
      return fmt::format("{} is this very page (forked): nothing", other);
    case Decision::kUnstableOtherNode:
      return fmt::format("identical to {} but it sits on another NUMA node: skipped", other);
    case Decision::kUnstableMatch:
      return fmt::format("identical to {}", other);
    case Decision::kUnstableInserted:
      return fmt::format("no identical page: inserted into the unstable tree (nid {})", e.nid);
  }
  return std::string(e.what);  // not reached: every decision has its case
}

}  // namespace ksmsim::tools::teach
