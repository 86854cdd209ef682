#include "tools/teach.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <sstream>

#include "fmt/format.h"
#include "tools/teach/decision_text.h"

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

// ---- timeline ----

std::vector<std::string> TimelineColumns(workloads::Driver& d) {
  std::vector<std::string> cols;
  for (const auto& [name, v] : d.ksm().SysfsValues()) cols.push_back(name);
  for (const char* v : {"cow_ksm", "ksm_swpin_copy", "pswpin", "pswpout"})
    cols.push_back(std::string("vmstat.") + v);
  return cols;
}

std::vector<int64_t> TimelineRow(workloads::Driver& d) {
  std::vector<int64_t> row;
  for (const auto& [name, v] : d.ksm().SysfsValues()) row.push_back(v);
  const auto& vm = d.machine().vmstat();
  for (uint64_t v : {vm.cow_ksm, vm.ksm_swpin_copy, vm.pswpin, vm.pswpout})
    row.push_back(static_cast<int64_t>(v));
  return row;
}

void TimelineSampler::Before(workloads::Driver& d, uint64_t time_ns) {
  if (columns.empty()) columns = TimelineColumns(d);
  while (next_ < time_ns) {
    rows.emplace_back(next_, TimelineRow(d));
    next_ += every_;
  }
}

void TimelineSampler::Finish(workloads::Driver& d) {
  if (columns.empty()) columns = TimelineColumns(d);
  uint64_t now = d.queue().now();
  Before(d, now);
  if (rows.empty() || rows.back().first != now) rows.emplace_back(now, TimelineRow(d));
}

std::string TimelineSampler::Csv() const {
  std::string out = "time_ms";
  for (const auto& c : columns) out += "," + c;
  out += "\n";
  for (const auto& [t, vals] : rows) {
    out += fmt::format("{}", static_cast<double>(t) / 1e6);
    for (int64_t v : vals) out += fmt::format(",{}", v);
    out += "\n";
  }
  return out;
}

// ---- plot ----

namespace {
std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  return out;
}

std::string NiceNumber(double v) {
  if (v >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
  return fmt::format("{:.4g}", v);
}

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
}  // namespace

std::string PlotSvg(const std::string& csv, const std::vector<std::string>& only,
                    const std::string& title, std::string* error) {
  std::stringstream ss(csv);
  std::string line;
  if (!std::getline(ss, line)) {
    *error = "empty CSV";
    return "";
  }
  std::vector<std::string> header = SplitCsvLine(line);
  if (header.size() < 2) {
    *error = "the CSV needs a time column and at least one counter";
    return "";
  }
  std::vector<double> xs;
  std::vector<std::vector<double>> cols(header.size() - 1);
  while (std::getline(ss, line)) {
    if (line.empty()) continue;
    auto cells = SplitCsvLine(line);
    if (cells.size() != header.size()) {
      *error = fmt::format("row {} has {} cells, the header {}", xs.size() + 2, cells.size(),
                           header.size());
      return "";
    }
    try {
      xs.push_back(std::stod(cells[0]));
      for (size_t i = 1; i < cells.size(); ++i) cols[i - 1].push_back(std::stod(cells[i]));
    } catch (...) {
      *error = fmt::format("row {} is not numeric", xs.size() + 2);
      return "";
    }
  }
  if (xs.empty()) {
    *error = "the CSV has no rows";
    return "";
  }
  std::vector<size_t> series;
  for (size_t i = 0; i < cols.size(); ++i) {
    const std::string& name = header[i + 1];
    if (!only.empty()) {
      if (std::find(only.begin(), only.end(), name) != only.end()) series.push_back(i);
      continue;
    }
    auto [mn, mx] = std::minmax_element(cols[i].begin(), cols[i].end());
    if (*mn != *mx) series.push_back(i);
  }
  double xmax = std::max(*std::max_element(xs.begin(), xs.end()), 1e-9);
  double ymax = 1;
  for (size_t i : series) ymax = std::max(ymax, *std::max_element(cols[i].begin(), cols[i].end()));
  const double W = 900, H = 480, L = 80, R = 230, T = 40, B = 60;
  const double pw = W - L - R, ph = H - T - B;
  auto X = [&](double x) { return L + x / xmax * pw; };
  auto Y = [&](double y) { return T + ph - y / ymax * ph; };
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} "
      "{}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" "
      "height=\"100%\" fill=\"white\"/>\n",
      W, H, W, H);
  s += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">{}</text>\n",
                   L + pw / 2, HtmlEscape(title));
  for (int k = 0; k <= 5; ++k) {
    double yv = ymax * k / 5, xv = xmax * k / 5;
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        L, Y(yv), L + pw, L - 6, Y(yv) + 4, NiceNumber(yv));
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>"
        "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
        X(xv), T, T + ph, T + ph + 18, NiceNumber(xv));
  }
  s += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>"
      "<line x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"black\"/>\n",
      L, T, T + ph, L + pw);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", L + pw / 2,
                   H - 15, HtmlEscape(header[0] == "time_ms" ? "simulated time (ms)" : header[0]));
  s += fmt::format(
      "<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">"
      "pages / count</text>\n",
      T + ph / 2);
  int n = 0;
  for (size_t i : series) {
    const char* color = kColors[n % 10];
    std::string pts;
    for (size_t r = 0; r < xs.size(); ++r) {
      // Counters are step functions: hold the value until the next sample.
      if (r > 0) pts += fmt::format("{:.1f},{:.1f} ", X(xs[r]), Y(cols[i][r - 1]));
      pts += fmt::format("{:.1f},{:.1f} ", X(xs[r]), Y(cols[i][r]));
    }
    s += fmt::format(
        "<polyline class=\"series\" data-name=\"{}\" fill=\"none\" stroke=\"{}\" "
        "stroke-width=\"1.8\" points=\"{}\"/>\n",
        HtmlEscape(header[i + 1]), color, pts);
    double ly = T + 10 + n * 18;
    s += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"{3}\" stroke-width=\"3\"/>"
        "<text x=\"{4}\" y=\"{5}\">{6}</text>\n",
        L + pw + 15, ly, L + pw + 40, color, L + pw + 46, ly + 4, HtmlEscape(header[i + 1]));
    ++n;
  }
  if (series.empty())
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no counter changed</text>\n",
                     L + pw / 2, T + ph / 2);
  s += "</svg>\n";
  return s;
}

