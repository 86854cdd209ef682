// Parsing and matching --events-filter (event_filter.h).
#include "tools/teach/event_filter.h"

#include <algorithm>
#include <sstream>

#include "fmt/format.h"

namespace ksmsim::tools::teach {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

// Every decision's func and what (ksm/ksm_decision.h).
bool KnownDecisionName(const std::string& name, bool func) {
  for (int i = 0; i < ksm::kDecisionCount; ++i) {
    ksm::DecisionName n = ksm::decision_name(static_cast<ksm::Decision>(i));
    if ((func ? n.func : n.what) == name) return true;
  }
  return false;
}

std::string DecisionNames(bool func) {
  std::vector<std::string> names;
  for (int i = 0; i < ksm::kDecisionCount; ++i) {
    ksm::DecisionName n = ksm::decision_name(static_cast<ksm::Decision>(i));
    std::string s(func ? n.func : n.what);
    if (std::find(names.begin(), names.end(), s) == names.end()) names.push_back(s);
  }
  std::string out;
  for (const auto& s : names) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

std::optional<PageSelector> ParsePageSelector(const std::string& s, std::string* error) {
  PageSelector p;
  std::string rest = s;
  size_t br = rest.find('[');
  if (br != std::string::npos) {
    if (rest.back() != ']') {
      *error = fmt::format("'{}': expected REGION[A..B] with a closing ']'", s);
      return std::nullopt;
    }
    std::string range = rest.substr(br + 1, rest.size() - br - 2);
    auto r = ParseRange(range);
    if (!r) {
      *error = fmt::format("'{}': expected an index or a range A..B inside [ ]", s);
      return std::nullopt;
    }
    p.index = *r;
    rest.resize(br);
  }
  size_t colon = rest.find(':');
  if (colon != std::string::npos) {
    p.proc = rest.substr(0, colon);
    rest = rest.substr(colon + 1);
    if (p.proc.empty()) {
      *error = fmt::format("'{}': empty process name before ':'", s);
      return std::nullopt;
    }
  }
  if (rest.empty()) {
    *error = fmt::format("'{}': expected [PROC:]REGION[[A..B]]", s);
    return std::nullopt;
  }
  p.region = rest;
  return p;
}

std::optional<EventFilter> EventFilter::Parse(const std::vector<std::string>& specs,
                                              std::string* error) {
  EventFilter f;
  for (const std::string& spec : specs) {
    std::istringstream in(spec);
    for (std::string word; in >> word;) {
      size_t eq = word.find('=');
      if (eq == std::string::npos) {
        *error =
            fmt::format("'{}': expected KEY=VALUE (event, func, what, proc, page, pass)", word);
        return std::nullopt;
      }
      std::string key = word.substr(0, eq);
      Term t;
      if (key == "event")
        t.key = Key::kEvent;
      else if (key == "func")
        t.key = Key::kFunc;
      else if (key == "what")
        t.key = Key::kWhat;
      else if (key == "proc")
        t.key = Key::kProc;
      else if (key == "page")
        t.key = Key::kPage;
      else if (key == "pass")
        t.key = Key::kPass;
      else {
        *error = fmt::format(
            "'{}': unknown key '{}'; the keys are event, func, what, proc, "
            "page and pass",
            word, key);
        return std::nullopt;
      }
      for (const std::string& value : Split(word.substr(eq + 1), ',')) {
        if (value.empty()) {
          *error = fmt::format("'{}': an empty value", word);
          return std::nullopt;
        }
        switch (t.key) {
          case Key::kEvent:
            if (std::find_if(std::begin(kEventNames), std::end(kEventNames),
                             [&](const char* n) { return value == n; }) == std::end(kEventNames)) {
              std::string names;
              for (const char* n : kEventNames) names += std::string(" ") + n;
              *error =
                  fmt::format("'{}': unknown event '{}'; the events are:{}", word, value, names);
              return std::nullopt;
            }
            t.names.push_back(value);
            break;
          case Key::kFunc:
          case Key::kWhat:
            if (!KnownDecisionName(value, t.key == Key::kFunc)) {
              *error = fmt::format("'{}': no decision has {} '{}'; they are: {}", word, key, value,
                                   DecisionNames(t.key == Key::kFunc));
              return std::nullopt;
            }
            t.names.push_back(value);
            break;
          case Key::kProc:
            t.names.push_back(value);
            break;
          case Key::kPage: {
            auto p = ParsePageSelector(value, error);
            if (!p) {
              *error = fmt::format("'{}': {}", word, *error);
              return std::nullopt;
            }
            t.pages.push_back(*p);
            break;
          }
          case Key::kPass: {
            auto r = ParseRange(value);
            if (!r || r->first == 0) {
              *error = fmt::format(
                  "'{}': expected a pass or a range A..B of passes (the first "
                  "pass is 1)",
                  word);
              return std::nullopt;
            }
            t.passes.push_back(*r);
            break;
          }
        }
      }
      f.terms_.push_back(std::move(t));
    }
  }
  return f;
}

bool EventFilter::Holds(const Term& t, const EventView& v) const {
  const ksm::KsmEvent& e = *v.e;
  auto any_name = [&](std::string_view s) {
    return std::find(t.names.begin(), t.names.end(), s) != t.names.end();
  };
  switch (t.key) {
    case Key::kEvent:
      return any_name(e.name);
    case Key::kFunc:
      return e.name == ksm::kDecisionEvent && any_name(e.func);
    case Key::kWhat:
      return e.name == ksm::kDecisionEvent && any_name(e.what);
    case Key::kProc:
      return e.mm && any_name(e.mm->name);
    case Key::kPage:
      return v.page && std::any_of(t.pages.begin(), t.pages.end(),
                                   [&](const PageSelector& p) { return p.Matches(*v.page); });
    case Key::kPass:
      return v.pass && std::any_of(t.passes.begin(), t.passes.end(),
                                   [&](const Range& r) { return r.contains(*v.pass); });
  }
  return false;
}

bool EventFilter::Matches(const EventView& v) const {
  return std::all_of(terms_.begin(), terms_.end(), [&](const Term& t) { return Holds(t, v); });
}

}  // namespace ksmsim::tools::teach
