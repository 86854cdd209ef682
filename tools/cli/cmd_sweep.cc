// `ksmsim sweep`: run a grid of knob settings, policies and inputs (docs/SWEEPS.md), locally
// with N worker processes or as a Slurm job array; `sweep collect DIR` writes the outputs of
// a results directory. The work is in tools/sweep/.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/sweep/emit.h"
#include "tools/sweep/executor.h"
#include "tools/sweep/slurm.h"

namespace ksmsim::tools {
namespace {

struct SweepArgs {
  std::vector<std::string> inputs;
  std::string spec_file;
  std::vector<std::string> set;
  std::string policy;
  std::string results;
  unsigned jobs = 0;
  sweep::OutputFiles out;
  std::optional<bool> progress;
  uint64_t stop_after = 0;
  bool slurm = false;
  uint64_t slurm_tasks = 0;
  std::vector<std::string> sbatch_args;
  bool no_submit = false;
  // collect / chunk
  std::string dir;
  bool from_stdin = false;
  std::optional<uint64_t> task;
  uint64_t tasks = 1;
};

int Fail(const std::string& msg, int status = 2) {
  std::cerr << msg << "\n";
  return status;
}

int Sweep(SweepArgs& a) {
  if (!CheckOutputs({a.out.csv, a.out.json, a.out.svg}, a.out.force)) return 2;
  sweep::SweepSpec spec;
  std::vector<std::string> errors;
  if (!a.spec_file.empty()) sweep::ReadSpecFile(a.spec_file, spec, &errors);
  for (const std::string& in : a.inputs) sweep::AddInput(spec, in);
  std::string error;
  for (const std::string& s : a.set)
    if (!sweep::AddSetArgument(spec, s, &error)) errors.push_back(error);
  if (!a.policy.empty() && !sweep::SetPolicies(spec, a.policy, &error)) errors.push_back(error);
  if (errors.empty()) errors = sweep::ValidateSpec(spec);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << e << "\n";
    return Fail("invalid sweep, nothing was run");
  }
  if (!sweep::CheckOutputFiles(a.out, &error)) return Fail(error);
  uint64_t n = sweep::GridSize(spec);
  if (a.slurm && a.results.empty())
    return Fail("--slurm needs --results DIR, a directory the compute nodes share");
  bool temporary = a.results.empty();
  if (temporary) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ksmsim-sweep-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return Fail("cannot create a temporary results directory");
    a.results = tmpl;
  }
  sweep::ResultsDir dir(std::filesystem::absolute(a.results).lexically_normal().string());
  if (!dir.Prepare(spec, &error)) return Fail(error);
  std::string self = sweep::SelfExecutable();
  if (a.slurm) {
    sweep::SlurmJob job;
    job.self = self;
    job.dir = dir.dir();
    job.points = n;
    job.tasks = a.slurm_tasks ? std::min(a.slurm_tasks, n) : std::min<uint64_t>(n, 32);
    std::filesystem::create_directories(std::filesystem::path(dir.dir()) / "slurm");
    std::string script = (std::filesystem::path(dir.dir()) / "sweep.sbatch").string();
    std::ofstream(script) << sweep::SbatchScript(job);
    std::cout << fmt::format("{}: {} points in {} array tasks\n", script, n, job.tasks);
    std::string sbatch = sweep::FindInPath("sbatch");
    if (a.no_submit || sbatch.empty()) {
      std::cout << fmt::format("{}; submit it with: sbatch {}\nthen: ksmsim sweep collect {}\n",
                               sbatch.empty() ? "sbatch is not installed" : "not submitted", script,
                               dir.dir());
      return 0;
    }
    std::cout << std::flush;
    int rc = sweep::Submit(sbatch, a.sbatch_args, script);
    if (rc != 0) return Fail(fmt::format("sbatch {} failed with exit status {}", script, rc));
    std::cout << fmt::format("when the job has finished: ksmsim sweep collect {}\n", dir.dir());
    return 0;
  }
  sweep::LocalOptions opt;
  opt.workers = a.jobs ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  opt.self = self;
  opt.progress = a.progress.value_or(isatty(2) != 0);
  opt.stop_after = a.stop_after;
  int rc = sweep::RunLocal(dir, spec, opt, &error);
  if (rc == sweep::kExitInterrupted) {
    return Fail(fmt::format("interrupted: {} of {} points done, kept in {}; run the same "
                            "command with --results {} to finish",
                            n - dir.Missing(n).size(), n, dir.dir(), dir.dir()),
                rc);
  }
  if (rc != 0) return Fail(error.empty() ? "some points have no result" : error, rc);
  rc = sweep::EmitResults(dir, spec, a.out);
  if (rc == 0 && temporary) std::filesystem::remove_all(dir.dir());
  return rc;
}

