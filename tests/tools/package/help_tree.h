// The command tree of the built ksmsim as its --help texts list it (every subcommand,
// nested ones too, and each one's options), read here independently of
// tools/package/help-lib.sh, so the tests of the generated man page and completions
// compare them with the binary, not with the generator's own reading.
#pragma once

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_util.h"

namespace ksmsim::package_test {

struct CommandHelp {
  std::string path;                      // "" for ksmsim itself, "run", "trace convert"
  std::vector<std::string> subcommands;  // as listed under "Subcommands:"
  std::vector<std::string> options;      // every name: -o, --out, --no-progress, ...
};

inline std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

inline CommandHelp ReadHelp(const std::string& path) {
  CommandHelp help;
  help.path = path;
  e2e::RunResult r = e2e::RunKsmsim(path + " --help");
  std::istringstream in(r.output);
  std::string line;
  bool in_subcommands = false;
  while (std::getline(in, line)) {
    if (line.empty()) {
      in_subcommands = false;
    } else if (line[0] != ' ' && line.back() == ':') {
      in_subcommands = Lower(line) == "subcommands:";
    } else if (in_subcommands && line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ') {
      help.subcommands.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (line.rfind("  -", 0) == 0) {
      std::string names = line.substr(2, line.find(' ', 2) - 2);
      names = names.substr(0, names.find('{'));
      std::istringstream parts(names);
      std::string name;
      while (std::getline(parts, name, ',')) help.options.push_back(name);
    }
  }
  return help;
}

// ksmsim and every subcommand below it, depth first in --help's order.
inline std::vector<CommandHelp> ReadCommandTree() {
  std::vector<CommandHelp> tree;
  std::vector<std::string> todo = {""};
  while (!todo.empty()) {
    std::string path = todo.back();
    todo.pop_back();
    tree.push_back(ReadHelp(path));
    const auto& subs = tree.back().subcommands;
    for (auto it = subs.rbegin(); it != subs.rend(); ++it) {
      todo.push_back(path.empty() ? *it : path + " " + *it);
    }
  }
  return tree;
}

}  // namespace ksmsim::package_test
