// `run --profile A --profile B`: runs the workload under each profile, recording what the
// comparison needs (teach/versions.h), and prints the side-by-side table or its document.
#include "tools/cli/run_versions.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "tools/cli/io.h"
#include "tools/cli/knob_overrides.h"
#include "tools/cli/load_workload.h"
#include "tools/cli/run_failures.h"
#include "tools/cli/run_summary.h"
#include "tools/teach/versions.h"
#include "workloads/parse.h"

namespace ksmsim::tools {
namespace {

using Json = nlohmann::ordered_json;
using teach::VersionsComparison;
using teach::VersionsPoint;
using teach::VersionsReason;
using teach::VersionsRun;

// The records both runs keep the first time: enough for every small workload, so that only
// a difference past them costs both runs again.
constexpr uint64_t kFirstKeep = 16 * teach::kChunk;

struct Loaded {
  workloads::KernelProfile profile;
  workloads::Workload workload;
};

struct OneRun {
  VersionsRun run;
  std::string failures;  // what `run` prints on stderr for it
  int status = 0;
};

OneRun RunOne(const VersionsArgs& a, const Loaded& l, const std::string& name, uint64_t keep_first,
              uint64_t keep_last) {
  const std::string profile(workloads::KernelProfileName(l.profile));
  teach::VersionsRecorder recorder(profile, keep_first, keep_last);
  StepExpectations expectations;
  workloads::DriverOptions opt;
  opt.check = a.check;
  opt.on_event = [&recorder](const ksm::KsmEvent& e, uint64_t) { recorder.OnEvent(e); };
  opt.after_step = [&](const workloads::FlatStep& fs) {
    expectations.Note(fs);
    recorder.AfterStep(fs);
  };
  workloads::Driver* dp = nullptr;
  RunLimits limits = a.limits;
  limits.quiet = a.quiet;
  limits.Install(opt, &dp);
  workloads::Driver driver(l.workload, opt);
  dp = &driver;
  recorder.Bind(&driver);
  Json doc = driver.Run();
  limits.Finish();
  OneRun out;
  out.status = driver.exit_status();
  std::ostringstream failures;
  FailureReport report =
      ReportFailures(failures, doc, fmt::format("{} ({})", name, profile), expectations, a.strict,
                     SummaryStyle::ForFd(STDERR_FILENO).color);
  if (out.status == 0 && a.strict && report.unexpected > 0) out.status = 1;
  out.failures = failures.str();
  out.run = recorder.Finish(std::move(doc), out.status);
  return out;
}

std::string PointTitle(const VersionsPoint& p) {
  if (p.op == "end") return fmt::format("end of the run (after step {})", p.step);
  return fmt::format("step {} ({}{})", p.step, p.op,
                     p.label.empty() ? "" : fmt::format(" \"{}\"", p.label));
}

std::string Value(const std::optional<Json>& v) { return v ? v->dump() : "-"; }

Json ReasonJson(const VersionsReason& r) {
  Json j = Json::object();
  j["kind"] = r.kind;
  j["step"] = r.step;
  if (r.pass) j["pass"] = r.pass;
  j["text"] = r.text;
  for (const auto* rec : {&r.first, &r.second}) {
    if (!*rec) continue;
    Json e = Json::object();
    e["step"] = (*rec)->step;
    if ((*rec)->pass) e["pass"] = (*rec)->pass;
    e["event"] = (*rec)->event;
    if (!(*rec)->page.empty()) e["page"] = (*rec)->page;
    if (!(*rec)->func.empty()) e["func"] = (*rec)->func;
    if (!(*rec)->what.empty()) e["what"] = (*rec)->what;
    if (!(*rec)->also.empty()) e["with"] = (*rec)->also;
    j[rec == &r.first ? "first_profile_event" : "second_profile_event"] = e;
  }
  return j;
}

Json ComparisonJson(const VersionsComparison& c, const std::vector<OneRun>& runs,
                    const std::string& name, const std::optional<std::string>& own_kernel) {
  Json doc = Json::object();
  doc["ksmsim"] = 1;
  doc["comparison"] = "kernel profiles";
  doc["file"] = name;
  doc["workload"] = runs[0].run.doc.value("workload", "");
  doc["profiles"] = Json::array({c.first_profile, c.second_profile});
  doc["workload_kernel"] = own_kernel ? Json(*own_kernel) : Json(nullptr);
  Json rs = Json::array();
  for (const OneRun& r : runs) {
    Json j = Json::object();
    j["profile"] = r.run.profile;
    j["engine"] = r.run.doc.value("engine", "");
    j["exit_status"] = r.status;
    j["errors"] = r.run.doc.contains("errors") ? r.run.doc["errors"] : Json::array();
    rs.push_back(j);
  }
  doc["runs"] = rs;
  Json points = Json::array();
  for (const VersionsPoint& p : c.points) {
    Json j = Json::object();
    j["step"] = p.step;
    j["op"] = p.op;
    if (!p.label.empty()) j["label"] = p.label;
    Json counters = Json::object();
    for (const auto& row : p.rows)
      counters[row.counter] = Json::array(
          {row.first ? *row.first : Json(nullptr), row.second ? *row.second : Json(nullptr)});
    j["counters"] = counters;
    j["differ"] = p.differing;
    if (!p.new_differing.empty()) {
      j["new_differences"] = p.new_differing;
      Json reasons = Json::array();
      for (const VersionsReason& r : p.reasons) reasons.push_back(ReasonJson(r));
      j["why"] = reasons;
    }
    points.push_back(j);
  }
  doc["points"] = points;
  if (c.first_divergence) {
    const VersionsPoint& p = c.points[*c.first_divergence];
    Json d = Json::object();
    d["step"] = p.step;
    d["op"] = p.op;
    if (!p.label.empty()) d["label"] = p.label;
    d["counters"] = p.differing;
    Json reasons = Json::array();
    for (const VersionsReason& r : p.reasons) reasons.push_back(ReasonJson(r));
    d["reasons"] = reasons;
    doc["first_divergence"] = d;
  } else {
    doc["first_divergence"] = nullptr;
  }
  doc["first_event_difference"] =
      c.first_event_difference ? ReasonJson(*c.first_event_difference) : Json(nullptr);
  return doc;
}

std::string Paint(const std::string& s, const char* code, const SummaryStyle& style) {
  return style.color ? fmt::format("\033[{}m{}\033[0m", code, s) : s;
}

std::string ComparisonText(const VersionsComparison& c, const std::vector<OneRun>& runs,
                           const std::string& name, const std::optional<std::string>& own_kernel,
                           const SummaryStyle& style) {
  std::string out =
      fmt::format("{}: \"{}\" under {} and {}, side by side\n", name,
                  runs[0].run.doc.value("workload", ""), c.first_profile, c.second_profile);
  if (own_kernel)
    out += fmt::format(
        "(the workload's \"kernel\": \"{}\" is overridden: each run takes its --profile)\n",
        *own_kernel);
  for (const VersionsPoint& p : c.points) {
    size_t w = std::max(c.first_profile.size(), c.second_profile.size()) + 2;
    size_t nw = 0;
    for (const auto& row : p.rows) nw = std::max(nw, row.counter.size());
    for (const auto& row : p.rows) {
      w = std::max(w, Value(row.first).size() + 2);
      w = std::max(w, Value(row.second).size() + 2);
    }
    out += "\n" + Paint(PointTitle(p), "1", style) + "\n";
    out += fmt::format("  {:<{}}{:>{}}{:>{}}\n", "counter", nw, c.first_profile, w,
                       c.second_profile, w);
    for (const auto& row : p.rows) {
      std::string line = fmt::format("  {:<{}}{:>{}}{:>{}}", row.counter, nw, Value(row.first), w,
                                     Value(row.second), w);
      if (row.differs()) {
        out += Paint(line + "  * differs", "31;1", style) + "\n";
      } else if (!row.first || !row.second) {
        out += line +
               Paint(fmt::format("  ({} only)", row.first ? c.first_profile : c.second_profile),
                     "2", style) +
               "\n";
      } else {
        out += line + "\n";
      }
    }
    if (p.new_differing.empty()) continue;
    out += fmt::format("  newly different: {}\n", fmt::join(p.new_differing, ", "));
    for (size_t i = 0; i < p.reasons.size(); ++i)
      out += fmt::format("  {} {}\n", i ? "   " : "why:", p.reasons[i].text);
  }
  out += "\n";
  if (!c.first_divergence) {
    out += fmt::format("the counters that {} and {} share agree at every point\n", c.first_profile,
                       c.second_profile);
  } else {
    const VersionsPoint& p = c.points[*c.first_divergence];
    out += Paint(fmt::format("first divergence: {}: {}", PointTitle(p),
                             fmt::format("{}", fmt::join(p.differing, ", "))),
                 "1", style) +
           "\n";
    for (size_t i = 0; i < p.reasons.size(); ++i)
      out += fmt::format("  {} {}\n", i ? "   " : "why:", p.reasons[i].text);
  }
  const std::vector<VersionsReason> none;
  const auto& first_reasons = c.first_divergence ? c.points[*c.first_divergence].reasons : none;
  const bool listed =
      c.first_event_difference &&
      std::any_of(first_reasons.begin(), first_reasons.end(), [&](const VersionsReason& r) {
        return r.text == c.first_event_difference->text;
      });
  if (c.first_event_difference && !listed)
    out += fmt::format("first difference in what ksmd did: {}\n", c.first_event_difference->text);
  for (const OneRun& r : runs)
    if (r.status != 0)
      out += fmt::format("{}: exit status {} (see stderr)\n", r.run.profile, r.status);
  return out;
}

}  // namespace

int RunVersions(const VersionsArgs& a) {
  std::vector<workloads::KernelProfile> profiles;
  for (const std::string& p : a.profiles) {
    std::optional<workloads::KernelProfile> k = workloads::KernelProfileFromName(p);
    if (!k) {
      std::cerr << fmt::format("--profile: unknown kernel profile \"{}\" (known: {})\n", p,
                               fmt::join(workloads::KernelProfileNames(), ", "));
      return kExitInvalidInput;
    }
    profiles.push_back(*k);
  }
  if (profiles.size() != 2 || profiles[0] == profiles[1]) {
    std::cerr << "--profile: give one profile to run, or two different ones to compare side by "
                 "side (e.g. --profile 6.1 --profile 6.12)\n";
    return kExitInvalidInput;
  }
  workloads::KnobList set;
  if (!ParseKnobOverrides(a.set, &set)) return kExitInvalidInput;
  const std::string doc_out = a.json ? std::string(kStdio) : a.out;
  std::vector<std::string> outputs = {doc_out};
  if (a.json && !a.out.empty() && a.out != kStdio) outputs.push_back(a.out);
  if (!CheckOutputs(outputs, a.force)) return kExitInvalidInput;
  const std::string name = InputName(a.file);
  std::string text;
  if (!ReadInput(a.file, &text)) {
    std::cerr << fmt::format("{}: invalid workload, nothing was run\n", name);
    return kExitInvalidInput;
  }
  std::optional<std::string> own_kernel;
  Json raw = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (raw.is_object() && raw.contains("kernel") && raw["kernel"].is_string())
    own_kernel = raw["kernel"].get<std::string>();
  std::vector<Loaded> loaded;
  for (workloads::KernelProfile p : profiles) {
    workloads::ParseOutcome parsed = workloads::ParseWorkloadText(text, name, p);
    if (!parsed.ok()) {
      for (const auto& e : parsed.errors) std::cerr << e.ToString() << "\n";
      std::cerr << fmt::format("{}: invalid workload under profile {}, nothing was run\n", name,
                               workloads::KernelProfileName(p));
      return kExitInvalidInput;
    }
    Loaded l{p, std::move(*parsed.workload)};
    if (a.seed) l.workload.seed = *a.seed;
    ApplyKnobOverrides(set, &l.workload.ksm);
    if (!a.limits.CheckBudget(l.workload, name)) return kExitCannotRun;
    loaded.push_back(std::move(l));
  }
  std::vector<OneRun> runs;
  for (const Loaded& l : loaded) runs.push_back(RunOne(a, l, name, 0, kFirstKeep));
  // A first difference past the records kept: run both again, keeping its chunk.
  if (std::optional<uint64_t> chunk = teach::FirstDifferentChunk(runs[0].run, runs[1].run);
      chunk && teach::RecordsToKeep(*chunk).second > kFirstKeep) {
    auto [first, last] = teach::RecordsToKeep(*chunk);
    for (size_t i = 0; i < runs.size(); ++i) {
      OneRun again = RunOne(a, loaded[i], name, first, last);
      runs[i].run.kept = std::move(again.run.kept);
    }
  }
  VersionsComparison c = teach::CompareVersions(runs[0].run, runs[1].run);
  const std::string doc_text = ComparisonJson(c, runs, name, own_kernel).dump(2) + "\n";
  if (!doc_out.empty() && !WriteOutput(doc_out, doc_text)) return kExitInvalidInput;
  if (a.json && !a.out.empty() && a.out != kStdio && !WriteOutput(a.out, doc_text))
    return kExitInvalidInput;
  if (!a.quiet && !AnyStdout(outputs))
    std::cout << ComparisonText(c, runs, name, own_kernel, SummaryStyle::ForFd(STDOUT_FILENO));
  std::cout.flush();
  int status = 0;
  for (const OneRun& r : runs) {
    std::cerr << r.failures;
    if (r.status == kExitCannotRun || (r.status == 1 && status == 0)) status = r.status;
  }
  return status;
}

}  // namespace ksmsim::tools
