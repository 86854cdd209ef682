// The cli's one "load a workload or exit 2" helper: the messages `run`, `explain`, `report`
// and `step` print for a missing file, invalid JSON and an invalid workload.
#include "tools/cli/load_workload.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ksmsim::tools {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(LoadWorkloadTest, MissingFileNamesTheFileAndSaysNothingRan) {
  std::ostringstream err;
  auto w = LoadWorkloadOrReport("/nonexistent/ksmsim-missing.json", err);
  EXPECT_FALSE(w.has_value());
  EXPECT_EQ(err.str(),
            "/nonexistent/ksmsim-missing.json: cannot read the workload file: No such file or "
            "directory\n"
            "/nonexistent/ksmsim-missing.json: invalid workload, nothing was run\n");
  EXPECT_EQ(kExitInvalidInput, 2);
}

TEST(LoadWorkloadTest, InvalidJsonGivesLineAndColumn) {
  std::string path = WriteTemp("ksmsim-load-bad.json", "{\"version\": 1, \n");
  std::ostringstream err;
  EXPECT_FALSE(LoadWorkloadOrReport(path, err).has_value());
  EXPECT_EQ(err.str(), path +
                           ":2:1: JSON syntax error: syntax error while parsing object key - "
                           "unexpected end of input; expected string literal\n" +
                           path + ": invalid workload, nothing was run\n");
  std::filesystem::remove(path);
}

TEST(LoadWorkloadTest, EveryProblemOfAnInvalidWorkloadIsListed) {
  std::string path = WriteTemp("ksmsim-load-bad2.json", "{\"version\": 2}\n");
  std::ostringstream err;
  EXPECT_FALSE(LoadWorkloadOrReport(path, err).has_value());
  std::string text = err.str();
  EXPECT_NE(text.find(path + ": missing required field \"ksmsim\""), std::string::npos) << text;
  EXPECT_NE(text.find(path + ": missing required field \"steps\""), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.rfind('\n', text.size() - 2) + 1),
            path + ": invalid workload, nothing was run\n");
  std::filesystem::remove(path);
}

TEST(LoadWorkloadTest, AValidWorkloadLoadsSilently) {
  std::ostringstream err;
  auto w =
      LoadWorkloadOrReport(KSMSIM_SOURCE_DIR "/workloads/examples/two_procs_identical.json", err);
  ASSERT_TRUE(w.has_value());
  EXPECT_FALSE(w->steps.empty());
  EXPECT_EQ(err.str(), "");
}

}  // namespace
}  // namespace ksmsim::tools
