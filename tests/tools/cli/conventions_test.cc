// One set of conventions for every subcommand, checked by walking the command line as
// `ksmsim --help` describes it (so a new subcommand or option is covered without editing
// this file, and a subcommand this file cannot run fails until it is given a base
// invocation below):
// - --help has no internal words;
// - every output option (shown as OUTPUT or DIR) refuses an existing file (or non-empty
//   directory) without --force, and an OUTPUT accepts '-' as stdout;
// - every number option refuses a non-number and a negative with its range in plain
//   numbers;
// - '-' as an input reads stdin, and a name that does not exist lists the valid ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "tests/tools/cli/cli_test_util.h"

namespace ksmsim::tools {
namespace {

using testing::Exec;
using testing::FreshDir;
using testing::RunCli;
using testing::Slurp;
using testing::Source;
namespace fs = std::filesystem;

struct OptionInfo {
  std::string name;  // the longest name, e.g. --out
  std::string type;  // OUTPUT, DIR, UINT, ... ("" for a flag)
  bool required = false;
};

// Subcommand names listed under "Subcommands:" in a --help text.
std::vector<std::string> Subcommands(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool in_list = false;
  while (std::getline(in, line)) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (in_list && line.empty()) break;
    if (in_list && line.size() > 2 && line[0] == ' ' && line[2] != ' ') {
      std::istringstream words(line);
      std::string w;
      words >> w;
      out.push_back(w);
    }
  }
  return out;
}

std::vector<OptionInfo> Options(const std::string& help) {
  std::vector<OptionInfo> out;
  std::istringstream in(help);
  std::string line;
  static const std::regex opt(R"(^  (-[^ ]+)(?: ([A-Z][A-Z_=:]*))?(?: \.\.\.)?( REQUIRED)?)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, opt)) continue;
    std::string names = m[1];
    if (names.find("--help") != std::string::npos) continue;
    OptionInfo o;
    std::istringstream parts(names);
    std::string n;
    while (std::getline(parts, n, ','))
      if (n.size() > o.name.size() && n.rfind("-", 0) == 0) o.name = n.substr(0, n.find('{'));
    o.type = m[2];
    o.required = m[3].matched;
    out.push_back(o);
  }
  return out;
}

class ConventionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(FreshDir("conventions"));
    fs::copy_file(Source("workloads/examples/fork_and_diverge.json"), *dir_ / "w.json");
    Exec x = RunCli("run -q w.json --record t.jsonl --timeline t.csv --out r.json", *dir_);
    ASSERT_EQ(x.status, 0) << x.err;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  // Each command's inputs, and whether it can run here (no QEMU, no root, no kernel).
  struct Base {
    std::string args;
    bool runnable;
  };
  static const std::map<std::string, Base>& Bases() {
    static const std::map<std::string, Base> bases = {
        {"bench", {"--short --only baseline_xxh64", true}},
        {"capture", {"--pid " + std::to_string(getpid()) + " --duration-s 0", false}},
        {"compare", {"r.json r.json", true}},
        {"difftest", {"--seeds 1 --no-shrink", false}},
        {"explain", {"w.json", true}},
        {"gen", {"--seed 1", true}},
        {"oracle", {"w.json --qemu /nonexistent/qemu --timeout-s 5", false}},
        {"plot", {"t.csv", true}},
        {"replay", {"t.jsonl", true}},
        {"report", {"w.json", true}},
        {"run", {"w.json", true}},
        {"schema", {"", true}},
        {"step", {"w.json", true}},
        {"sweep", {"w.json --set pages_to_scan=100,200 -j 1", true}},
        {"sweep collect", {"nonexistent-dir", false}},
        {"trace", {"", false}},
        {"trace bench", {"t.jsonl --seconds 0.01", true}},
        {"trace convert", {"t.jsonl", true}},
        {"trace info", {"t.jsonl", true}},
        {"trace validate", {"t.jsonl", true}},
        {"validate", {"w.json", true}},
    };
    return bases;
  }

