#include "tools/sweep/chart.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "fmt/format.h"

namespace ksmsim::tools::sweep {
namespace {

using Json = nlohmann::ordered_json;

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

// A "nice" step for about five ticks over [0, max].
double TickStep(double max) {
  if (max <= 0) return 1;
  double raw = max / 5;
  double p = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

std::string Label(const Json& point) {
  std::string s =
      fmt::format("point {}: {} {}", point["point"].get<uint64_t>(),
                  point["input"].get<std::string>(), point["policy"].get<std::string>());
  for (const auto& [k, v] : point["knobs"].items()) s += fmt::format(" {}={}", k, v.get<int64_t>());
  return s;
}

// One scatter panel at (ox, oy) of size w x h.
std::string Panel(double ox, double oy, double w, double h, const std::vector<XY>& pts,
                  const std::vector<std::string>& labels, const std::vector<std::string>& strokes,
                  bool maximize_y,
                  const std::string& xlabel, const std::string& ylabel, const std::string& title) {
  std::string s;
  double xmax = 0, ymax = 0;
  for (const XY& p : pts) {
    xmax = std::max(xmax, p.x);
    ymax = std::max(ymax, p.y);
  }
  double xs = TickStep(xmax), ys = TickStep(ymax);
  xmax = std::max(xs, std::ceil(xmax / xs) * xs);
  ymax = std::max(ys, std::ceil(ymax / ys) * ys);
  auto X = [&](double x) { return ox + x / xmax * w; };
  auto Y = [&](double y) { return oy + h - y / ymax * h; };
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" font-weight=\"bold\">{}</text>\n", ox, oy - 12,
                   Escape(title));
  s += fmt::format(
      "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
      "stroke=\"#444\"/>\n",
      ox, oy, w, h);
  for (double t = 0; t <= xmax + xs / 2; t += xs)
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4:g}</text>\n",
        X(t), oy, oy + h, oy + h + 16, t);
  for (double t = 0; t <= ymax + ys / 2; t += ys)
    s += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:g}</text>\n",
        ox, Y(t), ox + w, ox - 6, Y(t) + 4, t);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", ox + w / 2,
                   oy + h + 36, Escape(xlabel));
  s += fmt::format(
      "<text transform=\"translate({:.1f},{:.1f}) rotate(-90)\" text-anchor=\"middle\">{}"
      "</text>\n",
      ox - 48, oy + h / 2, Escape(ylabel));
  std::vector<size_t> front = ParetoFront(pts, maximize_y);
  std::vector<size_t> by_x = front;
  std::sort(by_x.begin(), by_x.end(),
            [&](size_t a, size_t b) { return pts[a].x != pts[b].x ? pts[a].x < pts[b].x : a < b; });
  if (by_x.size() > 1) {
    std::string d;
    for (size_t i : by_x)
      d += fmt::format("{}{:.1f},{:.1f}", d.empty() ? "M" : " L", X(pts[i].x), Y(pts[i].y));
    s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.5\"/>\n", d);
  }
  for (size_t i = 0; i < pts.size(); ++i) {
    bool on = std::find(front.begin(), front.end(), i) != front.end();
    s += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" "
        "stroke-width=\"{}\"><title>{}</title></circle>\n",
        X(pts[i].x), Y(pts[i].y), on ? 5 : 3.5, on ? "#c0392b" : "#95a5a6",
        strokes.empty() ? "#222" : strokes[i], strokes.empty() ? "0.5" : "2", Escape(labels[i]));
  }
  return s;
}

// The outline of a point by its policy, when the chart has several policies.
const char* PolicyStroke(const std::string& policy) {
  if (policy == "ksmtuned") return "#2471a3";
  if (policy == "advisor") return "#27ae60";
  return "#222";
}

}  // namespace

std::vector<size_t> ParetoFront(const std::vector<XY>& pts, bool maximize_y) {
  std::vector<size_t> out;
  auto better = [&](double a, double b) { return maximize_y ? a > b : a < b; };
  for (size_t i = 0; i < pts.size(); ++i) {
    bool beaten = false;
    for (size_t j = 0; j < pts.size() && !beaten; ++j) {
      if (j == i) continue;
      bool no_worse = pts[j].x <= pts[i].x && !better(pts[i].y, pts[j].y);
      bool strictly = pts[j].x < pts[i].x || better(pts[j].y, pts[i].y);
      beaten = no_worse && strictly;
    }
    if (!beaten) out.push_back(i);
  }
  return out;
}

