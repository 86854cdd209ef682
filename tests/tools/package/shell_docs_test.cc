// The man page and the bash and zsh completions that the build generates from ksmsim's help
// texts (tools/package/): each names every subcommand and option that `ksmsim --help` and
// the subcommands' --help list, the man page renders without warnings, and the bash
// completion completes them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"
#include "tests/tools/package/help_tree.h"

namespace ksmsim {
namespace {

using package_test::CommandHelp;

const std::filesystem::path kPackageDir = KSMSIM_PACKAGE_DIR;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::vector<CommandHelp>& Tree() {
  static const std::vector<CommandHelp> tree = package_test::ReadCommandTree();
  return tree;
}

std::string RoffEscape(std::string s) {
  std::string out;
  for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
  return out;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

TEST(HelpTreeTest, ListsTheKnownSubcommands) {
  // The reader the tests below rely on: it must find the subcommands and options.
  ASSERT_FALSE(Tree().empty());
  const CommandHelp& top = Tree().front();
  for (const char* name : {"run", "explain", "report", "plot", "step", "schema", "validate"}) {
    EXPECT_NE(std::find(top.subcommands.begin(), top.subcommands.end(), name),
              top.subcommands.end())
        << name;
  }
  auto run = std::find_if(Tree().begin(), Tree().end(), [](auto& c) { return c.path == "run"; });
  ASSERT_NE(run, Tree().end());
  for (const char* opt : {"-o", "--out", "--force", "--progress", "--no-progress"}) {
    EXPECT_NE(std::find(run->options.begin(), run->options.end(), opt), run->options.end()) << opt;
  }
  EXPECT_TRUE(
      std::any_of(Tree().begin(), Tree().end(), [](auto& c) { return c.path == "trace convert"; }));
}

TEST(ManPageTest, HasASectionWithEveryOptionForEverySubcommand) {
  std::string page = ReadFile(kPackageDir / "ksmsim.1");
  ASSERT_NE(page.find(".TH KSMSIM \"1\""), std::string::npos) << page.substr(0, 200);
  for (const CommandHelp& c : Tree()) {
    if (c.path.empty()) continue;
    std::string heading = ".SS \"ksmsim " + c.path + "\"\n";
    size_t start = page.find(heading);
    ASSERT_NE(start, std::string::npos) << "the man page has no section for ksmsim " << c.path;
    size_t end = std::min(page.find("\n.SS ", start + 1), page.find("\n.SH ", start + 1));
    std::string section = page.substr(start, end - start);
    for (const std::string& opt : c.options) {
      EXPECT_NE(section.find("\\fB" + RoffEscape(opt) + "\\fR"), std::string::npos)
          << "ksmsim " << c.path << " " << opt << " is not in the man page";
    }
  }
  size_t exit_status = page.find(".SH \"EXIT STATUS\"");
  ASSERT_NE(exit_status, std::string::npos);
  for (const char* status : {"0", "1", "2", "3"}) {
    EXPECT_NE(page.find(std::string(".TP\n") + status + "\n", exit_status), std::string::npos)
        << "exit status " << status;
  }
}

TEST(ManPageTest, RendersWithoutWarnings) {
  e2e::RunResult r =
      e2e::RunShell("groff -man -Tutf8 -ww -z " + Quote((kPackageDir / "ksmsim.1").string()));
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, "");
  // The installed, compressed page is the same page.
  e2e::RunResult gz = e2e::RunShell("gzip -dc " + Quote((kPackageDir / "ksmsim.1.gz").string()));
  EXPECT_TRUE(gz.output == ReadFile(kPackageDir / "ksmsim.1"));
}

// What the bash completion offers after `ksmsim PATH CUR`.
std::set<std::string> BashComplete(const std::string& path, const std::string& cur) {
  std::string words = "ksmsim " + path;
  int cword = 1;
  for (char c : path) cword += c == ' ';
  if (!path.empty()) ++cword;
  std::string script = "source " + Quote((kPackageDir / "ksmsim.bash").string()) +
                       "\nCOMP_WORDS=(" + words + " " + Quote(cur) +
                       ")\nCOMP_CWORD=" + std::to_string(cword) +
                       "\n_ksmsim\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
  static const std::filesystem::path dir = e2e::TempDir("bash_completion");
  std::ofstream(dir / "complete.sh", std::ios::trunc) << script;
  e2e::RunResult r = e2e::RunShell("bash " + Quote((dir / "complete.sh").string()));
  std::set<std::string> out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.insert(line);
  }
  return out;
}

TEST(BashCompletionTest, CompletesEverySubcommandAndOption) {
  e2e::RunResult syntax = e2e::RunShell("bash -n " + Quote((kPackageDir / "ksmsim.bash").string()));
  EXPECT_EQ(syntax.status, 0) << syntax.output;
  for (const CommandHelp& c : Tree()) {
    std::set<std::string> subs(c.subcommands.begin(), c.subcommands.end());
    std::set<std::string> opts(c.options.begin(), c.options.end());
    EXPECT_EQ(BashComplete(c.path, ""), subs) << "after: ksmsim " << c.path;
    EXPECT_EQ(BashComplete(c.path, "-"), opts) << "after: ksmsim " << c.path;
  }
  EXPECT_EQ(BashComplete("", "re"), (std::set<std::string>{"replay", "report"}));
}

TEST(ZshCompletionTest, NamesEverySubcommandAndOption) {
  std::string zsh = ReadFile(kPackageDir / "_ksmsim");
  ASSERT_EQ(zsh.rfind("#compdef ksmsim\n", 0), 0u);
  for (const CommandHelp& c : Tree()) {
    std::string label = "    (\"" + c.path + "\")\n";
    size_t start = zsh.find(label);
    ASSERT_NE(start, std::string::npos) << "no case for ksmsim " << c.path;
    size_t end = zsh.find(";;", start);
    std::string block = zsh.substr(start, end - start);
    for (const std::string& s : c.subcommands) {
      EXPECT_NE(block.find("'" + s + ":"), std::string::npos) << c.path << " " << s;
    }
    for (const std::string& o : c.options) {
      EXPECT_NE(block.find("'" + o + ":"), std::string::npos) << c.path << " " << o;
    }
  }
  if (e2e::RunShell("command -v zsh").status == 0) {
    e2e::RunResult syntax = e2e::RunShell("zsh -n " + Quote((kPackageDir / "_ksmsim").string()));
    EXPECT_EQ(syntax.status, 0) << syntax.output;
  }
}

}  // namespace
}  // namespace ksmsim