  // Every command path ("run", "trace convert") with its --help text.
  static std::vector<std::pair<std::string, std::string>> Commands() {
    std::vector<std::pair<std::string, std::string>> out;
    std::vector<std::string> todo = Subcommands(RunCli("--help", *dir_).out);
    while (!todo.empty()) {
      std::string path = todo.front();
      todo.erase(todo.begin());
      std::string help = RunCli(path + " --help", *dir_).out;
      out.emplace_back(path, help);
      for (const std::string& sub : Subcommands(help)) todo.push_back(path + " " + sub);
    }
    return out;
  }

  // The command with its base inputs and fresh files for its required outputs but `except`.
  static std::string Invocation(const std::string& path, const std::vector<OptionInfo>& options,
                                const std::string& except = "") {
    std::string cmd = path + " " + Bases().at(path).args;
    int n = 0;
    for (const OptionInfo& o : options)
      if (o.required && o.name != except && (o.type == "OUTPUT" || o.type == "DIR"))
        cmd += " " + o.name + " fresh-" + std::to_string(n++);
    return cmd;
  }

  static fs::path* dir_;
};
fs::path* ConventionsTest::dir_ = nullptr;

TEST_F(ConventionsTest, EverySubcommandHasABaseInvocationHere) {
  auto commands = Commands();
  ASSERT_GE(commands.size(), 15u);
  for (const auto& [path, help] : commands)
    EXPECT_TRUE(Bases().count(path))
        << "add a base invocation for `ksmsim " << path << "` to this test";
}

TEST_F(ConventionsTest, HelpTextsHaveNoInternalWords) {
  auto commands = Commands();
  commands.emplace_back("", RunCli("--help", *dir_).out);
  for (const auto& [path, help] : commands) {
    std::string lower = help;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    for (const char* word : {"issue", "todo", "fixme", "campaign", "../shared", "v1)"})
      EXPECT_EQ(lower.find(word), std::string::npos) << "ksmsim " << path << " --help: " << word;
  }
}

TEST_F(ConventionsTest, OutputsRefuseAnExistingFileWithoutForceAndTakeDash) {
  int checked = 0;
  for (const auto& [path, help] : Commands()) {
    if (!Bases().count(path)) continue;
    const auto options = Options(help);
    const bool has_force = std::any_of(options.begin(), options.end(),
                                       [](const OptionInfo& o) { return o.name == "--force"; });
    for (const OptionInfo& o : options) {
      if (o.type != "OUTPUT" && o.type != "DIR") continue;
      ++checked;
      EXPECT_TRUE(has_force) << path << " has " << o.name << " but no --force";
      const std::string what = "ksmsim " + path + " " + o.name;
      // An existing file (for DIR: a non-empty directory) is refused and kept.
      fs::path target = *dir_ / "existing";
      fs::remove_all(target);
      if (o.type == "DIR") {
        fs::create_directories(target);
        std::ofstream(target / "keep") << "keep";
      } else {
        std::ofstream(target) << "keep";
      }
      Exec x = RunCli(Invocation(path, options, o.name) + " " + o.name + " existing", *dir_);
      EXPECT_EQ(x.status, 2) << what << ": " << x.err;
      EXPECT_NE(x.err.find("existing: "), std::string::npos) << what << ": " << x.err;
      EXPECT_NE(x.err.find("--force"), std::string::npos) << what << ": " << x.err;
      EXPECT_EQ(Slurp(o.type == "DIR" ? target / "keep" : target), "keep") << what;
      if (!Bases().at(path).runnable) continue;
      // --force replaces it.
      x = RunCli(Invocation(path, options, o.name) + " " + o.name + " existing --force", *dir_);
      EXPECT_LE(x.status, 1) << what << " --force: " << x.err;
      if (o.type == "OUTPUT") {
        EXPECT_NE(Slurp(target), "keep") << what << " --force";
        // '-' is stdout, and no file named '-' appears.
        x = RunCli(Invocation(path, options, o.name) + " " + o.name + " -", *dir_);
        EXPECT_LE(x.status, 1) << what << " -: " << x.err;
        EXPECT_FALSE(x.out.empty()) << what << " -";
        EXPECT_FALSE(fs::exists(*dir_ / "-")) << what << " - created a file named '-'";
        fs::remove(*dir_ / "-");
      } else {
        x = RunCli(Invocation(path, options, o.name) + " " + o.name + " -", *dir_);
        EXPECT_EQ(x.status, 2) << what << " - (a directory cannot be stdout)";
      }
      for (int i = 0; i < 4; ++i) fs::remove_all(*dir_ / ("fresh-" + std::to_string(i)));
    }
  }
  EXPECT_GE(checked, 12);  // run has 5, and report, plot, gen, bench, capture, trace, oracle...
}