// ---- trees ----

namespace {

std::vector<const ksm::StableNode*> Dups(const ksm::StableNode* chain) {
  std::vector<const ksm::StableNode*> out;
  for (const ksm::StableNode* d = chain->dups.first; d; d = decltype(chain->dups)::next(d))
    out.push_back(d);
  return out;
}

std::string StableLabel(const ksm::StableNode* n) {
  if (ksm::is_stable_node_chain(n)) return fmt::format("chain {}", n->id);
  return fmt::format("stable node {}\\nkpfn {}\\nsharers {}", n->id, n->kpfn, n->rmap_hlist_len);
}

// In-order walk with depth (for the SVG layout and DOT edges).
template <class F>
void Walk(const ksm::RbNode* n, int depth, int& order, F&& f) {
  if (!n) return;
  Walk(n->rb_left, depth + 1, order, f);
  f(n, depth, order++);
  Walk(n->rb_right, depth + 1, order, f);
}

}  // namespace

std::string StableTreesDot(workloads::Driver& d, int* nodes) {
  const ksm::Ksm& k = d.ksm();
  int count = 0;
  std::string s = "digraph stable_tree {\n  node [shape=box, fontname=\"monospace\"];\n";
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    s += fmt::format("  subgraph cluster_nid{} {{\n    label=\"root_stable_tree[{}]\";\n", nid,
                     nid);
    int order = 0;
    Walk(k.stable_root(nid).rb_node, 0, order, [&](const ksm::RbNode* rn, int, int) {
      auto* n = static_cast<const ksm::StableNode*>(rn);
      ++count;
      bool chain = ksm::is_stable_node_chain(n);
      s += fmt::format("    s{} [label=\"{}\"{}];\n", n->id, StableLabel(n),
                       chain ? ", shape=box3d, style=filled, fillcolor=\"#ffe9b3\"" : "");
      if (n->rb_left)
        s += fmt::format("    s{} -> s{} [label=\"L\"];\n", n->id,
                         static_cast<const ksm::StableNode*>(n->rb_left)->id);
      if (n->rb_right)
        s += fmt::format("    s{} -> s{} [label=\"R\"];\n", n->id,
                         static_cast<const ksm::StableNode*>(n->rb_right)->id);
      if (chain) {
        for (const ksm::StableNode* dup : Dups(n)) {
          ++count;
          s += fmt::format("    s{} [label=\"dup {}\", style=dashed];\n", dup->id,
                           StableLabel(dup));
          s += fmt::format("    s{} -> s{} [style=dashed, label=\"dup\"];\n", n->id, dup->id);
        }
      }
    });
    s += "  }\n";
  }
  if (!k.migrate_nodes().empty()) {
    s += "  subgraph cluster_migrate {\n    label=\"migrate_nodes\";\n";
    for (const ksm::StableNode* n : k.migrate_nodes()) {
      ++count;
      s += fmt::format("    s{} [label=\"{}\", style=dotted];\n", n->id, StableLabel(n));
    }
    s += "  }\n";
  }
  s += "}\n";
  if (nodes) *nodes = count;
  return s;
}

std::string UnstableTreesDot(workloads::Driver& d, int* nodes) {
  const ksm::Ksm& k = d.ksm();
  int count = 0;
  std::string s = "digraph unstable_tree {\n  node [shape=ellipse, fontname=\"monospace\"];\n";
  for (int nid = 0; nid < k.nr_trees(); ++nid) {
    s += fmt::format("  subgraph cluster_nid{} {{\n    label=\"root_unstable_tree[{}]\";\n",
                     nid, nid);
    int order = 0;
    std::map<const ksm::RbNode*, int> ids;
    Walk(k.unstable_root(nid).rb_node, 0, order,
         [&](const ksm::RbNode* rn, int, int) { ids[rn] = count++; });
    for (const auto& [rn, id] : ids) {
      auto* r = ksm::rb_entry_rmap_item(rn);
      s += fmt::format("    u{} [label=\"{}\\nseqnr {}\"];\n", id,
                       d.DescribeAddress(r->mm, r->address & ksm::PAGE_MASK),
                       r->address & ksm::SEQNR_MASK);
      if (rn->rb_left) s += fmt::format("    u{} -> u{} [label=\"L\"];\n", id, ids[rn->rb_left]);
      if (rn->rb_right)
        s += fmt::format("    u{} -> u{} [label=\"R\"];\n", id, ids[rn->rb_right]);
    }
    s += "  }\n";
  }
  s += "}\n";
  if (nodes) *nodes = count;
  return s;
}

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

bool DotToSvg(const std::string& dot_path, const std::string& svg_path) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) return false;
  std::string cmd = fmt::format("dot -Tsvg '{}' -o '{}'", dot_path, svg_path);
  return std::system(cmd.c_str()) == 0;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace ksmsim::tools::teach
