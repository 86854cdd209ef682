// Shared helpers of the end-to-end tests: run a shell command or the ksmsim binary and
// capture its exit status and its output (stdout and stderr together).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace ksmsim::e2e {

struct RunResult {
  int status = -1;     // the exit status, or -1 when it did not exit normally
  std::string output;  // stdout and stderr, interleaved
};

inline RunResult RunShell(const std::string& command) {
  RunResult run;
  std::FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
  int status = pclose(pipe);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// `ksmsim ARGS` (ARGS already shell-quoted by the caller).
inline RunResult RunKsmsim(const std::string& args) {
  return RunShell(std::string("'") + KSMSIM_BINARY + "' " + args);
}

// A fresh, empty directory for one test: <tmp>/ksmsim_<name>_<pid>.
inline std::filesystem::path TempDir(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("ksmsim_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace ksmsim::e2e
