// `ksmsim step FILE.json`: run a workload under the interactive stepper (tools/teach/stepper.h):
// stop at steps, ksmd batches, scanned pages or KSM events and look at the counters and
// trees. Reads its commands from a terminal with a prompt, or line by line from a pipe.
#include <unistd.h>

#include <iostream>

#include "fmt/format.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/cli/load_workload.h"
#include "tools/teach/stepper.h"
#include "tools/cli/run_limits.h"

namespace ksmsim::tools {
namespace {

int Step(const std::string& file, const RunLimits& limits) {
  if (file == kStdio) {
    std::cerr << "-: the stepper reads its commands from stdin; give the workload as a file\n";
    return kExitInvalidInput;
  }
  std::optional<workloads::Workload> loaded = LoadWorkloadOrReport(file);
  if (!loaded) return kExitInvalidInput;
  workloads::Workload w = *loaded;
  if (!limits.CheckBudget(w, file)) return kExitCannotRun;
  // The stepper keeps the flattened script (~100 bytes a step).
  if (uint64_t n = workloads::FlattenedSize(w); n > 10'000'000) {
    std::cerr << fmt::format(
        "{}: the script is {} steps with repeat expanded; the stepper "
        "holds at most 10000000 (use `ksmsim run`)\n",
        file, n);
    return kExitCannotRun;
  }
  Stepper* sp = nullptr;
  workloads::DriverOptions opt;
  opt.on_progress = [&](uint64_t step, uint64_t) { sp->BeforeStep(step); };
  opt.before_batch = [&] { sp->BeforeBatch(); };
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t) {
    if (sp) sp->OnEvent(e);  // (the initial knob writes run before the stepper exists)
  };
  workloads::Driver driver(w, opt);
  Stepper stepper(driver, workloads::Flatten(w), std::cin, std::cout, isatty(STDIN_FILENO),
                  STDIN_FILENO);
  sp = &stepper;
  try {
    driver.Run();
    stepper.AtEnd();
  } catch (const Stepper::Quit&) {
    // quit (or the end of the input) between two steps or before a batch
  }
  std::cout.flush();
  return 0;
}

RegisterCommand reg{
    {"step",
     "Step through a workload interactively: stop at steps, ksmd batches, "
     "scanned pages, KSM events, breakpoints on pages and watched counters; print counters "
     "and trees",
     [](CLI::App* sub) {
       auto file = std::make_shared<std::string>();
       auto limits = std::make_shared<RunLimits>();
       sub->add_option("file", *file, "the workload (JSON, docs/WORKLOAD-FORMAT.md)")
           ->required();
       limits->AddOptions(sub, /*work_limits=*/false);
       sub->footer(
           "Commands come from the terminal (with a prompt, line editing and history: "
           "Left/Right/Home/End, Up/Down) or, when stdin is not a terminal, one per line "
           "from stdin; type help for the list.");
       return [file, limits] { return Step(*file, *limits); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