TEST_F(ConventionsTest, NumberOptionsNameTheirRangeInPlainNumbers) {
  static const std::regex long_number("[0-9]{21,}");
  int checked = 0;
  for (const auto& [path, help] : Commands()) {
    if (!Bases().count(path)) continue;
    const auto options = Options(help);
    for (const OptionInfo& o : options) {
      if (o.type != "UINT" && o.type != "INT" && o.type != "FLOAT" && o.type != "NUMBER") continue;
      for (const char* bad : {"abc", "-1", "1e400"}) {
        if (std::string(bad) == "-1" && o.type != "UINT") continue;
        ++checked;
        Exec x = RunCli(Invocation(path, options) + " " + o.name + " " + bad, *dir_);
        const std::string what = "ksmsim " + path + " " + o.name + " " + bad;
        EXPECT_EQ(x.status, 2) << what << ": " << x.err;
        EXPECT_NE(x.err.find(o.name + ": \"" + bad + "\" is not "), std::string::npos)
            << what << ": " << x.err;
        EXPECT_TRUE(x.err.find("an integer") != std::string::npos ||
                    x.err.find("a number") != std::string::npos)
            << what << ": " << x.err;
        EXPECT_FALSE(std::regex_search(x.err, long_number)) << what << ": " << x.err;
      }
    }
  }
  EXPECT_GE(checked, 20);
}

TEST_F(ConventionsTest, DashAsAnInputIsStdin) {
  const fs::path w = *dir_ / "w.json", t = *dir_ / "t.jsonl", c = *dir_ / "t.csv",
                 r = *dir_ / "r.json";
  struct Case {
    std::string args;
    fs::path in;
    std::string out;  // in stdout
  };
  for (const Case& k : std::vector<Case>{
           {"run -", w, "fork and diverge"},
           {"validate -", w, "<stdin>: ok"},
           {"explain - --steps 7..7", w, "step 7"},
           {"replay -", t, "replayed fork and diverge"},
           {"plot - -o -", c, "<svg"},
           {"compare - r.json", r, "equal"},
           {"trace info -", t, "ksmsim trace version"},
       }) {
    Exec x = RunCli(k.args, *dir_, k.in.string());
    EXPECT_EQ(x.status, 0) << k.args << ": " << x.err;
    EXPECT_NE(x.out.find(k.out), std::string::npos) << k.args << ": " << x.out;
  }
}

TEST_F(ConventionsTest, UnknownNamesListTheValidOnes) {
  struct Case {
    std::string args;
    std::string says;
  };
  for (const Case& k : std::vector<Case>{
           {"explain w.json --proc nosuch", "the processes are: parent, child"},
           {"explain w.json --steps 100..200", "0..17"},
           {"explain w.json --pages 5000..6000", "parent:heap 0..1023"},
           {"plot t.csv --series pages_shard -o fresh.svg", "did you mean 'pages_shared'?"},
           {"run w.json --set max_page_shring=2", "did you mean 'max_page_sharing'?"},
           {"replay t.jsonl --set nosuch=1", "the knobs are: run, pages_to_scan"},
           {"bench --only nosuch", "the scenarios are: baseline_xxh64"},
       }) {
    Exec x = RunCli(k.args, *dir_);
    EXPECT_EQ(x.status, 2) << k.args << ": " << x.err;
    EXPECT_NE(x.err.find(k.says), std::string::npos) << k.args << ": " << x.err;
    EXPECT_FALSE(fs::exists(*dir_ / "fresh.svg")) << k.args;
  }
}

}  // namespace
}  // namespace ksmsim::tools
