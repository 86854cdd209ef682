// The report's tree summary at one snapshot (see report_trees.h): one walk of each tree,
// the top levels kept as JSON, every KSM page counted, and the page-to-node index
// run-length encoded so that a million pages with regular contents take a few runs.
#include "tools/teach/report_trees.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fmt/format.h"
#include "tools/teach/explain.h"
#include "tools/teach/tree_walk.h"

namespace ksmsim::tools::teach {
namespace {

using nlohmann::json;

constexpr size_t kMaxDupsShown = 64;

struct KsmPage {
  const ksm::StableNode* node;
  const char* where;  // "tree", "dup" or "migrate"
};

struct Walker {
  workloads::Driver& d;
  const TreeSummaryOptions& o;
  bool stable;
  int max_depth = 0;
  uint64_t chains = 0, dups = 0;
  std::vector<KsmPage>* pages = nullptr;

  std::string StableLabel(const ksm::StableNode* n) const {
    if (ksm::is_stable_node_chain(n)) {
      uint64_t nd = 0, sharers = 0;
      for (const ksm::StableNode* dup : Dups(n)) {
        ++nd;
        sharers += dup->rmap_hlist_len;
      }
      return fmt::format("chain {}: {} dups, {} sharers", n->id, nd, sharers);
    }
    return fmt::format("node {}: kpfn {}, {} sharers", n->id, n->kpfn, n->rmap_hlist_len);
  }

  // Returns the subtree's node count; fills `out` while depth < view_depth.
  uint64_t Visit(const ksm::RbNode* rn, int depth, json* out) {
    if (!rn) return 0;
    max_depth = std::max(max_depth, depth + 1);
    bool keep = depth < o.view_depth;
    json kids = json::array();
    json left, right;
    uint64_t n = 1 + Visit(rn->rb_left, depth + 1, keep ? &left : nullptr) +
                 Visit(rn->rb_right, depth + 1, keep ? &right : nullptr);
    json self;
    if (stable) {
      auto* s = static_cast<const ksm::StableNode*>(rn);
      if (keep) {
        self["t"] = StableLabel(s);
        self["id"] = s->id;
      }
      if (ksm::is_stable_node_chain(s)) {
        ++chains;
        json dl = json::array();
        size_t shown = 0, total = 0;
        for (const ksm::StableNode* dup : Dups(s)) {
          ++dups;
          ++total;
          pages->push_back({dup, "dup"});
          if (keep && shown < kMaxDupsShown) {
            ++shown;
            dl.push_back({{"t", fmt::format("dup {}: kpfn {}, {} sharers", dup->id, dup->kpfn,
                                            dup->rmap_hlist_len)},
                          {"id", dup->id}});
          }
        }
        if (keep && total > shown)
          dl.push_back({{"t", fmt::format("... {} more dups", total - shown)}});
        if (keep) self["d"] = dl;
      } else {
        pages->push_back({s, "tree"});
      }
    } else if (keep) {
      const ksm::RmapItem* r = ksm::rb_entry_rmap_item(rn);
      self["t"] = d.DescribeAddress(r->mm, r->address & ksm::PAGE_MASK);
    }
    if (!keep) return n;
    self["n"] = n;
    if (rn->rb_left || rn->rb_right) self["k"] = json::array({left, right});
    *out = std::move(self);
    return n;
  }
};

std::string Bucket(int sharers) {
  if (sharers <= 2) return std::to_string(sharers);
  int lo = 3, hi = 4;
  while (sharers > hi) {
    lo = hi + 1;
    hi *= 2;
  }
  return fmt::format("{}-{}", lo, hi);
}

// Index entries (page index, node id) per "proc:region", sorted, as runs.
json Runs(std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>>& by_region,
          bool with_node, size_t* runs) {
  json out = json::object();
  for (auto& [key, v] : by_region) {
    std::sort(v.begin(), v.end());
    json flat = json::array();
    size_t i = 0;
    while (i < v.size()) {
      size_t j = i + 1;
      int64_t dn = 0;
      if (j < v.size() && v[j].first == v[i].first + 1) dn = v[j].second - v[i].second;
      while (j < v.size() && v[j].first == v[j - 1].first + 1 &&
             (!with_node || v[j].second - v[j - 1].second == dn))
        ++j;
      flat.push_back(v[i].first);
      flat.push_back(j - i);
      if (with_node) {
        flat.push_back(v[i].second);
        flat.push_back(dn);
      }
      ++*runs;
      i = j;
    }
    out[key] = std::move(flat);
  }
  return out;
}

}  // namespace

json TreeSummaryJson(workloads::Driver& d, const TreeSummaryOptions& o, size_t* budget) {
  const ksm::Ksm& k = d.ksm();
  json out;
  std::vector<KsmPage> pages;
  out["stable"] = json::array();
  out["unstable"] = json::array();
  std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>> unstable_pages;
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    Walker w{d, o, true};
    w.pages = &pages;
    json view;
    uint64_t n = w.Visit(k.stable_root(nid).rb_node, 0, &view);
    out["stable"].push_back({{"nodes", n},
                             {"depth", w.max_depth},
                             {"chains", w.chains},
                             {"dups", w.dups},
                             {"view", view}});
    Walker u{d, o, false};
    json uview;
    uint64_t un = u.Visit(k.unstable_root(nid).rb_node, 0, &uview);
    out["unstable"].push_back({{"nodes", un}, {"depth", u.max_depth}, {"view", uview}});
    int order = 0;
    Walk(k.unstable_root(nid).rb_node, 0, order, [&](const ksm::RbNode* rn, int, int) {
      const ksm::RmapItem* r = ksm::rb_entry_rmap_item(rn);
      PageRef p = ResolvePage(d, r->mm, r->address & ksm::PAGE_MASK);
      if (p.index) unstable_pages[p.proc + ":" + p.region].push_back({*p.index, 0});
    });
  }
  for (const ksm::StableNode* m : k.migrate_nodes()) pages.push_back({m, "migrate"});
  out["migrate"] = k.migrate_nodes().size();
  out["ksm_pages"] = pages.size();

