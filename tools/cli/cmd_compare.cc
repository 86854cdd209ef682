// `ksmsim compare A.json B.json`: the counter-by-counter differences of two result
// documents (e.g. the kernel oracle's and the simulator's), matched by step: the counters
// of snapshot/expect entries, the outcomes of ksm/offline/online steps, and whether the run
// reported errors at all (their texts differ between engines).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tools/cli/command.h"
#include "tools/cli/io.h"

namespace ksmsim::tools {
namespace {

using Json = nlohmann::ordered_json;

struct CompareOptions {
  std::string a;
  std::string b;
  bool quiet = false;
};

// Loads a result document; throws with the file name and what is wrong.
Json LoadResult(const std::string& file) {
  std::string text;
  std::ostringstream err;
  if (!ReadInput(file, &text, err)) throw std::runtime_error("cannot read " + InputName(file));
  const std::string path = InputName(file);
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw std::runtime_error(path + " is not valid JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) {
    throw std::runtime_error(path + " is not a result document (no \"results\" array)");
  }
  for (size_t i = 0; i < doc["results"].size(); ++i) {
    const Json& r = doc["results"][i];
    if (!r.is_object() || !r.contains("step") || !r["step"].is_number_unsigned()) {
      throw std::runtime_error(path + ": results[" + std::to_string(i) +
                               "] has no non-negative integer \"step\"");
    }
  }
  return doc;
}

std::string Show(const Json* v) { return v == nullptr ? "(absent)" : v->dump(); }

class Comparer {
 public:
  std::vector<std::string> diffs;

  void Documents(const Json& a, const Json& b) {
    std::map<uint64_t, const Json*> ea, eb;
    for (const Json& r : a["results"]) ea[r["step"].get<uint64_t>()] = &r;
    for (const Json& r : b["results"]) eb[r["step"].get<uint64_t>()] = &r;
    std::set<uint64_t> steps;
    for (auto& [s, r] : ea) steps.insert(s);
    for (auto& [s, r] : eb) steps.insert(s);
    for (uint64_t s : steps) {
      auto ia = ea.find(s), ib = eb.find(s);
      if (ia == ea.end() || ib == eb.end()) {
        const Json& present = ia != ea.end() ? *ia->second : *ib->second;
        diffs.push_back(Where(s, present) + ": only in " +
                        (ia != ea.end() ? "the first" : "the second") + " document");
        continue;
      }
      Entry(s, *ia->second, *ib->second);
    }
    Outcomes(a, b);
    // Error texts differ between engines; what must agree is whether the run failed.
    size_t na = a.contains("errors") && a["errors"].is_array() ? a["errors"].size() : 0;
    size_t nb = b.contains("errors") && b["errors"].is_array() ? b["errors"].size() : 0;
    if ((na == 0) != (nb == 0)) {
      std::string d = "errors: " + std::to_string(na) + " vs " + std::to_string(nb);
      for (const Json* doc : {&a, &b}) {
        if (!doc->contains("errors")) continue;
        for (const Json& e : (*doc)["errors"]) {
          d += std::string("\n    ") + (doc == &a ? "first: " : "second: ") +
               (e.is_string() ? e.get<std::string>() : e.dump());
        }
      }
      diffs.push_back(d);
    }
  }

 private:
  static std::string Where(uint64_t step, const Json& entry) {
    std::string w = "step " + std::to_string(step) + " (" + entry.value("op", "?");
    std::string label = entry.value("label", "");
    if (!label.empty()) w += " \"" + label + "\"";
    return w + ")";
  }

