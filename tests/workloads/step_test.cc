// The typed step (workloads/step.h) and the op table derived from it (workloads/ops.h): every
// op of tests/workloads/every_op.json, each field given, survives parse -> step -> JSON ->
// parse unchanged; every op has its table row, its payload and an example there; each
// field is defined once.
#include "workloads/step.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "workloads/ops.h"
#include "workloads/parse.h"
#include "workloads/step_json.h"

namespace ksmsim::workloads {
namespace {

using Json = nlohmann::ordered_json;

Json EveryOpDocument(const std::string& file = "every_op.json") {
  std::ifstream in(std::string(KSMSIM_SOURCE_DIR) + "/tests/workloads/" + file);
  EXPECT_TRUE(in) << "tests/workloads/" << file;
  std::stringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str());
}

// every_op.json, and every_op_2009.json for the ops only kernel "2009" has.
std::vector<Json> EveryOpDocuments() {
  return {EveryOpDocument(), EveryOpDocument("every_op_2009.json")};
}

Workload ParseOk(const Json& doc) {
  ParseOutcome parsed = ParseWorkloadJson(doc, "every_op.json");
  std::string errors;
  for (const auto& e : parsed.errors) errors += e.ToString() + "\n";
  EXPECT_TRUE(parsed.ok()) << errors;
  return parsed.ok() ? std::move(*parsed.workload) : Workload{};
}

// Each step of the script and of repeat bodies, as the file has it and as parsed.
void Pairs(const Json& steps, const std::vector<Step>& typed,
           std::vector<std::pair<Json, const Step*>>& out) {
  ASSERT_EQ(steps.size(), typed.size());
  for (size_t i = 0; i < typed.size(); ++i) {
    out.emplace_back(steps[i], &typed[i]);
    if (typed[i].op() == Op::kRepeat) Pairs(steps[i]["steps"], BodyOf(typed[i]), out);
  }
}

TEST(StepTest, EveryOpRoundTripsThroughJson) {
  for (const Json& doc : EveryOpDocuments()) {
    Workload w = ParseOk(doc);
    std::vector<std::pair<Json, const Step*>> pairs;
    Pairs(doc["steps"], w.steps, pairs);
    ASSERT_FALSE(pairs.empty());
    for (const auto& [file, step] : pairs) {
      // The writer gives back the file's step, key for key (the order aside).
      EXPECT_EQ(nlohmann::json(StepToJson(*step)), nlohmann::json(file)) << step->path;
    }
    // And the parser reads it back to the same typed steps.
    Json again = doc;
    again["steps"] = Json::array();
    for (const Step& s : w.steps) again["steps"].push_back(StepToJson(s));
    Workload w2 = ParseOk(again);
    EXPECT_EQ(w2.steps, w.steps);
  }
}

TEST(StepTest, EveryOpAndFieldHasAnExample) {
  // A new op or field fails here until tests/workloads/every_op.json (or, for kernel
  // "2009", every_op_2009.json) shows it.
  std::map<Op, std::set<std::string>> given;
  for (const Json& doc : EveryOpDocuments()) {
    Workload w = ParseOk(doc);
    std::vector<std::pair<Json, const Step*>> pairs;
    Pairs(doc["steps"], w.steps, pairs);
    for (const auto& [file, step] : pairs) {
      for (const auto& [key, value] : file.items()) given[step->op()].insert(key);
    }
  }
  for (const OpSpec& spec : OpTable()) {
    ASSERT_TRUE(given.count(spec.op)) << "no example of op " << spec.name;
    for (const auto* list : {&spec.required, &spec.optional}) {
      for (const FieldSpec* f : *list) {
        EXPECT_TRUE(given[spec.op].count(std::string(f->name)))
            << "no example of " << spec.name << "." << f->name;
      }
    }
  }
}

TEST(StepTest, EveryOpHasItsRowAndPayload) {
  ASSERT_EQ(OpTable().size(), kNumOps);
  std::set<std::string_view> names;
  for (size_t i = 0; i < kNumOps; ++i) {
    const Op op = static_cast<Op>(i);
    const OpSpec& spec = SpecOf(op);
    EXPECT_EQ(spec.op, op);
    EXPECT_FALSE(spec.name.empty());
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_EQ(OpFromName(spec.name), op);
    // The parser accepts the name: a step of it is not refused for its op.
    // (under a profile that has it; under one that lacks it, it is refused by its op).
    Json doc = {{"ksmsim", 1}, {"steps", Json::array({Json{{"op", spec.name}}})}};
    if (!spec.kernels.empty()) {
      doc["kernel"] = std::string(spec.kernels.substr(0, spec.kernels.find(',')));
      Json other = doc;
      other["kernel"] = spec.InKernel("6.1") ? "6.12" : "6.1";
      bool refused = false;
      for (const auto& e : ParseWorkloadJson(other, "w.json").errors)
        refused = refused || e.json_path == "steps[0].op";
      EXPECT_TRUE(refused) << spec.name << " under kernel " << other["kernel"];
    }
    for (const auto& e : ParseWorkloadJson(doc, "w.json").errors) {
      EXPECT_NE(e.json_path, "steps[0].op") << spec.name << ": " << e.ToString();
    }
  }
  // And refuses what has no row.
  Json doc = {{"ksmsim", 1}, {"steps", Json::array({Json{{"op", "prctl_nonexistent"}}})}};
  auto errors = ParseWorkloadJson(doc, "w.json").errors;
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.front().json_path, "steps[0].op");
}

TEST(StepTest, EachFieldIsDefinedOnce) {
  std::map<std::string_view, const FieldSpec*> by_name;
  std::set<int> trace_ids;
  for (const FieldSpec* f : AllFields()) {
    EXPECT_TRUE(by_name.emplace(f->name, f).second) << "two fields named " << f->name;
    if (f->trace_id != kNotInTraces) {
      EXPECT_TRUE(trace_ids.insert(f->trace_id).second) << f->name;
      EXPECT_TRUE(f->trace_id > 0 && f->trace_id != 18 && f->trace_id != 19) << f->name;
    }
  }
  for (const OpSpec& spec : OpTable()) {
    for (const auto* list : {&spec.required, &spec.optional}) {
      for (const FieldSpec* f : *list) EXPECT_EQ(by_name.at(f->name), f) << spec.name;
    }
  }
  EXPECT_TRUE(by_name.count("label"));
}

TEST(StepTest, PayloadAccessors) {
  Workload w = ParseOk(EveryOpDocument());
  const Step& mmap = w.steps[2];
  EXPECT_EQ(mmap.op(), Op::kMmap);
  EXPECT_EQ(mmap.as<MmapStep>().pages, 16u);
  EXPECT_EQ(mmap.get_if<WriteStep>(), nullptr);
  EXPECT_EQ(RangeOf(mmap), nullptr);
  const Step& madvise = w.steps[5];
  ASSERT_NE(RangeOf(madvise), nullptr);
  EXPECT_EQ(RangeOf(madvise)->range, (PageRange{0, 8}));
  EXPECT_THROW((void)madvise.as<WriteStep>(), std::bad_variant_access);
  EXPECT_TRUE(BodyOf(mmap).empty());
  EXPECT_EQ(BodyOf(w.steps.back()).size(), 1u);
  EXPECT_EQ(OpOf<RepeatStep>(), Op::kRepeat);
  EXPECT_TRUE(LabelRequired<SnapshotStep>());
  EXPECT_FALSE(LabelRequired<ExpectStep>());
}

}  // namespace
}  // namespace ksmsim::workloads
