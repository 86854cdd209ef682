// Recording a run for the side-by-side comparison, and comparing two (versions.h).
#include "tools/teach/versions.h"

#include <algorithm>
#include <set>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "tools/teach/event_log.h"
#include "workloads/counters.h"
#include "workloads/ops.h"

namespace ksmsim::tools::teach {
namespace {

using Json = nlohmann::ordered_json;

// 64-bit FNV-1a, then a final mix: only equality matters.
uint64_t Mix(uint64_t h, std::string_view s) {
  h ^= 0xcbf29ce484222325ull + s.size();
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}
uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

bool IsEntry(workloads::Op op) {
  return op == workloads::Op::kSnapshot || op == workloads::Op::kExpect;
}

}  // namespace

std::string VersionRecord::Text() const {
  std::string where = pass ? fmt::format("pass {}", pass) : fmt::format("step {}", step);
  std::string what_text = event == "page visit" ? fmt::format("{} {}", func, what) : event;
  std::string out = fmt::format("{}{}{}: {}", where, page.empty() ? "" : ", ", page, what_text);
  if (!also.empty()) out += fmt::format(" (with {})", also);
  return out;
}

VersionsRecorder::VersionsRecorder(std::string profile, uint64_t keep_first, uint64_t keep_last)
    : keep_first_(keep_first), keep_last_(keep_last) {
  run_.profile = std::move(profile);
}

void VersionsRecorder::OnEvent(const ksm::KsmEvent& e) {
  const bool in_batch = d_->ksmd().in_batch();
  const uint64_t step = d_->current_step();
  const uint64_t pass = in_batch ? PassOf(e.seq) : 0;
  const bool decision = e.name == ksm::kDecisionEvent;
  const std::string_view mm = e.mm ? std::string_view(e.mm->name) : std::string_view();
  if (decision) {
    const bool skip = e.decision == ksm::Decision::kSmartScanSkip;
    if (skip) ++run_.skipped_per_pass[pass];
    if (skip || e.decision == ksm::Decision::kScan) {
      CloseVisit();
      visit_ = Visit{};
      visit_.open = true;
      visit_.step = step;
      visit_.pass = pass;
      visit_.hash = Mix(Mix(0, mm), e.addr);
      if (Keeping()) visit_.page = d_->DescribeAddress(e.mm, e.addr);
      visit_.func = e.func;
      visit_.what = e.what;
      if (skip) visit_.skip_age = e.skip_age - 1;
      return;
    }
    if (visit_.open) {
      visit_.func = e.func;
      visit_.what = e.what;
      return;
    }
  }
  uint64_t h = Mix(Mix(Mix(0, e.name), mm), e.mm ? e.addr : 0);
  const bool pass_event =
      e.name == "ksm_start_scan" || e.name == "ksm_stop_scan" || e.name == ksm::kSmartScanSkipEvent;
  if (in_batch && visit_.open && !pass_event) {
    visit_.also.push_back(h);
    if (Keeping())
      visit_.also_text += fmt::format("{}{}", visit_.also_text.empty() ? "" : ", ", e.name);
    return;
  }
  CloseVisit();
  VersionRecord r;
  if (Keeping()) {
    r.step = step;
    r.pass = pass;
    r.event = std::string(e.name);
    if (decision) {
      r.func = std::string(e.func);
      r.what = std::string(e.what);
    }
    if (e.mm) r.page = d_->DescribeAddress(e.mm, e.addr);
  }
  Add(Mix(Mix(h, step), pass), std::move(r));
}

void VersionsRecorder::CloseVisit() {
  if (!visit_.open) return;
  visit_.open = false;
  std::sort(visit_.also.begin(), visit_.also.end());
  uint64_t h = Mix(Mix(Mix(visit_.hash, visit_.step), visit_.pass), visit_.func);
  h = Mix(h, visit_.what);
  for (uint64_t a : visit_.also) h = Mix(h, a);
  VersionRecord r;
  if (Keeping()) {
    r.step = visit_.step;
    r.pass = visit_.pass;
    r.event = "page visit";
    r.page = std::move(visit_.page);
    r.func = std::string(visit_.func);
    r.what = std::string(visit_.what);
    r.also = std::move(visit_.also_text);
    r.skip_age = visit_.skip_age;
  }
  Add(h, std::move(r));
}

void VersionsRecorder::Add(uint64_t hash, VersionRecord r) {
  chunk_hash_ = Mix(chunk_hash_, hash);
  if (Keeping()) {
    r.index = run_.records;
    run_.kept.push_back(std::move(r));
  }
  if (++run_.records % kChunk == 0) {
    run_.chunk_hashes.push_back(chunk_hash_);
    chunk_hash_ = 0;
  }
}

void VersionsRecorder::AfterStep(const workloads::FlatStep& fs) {
  const workloads::Op op = fs.step->op();
  last_was_entry_ = IsEntry(op);
  run_.steps_run = fs.index + 1;
  if (const auto* fork = fs.step->get_if<workloads::ForkStep>()) {
    Json procs = d_->Counters()["procs"];
    run_.forks.push_back({fs.index, fork->proc, fork->child,
                          procs.contains(fork->child) ? procs[fork->child] : Json::object()});
  }
  const unsigned long zero = d_->ksm().zero_pages();
  if (op != workloads::Op::kWait && zero < zero_pages_)
    run_.zero_drops.push_back({fs.index, std::string(workloads::OpName(op)), zero_pages_, zero});
  zero_pages_ = zero;
}

VersionsRun VersionsRecorder::Finish(Json doc, int status) {
  CloseVisit();
  if (run_.records % kChunk) run_.chunk_hashes.push_back(chunk_hash_);
  run_.doc = std::move(doc);
  run_.exit_status = status;
  if (!last_was_entry_) run_.final_counters = d_->Counters();
  return std::move(run_);
}

std::optional<uint64_t> FirstDifferentChunk(const VersionsRun& a, const VersionsRun& b) {
  const size_t n = std::max(a.chunk_hashes.size(), b.chunk_hashes.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= a.chunk_hashes.size() || i >= b.chunk_hashes.size() ||
        a.chunk_hashes[i] != b.chunk_hashes[i])
      return i;
  }
  return std::nullopt;
}

