// `cmake --install` into a fresh directory tree (DESTDIR, prefix /usr, as the .deb lays it
// out): the installed ksmsim runs a bundled example from the installed docs, finds its
// oracle guest, and the man page, completions, docs and workloads are where the man page's
// FILES section and the README say, with the docs' links to each other intact.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/e2e/e2e_util.h"
#include "tools/oracle/host/run.h"

namespace ksmsim {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// 'PATH', built by appending (GCC 12 -Wrestrict misfires on "'" + string + "'" at -O3).
std::string Quoted(const fs::path& p) {
  std::string q = "'";
  q.append(p.string()).append("'");
  return q;
}

class InstallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dest_ = new fs::path(e2e::TempDir("install"));
    e2e::RunResult r = e2e::RunShell("DESTDIR='" + dest_->string() +
                                     "' '" KSMSIM_CMAKE_COMMAND "' --install '" KSMSIM_BUILD_DIR
                                     "' --prefix /usr");
    install_status_ = r.status;
    install_output_ = new std::string(r.output);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dest_);
    delete dest_;
    delete install_output_;
  }
  void SetUp() override { ASSERT_EQ(install_status_, 0) << *install_output_; }
  static fs::path Usr() { return *dest_ / "usr"; }
  static fs::path Doc() { return Usr() / "share" / "doc" / "ksmsim"; }

  static fs::path* dest_;
  static int install_status_;
  static std::string* install_output_;
};
fs::path* InstallTest::dest_ = nullptr;
int InstallTest::install_status_ = -1;
std::string* InstallTest::install_output_ = nullptr;

TEST_F(InstallTest, InstalledKsmsimRunsABundledExample) {
  fs::path ksmsim = Usr() / "bin" / "ksmsim";
  ASSERT_TRUE(fs::exists(ksmsim));
  e2e::RunResult run = e2e::RunShell("cd " + Quoted(Doc()) + " && " + Quoted(ksmsim) +
                                     " run workloads/examples/two_procs_identical.json");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("ok: every expect and verify held"), std::string::npos) << run.output;
  e2e::RunResult schema = e2e::RunShell(Quoted(ksmsim) + " schema");
  EXPECT_EQ(schema.status, 0);
  EXPECT_TRUE(schema.output == ReadFile(Doc() / "docs" / "workload.schema.json"));
}

TEST_F(InstallTest, OracleGuestIsWhereTheInstalledKsmsimLooks) {
  fs::path ksmsim = Usr() / "bin" / "ksmsim";
  fs::path guest = tools::InstalledGuestPath(ksmsim);
  EXPECT_TRUE(fs::is_regular_file(guest)) << guest;
  EXPECT_EQ(tools::FindGuestBinary("", nullptr, ksmsim), guest.string());
}

TEST_F(InstallTest, ManPageCompletionsAndDocsAreInstalled) {
  for (const char* rel : {"share/man/man1/ksmsim.1.gz", "share/bash-completion/completions/ksmsim",
                          "share/zsh/vendor-completions/_ksmsim", "share/doc/ksmsim/README.md",
                          "share/doc/ksmsim/LICENSE"}) {
    EXPECT_TRUE(fs::is_regular_file(Usr() / rel)) << rel;
  }
  EXPECT_TRUE(ReadFile(Usr() / "share/bash-completion/completions/ksmsim") ==
              ReadFile(fs::path(KSMSIM_BUILD_DIR) / "package" / "ksmsim.bash"));
  // Every doc, schema, example and lab of the source tree.
  fs::path src = KSMSIM_SOURCE_DIR;
  int files = 0;
  for (const char* dir : {"docs", "workloads/examples", "workloads/labs"}) {
    for (const auto& e : fs::recursive_directory_iterator(src / dir)) {
      std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".md" && ext != ".json")) continue;
      fs::path rel = fs::relative(e.path(), src);
      EXPECT_TRUE(ReadFile(Doc() / rel) == ReadFile(e.path())) << rel;
      ++files;
    }
  }
  EXPECT_GT(files, 25);
}

TEST_F(InstallTest, LinksBetweenInstalledDocsResolve) {
  // A relative link from one installed .md file to a .md or .json file of docs/ or
  // workloads/ (or the README) must find the file in the installed tree.
  fs::path src = KSMSIM_SOURCE_DIR;
  int checked = 0;
  for (const auto& e : fs::recursive_directory_iterator(Doc())) {
    if (e.path().extension() != ".md") continue;
    std::string text = ReadFile(e.path());
    // No std::regex (GCC 12 warns inside <regex> at -O2 under ASan): "](target)".
    for (size_t at = text.find("]("); at != std::string::npos; at = text.find("](", at + 2)) {
      size_t close = text.find(')', at);
      if (close == std::string::npos) break;
      std::string href = text.substr(at + 2, close - at - 2);
      href = href.substr(0, href.find('#'));
      if (href.empty() || href.find(':') != std::string::npos) continue;
      fs::path target = (e.path().parent_path() / href).lexically_normal();
      fs::path rel = target.lexically_relative(Doc());
      std::string top = rel.begin()->string();
      std::string ext = target.extension().string();
      if ((top != "docs" && top != "workloads" && rel != "README.md" && rel != "LICENSE") ||
          (ext != ".md" && ext != ".json" && rel != "LICENSE")) {
        continue;
      }
      EXPECT_TRUE(fs::exists(target)) << e.path() << " links to " << href;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

}  // namespace
}  // namespace ksmsim
