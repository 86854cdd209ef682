// The stable and unstable trees drawn directly as SVG, for the HTML report (no Graphviz).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "tools/teach/html.h"
#include "tools/teach/tree_walk.h"
#include "tools/teach/trees.h"

namespace ksmsim::tools::teach {

namespace {
struct PicNode {
  std::vector<std::string> lines;
  double x = 0, y = 0;
  int parent = -1;
  bool dashed = false;
};

std::string DrawPic(const std::vector<PicNode>& nodes, const std::string& empty_text) {
  if (nodes.empty())
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"30\" "
        "font-family=\"sans-serif\" font-size=\"12\"><text x=\"5\" y=\"20\">{}</text></svg>",
        HtmlEscape(empty_text));
  const double BW = 130, BH = 16, GX = 140, GY = 90;
  double maxx = 0, maxy = 0;
  for (const auto& n : nodes) {
    maxx = std::max(maxx, n.x);
    maxy = std::max(maxy, n.y);
  }
  double W = (maxx + 1) * GX + 20, H = (maxy + 1) * GY + 20;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "font-family=\"monospace\" font-size=\"11\">\n",
      W, H);
  auto cx = [&](const PicNode& n) { return 10 + n.x * GX + BW / 2; };
  auto cy = [&](const PicNode& n) { return 10 + n.y * GY; };
  for (const auto& n : nodes) {
    if (n.parent < 0) continue;
    const PicNode& p = nodes[n.parent];
    s += fmt::format(
        "<line x1=\"{:.0f}\" y1=\"{:.0f}\" x2=\"{:.0f}\" y2=\"{:.0f}\" stroke=\"#555\"{}/>\n",
        cx(p), cy(p) + BH * p.lines.size(), cx(n), cy(n), n.dashed ? " stroke-dasharray=\"4\"" : "");
  }
  for (const auto& n : nodes) {
    s += fmt::format(
        "<rect class=\"node\" x=\"{:.0f}\" y=\"{:.0f}\" width=\"{:.0f}\" height=\"{:.0f}\" "
        "fill=\"{}\" stroke=\"#333\"{}/>\n",
        10 + n.x * GX, cy(n), BW, BH * n.lines.size() + 4, n.dashed ? "#eef5ff" : "#fff7e0",
        n.dashed ? " stroke-dasharray=\"4\"" : "");
    for (size_t i = 0; i < n.lines.size(); ++i)
      s += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"middle\">{}</text>\n",
                       cx(n), cy(n) + 13 + BH * i, HtmlEscape(n.lines[i]));
  }
  s += "</svg>\n";
  return s;
}
}  // namespace

std::string StableTreesSvg(workloads::Driver& d) {
  const ksm::Ksm& k = d.ksm();
  std::string out;
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    std::vector<PicNode> pic;
    std::map<const ksm::RbNode*, int> idx;
    int order = 0;
    double col = 0;
    Walk(k.stable_root(nid).rb_node, 0, order, [&](const ksm::RbNode* rn, int depth, int) {
      auto* n = static_cast<const ksm::StableNode*>(rn);
      PicNode p;
      p.x = col;
      p.y = depth;
      if (ksm::is_stable_node_chain(n)) {
        p.lines = {fmt::format("chain {}", n->id)};
      } else {
        p.lines = {fmt::format("node {}", n->id), fmt::format("kpfn {}", n->kpfn),
                   fmt::format("sharers {}", n->rmap_hlist_len)};
      }
      idx[rn] = static_cast<int>(pic.size());
      pic.push_back(p);
      if (ksm::is_stable_node_chain(n)) {
        int chain_idx = idx[rn];
        double dx = col;
        for (const ksm::StableNode* dup : Dups(n)) {
          PicNode q;
          q.x = dx++;
          q.y = depth + 0.6;
          q.parent = chain_idx;
          q.dashed = true;
          q.lines = {fmt::format("dup {}", dup->id), fmt::format("kpfn {}", dup->kpfn),
                     fmt::format("sharers {}", dup->rmap_hlist_len)};
          pic.push_back(q);
        }
        col = std::max(col + 1, dx);
      } else {
        col += 1;
      }
    });
    for (auto& [rn, i] : idx) {
      const ksm::RbNode* parent = ksm::rb_parent(rn);
      if (parent && idx.count(parent)) pic[i].parent = idx[parent];
    }
    out += fmt::format("<p>root_stable_tree[{}]</p>\n", nid) +
           DrawPic(pic, "(empty stable tree)");
  }
  if (!k.migrate_nodes().empty())
    out += fmt::format("<p>migrate_nodes: {} stable nodes</p>\n", k.migrate_nodes().size());
  return out;
}

std::string UnstableTreesSvg(workloads::Driver& d) {
  const ksm::Ksm& k = d.ksm();
  std::string out;
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    std::vector<PicNode> pic;
    std::map<const ksm::RbNode*, int> idx;
    int order = 0;
    Walk(k.unstable_root(nid).rb_node, 0, order, [&](const ksm::RbNode* rn, int depth, int o) {
      auto* r = ksm::rb_entry_rmap_item(rn);
      PicNode p;
      p.x = o;
      p.y = depth;
      p.lines = {d.DescribeAddress(r->mm, r->address & ksm::PAGE_MASK)};
      idx[rn] = static_cast<int>(pic.size());
      pic.push_back(p);
    });
    for (auto& [rn, i] : idx) {
      const ksm::RbNode* parent = ksm::rb_parent(rn);
      if (parent && idx.count(parent)) pic[i].parent = idx[parent];
    }
    out += fmt::format("<p>root_unstable_tree[{}]</p>\n", nid) +
           DrawPic(pic, "(empty unstable tree)");
  }
  return out;
}

}  // namespace ksmsim::tools::teach