namespace {

// The knobs of either profile: not counters, and the same in both runs unless a profile
// lacks them.
std::set<std::string> Knobs(const VersionsRun& a, const VersionsRun& b) {
  std::set<std::string> knobs;
  for (const VersionsRun* r : {&a, &b})
    if (auto p = workloads::KernelProfileFromName(r->profile))
      for (std::string_view k : workloads::KsmKnobNames(*p)) knobs.emplace(k);
  return knobs;
}

// counter name -> value of one entry, by group: "ksm", "vmstat", then one group per
// process ("procs.a"), each in the entry's order.
using Group = std::vector<std::pair<std::string, Json>>;
std::vector<std::pair<std::string, Group>> Flat(const Json& entry,
                                                const std::set<std::string>& knobs) {
  std::vector<std::pair<std::string, Group>> out;
  for (const char* group : {"ksm", "vmstat"}) {
    Group g;
    if (entry.contains(group))
      for (auto it = entry[group].begin(); it != entry[group].end(); ++it)
        if (std::string(group) != "ksm" || !knobs.count(it.key()))
          g.emplace_back(std::string(group) == "ksm" ? it.key() : "vmstat." + it.key(), it.value());
    out.emplace_back(group, std::move(g));
  }
  if (entry.contains("procs"))
    for (auto p = entry["procs"].begin(); p != entry["procs"].end(); ++p) {
      Group g;
      for (auto it = p.value().begin(); it != p.value().end(); ++it)
        g.emplace_back(fmt::format("procs.{}.{}", p.key(), it.key()), it.value());
      out.emplace_back("procs." + p.key(), std::move(g));
    }
  return out;
}

struct Entries {
  const Json* first = nullptr;
  const Json* second = nullptr;
  std::string op, label;
};

// full_scans at a point in one run (0 when that run has no such point).
uint64_t FullScans(const VersionsPoint& p, bool first) {
  for (const auto& row : p.rows) {
    if (row.counter != "full_scans") continue;
    const auto& v = first ? row.first : row.second;
    return v && v->is_number_unsigned() ? v->get<uint64_t>() : 0;
  }
  return 0;
}

VersionsPoint MakePoint(uint64_t step, const Entries& e, const std::set<std::string>& knobs) {
  VersionsPoint p;
  p.step = step;
  p.op = e.op;
  p.label = e.label;
  // Group by group (the first run's groups, then the second's others), each with the
  // first run's counters and then the second's others.
  std::vector<std::pair<std::string, Group>> a, b;
  if (e.first) a = Flat(*e.first, knobs);
  if (e.second) b = Flat(*e.second, knobs);
  std::vector<std::string> groups;
  for (const auto* side : {&a, &b})
    for (const auto& [name, g] : *side)
      if (std::find(groups.begin(), groups.end(), name) == groups.end()) groups.push_back(name);
  auto find = [](const std::vector<std::pair<std::string, Group>>& side, const std::string& name) {
    for (const auto& [n, g] : side)
      if (n == name) return &g;
    return static_cast<const Group*>(nullptr);
  };
  for (const std::string& group : groups) {
    const Group* ga = find(a, group);
    const Group* gb = find(b, group);
    std::map<std::string, size_t> row_of;
    if (ga)
      for (const auto& [name, value] : *ga) {
        row_of[name] = p.rows.size();
        p.rows.push_back({name, value, std::nullopt});
      }
    if (gb)
      for (const auto& [name, value] : *gb) {
        auto it = row_of.find(name);
        if (it != row_of.end()) {
          p.rows[it->second].second = value;
        } else {
          p.rows.push_back({name, std::nullopt, value});
        }
      }
  }
  for (const auto& row : p.rows)
    if (row.differs()) p.differing.push_back(row.counter);
  return p;
}

}  // namespace