  // The outcomes of ksm/offline/online steps: the step's error and each knob write's.
  void Outcomes(const Json& a, const Json& b) {
    std::map<uint64_t, const Json*> oa, ob;
    for (auto [doc, map] : {std::pair{&a, &oa}, std::pair{&b, &ob}}) {
      if (!doc->contains("outcomes") || !(*doc)["outcomes"].is_array()) continue;
      for (const Json& o : (*doc)["outcomes"]) {
        if (o.is_object() && o.contains("step") && o["step"].is_number_unsigned()) {
          (*map)[o["step"].get<uint64_t>()] = &o;
        }
      }
    }
    std::set<uint64_t> steps;
    for (auto& [s, o] : oa) steps.insert(s);
    for (auto& [s, o] : ob) steps.insert(s);
    for (uint64_t s : steps) {
      auto ia = oa.find(s), ib = ob.find(s);
      if (ia == oa.end() || ib == ob.end()) {
        const Json& present = ia != oa.end() ? *ia->second : *ib->second;
        diffs.push_back(Where(s, present) + ": outcome only in " +
                        (ia != oa.end() ? "the first" : "the second") + " document");
        continue;
      }
      const Json& x = *ia->second;
      const Json& y = *ib->second;
      std::string where = Where(s, x);
      if (x.value("error", "") != y.value("error", "")) {
        diffs.push_back(where + ": error " + x.value("error", "") + " vs " + y.value("error", ""));
      }
      const Json* wx = Sub(x, "writes");
      const Json* wy = Sub(y, "writes");
      if (wx == nullptr || wy == nullptr || !wx->is_array() || !wy->is_array()) continue;
      for (size_t i = 0; i < std::min(wx->size(), wy->size()); ++i) {
        const Json& p = (*wx)[i];
        const Json& q = (*wy)[i];
        if (p.value("error", "") != q.value("error", "")) {
          diffs.push_back(where + ": " + p.value("knob", "?") + " = " +
                          (p.contains("value") ? p["value"].dump() : "?") + ": " +
                          p.value("error", "") + " vs " + q.value("error", ""));
        }
      }
    }
  }

  void Entry(uint64_t step, const Json& a, const Json& b) {
    std::string where = Where(step, a);
    if (a.value("op", "") != b.value("op", "")) {
      diffs.push_back(where + ": op " + a.value("op", "") + " vs " + b.value("op", ""));
    }
    if (a.value("label", "") != b.value("label", "")) {
      diffs.push_back(where + ": label \"" + a.value("label", "") + "\" vs \"" +
                      b.value("label", "") + "\"");
    }
    for (const char* group : {"ksm", "vmstat"}) Group(where, group, Sub(a, group), Sub(b, group));
    const Json* pa = Sub(a, "procs");
    const Json* pb = Sub(b, "procs");
    std::set<std::string> names;
    for (const Json* p : {pa, pb}) {
      if (p == nullptr) continue;
      for (const auto& [name, v] : p->items()) names.insert(name);
    }
    for (const std::string& name : names) {
      Group(where, "procs." + name, Sub(pa, name), Sub(pb, name));
    }
  }

  static const Json* Sub(const Json* obj, const std::string& key) {
    if (obj == nullptr || !obj->is_object() || !obj->contains(key)) return nullptr;
    return &(*obj)[key];
  }
  static const Json* Sub(const Json& obj, const std::string& key) { return Sub(&obj, key); }

  void Group(const std::string& where, const std::string& group, const Json* a, const Json* b) {
    std::vector<std::string> keys;
    std::set<std::string> seen;
    for (const Json* g : {a, b}) {
      if (g == nullptr || !g->is_object()) continue;
      for (const auto& [k, v] : g->items()) {
        if (seen.insert(k).second) keys.push_back(k);
      }
    }
    for (const std::string& k : keys) {
      const Json* va = Sub(a, k);
      const Json* vb = Sub(b, k);
      if (va != nullptr && vb != nullptr && *va == *vb) continue;
      diffs.push_back(where + ": " + group + "." + k + " " + Show(va) + " vs " + Show(vb));
    }
  }
};

int RunCompare(const CompareOptions& o) {
  Json a, b;
  try {
    a = LoadResult(o.a);
    b = LoadResult(o.b);
  } catch (const std::exception& e) {
    std::cerr << "ksmsim compare: " << e.what() << "\n";
    return 2;
  }
  Comparer c;
  c.Documents(a, b);
  if (c.diffs.empty()) {
    if (!o.quiet) {
      std::cout << "equal: " << a["results"].size() << " result(s) of " << a.value("engine", "?")
                << " and " << b.value("engine", "?") << " agree\n";
    }
    return 0;
  }
  for (const std::string& d : c.diffs) std::cout << d << "\n";
  std::cout << c.diffs.size() << " difference(s) between " << o.a << " (" << a.value("engine", "?")
            << ") and " << o.b << " (" << b.value("engine", "?") << ")\n";
  return 1;
}

std::function<int()> Setup(CLI::App* sub) {
  auto o = std::make_shared<CompareOptions>();
  sub->add_option("first", o->a, "a result document (ksmsim run/oracle --out; '-': stdin)")
      ->required();
  sub->add_option("second", o->b, "another result document")->required();
  sub->add_flag("-q,--quiet", o->quiet, "print nothing when the documents agree");
  return [o] { return RunCompare(*o); };
}

RegisterCommand reg{{"compare",
                     "compare two result documents counter by counter (time_ns and engine "
                     "ignored); exit 1 on any difference",
                     Setup}};

}  // namespace
}  // namespace ksmsim::tools
