// The report's event log: counts by pass and kind, rows sampled across every pass.
#include "tools/teach/report_events.h"

#include <algorithm>

namespace ksmsim::tools::teach {

void EventLog::Count(uint64_t pass, std::string_view kind) {
  auto& m = counts_[pass];
  auto it = m.find(kind);
  if (it == m.end()) it = m.emplace(std::string(kind), 0).first;
  ++it->second;
  ++total_;
}

bool EventLog::Full(uint64_t pass, std::string_view kind) const {
  auto p = kept_.find(pass);
  if (p == kept_.end()) return false;
  auto it = p->second.find(kind);
  return it != p->second.end() && it->second.size() >= per_group_;
}

void EventLog::Keep(uint64_t pass, std::string_view kind, const std::function<EventRow()>& make) {
  if (Full(pass, kind)) return;
  EventRow r = make();
  r.seq = ++seq_;
  r.pass = pass;
  r.kind = std::string(kind);
  auto& m = kept_[pass];
  auto it = m.find(kind);
  if (it == m.end()) it = m.emplace(std::string(kind), std::vector<EventRow>{}).first;
  it->second.push_back(std::move(r));
}

std::vector<EventRow> EventLog::Rows() const {
  size_t total = 0;
  for (const auto& [p, m] : kept_)
    for (const auto& [k, v] : m) total += v.size();
  // Lower the rows per group until they fit, so that every group keeps some.
  size_t cap = per_group_;
  while (cap > 1 && total > max_rows_) {
    cap = cap * 3 / 4;
    total = 0;
    for (const auto& [p, m] : kept_)
      for (const auto& [k, v] : m) total += std::min(v.size(), cap);
  }
  std::vector<EventRow> out;
  for (const auto& [p, m] : kept_) {
    for (const auto& [k, v] : m) {
      size_t n = std::min(v.size(), cap);
      for (size_t i = 0; i < n; ++i) out.push_back(v[i * v.size() / n]);
    }
  }
  if (out.size() > max_rows_) {  // more groups than rows: keep every k-th group's row
    std::vector<EventRow> thin;
    for (size_t i = 0; i < max_rows_; ++i) thin.push_back(out[i * out.size() / max_rows_]);
    out.swap(thin);
  }
  std::sort(out.begin(), out.end(),
            [](const EventRow& a, const EventRow& b) { return a.seq < b.seq; });
  return out;
}

}  // namespace ksmsim::tools::teach
