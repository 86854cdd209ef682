// `ksmsim explain FILE.json`: one line per ksmd decision about the selected pages, in the
// kernel's terms and naming the deciding function (cmp_and_merge_page, stable_tree_search,
// unstable_tree_search_insert, try_to_merge_*).
#include <algorithm>
#include <iostream>
#include <map>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "tools/cli/load_workload.h"
#include "tools/teach/explain.h"
#include "tools/cli/run_limits.h"

namespace ksmsim::tools {
namespace {

struct ExplainArgs {
  std::string file, steps, proc, pages, passes;
  bool json = false;
  RunLimits limits;
};

// The processes and their regions' sizes in pages, as the script creates them (repeat
// bodies included).
void Collect(const std::vector<workloads::Step>& steps, std::vector<std::string>* procs,
             std::map<std::string, std::map<std::string, uint64_t>>* regions) {
  for (const workloads::Step& s : steps) {
    const auto* spawn = s.get_if<workloads::SpawnStep>();
    const auto* fork = s.get_if<workloads::ForkStep>();
    const std::string* name = spawn ? &spawn->proc : fork ? &fork->child : nullptr;
    if (name != nullptr && std::find(procs->begin(), procs->end(), *name) == procs->end())
      procs->push_back(*name);
    if (fork) (*regions)[fork->child] = (*regions)[fork->proc];
    const auto* mmap = s.get_if<workloads::MmapStep>();
    if (mmap && mmap->pages) {
      uint64_t& n = (*regions)[mmap->proc][mmap->region];
      n = std::max(n, *mmap->pages);
    }
    Collect(workloads::BodyOf(s), procs, regions);
  }
}

// Whether the selection names steps, a process and pages the workload has; prints what it
// has when not.
bool CheckSelection(const ExplainArgs& a, const workloads::Workload& w, const teach::Range& steps,
                    const teach::Range& pages, const std::string& name) {
  const uint64_t total = workloads::FlattenedSize(w);
  if (!a.steps.empty() && (steps.first > steps.last || steps.first >= total)) {
    std::cerr << fmt::format(
        "{}: --steps {}: the workload has {} step{} with repeat expanded, 0..{}\n", name, a.steps,
        total, total == 1 ? "" : "s", total == 0 ? 0 : total - 1);
    return false;
  }
  std::vector<std::string> procs;
  std::map<std::string, std::map<std::string, uint64_t>> regions;
  Collect(w.steps, &procs, &regions);
  if (!a.proc.empty() && std::find(procs.begin(), procs.end(), a.proc) == procs.end()) {
    std::cerr << fmt::format("{}: --proc: {}\n", name, UnknownName("process", "processes", a.proc, procs));
    return false;
  }
  if (!a.pages.empty()) {
    uint64_t largest = 0;
    std::string sizes;
    for (const auto& [proc, rs] : regions) {
      if (!a.proc.empty() && proc != a.proc) continue;
      for (const auto& [region, n] : rs) {
        largest = std::max(largest, n);
        sizes += fmt::format("{}{}:{} 0..{}", sizes.empty() ? "" : ", ", proc, region, n - 1);
      }
    }
    if (pages.first > pages.last || pages.first >= largest) {
      std::cerr << fmt::format("{}: --pages {}: no region has these pages; {}\n", name, a.pages,
                               sizes.empty() ? std::string("there is no region")
                                             : "the regions are " + sizes);
      return false;
    }
  }
  return true;
}

int Explain(const ExplainArgs& a) {
  std::optional<workloads::Workload> loaded = LoadWorkloadOrReport(a.file);
  if (!loaded) return kExitInvalidInput;
  teach::Range steps, pages;
  if (!a.steps.empty()) {
    auto r = teach::ParseRange(a.steps);
    if (!r) {
      std::cerr << fmt::format("--steps {}: expected A..B\n", a.steps);
      return 2;
    }
    steps = *r;
  }
  if (!a.pages.empty()) {
    auto r = teach::ParseRange(a.pages);
    if (!r) {
      std::cerr << fmt::format("--pages {}: expected N..M\n", a.pages);
      return 2;
    }
    pages = *r;
  }
  teach::Range passes;
  if (!a.passes.empty()) {
    auto r = teach::ParseRange(a.passes);
    if (!r || r->first == 0) {
      std::cerr << fmt::format("--passes {}: expected A..B (the first pass is 1)\n", a.passes);
      return 2;
    }
    passes = *r;
  }
  workloads::Workload w = *loaded;
  const std::string name = InputName(a.file);
  if (!CheckSelection(a, w, steps, pages, name)) return kExitInvalidInput;
  if (!a.limits.CheckBudget(w, name)) return kExitCannotRun;
  uint64_t step = 0;
  std::unique_ptr<teach::DecisionBuilder> builder;
  workloads::DriverOptions opt;
  opt.on_progress = [&](uint64_t s, uint64_t) { step = s; };
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t t) { builder->OnEvent(e, t, step); };
  workloads::Driver driver(w, opt);
  uint64_t printed = 0;
  builder = std::make_unique<teach::DecisionBuilder>(driver, [&](const teach::Decision& d) {
    if (!steps.contains(d.step)) return;
    if (!passes.contains(d.pass)) return;
    if (!a.proc.empty() && d.page.proc != a.proc) return;
    if (!a.pages.empty() && (!d.page.index || !pages.contains(*d.page.index))) return;
    ++printed;
    if (a.json) {
      nlohmann::ordered_json j;
      j["step"] = d.step;
      j["pass"] = d.pass;
      j["time_ns"] = d.time_ns;
      j["page"] = d.page.text;
      j["func"] = d.func;
      j["what"] = d.what;
      j["text"] = d.text;
      std::cout << j.dump() << "\n";
    } else {
      std::cout << fmt::format("step {} pass {}  {} {}\n", d.step, d.pass, d.page.text, d.text);
    }
  });
  driver.Run();
  builder->Flush();
  if (!a.json && printed == 0) std::cout << "no ksmd decision about the selected pages\n";
  for (const auto& err : driver.errors()) std::cerr << "error: " << err << "\n";
  return driver.exit_status();
}

RegisterCommand reg{
    {"explain",
     "Run a workload and explain every ksmd decision about the selected pages, in the "
     "kernel's terms",
     [](CLI::App* sub) {
       auto a = std::make_shared<ExplainArgs>();
       sub->add_option("file", a->file, "the workload (JSON, docs/WORKLOAD-FORMAT.md; '-': stdin)")
           ->required();
       sub->add_option("--steps", a->steps,
                       "only decisions made during these flattened steps, A..B inclusive "
                       "(ksmd runs only in wait steps)");
       sub->add_option("--proc", a->proc, "only pages of this process");
       sub->add_option("--pages", a->pages, "only pages with these region indexes, N..M inclusive");
       sub->add_option("--passes", a->passes,
                       "only decisions made in these ksmd passes, A..B inclusive (pass 1 is "
                       "the first; full_scans counts the passes finished)");
       sub->add_flag("--json", a->json, "one JSON object per line");
       a->limits.AddOptions(sub, /*work_limits=*/false);
       return [a] { return Explain(*a); };
     }}};

}  // namespace
}  // namespace ksmsim::tools
