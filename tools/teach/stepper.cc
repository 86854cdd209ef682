#include "tools/teach/stepper.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fmt/format.h"
#include "tools/teach/event_filter.h"
#include "tools/teach/event_log.h"
#include "tools/teach/trees.h"
#include "workloads/step_json.h"

namespace ksmsim::tools {
namespace {

using teach::kEventNames;

constexpr const char* kHelp =
    "commands (a count N repeats a run command N times; breakpoints and watches stop every\n"
    "run command but finish):\n"
    "  step [N]        s  run to the start of the next workload step\n"
    "  batch [N]       b  run to the start of the next ksmd batch (ksm_do_scan)\n"
    "  page [N]        p  run to the next page ksmd scans (cmp_and_merge_page)\n"
    "  event NAME [N]  e  run to the next event NAME (a KSM tracepoint or ksmsim_*)\n"
    "  continue        co run until a breakpoint or watch stops it, or the end\n"
    "  finish          f  run to the end of the workload, past breakpoints and watches\n"
    "  break page PROC:REGION[i]  stop whenever ksmd scans that page\n"
    "  watch COUNTER      stop whenever the counter changes (pages_sharing, vmstat.cow_ksm,\n"
    "                     procs.PROC.ksm_merging_pages, ...)\n"
    "  break / watch      list the breakpoints and watches\n"
    "  delete [ID...]     delete breakpoints and watches (all without an ID)\n"
    "  counters        c  print every counter (/sys/kernel/mm/ksm, procs, vmstat)\n"
    "  trees           t  print the stable and unstable trees\n"
    "  dot BASE           write the trees as BASE-stable.dot and BASE-unstable.dot\n"
    "  where           w  print where the simulation is\n"
    "  help            h  this list\n"
    "  quit            q  leave (so does the end of the input)\n"
    "on a terminal: Left/Right/Home/End edit the line, Up/Down walk the history\n";

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

std::string Ms(uint64_t ns) { return fmt::format("{}.{:06} ms", ns / 1000000, ns % 1000000); }

}  // namespace

Stepper::Stepper(workloads::Driver& driver, std::vector<workloads::FlatStep> steps,
                 std::istream& in, std::ostream& out, bool interactive, int in_fd)
    : d_(driver),
      steps_(std::move(steps)),
      in_(in),
      out_(out),
      interactive_(interactive),
      in_fd_(in_fd),
      points_(steps_) {
  out_ << fmt::format("ksmsim step: {} steps; type help for the commands\n", steps_.size());
}

void Stepper::BeforeStep(uint64_t index) {
  step_ = index;
  in_step_ = false;
  if (!quitting_) {
    std::vector<std::string> reasons;
    if (Reached(Until::kStep)) reasons.push_back(fmt::format("before step {}", StepText(index)));
    CheckWatches(reasons);
    if (!reasons.empty() && reasons.front().rfind("watch", 0) == 0)
      reasons.push_back(fmt::format("before step {}", StepText(index)));
    StopIf(reasons);
  }
  if (quitting_) throw Quit{};
  in_step_ = true;
}

void Stepper::BeforeBatch() {
  ++batch_;
  if (!quitting_) {
    std::vector<std::string> reasons;
    std::string what = fmt::format("ksmd batch {} starts: ksm_do_scan({})", batch_,
                                   d_.ksm().knobs().pages_to_scan);
    if (Reached(Until::kBatch)) reasons.push_back(what);
    CheckWatches(reasons);
    if (!reasons.empty() && reasons.front().rfind("watch", 0) == 0) reasons.push_back(what);
    StopIf(reasons);
  }
  if (quitting_) throw Quit{};
}

void Stepper::OnEvent(const ksm::KsmEvent& e) {
  bool scan = e.name == ksm::kDecisionEvent && e.what == "scan";
  // A page smart scan skips is named too (its one decision), but ksmd does not scan it.
  if (scan || (e.name == ksm::kDecisionEvent && e.decision == ksm::Decision::kSmartScanSkip))
    page_ = d_.DescribeAddress(e.mm, e.addr);
  if (quitting_) return;
  std::vector<std::string> reasons;
  std::string scanned = fmt::format("ksmd scans {} (pfn {}): cmp_and_merge_page", page_, e.pfn);
  if (scan && Reached(Until::kPage)) reasons.push_back(scanned);
  if (scan && points_.has_breaks() && target_.until != Until::kEnd) {
    if (auto loc = d_.LocateAddress(e.mm, e.addr)) {
      std::vector<std::string> hits = points_.Hits(*loc);
      if (!hits.empty()) {
        std::string joined;
        for (const auto& h : hits) joined += (joined.empty() ? "" : ", ") + h;
        if (reasons.empty())
          reasons.push_back(joined + ": " + scanned);
        else
          reasons.push_back(joined);
      }
    }
  }
  if (!scan || reasons.empty()) {
    // (a new target starts with the event after a page stop)
    if (Reached(Until::kEvent, std::string(e.name))) reasons.push_back("event " + EventText(e));
  }
  std::vector<std::string> changed;
  CheckWatches(changed);
  if (!changed.empty()) {
    reasons.insert(reasons.end(), changed.begin(), changed.end());
    if (reasons.size() == changed.size()) reasons.push_back("after event " + EventText(e));
  }
  StopIf(reasons);
}

void Stepper::AtEnd() {
  at_end_ = true;
  if (quitting_) return;
  Stop(fmt::format("end of the workload ({} of {} steps run)", steps_.empty() ? 0 : step_ + 1,
                   steps_.size()));
}

bool Stepper::Reached(Until kind, const std::string& event) {
  if (target_.until != kind || (kind == Until::kEvent && event != target_.event)) return false;
  return --target_.remaining == 0;
}

void Stepper::CheckWatches(std::vector<std::string>& reasons) {
  if (!points_.has_watches() || target_.until == Until::kEnd) return;
  for (std::string& c : points_.Changes(d_)) reasons.push_back(std::move(c));
}

void Stepper::StopIf(const std::vector<std::string>& reasons) {
  if (reasons.empty()) return;
  std::string joined;
  for (const auto& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
  Stop(joined);
}

void Stepper::Stop(const std::string& reason) {
  const auto& errors = d_.errors();
  for (; errors_shown_ < errors.size(); ++errors_shown_)
    out_ << "error: " << errors[errors_shown_] << "\n";
  out_ << "stop: " << reason << "\n" << Where() << "\n";
  CommandLoop();
}

void Stepper::CommandLoop() {
  for (;;) {
    std::optional<std::string> line =
        teach::ReadLine(in_, interactive_ ? in_fd_ : -1, out_, "(ksmsim) ",
                        interactive_ ? &editor_ : nullptr, interactive_);
    if (!line) {
      quitting_ = true;
      out_.flush();
      return;
    }
    if (line->find('\x1b') != std::string::npos) {
      // Arrow keys typed into a pipe or a terminal without line editing.
      out_ << "error: the line holds a terminal escape sequence (an arrow key?); line "
              "editing and history work when stdin is a terminal\n";
      continue;
    }
    std::vector<std::string> words = Words(*line);
    if (words.empty() || words[0][0] == '#') continue;
    if (Execute(words)) return;
    if (quitting_) return;
  }
}

bool Stepper::Execute(const std::vector<std::string>& w) {
  const std::string& c = w[0];
  auto count_at = [&](size_t i, uint64_t* n) {
    if (w.size() > i + 1) {
      out_ << fmt::format("error: {}: too many arguments; type help for the commands\n", c);
      return false;
    }
    if (w.size() <= i) return true;
    // Digits only: stoull would take "-1" as 2^64-1 and run to the end.
    bool digits = !w[i].empty() && w[i].size() <= 19 &&
                  w[i].find_first_not_of("0123456789") == std::string::npos;
    if (digits) *n = std::stoull(w[i]);
    if (digits && *n > 0) return true;
    out_ << fmt::format("error: {}: expected a count (a positive number), got '{}'\n", c, w[i]);
    return false;
  };
  auto go = [&](Until until, size_t count_index, std::string event = "") {
    uint64_t n = 1;
    if (!count_at(count_index, &n)) return false;
    if (at_end_) {
      out_ << "the workload has finished: counters, trees, dot, where and quit still work\n";
      return false;
    }
    target_ = Target{until, std::move(event), n};
    return true;
  };
  if (c == "step" || c == "s") return go(Until::kStep, 1);
  if (c == "batch" || c == "b") return go(Until::kBatch, 1);
  if (c == "page" || c == "p") return go(Until::kPage, 1);
  if (c == "finish" || c == "f") return go(Until::kEnd, 1);
  if (c == "continue" || c == "co") return go(Until::kContinue, 1);
  if (c == "break" || c == "watch" || c == "delete") {
    std::vector<std::string> args(w.begin() + 1, w.end());
    if (c != "delete" && args.empty())
      out_ << points_.List() << "\n";
    else if (c == "break")
      out_ << points_.Break(args) << "\n";
    else if (c == "watch")
      out_ << points_.Watch(d_, args) << "\n";
    else
      out_ << points_.Delete(args) << "\n";
    return false;
  }
  if (c == "event" || c == "e") {
    std::string names;
    for (const char* n : kEventNames) names += std::string(" ") + n;
    if (w.size() < 2) {
      out_ << fmt::format("error: {} needs an event name, one of:{}\n", c, names);
      return false;
    }
    if (std::find(std::begin(kEventNames), std::end(kEventNames), w[1]) == std::end(kEventNames)) {
      out_ << fmt::format("error: unknown event '{}'; the events are:{}\n", w[1], names);
      return false;
    }
    return go(Until::kEvent, 2, w[1]);
  }
  if (w.size() > 1 && c != "dot") {
    out_ << fmt::format("error: {} takes no argument; type help for the commands\n", c);
    return false;
  }
  if (c == "counters" || c == "c") {
    PrintCounters();
  } else if (c == "trees" || c == "t") {
    out_ << teach::StableTreesText(d_) << teach::UnstableTreesText(d_);
  } else if (c == "dot") {
    if (w.size() != 2)
      out_ << "error: dot needs one argument, the base name of the files to write\n";
    else
      WriteDot(w[1]);
  } else if (c == "where" || c == "w") {
    out_ << Where() << "\n";
  } else if (c == "help" || c == "h" || c == "?") {
    out_ << kHelp;
  } else if (c == "quit" || c == "q") {
    quitting_ = true;
  } else {
    out_ << fmt::format("error: unknown command '{}'; type help for the commands\n", c);
  }
  return false;
}

std::string Stepper::Where() const {
  std::string step;
  if (steps_.empty())
    step = "no step";
  else if (at_end_)
    step = fmt::format("after step {} (the last step run)", step_);
  else
    step = fmt::format("{} step {}", in_step_ ? "in" : "before", StepText(step_));
  const ksm::Ksm& k = d_.ksm();
  // One numbering everywhere (explain, events, Perfetto): pass 1 is the first pass, and
  // full_scans counts the passes finished.
  return fmt::format("  at: time {}, {}, ksmd {} pass {} (full_scans {}), batch {}",
                     Ms(d_.ksmd().event_time(d_.queue().now())), step,
                     k.scan_in_pass() ? "in" : "before", teach::PassOf(k.full_scans()),
                     k.full_scans(), batch_);
}

std::string Stepper::StepText(uint64_t index) const {
  if (index >= steps_.size()) return fmt::format("{}", index);
  const workloads::Step& s = *steps_[index].step;
  std::string t = fmt::format("{} ({}", index, workloads::OpName(s.op()));
  // Any op naming a process (and a region): its fields as the file has them.
  nlohmann::ordered_json fields = workloads::StepToJson(s);
  std::string proc = fields.value("proc", ""), region = fields.value("region", "");
  if (!proc.empty()) t += " " + proc + (region.empty() ? "" : ":" + region);
  if (const auto* wait = s.get_if<workloads::WaitStep>()) {
    const workloads::WaitSpec w = wait->spec();
    t += w.unit == workloads::WaitSpec::Unit::kMs ? fmt::format(" {} ms", w.amount)
                                                  : fmt::format(" full_scans {}", w.amount);
  }
  if (!s.label.empty()) t += " \"" + s.label + "\"";
  return t + ")";
}

std::string Stepper::EventText(const ksm::KsmEvent& e) const {
  std::string t(e.name);
  if (e.name == ksm::kDecisionEvent) {
    t += fmt::format(" {} {}, page {}", e.func, e.what, page_);
    if (e.other_mm) t += ", tree page " + d_.DescribeAddress(e.other_mm, e.other_addr);
    if (e.other_pfn >= 0) t += fmt::format(", kpfn {}", e.other_pfn);
    return t;
  }
  if (e.mm) t += " " + d_.DescribeAddress(e.mm, e.addr);
  if (e.pfn >= 0) t += fmt::format(" pfn {}", e.pfn);
  if (e.other_pfn >= 0) t += fmt::format(" kpfn {}", e.other_pfn);
  if (e.name == "ksm_merge_one_page") t += fmt::format(" err {}", e.err);
  if (e.name == "ksm_start_scan" || e.name == "ksm_stop_scan")
    t += fmt::format(" seq {} rmap_num {}", e.seq, e.rmap_num);
  if (e.name == ksm::kSmartScanSkipEvent) t += fmt::format(" skipped {}", e.skipped);
  if (e.name == "ksm_advisor")  // the tracepoint's own words
    t += fmt::format(" ksm scan time {} pages_to_scan {} cpu percent {}", e.scan_time,
                     e.pages_to_scan, e.cpu_percent);
  return t;
}

void Stepper::PrintCounters() {
  nlohmann::ordered_json c = d_.Counters();
  for (const char* group : {"ksm", "vmstat"})
    for (auto it = c[group].begin(); it != c[group].end(); ++it)
      out_ << fmt::format("{}.{} {}\n", group, it.key(), it.value().dump());
  for (auto p = c["procs"].begin(); p != c["procs"].end(); ++p)
    for (auto it = p.value().begin(); it != p.value().end(); ++it)
      out_ << fmt::format("procs.{}.{} {}\n", p.key(), it.key(), it.value().dump());
}

void Stepper::WriteDot(const std::string& base_arg) {
  std::string base = base_arg;
  if (base.size() > 4 && base.substr(base.size() - 4) == ".dot") base.resize(base.size() - 4);
  std::string names;
  for (bool stable : {true, false}) {
    std::string path = base + (stable ? "-stable.dot" : "-unstable.dot");
    std::ofstream f(path);
    f << (stable ? teach::StableTreesDot(d_) : teach::UnstableTreesDot(d_));
    f.close();
    if (!f) {
      out_ << fmt::format("error: {}: cannot write\n", path);
      return;
    }
    names += (names.empty() ? "" : " and ") + path;
  }
  out_ << "wrote " << names << "\n";
}

}  // namespace ksmsim::tools
