// explain's decision lines: a ksmsim_decision event turned into the kernel's terms, and a
// search's match joined with the merge that follows it.
#include "tools/teach/explain.h"

#include <string>

#include "fmt/format.h"
#include "tools/teach/decision_text.h"
#include "tools/teach/event_log.h"

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

// What one decision means, in the kernel's terms (without the function name).
std::string Meaning(const workloads::Driver& d, const ksm::KsmEvent& e) {
  return DecisionText(e, e.other_mm ? d.DescribeAddress(e.other_mm, e.other_addr) : "");
}

}  // namespace

void DecisionBuilder::OnEvent(const ksm::KsmEvent& e, uint64_t time_ns, uint64_t step) {
  if (e.name != ksm::kDecisionEvent) return;
  const bool skipped = e.decision == ksm::Decision::kSmartScanSkip;
  if (e.what == "scan" || skipped) {
    Flush();
    current_ = ResolvePage(d_, e.mm, e.addr);
    if (!skipped) return;  // a skipped page has this one decision
  }
  Decision dec;
  dec.step = step;
  dec.scan = e.seq;
  dec.pass = PassOf(e.seq);
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