  std::map<int, uint64_t> hist;
  std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>> stable_pages;
  for (const KsmPage& p : pages) {
    ++hist[p.node->rmap_hlist_len];
    for (const ksm::RmapItem* r = p.node->hlist.first; r; r = decltype(p.node->hlist)::next(r)) {
      PageRef ref = ResolvePage(d, r->mm, r->address & ksm::PAGE_MASK);
      if (ref.index)
        stable_pages[ref.proc + ":" + ref.region].push_back(
            {*ref.index, static_cast<int64_t>(p.node->id)});
    }
  }
  json h = json::array();
  std::string last;
  for (const auto& [sharers, count] : hist) {
    std::string b = Bucket(sharers);
    if (!h.empty() && b == last) {
      h.back()[1] = h.back()[1].get<uint64_t>() + count;
    } else {
      h.push_back(json::array({b, count}));
    }
    last = b;
  }
  out["hist"] = h;

  std::vector<KsmPage> top = pages;
  size_t nt = std::min(o.top_nodes, top.size());
  std::partial_sort(top.begin(), top.begin() + nt, top.end(),
                    [](const KsmPage& a, const KsmPage& b) {
                      if (a.node->rmap_hlist_len != b.node->rmap_hlist_len)
                        return a.node->rmap_hlist_len > b.node->rmap_hlist_len;
                      return a.node->id < b.node->id;
                    });
  json tj = json::array();
  for (size_t i = 0; i < nt; ++i) {
    const ksm::StableNode* n = top[i].node;
    const ksm::RmapItem* r = n->hlist.first;
    tj.push_back({n->id, n->kpfn, n->rmap_hlist_len,
                  r ? d.DescribeAddress(r->mm, r->address & ksm::PAGE_MASK) : "", top[i].where});
  }
  out["top"] = tj;

  size_t runs = 0;
  json idx = Runs(stable_pages, true, &runs);
  json uidx = Runs(unstable_pages, false, &runs);
  if (runs <= *budget) {
    *budget -= runs;
    out["index"] = std::move(idx);
    out["unstable_index"] = std::move(uidx);
  } else {
    out["index_note"] = fmt::format(
        "the search by page is left out here: its index would take {} runs, more than the "
        "{} left (ksmsim report --search-runs N raises it)",
        runs, *budget);
  }
  return out;
}

}  // namespace ksmsim::tools::teach
