// `ksmsim schema`: prints docs/workload.schema.json byte for byte (built into the binary),
// to stdout or to -o FILE, which it does not overwrite without --force.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/e2e/e2e_util.h"

namespace ksmsim {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string& SchemaFile() {
  static const std::string text =
      ReadFile(std::filesystem::path(KSMSIM_SOURCE_DIR) / "docs" / "workload.schema.json");
  return text;
}

TEST(SchemaCommandTest, PrintsTheSchemaFileByteForByte) {
  ASSERT_GT(SchemaFile().size(), 1000u);
  e2e::RunResult r = e2e::RunKsmsim("schema");
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.output == SchemaFile()) << "ksmsim schema differs from docs/workload.schema.json"
                                        << " (rebuild ksmsim after changing the file)";
  e2e::RunResult dash = e2e::RunKsmsim("schema -o -");
  EXPECT_EQ(dash.status, 0);
  EXPECT_TRUE(dash.output == SchemaFile());
}

TEST(SchemaCommandTest, OutputFileIsNotOverwrittenWithoutForce) {
  auto dir = e2e::TempDir("schema_cmd");
  auto out = dir / "schema.json";
  e2e::RunResult first = e2e::RunKsmsim("schema -o '" + out.string() + "'");
  EXPECT_EQ(first.status, 0) << first.output;
  EXPECT_EQ(first.output, "");
  EXPECT_TRUE(ReadFile(out) == SchemaFile());

  std::ofstream(out, std::ios::trunc) << "mine";
  e2e::RunResult again = e2e::RunKsmsim("schema -o '" + out.string() + "'");
  EXPECT_EQ(again.status, 2);
  EXPECT_EQ(again.output, out.string() + ": already exists; pass --force to overwrite it\n");
  EXPECT_EQ(ReadFile(out), "mine");

  e2e::RunResult forced = e2e::RunKsmsim("schema --force -o '" + out.string() + "'");
  EXPECT_EQ(forced.status, 0) << forced.output;
  EXPECT_TRUE(ReadFile(out) == SchemaFile());

  e2e::RunResult bad = e2e::RunKsmsim("schema -o '" + (dir / "no" / "such.json").string() + "'");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.output.find("cannot open for writing"), std::string::npos) << bad.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ksmsim