VersionsComparison CompareVersions(const VersionsRun& a, const VersionsRun& b) {
  VersionsComparison c;
  c.first_profile = a.profile;
  c.second_profile = b.profile;
  const std::set<std::string> knobs = Knobs(a, b);
  // The points of both runs by step; a run that stopped early lacks the later ones.
  std::map<uint64_t, Entries> by_step;
  for (int side = 0; side < 2; ++side) {
    const VersionsRun& r = side ? b : a;
    if (!r.doc.contains("results")) continue;
    for (const Json& entry : r.doc["results"]) {
      Entries& e = by_step[entry["step"].get<uint64_t>()];
      (side ? e.second : e.first) = &entry;
      e.op = entry.value("op", "");
      e.label = entry.value("label", "");
    }
  }
  for (const auto& [step, entries] : by_step) c.points.push_back(MakePoint(step, entries, knobs));
  if (a.final_counters || b.final_counters) {
    Entries end{a.final_counters ? &*a.final_counters : nullptr,
                b.final_counters ? &*b.final_counters : nullptr, "end", ""};
    c.points.push_back(MakePoint(std::max(a.steps_run, b.steps_run) - 1, end, knobs));
  }
  c.first_event_difference = RecordReason(a, b);
  // Each point where counters come to differ: why, from the steps since the previous such
  // point (for the first divergence: since the start).
  const VersionsPoint* previous = nullptr;
  uint64_t from_step = 0;
  PassRange passes_a, passes_b;
  for (size_t i = 0; i < c.points.size(); ++i) {
    VersionsPoint& p = c.points[i];
    passes_a.last = FullScans(p, true) + 1;
    passes_b.last = FullScans(p, false) + 1;
    for (const std::string& counter : p.differing) {
      const bool before =
          previous && std::find(previous->differing.begin(), previous->differing.end(), counter) !=
                          previous->differing.end();
      if (!before) p.new_differing.push_back(counter);
    }
    if (!p.new_differing.empty()) {
      if (!c.first_divergence) c.first_divergence = i;
      p.reasons = StepReasons(a, b, from_step, p.step);
      const auto& rec = c.first_event_difference;
      const bool record_here = rec && rec->step >= from_step && rec->step <= p.step;
      if (record_here) p.reasons.push_back(*rec);
      if (!record_here || rec->kind != "smart_scan")
        if (auto skip = SkipReason(a, b, passes_a, passes_b, p.step)) p.reasons.push_back(*skip);
      std::stable_sort(
          p.reasons.begin(), p.reasons.end(),
          [](const VersionsReason& x, const VersionsReason& y) { return x.step < y.step; });
      if (p.reasons.empty()) {
        VersionsReason r;
        r.kind = "counters";
        r.step = p.step;
        // Page decisions are compared up to the first that differs only: past it, the runs'
        // records no longer line up.
        const bool decided_alike = !rec || rec->step > p.step;
        r.text =
            decided_alike
                ? fmt::format(
                      "no page decision, fork or zero-page unsharing {} differs: the kernels "
                      "count differently ({})",
                      c.first_divergence == i ? "up to here" : "since the previous divergence",
                      fmt::join(p.new_differing, ", "))
                : fmt::format(
                      "no fork, zero-page unsharing or smart-scan count since the previous "
                      "divergence explains it ({}); ksmd's decisions differ since {}",
                      fmt::join(p.new_differing, ", "), rec->text.substr(0, rec->text.find(':')));
        p.reasons.push_back(r);
      }
    }
    previous = &p;
    if (p.new_differing.empty()) continue;
    from_step = p.step + 1;
    passes_a.first = passes_a.last;
    passes_b.first = passes_b.last;
  }
  return c;
}

}  // namespace ksmsim::tools::teach
