// explain's decision lines: a ksmsim_decision event turned into the kernel's terms, and a
// search's match joined with the merge that follows it.
#include "tools/teach/explain.h"

#include <string>

#include "fmt/format.h"

namespace ksmsim::tools::teach {

std::optional<Range> ParseRange(const std::string& s) {
  try {
    size_t dots = s.find("..");
    Range r;
    if (dots == std::string::npos) {
      r.first = r.last = std::stoull(s);
    } else {
      r.first = dots == 0 ? 0 : std::stoull(s.substr(0, dots));
      std::string tail = s.substr(dots + 2);
      r.last = tail.empty() ? UINT64_MAX : std::stoull(tail);
    }
    if (r.first > r.last) return std::nullopt;
    return r;
  } catch (...) {
    return std::nullopt;
  }
}

PageRef ResolvePage(const workloads::Driver& d, const mmu::Mm* mm, uint64_t addr) {
  PageRef p;
  p.text = d.DescribeAddress(mm, addr);
  size_t colon = p.text.find(':');
  size_t br = p.text.rfind('[');
  if (colon != std::string::npos) p.proc = p.text.substr(0, colon);
  if (colon != std::string::npos && br != std::string::npos && br > colon &&
      p.text.back() == ']') {
    p.region = p.text.substr(colon + 1, br - colon - 1);
    p.index = std::stoull(p.text.substr(br + 1, p.text.size() - br - 2));
  }
  return p;
}

namespace {

std::string Hex(uint64_t v) { return v ? fmt::format("{:#x}", v) : "0"; }

// What one decision means, in the kernel's terms (without the function name).
std::string Meaning(const workloads::Driver& d, const ksm::KsmEvent& e) {
  std::string other = e.other_mm ? d.DescribeAddress(e.other_mm, e.other_addr) : "";
  std::string_view w = e.what;
  if (w == "in_stable")
    return fmt::format("already merged (stable node {}): nothing to do", e.node_id);
  if (w == "kpage_is_page") return "stable_tree_search found the page itself: nothing to do";
  if (w == "busy") return "the KSM page is locked (-EBUSY): skipped until the next scan";
  if (w == "merged_ksm")
    return fmt::format("merged into KSM page pfn {} (stable node {})", e.other_pfn, e.node_id);
  if (w == "merge_ksm_failed")
    return fmt::format("merge into KSM page pfn {} failed (err {})", e.other_pfn, e.err);
  if (w == "checksum_changed")
    return fmt::format("checksum changed ({} -> {}), not inserted (volatile)",
                       Hex(e.oldchecksum), Hex(e.checksum));
  if (w == "zero_merged") return "empty page merged with the kernel zero page (use_zero_pages)";
  if (w == "zero_failed")
    return fmt::format("merge with the zero page failed (err {}): go on to the unstable tree",
                       e.err);
  if (w == "merged_two")
    return fmt::format("new KSM page pfn {} (stable node {})", e.other_pfn, e.node_id);
  if (w == "merge_two_failed") return fmt::format("failed, {} stays unshared", other);
  if (w == "ksm_page_forked")
    return fmt::format("the page is already a KSM page (stable node {}, shared by a fork)",
                       e.node_id);
  if (w == "chain_full")
    return fmt::format(
        "chain {} matches but all dups full (max_page_sharing) -> waits for an unstable match",
        e.node_id);
  if (w == "node_full")
    return fmt::format(
        "stable node {} matches but is full (max_page_sharing) -> waits for an unstable match",
        e.node_id);
  if (w == "match" && e.func == "stable_tree_search")
    return fmt::format("identical to KSM page pfn {} (stable node {})", e.other_pfn, e.node_id);
  if (w == "match_chain")
    return fmt::format("identical to KSM page pfn {} (dup {} of a chain)", e.other_pfn,
                       e.node_id);
  if (w == "replace")
    return fmt::format(
        "identical to KSM page pfn {}, which now sits on another node: node {} moves to "
        "migrate_nodes",
        e.other_pfn, e.node_id);
  if (w == "no_match") return fmt::format("no identical KSM page (stable tree nid {})", e.nid);
  if (w == "migrated_inserted")
    return fmt::format("migrated KSM page (stable node {}) re-inserted into tree nid {}",
                       e.node_id, e.nid);
  if (w == "chain_append")
    return fmt::format("migrated KSM page added as another dup of chain {}", e.node_id);
  if (w == "tree_page_gone")
    return fmt::format("{} in the tree is gone or no longer anonymous: stop searching", other);
  if (w == "same_page") return fmt::format("{} is this very page (forked): nothing", other);
  if (w == "other_node")
    return fmt::format("identical to {} but it sits on another NUMA node: skipped", other);
  if (w == "match" && e.func == "unstable_tree_search_insert")
    return fmt::format("identical to {}", other);
  if (w == "inserted")
    return fmt::format("no identical page: inserted into the unstable tree (nid {})", e.nid);
  return std::string(w);
}

}  // namespace

void DecisionBuilder::OnEvent(const ksm::KsmEvent& e, uint64_t time_ns, uint64_t step) {
  if (e.name != ksm::kDecisionEvent) return;
  if (e.what == "scan") {
    Flush();
    current_ = ResolvePage(d_, e.mm, e.addr);
    return;
  }
  Decision dec;
  dec.step = step;
  dec.scan = e.seq;
  dec.time_ns = time_ns;
  dec.page = current_;
  dec.func = std::string(e.func);
  dec.what = std::string(e.what);
  dec.text = fmt::format("{}: {}", e.func, Meaning(d_, e));
  bool is_match = e.what == "match" || e.what == "match_chain";
  bool is_merge = e.what == "merged_two" || e.what == "merge_two_failed" ||
                  e.what == "merged_ksm" || e.what == "merge_ksm_failed";
  if (pending_ && is_merge) {
    pending_->what += "+" + dec.what;
    pending_->text += fmt::format(" -> {} -> {}", e.func, Meaning(d_, e));
    out_(*pending_);
    pending_.reset();
    return;
  }
  Flush();
  if (is_match) {
    pending_ = dec;
    return;
  }
  out_(dec);
}

void DecisionBuilder::Flush() {
  if (pending_) out_(*pending_);
  pending_.reset();
}

}  // namespace ksmsim::tools::teach
