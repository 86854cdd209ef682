// The op table (workloads/ops.h) against the op names, and against the per-op field lists
// of the hand-written docs/workload.schema.json.
#include "workloads/ops.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace ksmsim::workloads {
namespace {

TEST(OpTableTest, InOpOrderWithUniqueNames) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < OpTable().size(); ++i) {
    const OpSpec& spec = OpTable()[i];
    EXPECT_EQ(static_cast<size_t>(spec.op), i) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_EQ(OpFromName(spec.name), spec.op);
    EXPECT_EQ(OpName(spec.op), spec.name);
    for (const auto* list : {&spec.required, &spec.optional}) {
      for (const FieldSpec* f : *list) {
        EXPECT_NE(f->name, "op");
        if (f->type == FieldType::kUint) {
          EXPECT_LE(f->min, f->max) << spec.name << "." << f->name;
        }
      }
    }
  }
  EXPECT_EQ(OpTable().size(), AllOps().size());
  EXPECT_FALSE(OpFromName("sleep"));
}

TEST(OpTableTest, SchemaListsTheSameFieldsPerOp) {
  std::ifstream in(std::string(KSMSIM_SOURCE_DIR) + "/docs/workload.schema.json");
  ASSERT_TRUE(in) << "docs/workload.schema.json";
  nlohmann::json schema = nlohmann::json::parse(in);
  std::set<std::string> seen;
  for (const auto& branch : schema.at("$defs").at("step").at("allOf")) {
    std::string op = branch.at("if").at("properties").at("op").at("const");
    auto parsed = OpFromName(op);
    ASSERT_TRUE(parsed) << "the schema has an op the table lacks: " << op;
    const OpSpec& spec = SpecOf(*parsed);
    seen.insert(op);
    const auto& then = branch.at("then");
    std::set<std::string> required = {"op"}, all = {"op", "label"};
    for (const FieldSpec* f : spec.required) required.insert(std::string(f->name));
    for (const auto* list : {&spec.required, &spec.optional}) {
      for (const FieldSpec* f : *list) all.insert(std::string(f->name));
    }
    std::set<std::string> schema_required, schema_all;
    for (const auto& r : then.value("required", nlohmann::json::array())) schema_required.insert(r);
    for (const auto& [k, v] : then.at("properties").items()) schema_all.insert(k);
    EXPECT_EQ(schema_required, required) << op;
    EXPECT_EQ(schema_all, all) << op;
    EXPECT_EQ(then.value("additionalProperties", true), false) << op;
  }
  for (const OpSpec& spec : OpTable()) {
    EXPECT_TRUE(seen.count(std::string(spec.name))) << "the schema lacks op " << spec.name;
  }
}

}  // namespace
}  // namespace ksmsim::workloads
