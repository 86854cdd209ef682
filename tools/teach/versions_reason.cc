// Why two runs of one workload under two kernel profiles diverge (versions.h): the first
// record that differs, classified by the kernel change it shows (smart scan, the checksum
// gate before the stable tree, the zero page), and the steps whose effect differs without
// any event (a fork's per-process counters, KSM zero pages unshared).
#include <string>

#include "fmt/format.h"
#include "tools/teach/versions.h"

namespace ksmsim::tools::teach {
namespace {

using Json = nlohmann::ordered_json;

// 1200 -> "1,200"
std::string Thousands(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

bool Same(const VersionRecord& x, const VersionRecord& y) {
  return x.step == y.step && x.pass == y.pass && x.event == y.event && x.page == y.page &&
         x.func == y.func && x.what == y.what && x.also == y.also;
}

bool IsSkip(const VersionRecord* r) {
  return r && r->event == "page visit" && r->func == "should_skip_rmap_item";
}

std::string Where(const VersionRecord& r) {
  return r.pass ? fmt::format("step {}, pass {}", r.step, r.pass) : fmt::format("step {}", r.step);
}

// What a record says one run did, without its place: "cmp_and_merge_page checksum_changed".
std::string Did(const VersionRecord* r) {
  if (!r) return "nothing more (its run has no more events)";
  VersionRecord copy = *r;
  std::string text = copy.Text();
  size_t colon = text.find(": ");
  return colon == std::string::npos ? text : text.substr(colon + 2);
}

VersionsReason Classify(const VersionsRun& a, const VersionsRun& b, const VersionRecord* ra,
                        const VersionRecord* rb) {
  VersionsReason r;
  if (ra) r.first = *ra;
  if (rb) r.second = *rb;
  const VersionRecord& any = ra ? *ra : *rb;
  r.step = ra && rb ? std::min(ra->step, rb->step) : any.step;
  r.pass = any.pass;
  if (IsSkip(ra) != IsSkip(rb)) {
    const bool first_skips = IsSkip(ra);
    const VersionsRun& s = first_skips ? a : b;
    const VersionsRun& o = first_skips ? b : a;
    const VersionRecord& skip = first_skips ? *ra : *rb;
    const VersionRecord* other = first_skips ? rb : ra;
    auto n = s.skipped_per_pass.find(skip.pass);
    r.kind = "smart_scan";
    r.pass = skip.pass;
    r.text = fmt::format(
        "pass {}: smart_scan skipped {} pages in {} (should_skip_rmap_item; the first, {}, had "
        "gone {} visits without merging); {} {}",
        skip.pass, Thousands(n == s.skipped_per_pass.end() ? 0 : n->second), s.profile, skip.page,
        skip.skip_age, o.profile,
        other && other->page == skip.page ? "scanned it: " + Did(other) : "did " + Did(other));
    return r;
  }
  const bool same_page =
      ra && rb && ra->event == "page visit" && rb->event == "page visit" && ra->page == rb->page;
  if (same_page && (ra->what == "checksum_changed") != (rb->what == "checksum_changed")) {
    const bool first_waits = ra->what == "checksum_changed";
    const VersionRecord& merged = first_waits ? *rb : *ra;
    if (merged.func == "try_to_merge_with_ksm_page" || merged.func == "stable_tree_search") {
      r.kind = "checksum_before_stable_search";
      r.text = fmt::format(
          "{}, {}: {} finds it in the stable tree at once ({} {}); {} first sees its checksum "
          "change (6.12's cmp_and_merge_page takes the checksum before searching the stable "
          "tree, so a page new to KSM merges with a KSM page one pass later)",
          Where(*ra), ra->page, first_waits ? b.profile : a.profile, merged.func, merged.what,
          first_waits ? a.profile : b.profile);
      return r;
    }
  }
  const bool zero =
      (ra && ra->what.rfind("zero_", 0) == 0) || (rb && rb->what.rfind("zero_", 0) == 0);
  r.kind = zero ? "zero_page" : "events";
  if (!ra || !rb || ra->page == rb->page) {
    r.text = fmt::format("{}{}{}: {} {}; {} {}", Where(any), any.page.empty() ? "" : ", ", any.page,
                         a.profile, Did(ra), b.profile, Did(rb));
  } else {
    r.text = fmt::format("{}: {} {}{}; {} {}{}", Where(any), a.profile,
                         ra->page.empty() ? "" : ra->page + " ", Did(ra), b.profile,
                         rb->page.empty() ? "" : rb->page + " ", Did(rb));
  }
  if (zero)
    r.text +=
        " (use_zero_pages: 6.12 tries the zero page before the stable tree, "
        "try_to_merge_with_zero_page, and counts it in ksm_zero_pages)";
  return r;
}

int64_t Counter(const Json& row, const char* name) {
  return row.contains(name) && row[name].is_number_integer() ? row[name].get<int64_t>() : 0;
}

bool HasZeroPagesCounter(const VersionsRun& r) {
  const Json& results = r.doc.contains("results") ? r.doc["results"] : Json::array();
  if (!results.empty()) return results[0]["ksm"].contains("ksm_zero_pages");
  return r.final_counters && (*r.final_counters)["ksm"].contains("ksm_zero_pages");
}

}  // namespace

std::optional<VersionsReason> RecordReason(const VersionsRun& a, const VersionsRun& b) {
  if (!FirstDifferentChunk(a, b)) return std::nullopt;
  const size_t n = std::max(a.kept.size(), b.kept.size());
  for (size_t i = 0; i < n; ++i) {
    const VersionRecord* ra = i < a.kept.size() ? &a.kept[i] : nullptr;
    const VersionRecord* rb = i < b.kept.size() ? &b.kept[i] : nullptr;
    // Both runs kept the same index range: a record missing on one side is past the end
    // of its run's records.
    if (ra && rb && Same(*ra, *rb)) continue;
    if (getenv("VSDEBUG") && ra && rb)
      fprintf(stderr,
              "i=%zu step %lu/%lu pass %lu/%lu ev %s/%s page %s/%s f %s/%s w %s/%s also %s/%s\n", i,
              ra->step, rb->step, ra->pass, rb->pass, ra->event.c_str(), rb->event.c_str(),
              ra->page.c_str(), rb->page.c_str(), ra->func.c_str(), rb->func.c_str(),
              ra->what.c_str(), rb->what.c_str(), ra->also.c_str(), rb->also.c_str());
    return Classify(a, b, ra, rb);
  }
  return std::nullopt;
}

std::vector<VersionsReason> StepReasons(const VersionsRun& a, const VersionsRun& b,
                                        uint64_t from_step, uint64_t until_step) {
  std::vector<VersionsReason> out;
  for (const VersionFork& fa : a.forks) {
    if (fa.step < from_step) continue;
    if (fa.step > until_step) break;
    for (const VersionFork& fb : b.forks) {
      if (fb.step != fa.step || fb.child != fa.child) continue;
      const int64_t ma = Counter(fa.child_counters, "ksm_merging_pages"),
                    ia = Counter(fa.child_counters, "ksm_rmap_items"),
                    mb = Counter(fb.child_counters, "ksm_merging_pages"),
                    ib = Counter(fb.child_counters, "ksm_rmap_items");
      if (ma == mb && ia == ib) continue;
      const bool second_resets = mb == 0 && ib == 0;
      const bool first_resets = ma == 0 && ia == 0;
      VersionsReason r;
      r.kind = "fork_counters";
      r.step = fa.step;
      if (first_resets != second_resets) {
        const VersionsRun& resets = first_resets ? a : b;
        const VersionsRun& copies = first_resets ? b : a;
        r.text = fmt::format(
            "step {}, fork {} -> {}: {} resets the child's ksm counters (ksm_merging_pages 0, "
            "ksm_rmap_items 0: ksm_fork clears what dup_mm copied); {} copies the parent's "
            "({}, {})",
            fa.step, fa.parent, fa.child, resets.profile, copies.profile, first_resets ? mb : ma,
            first_resets ? ib : ia);
      } else {
        r.text = fmt::format(
            "step {}, fork {} -> {}: the child starts with ksm_merging_pages {}, ksm_rmap_items "
            "{} in {} and {}, {} in {}",
            fa.step, fa.parent, fa.child, ma, ia, a.profile, mb, ib, b.profile);
      }
      out.push_back(r);
    }
  }
  for (int side = 0; side < 2; ++side) {
    const VersionsRun& s = side ? b : a;
    const VersionsRun& o = side ? a : b;
    for (const VersionZeroDrop& d : s.zero_drops) {
      if (d.step < from_step) continue;
      if (d.step > until_step) break;
      // A write, munmap, dontneed or exit drops the zero page in both kernels (6.1 only
      // does not count it); unmerging (madvise unmergeable, run 2) unshares it in one.
      if (d.op != "madvise" && d.op != "ksm" && d.op != "prctl") continue;
      bool both = false;
      for (const VersionZeroDrop& od : o.zero_drops)
        both = both || (od.step == d.step && od.before - od.after == d.before - d.after);
      if (both) continue;
      VersionsReason r;
      r.kind = "ksm_zero_pages_unshared";
      r.step = d.step;
      r.text = fmt::format(
          "step {} ({}): {} unshares {} KSM zero pages (ksm_zero_pages {} -> {}); {}", d.step, d.op,
          s.profile, Thousands(d.before - d.after), d.before, d.after,
          HasZeroPagesCounter(o) ? o.profile + " does not"
                                 : o.profile +
                                       " has no ksm_zero_pages and leaves KSM's zero pages "
                                       "mapped");
      out.push_back(r);
    }
  }
  return out;
}

std::optional<VersionsReason> SkipReason(const VersionsRun& a, const VersionsRun& b, PassRange in_a,
                                         PassRange in_b, uint64_t step) {
  // Pages skipped in the range, and the passes that skipped.
  auto skipped = [](const VersionsRun& r, PassRange range, std::vector<uint64_t>* passes) {
    uint64_t n = 0;
    for (auto it = r.skipped_per_pass.lower_bound(range.first);
         it != r.skipped_per_pass.end() && it->first <= range.last; ++it) {
      n += it->second;
      passes->push_back(it->first);
    }
    return n;
  };
  std::vector<uint64_t> pa, pb;
  const uint64_t na = skipped(a, in_a, &pa), nb = skipped(b, in_b, &pb);
  if (na == nb) return std::nullopt;
  const bool first_more = na > nb;
  const VersionsRun& s = first_more ? a : b;
  const VersionsRun& o = first_more ? b : a;
  const std::vector<uint64_t>& passes = first_more ? pa : pb;
  VersionsReason r;
  r.kind = "smart_scan";
  r.step = step;
  r.pass = passes.front();
  std::string which;
  for (size_t i = 0; i < passes.size(); ++i)
    which += fmt::format("{}{}", i ? (i + 1 == passes.size() ? " and " : ", ") : "", passes[i]);
  r.text =
      fmt::format("pass{} {}: smart_scan skipped {} pages in {} (should_skip_rmap_item), {} in {}",
                  passes.size() > 1 ? "es" : "", which, Thousands(first_more ? na : nb), s.profile,
                  Thousands(first_more ? nb : na), o.profile);
  return r;
}

}  // namespace ksmsim::tools::teach
