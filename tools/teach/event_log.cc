// The event log's lines (event_log.h): which fields each event carries.
#include "tools/teach/event_log.h"

#include "fmt/format.h"

namespace ksmsim::tools::teach {

using ksm::Decision;

EventView ViewEvent(const workloads::Driver& d, const ksm::KsmEvent& e, uint64_t time_ns) {
  EventView v;
  v.e = &e;
  v.time_ns = time_ns;
  if (d.ksmd().in_batch()) v.pass = PassOf(e.seq);
  if (e.mm) v.page = d.LocateAddress(e.mm, e.addr);
  return v;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
  out += '"';
}

namespace {

bool CarriesErr(const ksm::KsmEvent& e) {
  if (e.name == "ksm_merge_one_page") return true;
  if (e.name != ksm::kDecisionEvent) return false;
  switch (e.decision) {
    case Decision::kMergedKsm:
    case Decision::kMergeKsmFailed:
    case Decision::kZeroMerged:
    case Decision::kZeroFailed:
    case Decision::kKernelZeroMerged:
    case Decision::kKernelZeroFailed:
      return true;
    default:
      return false;
  }
}

void Key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

}  // namespace

std::string EventLine(const workloads::Driver& d, const EventView& v) {
  const ksm::KsmEvent& e = *v.e;
  std::string out;
  out.reserve(256);
  out += fmt::format("{{\"time_ns\":{},\"event\":", v.time_ns);
  AppendJsonString(out, e.name);
  out += fmt::format(",\"seq\":{}", e.seq);
  if (v.pass) out += fmt::format(",\"pass\":{}", *v.pass);
  const bool decision = e.name == ksm::kDecisionEvent;
  if (decision) {
    Key(out, "func");
    AppendJsonString(out, e.func);
    Key(out, "what");
    AppendJsonString(out, e.what);
  }
  if (e.mm) {
    Key(out, "mm");
    AppendJsonString(out, e.mm->name);
    if (e.name != "ksm_enter" && e.name != "ksm_exit") {
      out += fmt::format(",\"addr\":\"{:#x}\"", e.addr);
      if (v.page) {
        Key(out, "page");
        AppendJsonString(out,
                         fmt::format("{}:{}[{}]", *v.page->proc, *v.page->region, v.page->index));
      }
    }
  }
  if (e.pfn >= 0) out += fmt::format(",\"pfn\":{}", e.pfn);
  if (e.other_pfn >= 0) {
    bool tree = decision && e.func == "unstable_tree_search_insert";
    out += fmt::format(",\"{}\":{}", tree ? "tree_pfn" : "kpfn", e.other_pfn);
  }
  if (e.new_pfn >= 0) out += fmt::format(",\"new_pfn\":{}", e.new_pfn);
  if (e.other_mm) {
    Key(out, "tree_page");
    AppendJsonString(out, d.DescribeAddress(e.other_mm, e.other_addr));
  }
  if (e.node_id) out += fmt::format(",\"node\":{}", e.node_id);
  if (e.nid >= 0) out += fmt::format(",\"nid\":{}", e.nid);
  if (decision && e.decision == Decision::kChecksumChanged)
    out += fmt::format(",\"oldchecksum\":\"{:#010x}\",\"checksum\":\"{:#010x}\"", e.oldchecksum,
                       e.checksum);
  if (decision && e.decision == Decision::kSmartScanSkip)
    out += fmt::format(",\"age\":{},\"remaining_skips\":{}", e.skip_age, e.remaining_skips);
  if (e.name == ksm::kSmartScanSkipEvent) out += fmt::format(",\"skipped\":{}", e.skipped);
  if (CarriesErr(e)) out += fmt::format(",\"err\":{}", e.err);
  if (e.name == "ksmsim_swapin") out += e.swap_read ? ",\"read\":true" : ",\"read\":false";
  if (e.name == "ksm_start_scan" || e.name == "ksm_stop_scan")
    out += fmt::format(",\"rmap_num\":{}", e.rmap_num);
  if (e.name == "ksm_advisor")
    out += fmt::format(",\"scan_time\":{},\"pages_to_scan\":{},\"cpu_percent\":{}", e.scan_time,
                       e.pages_to_scan, e.cpu_percent);
  out += "}\n";
  return out;
}

}  // namespace ksmsim::tools::teach
