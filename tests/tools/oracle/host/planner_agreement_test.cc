// `ksmsim oracle` accepts exactly the workloads `ksmsim validate` accepts, except for the
// documented limitations of the kernel oracle (docs/ORACLE.md "Limitations"): both are run
// over every bundled workload (examples, labs, oracle cases, difftest cases) and a few
// thousand deterministic mutants of them (the mutations of tools/dev/mutate-fuzz.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/hash.h"
#include "tools/oracle/guest/plan.h"
#include "tools/oracle/host/admit.h"
#include "workloads/parse.h"

namespace ksmsim::tools {
namespace {

using Json = nlohmann::ordered_json;

// The workload files the repository ships, sorted.
std::vector<std::string> BundledWorkloads() {
  std::vector<std::string> files;
  for (const char* dir :
       {"workloads/examples", "workloads/labs", "tools/oracle/cases", "tests/difftest/cases"}) {
    std::filesystem::path path = std::filesystem::path(KSMSIM_SOURCE_DIR) / dir;
    for (const auto& e : std::filesystem::directory_iterator(path)) {
      std::string p = e.path().string();
      if (e.path().extension() == ".json" && !p.ends_with(".result.json")) files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A deterministic stream of choices (sim::Mix64 of a counter).
class Choices {
 public:
  explicit Choices(uint64_t seed) : state_(seed) {}
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : sim::Mix64(state_++) % n; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  uint64_t state_;
};

// Every value of the document (not the root), as a pointer to its container and a key
// or index.
struct Slot {
  Json* container;
  std::string key;  // objects
  size_t index;     // arrays
  Json& value() const { return container->is_object() ? (*container)[key] : (*container)[index]; }
};

void Slots(Json& node, std::vector<Slot>& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      out.push_back(Slot{&node, it.key(), 0});
      Slots(it.value(), out);
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      out.push_back(Slot{&node, "", i});
      Slots(node[i], out);
    }
  }
}

// Every array of steps: the script and the bodies of repeats.
void StepLists(Json& steps, std::vector<Json*>& out) {
  if (!steps.is_array()) return;
  out.push_back(&steps);
  for (Json& s : steps) {
    if (s.is_object() && s.contains("steps")) StepLists(s["steps"], out);
  }
}

Json Scalar(Choices& c) {
  switch (c.Below(10)) {
    case 0:
      return nullptr;
    case 1:
      return true;
    case 2:
      return "x";
    case 3:
      return Json::array();
    case 4:
      return Json::object();
    case 5:
      return 1.5;
    case 6:
      return -1;
    case 7:
      return Json::array({1, 2});
    case 8:
      return Json{{"a", 1}};
    default:
      return "1e3";
  }
}

const std::vector<uint64_t> kHuge = {
    uint64_t{1} << 31, uint64_t{1} << 32,       (uint64_t{1} << 32) + 1,
    uint64_t{1} << 35, (uint64_t{1} << 35) + 1, uint64_t{1} << 40,
    uint64_t{1} << 53, (uint64_t{1} << 63) - 1, ~uint64_t{0},
    100'000'000,       1'000'000'000,           1'000'000'000'000};
const std::vector<uint64_t> kSmall = {0, 1, 2, 3, 127, 128, 255, 256, 4095, 4096, 65535, 65536};
const std::vector<std::string> kOps = {
    "spawn",   "fork", "exit",  "mmap",    "munmap", "madvise", "write", "read",     "verify",
    "migrate", "pin",  "unpin", "offline", "online", "ksm",     "wait",  "snapshot", "repeat"};

// One mutation of `doc` in place (mutate-fuzz.py's kinds, plus op and name swaps).
void Mutate(Json& doc, Choices& c) {
  std::vector<Slot> slots;
  Slots(doc, slots);
  std::vector<Json*> lists;
  if (doc.is_object() && doc.contains("steps")) StepLists(doc["steps"], lists);
  std::vector<Slot> nums, strs;
  for (const Slot& s : slots) {
    if (s.value().is_number()) nums.push_back(s);
    if (s.value().is_string()) strs.push_back(s);
  }
  switch (c.Below(13)) {
    case 0:  // delete
      if (!slots.empty()) {
        Slot s = c.Pick(slots);
        if (s.container->is_object()) {
          s.container->erase(s.key);
        } else {
          s.container->erase(s.index);
        }
      }
      break;
    case 1:  // wrong type
      if (!slots.empty()) c.Pick(slots).value() = Scalar(c);
      break;
    case 2:  // huge, negative or small numbers
      if (!nums.empty()) {
        Json& v = c.Pick(nums).value();
        switch (c.Below(3)) {
          case 0:
            v = c.Pick(kHuge);
            break;
          case 1:
            v = -static_cast<int64_t>(c.Pick(std::vector<uint64_t>{1, 2, 1u << 31}));
            break;
          default:
            v = c.Pick(kSmall);
        }
      }
      break;
    case 3:  // nudge a number by one
      if (!nums.empty()) {
        Json& v = c.Pick(nums).value();
        if (v.is_number_unsigned() || v.is_number_integer()) {
          int64_t n = v.get<int64_t>();
          v = c.Below(2) ? n + 1 : n - 1;
        }
      }
      break;
    case 4: {  // ranges, valid or not
      std::vector<Json*> steps;
      for (Json* l : lists)
        for (Json& s : *l)
          if (s.is_object() && s.contains("region")) steps.push_back(&s);
      if (!steps.empty()) {
        Json& s = *c.Pick(steps);
        uint64_t a = c.Pick(std::vector<uint64_t>{0, 1, 2, 5, 100, 999, 1u << 20});
        uint64_t b = a + c.Pick(std::vector<uint64_t>{1, 2, 10, 1000, 1u << 20});
        switch (c.Below(5)) {
          case 0:
            s["range"] = Json::array({a, b});
            break;
          case 1:
            s["range"] = Json::array({b, a});
            break;
          case 2:
            s["range"] = Json::array({a, a});
            break;
          case 3:
            s["range"] = Json::array({a});
            break;
          default:
            s["range"] = Json::array({0, 1});
        }
      }
      break;
    }
    case 5: {  // nested repeats
      uint64_t depth = c.Pick(std::vector<uint64_t>{1, 2, 5, 20});
      Json body = doc.is_object() && doc.contains("steps") ? doc["steps"] : Json::array();
      for (uint64_t i = 0; i < depth; ++i) {
        body = Json::array({Json{{"op", "repeat"},
                                 {"times", c.Pick(std::vector<uint64_t>{1, 2, 3, 10})},
                                 {"steps", body}}});
      }
      if (doc.is_object()) doc["steps"] = body;
      break;
    }
    case 6:  // strings: empty, other names, long
      if (!strs.empty()) {
        Json& v = c.Pick(strs).value();
        static const std::vector<std::string> kStrings = {"",
                                                          "a",
                                                          "b",
                                                          "c",
                                                          "r",
                                                          "p",
                                                          "none",
                                                          "EBUSY",
                                                          "mergeable",
                                                          "pageout",
                                                          "6.1-zero-unshare",
                                                          "6.1",
                                                          std::string(1000, 'y')};
        v = c.Pick(kStrings);
      }
      break;
    case 7:  // duplicate a step
    case 8:  // drop a step
      if (!lists.empty()) {
        Json& l = *c.Pick(lists);
        if (!l.empty()) {
          size_t i = c.Below(l.size());
          if (c.Below(2)) {
            Json copy = l[i];
            l.insert(l.begin() + static_cast<std::ptrdiff_t>(c.Below(l.size() + 1)), copy);
          } else {
            l.erase(i);
          }
        }
      }
      break;
    case 9:  // wrap steps in a repeat
      if (!lists.empty()) {
        Json& l = *c.Pick(lists);
        if (!l.empty()) {
          size_t i = c.Below(l.size());
          size_t j = std::min<size_t>(l.size(), i + 1 + c.Below(4));
          Json body = Json::array();
          for (size_t k = i; k < j; ++k) body.push_back(l[k]);
          for (size_t k = i; k < j; ++k) l.erase(i);
          uint64_t times = c.Pick(std::vector<uint64_t>{0, 2, 100, 10'000, 100'000'000});
          l.insert(l.begin() + static_cast<std::ptrdiff_t>(i),
                   Json{{"op", "repeat"}, {"times", times}, {"steps", body}});
        }
      }
      break;
    case 10:  // machine
      if (doc.is_object()) {
        Json& m = doc["machine"];
        if (!m.is_object()) break;
        switch (c.Below(3)) {
          case 0: {
            Json nodes = Json::array();
            uint64_t n = c.Pick(std::vector<uint64_t>{1, 2, 3, 4, 1025});
            uint64_t mib = c.Pick(std::vector<uint64_t>{1, 64, 100, 128, 256, 1024, 1u << 20});
            for (uint64_t i = 0; i < n; ++i) nodes.push_back(Json{{"memory_mib", mib}});
            m["nodes"] = nodes;
            break;
          }
          case 1:
            m["memory_block_mib"] = c.Pick(std::vector<uint64_t>{0, 1, 64, 128, 256, 100});
            break;
          default:
            m["swap_mib"] = c.Pick(std::vector<uint64_t>{0, 1, 128, 1u << 24, 1u << 31});
        }
      }
      break;
    case 11:  // another op
      if (!lists.empty()) {
        Json& l = *c.Pick(lists);
        if (!l.empty() && l[c.Below(l.size())].is_object()) {
          l[c.Below(l.size())]["op"] = c.Pick(kOps);
        }
      }
      break;
    default:  // an unknown or misplaced field
      if (!slots.empty()) {
        Slot s = c.Pick(slots);
        if (s.value().is_object()) {
          static const std::vector<std::string> kKeys = {
              "colour",       "label", "node", "range",        "proc",           "pages",
              "expect_error", "ms",    "run",  "pages_shared", "ksm_zero_pages", "kernel"};
          s.value()[c.Pick(kKeys)] = c.Below(2) ? Json(1) : Json("a");
        }
      }
  }
}

// A few text-level mutations the JSON model cannot express.
std::string MutateText(const std::string& text, Choices& c) {
  std::string t = text;
  size_t at = t.find_first_of("0123456789", c.Below(t.size()));
  if (at == std::string::npos) return t;
  size_t end = t.find_first_not_of("0123456789", at);
  static const std::vector<std::string> kNumbers = {"1e999", "-0",  "1.0", "18446744073709551616",
                                                    "1e3",   "0x10"};
  return t.substr(0, at) + c.Pick(kNumbers) + t.substr(end);
}

struct Tally {
  uint64_t workloads = 0, both_accept = 0, both_refuse = 0, limitation = 0;
  uint64_t validate_only = 0, oracle_only = 0;  // disagreements: who accepts
  std::vector<std::string> disagreements;
};

// Runs `validate`'s parser and the oracle's admission over one text.
void Compare(const std::string& text, const std::string& name, Tally& t) {
  ++t.workloads;
  bool valid = workloads::ParseWorkloadText(text, name).ok();
  oracle::Admission a = oracle::AdmitWorkload(text, name);
  if (valid && a.plan) {
    ++t.both_accept;
  } else if (!valid && !a.plan) {
    ++t.both_refuse;
  } else if (valid && !a.plan && !a.limitation.empty()) {
    ++t.limitation;
  } else if ((valid ? ++t.validate_only : ++t.oracle_only) && t.disagreements.size() < 20) {
    std::string why = a.limitation;
    for (const auto& e : a.errors) why += e + "; ";
    t.disagreements.push_back(name + ": validate " + (valid ? "accepts" : "refuses") + ", oracle " +
                              (a.plan ? "accepts" : "refuses: " + why) + "\n" +
                              text.substr(0, 4000));
  } else {
    t.disagreements.push_back(name);
  }
}

TEST(PlannerAgreementTest, BundledWorkloadsAndMutantsAgree) {
  std::vector<std::string> files = BundledWorkloads();
  ASSERT_GE(files.size(), 30u);
  Tally t;
  for (const std::string& f : files) Compare(ReadText(f), f, t);
  uint64_t bundled = t.workloads;
  constexpr uint64_t kMutantsPerFile = 200;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    std::string text = ReadText(files[fi]);
    Json base = Json::parse(text);
    for (uint64_t m = 0; m < kMutantsPerFile; ++m) {
      Choices c(sim::Fnv1a64(files[fi].substr(files[fi].rfind('/'))) + m * 7919);
      std::string name = files[fi] + "#" + std::to_string(m);
      if (m % 10 == 9) {
        Compare(MutateText(text, c), name, t);
        continue;
      }
      Json doc = base;
      for (uint64_t k = 0, n = 1 + c.Below(3); k < n; ++k) Mutate(doc, c);
      Compare(doc.dump(1), name, t);
    }
  }
  std::cout << "bundled " << bundled << ", mutants " << t.workloads - bundled << "; both accept "
            << t.both_accept << ", both refuse " << t.both_refuse << ", oracle limitation "
            << t.limitation << ", disagreements " << t.disagreements.size()
            << " (validate only accepts " << t.validate_only << ", oracle only accepts "
            << t.oracle_only << ")\n";
  EXPECT_GE(t.both_accept, 500u);
  EXPECT_GE(t.both_refuse, 500u);
  for (const std::string& d : t.disagreements) ADD_FAILURE() << d;
}

}  // namespace
}  // namespace ksmsim::tools
