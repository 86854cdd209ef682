#include "tools/sweep/run_point.h"

#include <map>
#include <memory>
#include <sstream>

#include "fmt/format.h"
#include "tools/cli/load_workload.h"
#include "tools/sweep/ksmtuned.h"
#include "traces/replay.h"
#include "workloads/counters.h"
#include "workloads/driver.h"

namespace ksmsim::tools::sweep {
namespace {

using Json = nlohmann::ordered_json;

// advisor_mode's number for "scan-time" (workloads/counters.h).
const int64_t kAdvisorScanTime = *workloads::AdvisorModeFromName("scan-time");

// Samples the saving at every step and before every event, keeping the changes, and the
// ksmd figures at each snapshot/expect step.
class Meter {
 public:
  Meter(const SweepSpec& spec, const Point& point) : spec_(spec), point_(point) {}

  void Install(workloads::DriverOptions& opt) {
    auto before = opt.before_time;
    opt.before_time = [this, before](uint64_t t) {
      if (before) before(t);
      Sample();
    };
    auto after = opt.after_step;
    opt.after_step = [this, after](const workloads::FlatStep& fs) {
      if (after) after(fs);
      Sample();
      if (fs.step->op() == workloads::Op::kSnapshot || fs.step->op() == workloads::Op::kExpect)
        at_step_[fs.index] = Figures();
    };
  }

  void Bind(workloads::Driver& d) {
    d_ = &d;
    if (point_.policy == "ksmtuned") {
      tuned_ = std::make_unique<Ksmtuned>(d, spec_.ksmtuned);
      tuned_->Start();
    }
  }

  int64_t Saved() const {
    return static_cast<int64_t>(d_->ksm().pages_sharing() + d_->ksm().zero_pages()) *
           static_cast<int64_t>(workloads::kPageSize);
  }

  void Sample() {
    int64_t v = Saved();
    if (v != last_) {
      changes_.emplace_back(d_->queue().now(), v);
      last_ = v;
    }
  }

  Json Figures() const {
    return {{"saved_bytes", Saved()},
            {"ksmd_cpu_ns", d_->ksmd().busy_ns()},
            {"pages_scanned", d_->ksmd().pages_scanned()}};
  }

  // The first simulated time the saving reached `pct`% of `final` (null when it is 0).
  Json TimeTo(int pct, int64_t final) const {
    if (final <= 0) return nullptr;
    for (const auto& [t, v] : changes_) {
      // v >= pct/100 * final, in integers.
      if (static_cast<__int128>(v) * 100 >= static_cast<__int128>(final) * pct) return t;
    }
    return nullptr;
  }

  const std::map<uint64_t, Json>& at_step() const { return at_step_; }
  uint64_t adjustments() const { return tuned_ ? tuned_->adjustments() : 0; }

 private:
  const SweepSpec& spec_;
  const Point& point_;
  workloads::Driver* d_ = nullptr;
  std::unique_ptr<Ksmtuned> tuned_;
  int64_t last_ = 0;
  std::vector<std::pair<uint64_t, int64_t>> changes_;
  std::map<uint64_t, Json> at_step_;
};

Json Entry(const Json& counters, const Json& figures) {
  Json e;
  e["step"] = counters.contains("step") ? counters["step"] : Json(nullptr);
  e["label"] = counters.contains("label") ? counters["label"] : Json("end");
  e["time_ns"] = counters["time_ns"];
  for (const auto& [k, v] : figures.items()) e[k] = v;
  e["ksm"] = counters["ksm"];
  e["vmstat"] = counters["vmstat"];
  e["procs"] = counters["procs"];
  return e;
}

}  // namespace

Json RunPoint(const SweepSpec& spec, const Point& point) {
  Json out;
  out["point"] = point.index;
  out["input"] = point.input->name;
  out["policy"] = point.policy;
  Json knobs = Json::object();
  for (const auto& [k, v] : point.set) knobs[k] = v;
  out["knobs"] = knobs;
  Meter meter(spec, point);
  Json doc;
  Json end;
  int status = 0;
  auto finish = [&](workloads::Driver& d) {
    end = d.Counters();
    end["time_ns"] = d.queue().now();
    end["figures"] = meter.Figures();
  };
  try {
    if (point.input->trace) {
      traces::Trace t = traces::ReadTraceFile(point.input->path);
      traces::ReplayHooks hooks;
      hooks.install = [&](workloads::DriverOptions& opt) { meter.Install(opt); };
      hooks.bind = [&](workloads::Driver& d) { meter.Bind(d); };
      hooks.done = finish;
      // As `replay --set` does: the knobs replace the trace's initial ones (and the advisor
      // policy's advisor_mode comes last).
      workloads::KnobList set = point.set;
      if (point.policy == "advisor") set.emplace_back(workloads::kAdvisorMode, kAdvisorScanTime);
      traces::ReplayOutcome r = traces::Replay(t, set, false, hooks);
      doc = std::move(r.document);
      status = r.exit_status;
    } else {
      std::ostringstream err;
      std::optional<workloads::Workload> w = LoadWorkloadOrReport(point.input->path, err);
      if (!w) throw traces::TraceError{err.str()};
      // As `replay --set` does: a swept knob replaces the workload's initial value.
      for (const auto& [k, v] : point.set) {
        auto it = std::find_if(w->ksm.begin(), w->ksm.end(),
                               [&](const auto& kv) { return kv.first == k; });
        if (it != w->ksm.end())
          it->second = v;
        else
          w->ksm.emplace_back(k, v);
      }
      // The advisor policy: advisor_mode "scan-time" written last (so pages_to_scan starts at
      // advisor_min_pages_to_scan, set_advisor_defaults), before ksmd runs.
      if (point.policy == "advisor") {
        std::erase_if(w->ksm, [](const auto& kv) { return kv.first == workloads::kAdvisorMode; });
        w->ksm.emplace_back(workloads::kAdvisorMode, kAdvisorScanTime);
      }
      workloads::DriverOptions opt;
      meter.Install(opt);
      workloads::Driver d(*w, opt);
      meter.Bind(d);
      doc = d.Run();
      status = d.exit_status();
      finish(d);
    }
  } catch (const traces::TraceError& e) {
    out["exit_status"] = 2;
    out["errors"] = Json::array({e.message});
    return out;
  }
  out["exit_status"] = status;
  out["errors"] = doc["errors"];
  Json snaps = Json::array();
  for (const auto& r : doc["results"]) {
    uint64_t step = r["step"].get<uint64_t>();
    auto it = meter.at_step().find(step);
    snaps.push_back(Entry(r, it != meter.at_step().end() ? it->second : Json::object()));
  }
  Json final_entry = Entry(end, end["figures"]);
  snaps.push_back(final_entry);
  out["snapshots"] = snaps;
  int64_t final_saved = final_entry["saved_bytes"].get<int64_t>();
  Json to = Json::object();
  for (int pct : kSavingLevels) to[fmt::format("t{}_ns", pct)] = meter.TimeTo(pct, final_saved);
  out["time_to_saving"] = to;
  if (point.policy == "ksmtuned") out["ksmtuned_adjustments"] = meter.adjustments();
  return out;
}

}  // namespace ksmsim::tools::sweep