EndFigures PointEnd(const Json& point) {
  EndFigures f;
  if (!point.contains("snapshots") || point["snapshots"].empty()) return f;
  const Json& end = point["snapshots"].back();
  f.ran = true;
  f.cpu_ms = static_cast<double>(end["ksmd_cpu_ns"].get<uint64_t>()) / 1e6;
  f.saved_mib = static_cast<double>(end["saved_bytes"].get<int64_t>()) / (1024.0 * 1024.0);
  const Json& t = point["time_to_saving"]["t90_ns"];
  if (!t.is_null()) f.t90_s = static_cast<double>(t.get<uint64_t>()) / 1e9;
  return f;
}

std::vector<EndFigures> AllEnds(const std::vector<Json>& points) {
  std::vector<EndFigures> ends;
  std::map<std::string, double> best;
  for (const Json& p : points) {
    ends.push_back(PointEnd(p));
    if (ends.back().ran) {
      double& b = best[p["input"].get<std::string>()];
      b = std::max(b, ends.back().saved_mib);
    }
  }
  for (size_t i = 0; i < points.size(); ++i) {
    EndFigures& f = ends[i];
    double b = best[points[i]["input"].get<std::string>()];
    if (!f.ran || b <= 0) continue;
    f.pct_of_best = 100.0 * f.saved_mib / b;
    f.converged = *f.pct_of_best >= kConvergedPercent;
  }
  return ends;
}

std::string SweepChartSvg(const std::vector<Json>& points, const std::string& title) {
  std::vector<XY> saving, t90;
  std::vector<std::string> l1, l2, s1, s2;
  std::vector<EndFigures> ends = AllEnds(points);
  std::vector<std::string> policies;  // in order of appearance
  for (const Json& p : points)
    if (std::find(policies.begin(), policies.end(), p["policy"]) == policies.end())
      policies.push_back(p["policy"].get<std::string>());
  const bool by_policy = policies.size() > 1;
  for (size_t i = 0; i < points.size(); ++i) {
    const Json& p = points[i];
    const EndFigures& f = ends[i];
    if (!f.ran) continue;
    saving.push_back({f.cpu_ms, f.saved_mib});
    l1.push_back(Label(p));
    if (by_policy) s1.push_back(PolicyStroke(p["policy"].get<std::string>()));
    if (f.t90_s && f.converged) {
      t90.push_back({f.cpu_ms, *f.t90_s});
      l2.push_back(Label(p));
      if (by_policy) s2.push_back(PolicyStroke(p["policy"].get<std::string>()));
    }
  }
  const double W = 1000, H = 460;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"20\" y=\"24\" font-size=\"15\">{}</text>\n"
      "<text x=\"20\" y=\"44\" fill=\"#555\">red: the Pareto front (no other point does "
      "better on both axes); hover a point for its settings; * only the points that saved 90% "
      "of the best saving of their input</text>\n",
      W, H, W, H, Escape(title));
  if (by_policy) {
    // The outline says the policy.
    std::string legend;
    double x = 20;
    for (const std::string& policy : policies) {
      legend += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"440\" r=\"5\" fill=\"white\" stroke=\"{}\" "
          "stroke-width=\"2\"/><text x=\"{:.1f}\" y=\"444\">{}</text>\n",
          x + 5, PolicyStroke(policy), x + 14, Escape(policy));
      x += 24 + 8 * static_cast<double>(policy.size());
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"444\" fill=\"#555\">(outline: policy)</text>\n{}", x,
                     legend);
  }
  s += Panel(80, 90, 380, 300, saving, l1, s1, true, "ksmd CPU time (simulated ms)",
             "memory saved (MiB)", "Saving at the end vs ksmd CPU time");
  s += Panel(580, 90, 380, 300, t90, l2, s2, false, "ksmd CPU time (simulated ms)",
             "time to 90% of the saving (simulated s)", "Time to 90% vs ksmd CPU time *");
  s += "</svg>\n";
  return s;
}

}  // namespace ksmsim::tools::sweep
