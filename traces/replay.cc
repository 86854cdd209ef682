#include "traces/replay.h"

#include <map>

#include "fmt/format.h"
#include "sim/hash.h"
#include "workloads/counters.h"
#include "workloads/parse.h"

namespace ksmsim::traces {

using Json = nlohmann::ordered_json;
using workloads::DataSpec;
using workloads::FlatStep;
using workloads::Op;

namespace {

mmu::ContentId Materialise(mmu::ContentStore& cs, const ContentRef& c, mmu::ContentId current) {
  switch (c.kind) {
    case ContentRef::Kind::kFill: return cs.Fill(static_cast<uint8_t>(c.value));
    case ContentRef::Kind::kGen: return cs.Gen(c.value);
    case ContentRef::Kind::kPatch:
      return cs.Patch(current, c.offset, static_cast<uint8_t>(c.value));
  }
  return cs.Fill(0);
}

bool IsScanEvent(const ksm::KsmEvent& e, bool* start) {
  if (e.name == "ksm_start_scan") return *start = true, true;
  if (e.name == "ksm_stop_scan") return *start = false, true;
  return false;
}

}  // namespace

Recorder::Recorder(const workloads::Workload& w) : seed_(w.seed) { trace_.header = HeaderOf(w); }

mmu::ContentId Recorder::Resolve(const FlatStep& fs, uint64_t index, mmu::ContentId current) {
  using sim::Fnv1a64;
  using sim::Mix64;
  const DataSpec& d = fs.step->as<workloads::WriteStep>().data;
  ContentRef c;
  c.kind = ContentRef::Kind::kGen;
  switch (d.kind) {
    case DataSpec::Kind::kFill:
      c.kind = ContentRef::Kind::kFill;
      c.value = d.fill;
      break;
    case DataSpec::Kind::kKey: c.value = Fnv1a64(d.key); break;
    case DataSpec::Kind::kCycle:
      c.value = Fnv1a64(fmt::format("cycle/{}/{}", d.k, index % d.k));
      break;
    case DataSpec::Kind::kPool: {
      uint64_t j = Mix64(Mix64(seed_ ^ Fnv1a64("pool")) + pool_n_++) % d.k;
      c.value = Fnv1a64(fmt::format("pool/{}/{}", d.k, j));
      break;
    }
    case DataSpec::Kind::kUnique:
      c.value = Mix64(Mix64(seed_ ^ Fnv1a64("unique")) ^ Mix64(unique_n_++));
      break;
    case DataSpec::Kind::kPatch:
      c.kind = ContentRef::Kind::kPatch;
      c.offset = d.patch_offset;
      c.value = d.patch_value;
      break;
  }
  if (!pending_.empty() && pending_.back().content == c) {
    ++pending_.back().count;
  } else {
    pending_.push_back({1, c});
  }
  return Materialise(driver_->machine().contents(), c, current);
}

void Recorder::Install(workloads::DriverOptions& opt) {
  opt.content_source = [this](const FlatStep& fs, uint64_t i, mmu::ContentId cur) {
    return Resolve(fs, i, cur);
  };
  auto prev_event = opt.on_event;
  opt.on_event = [this, prev_event](const ksm::KsmEvent& e, uint64_t t) {
    bool start = false;
    if (IsScanEvent(e, &start)) ++(start ? starts_ : stops_);
    if (prev_event) prev_event(e, t);
  };
  auto prev_after = opt.after_step;
  opt.after_step = [this, prev_after](const FlatStep& fs) {
    TraceOp op;
    op.fields = StepFields(*fs.step, fs.path);
    if (fs.step->op() == Op::kWrite) op.contents = std::move(pending_);
    pending_.clear();
    if (fs.step->op() == Op::kWait) {
      op.scans = {starts_, stops_};
      starts_ = stops_ = 0;
    }
    trace_.ops.push_back(std::move(op));
    if (prev_after) prev_after(fs);
  };
}

workloads::Workload TraceWorkload(const Trace& t, const workloads::KnobList& set) {
  Json doc;
  doc["ksmsim"] = workloads::kFormatVersion;
  doc["name"] = t.header.name;
  doc["description"] = t.header.description;
  doc["seed"] = t.header.seed;
  doc["kernel"] = t.header.kernel;
  doc["machine"] = t.header.machine;
  // advisor_mode's number back to its string (the format's; a trace holds integers).
  auto advisor_mode = [](Json& knobs) {
    auto m = knobs.find(workloads::kAdvisorMode);
    if (m == knobs.end() || !m->is_number_integer()) return;
    std::string_view name = workloads::AdvisorModeName(m->get<int64_t>());
    if (!name.empty()) *m = std::string(name);
  };
  Json knobs = t.header.ksm;
  for (const auto& [k, v] : set) {
    if (k == workloads::kAdvisorMode) knobs.erase(k);  // written after the others
    knobs[k] = v;
  }
  advisor_mode(knobs);
  doc["ksm"] = knobs;
  Json steps = Json::array();
  for (const TraceOp& op : t.ops) {
    Json s = op.fields;
    s.erase("path");
    if (s["op"] == "ksm" && s.contains("set")) advisor_mode(s["set"]);
    if (s["op"] == "write") s["data"] = {{"fill", 0}};
    steps.push_back(std::move(s));
  }
  doc["steps"] = std::move(steps);
  workloads::ParseOutcome parsed = workloads::ParseWorkloadJson(doc, "trace");
  if (!parsed.ok()) {
    const auto& e = parsed.errors.front();
    std::string where = "header";
    std::string field = e.json_path;
    if (e.json_path.rfind("steps[", 0) == 0) {
      size_t close = e.json_path.find(']');
      uint64_t i = std::stoull(e.json_path.substr(6, close - 6));
      field = e.json_path.substr(close + 1);
      if (!field.empty() && field[0] == '.') field.erase(0, 1);
      where = i < t.ops.size() && !t.ops[i].where.empty() ? t.ops[i].where
                                                           : fmt::format("op {}", i);
    }
    throw TraceError{fmt::format("{}: {}{}{}", where, field, field.empty() ? "" : ": ",
                                 e.message)};
  }
  workloads::Workload w = std::move(*parsed.workload);
  // Write contents must cover the write's range exactly.
  std::map<std::string, std::map<std::string, uint64_t>> regions;
  for (size_t i = 0; i < t.ops.size(); ++i) {
    workloads::Step& s = w.steps[i];
    s.path = t.ops[i].fields["path"].get<std::string>();
    switch (s.op()) {
      case Op::kSpawn:
        regions[s.as<workloads::SpawnStep>().proc].clear();
        break;
      case Op::kFork: {
        const auto& fork = s.as<workloads::ForkStep>();
        regions[fork.child] = regions[fork.proc];
        break;
      }
      case Op::kExit:
        regions.erase(s.as<workloads::ExitStep>().proc);
        break;
      case Op::kMmap: {
        const auto& mmap = s.as<workloads::MmapStep>();
        regions[mmap.proc][mmap.region] = *mmap.pages;
        break;
      }
      case Op::kWrite: {
        const auto& write = s.as<workloads::WriteStep>();
        uint64_t want = write.range ? write.range->size() : regions[write.proc][write.region];
        uint64_t have = 0;
        for (const auto& r : t.ops[i].contents) have += r.count;
        if (have != want)
          throw TraceError{fmt::format("{}: the write covers {} pages, its contents {}",
                                       t.ops[i].where.empty() ? fmt::format("op {}", i)
                                                              : t.ops[i].where,
                                       want, have)};
        break;
      }
      default: break;
    }
  }
  return w;
}

ReplayOutcome Replay(const Trace& t, const workloads::KnobList& set, bool check,
                     const ReplayHooks& hooks) {
  workloads::Workload w = TraceWorkload(t, set);
  ReplayOutcome out;
  workloads::Driver* driver = nullptr;
  workloads::DriverOptions opt;
  opt.check = check;
  uint64_t cur_index = UINT64_MAX;
  size_t run = 0;
  uint64_t used = 0;
  opt.content_source = [&](const FlatStep& fs, uint64_t, mmu::ContentId current) {
    if (fs.index != cur_index) {
      cur_index = fs.index;
      run = 0;
      used = 0;
    }
    const auto& runs = t.ops[fs.index].contents;
    const ContentRun& r = runs.at(run);
    if (++used == r.count) {
      ++run;
      used = 0;
    }
    return Materialise(driver->machine().contents(), r.content, current);
  };
  uint64_t starts = 0, stops = 0;
  opt.on_event = [&](const ksm::KsmEvent& e, uint64_t) {
    bool start = false;
    if (IsScanEvent(e, &start)) ++(start ? starts : stops);
  };
  opt.after_step = [&](const FlatStep& fs) {
    out.steps_run = fs.index + 1;
    out.last_was_entry = fs.step->op() == Op::kExpect || fs.step->op() == Op::kSnapshot;
    if (const auto* e = workloads::ExpectErrorOf(*fs.step))
      out.expect_errors[fs.index] =
          *e ? std::string(workloads::ExpectedErrorName(**e)) : std::string();
    if (fs.step->op() != Op::kWait) return;
    const TraceOp& op = t.ops[fs.index];
    if (op.scans) ++out.waits_compared;
    if (op.scans && (op.scans->first != starts || op.scans->second != stops)) {
      out.divergences.push_back(fmt::format(
          "{} (step {}, wait): ksmd started {} and stopped {} scans, the recording {} and {}",
          op.where.empty() ? fmt::format("op {}", fs.index) : op.where, fs.index, starts, stops,
          op.scans->first, op.scans->second));
    }
    starts = stops = 0;
  };
  if (hooks.install) hooks.install(opt);
  workloads::Driver d(w, opt);
  driver = &d;
  if (hooks.bind) hooks.bind(d);
  out.document = d.Run();
  if (hooks.done) hooks.done(d);
  out.document["engine"] = workloads::EngineName(w.kernel) + " replaying a trace";
  out.exit_status = d.exit_status();
  out.full_scans = d.ksm().full_scans();
  out.final_counters = d.Counters();
  out.time_ns = d.queue().now();
  return out;
}

}  // namespace ksmsim::traces
