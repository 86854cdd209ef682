#include "tools/sweep/slurm.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "fmt/format.h"

extern char** environ;

namespace ksmsim::tools::sweep {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string SbatchScript(const SlurmJob& job) {
  std::string dir = ShellQuote(job.dir);
  return fmt::format(
      "#!/bin/bash\n"
      "# ksmsim sweep: {points} points in {tasks} array tasks, each running every {tasks}th\n"
      "# point from its task id into the results directory below. Afterwards:\n"
      "#   ksmsim sweep collect {dir}\n"
      "#SBATCH --job-name=ksmsim-sweep\n"
      "#SBATCH --array=0-{last}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output={out}/slurm/%A_%a.out\n"
      "set -euo pipefail\n"
      "exec {self} sweep chunk {dir} --task \"${{SLURM_ARRAY_TASK_ID}}\" --tasks {tasks}\n",
      fmt::arg("points", job.points), fmt::arg("tasks", job.tasks), fmt::arg("last", job.tasks - 1),
      fmt::arg("dir", dir), fmt::arg("out", job.dir), fmt::arg("self", ShellQuote(job.self)));
}

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::stringstream in(path);
  std::string d;
  while (std::getline(in, d, ':')) {
    if (d.empty()) continue;
    std::string p = d + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

int Submit(const std::string& sbatch, const std::vector<std::string>& args,
           const std::string& script) {
  std::vector<std::string> all = {sbatch};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back(script);
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, sbatch.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return 127;
  int ws = 0;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

}  // namespace ksmsim::tools::sweep
