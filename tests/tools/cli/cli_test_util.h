// Running the ksmsim binary from the cli tests: exit status, stdout and stderr apart.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ksmsim::tools::testing {

struct Exec {
  int status = -1;
  std::string out, err;
};

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh, empty directory for one test.
inline std::filesystem::path FreshDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("ksmsim_cli_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// `ksmsim ARGS` (already quoted), stdin from `in` (default: /dev/null), in `dir`.
inline Exec RunCli(const std::string& args, const std::filesystem::path& dir,
                   const std::string& in = "/dev/null") {
  auto o = dir / ".stdout", e = dir / ".stderr";
  std::string cmd = "cd " + Quote(dir.string()) + " && " + Quote(KSMSIM_BINARY) + " " + args +
                    " <" + Quote(in) + " >" + Quote(o.string()) + " 2>" + Quote(e.string());
  int rc = std::system(cmd.c_str());
  Exec x;
  x.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  x.out = Slurp(o);
  x.err = Slurp(e);
  return x;
}

inline std::string Source(const std::string& rel) {
  return std::string(KSMSIM_SOURCE_DIR) + "/" + rel;
}

}  // namespace ksmsim::tools::testing