int Collect(const SweepArgs& a) {
  if (!CheckOutputs({a.out.csv, a.out.json, a.out.svg}, a.out.force)) return 2;
  sweep::SweepSpec spec;
  sweep::ResultsDir dir(a.dir);
  std::string error;
  if (!dir.LoadSpec(spec, &error)) return Fail(error);
  if (!sweep::CheckOutputFiles(a.out, &error)) return Fail(error);
  return sweep::EmitResults(dir, spec, a.out);
}

int Chunk(const SweepArgs& a) {
  sweep::SweepSpec spec;
  sweep::ResultsDir dir(a.dir);
  std::string error;
  if (!dir.LoadSpec(spec, &error)) return Fail(error);
  int rc = 0;
  if (a.from_stdin) {
    rc = sweep::RunWorker(dir, spec, &error);
  } else {
    if (!a.task) return Fail("sweep chunk: give --stdin or --task K --tasks N");
    if (a.tasks == 0 || *a.task >= a.tasks)
      return Fail("sweep chunk: --task must be below --tasks");
    rc = sweep::RunChunk(dir, spec, sweep::TaskPoints(sweep::GridSize(spec), *a.task, a.tasks),
                         false, &error);
  }
  if (rc != 0) return Fail(error, rc);
  return 0;
}

void AddOutputs(CLI::App* sub, SweepArgs& a) {
  AddOutputOption(sub, "--csv", &a.out.csv, "write the tidy CSV (a row per point and snapshot)");
  AddOutputOption(sub, "--json", &a.out.json, "write the JSON document");
  AddOutputOption(sub, "--svg", &a.out.svg,
                  "write the chart: saving and time to 90% against ksmd CPU time, Pareto front "
                  "marked");
  AddForceFlag(sub, &a.out.force);
  sub->add_flag("--quiet,-q", a.out.quiet, "print no summary table");
}

RegisterCommand reg{
    {"sweep",
     "Run a grid of KSM knob settings and policies over workloads or traces, locally or on "
     "Slurm, and compare saving, time to saving and ksmd CPU (docs/SWEEPS.md)",
     [](CLI::App* sub) {
       auto a = std::make_shared<SweepArgs>();
       sub->add_option("inputs", a->inputs, "workloads (.json) or traces (.jsonl, .ksmt)");
       sub->add_option("--spec", a->spec_file, "the grid as a JSON spec file (docs/SWEEPS.md)");
       sub->add_option("--set", a->set,
                       "a knob's values: KNOB=V1,V2,... (repeatable; the grid is the product)")
           ->allow_extra_args(false);
       sub->add_option("--policy", a->policy,
                       "tuning policies: fixed,ksmtuned,advisor (default fixed; advisor: 6.12's "
                       "scan-time advisor, kernel 6.12 inputs only)");
       sub->add_option("--results", a->results,
                       "the results directory: one file per finished point; an interrupted "
                       "sweep resumes from it (default: a temporary directory)");
       sub->add_option("--jobs,-j", a->jobs, "worker processes (default: the number of cores)")
           ->check(UnsignedIn(1, 1024));
       sub->add_flag("--progress,!--no-progress", a->progress,
                     "a progress line on stderr (default: when stderr is a terminal)");
       sub->add_option("--stop-after-points", a->stop_after,
                       "stop as on Ctrl-C once this many points finished (for tests)")
           ->group("");
       sub->add_flag("--slurm", a->slurm,
                     "write RESULTS/sweep.sbatch, a Slurm job array, and submit it with sbatch "
                     "when sbatch is installed");
       sub->add_option("--slurm-tasks", a->slurm_tasks,
                       "array tasks of the Slurm job (default: the points, at most 32)")
           ->check(UnsignedIn(1, 1000000));
       sub->add_option("--sbatch-arg", a->sbatch_args,
                       "an argument for sbatch, e.g. --sbatch-arg=--wait (repeatable)")
           ->allow_extra_args(false);
       sub->add_flag("--no-submit", a->no_submit, "with --slurm: write the script only");
       AddOutputs(sub, *a);
       CLI::App* collect = sub->add_subcommand(
           "collect", "write the outputs of a results directory (after a Slurm job)");
       collect->add_option("dir", a->dir, "the results directory")->required();
       AddOutputs(collect, *a);
       CLI::App* chunk =
           sub->add_subcommand("chunk", "run points of a results directory (workers, Slurm)");
       chunk->group("");
       chunk->add_option("dir", a->dir, "the results directory")->required();
       chunk->add_flag("--stdin", a->from_stdin, "read point numbers from stdin (a worker)");
       chunk->add_option("--task", a->task, "this array task's number");
       chunk->add_option("--tasks", a->tasks, "the number of array tasks");
       return [a, collect, chunk] {
         if (collect->parsed()) return Collect(*a);
         if (chunk->parsed()) return Chunk(*a);
         return Sweep(*a);
       };
     }}};

}  // namespace
}  // namespace ksmsim::tools
