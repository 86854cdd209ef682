// The Trace Event Format timeline (perfetto.h).
#include "tools/teach/perfetto.h"

#include <algorithm>

#include "fmt/format.h"
#include "tools/teach/event_log.h"

namespace ksmsim::tools::teach {
namespace {

constexpr uint64_t kKsmdPid = 1, kSysfsPid = 2, kVmstatPid = 3, kFirstProcPid = 100;
constexpr uint64_t kPassTid = 1, kBatchTid = 2;

// Microseconds with the nanoseconds kept: "12.345".
std::string Us(uint64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

}  // namespace

PerfettoTrace::PerfettoTrace(std::ostream& out) : out_(out) {
  out_ << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"producer\":\"ksmsim\",\"time\":"
          "\"simulated\"},\"traceEvents\":[\n";
  Metadata(kKsmdPid, std::nullopt, "process_name", "ksmd");
  Metadata(kKsmdPid, kPassTid, "thread_name", "passes");
  Metadata(kKsmdPid, kBatchTid, "thread_name", "batches");
  Metadata(kSysfsPid, std::nullopt, "process_name", "/sys/kernel/mm/ksm");
  Metadata(kVmstatPid, std::nullopt, "process_name", "/proc/vmstat");
}

void PerfettoTrace::Install(workloads::DriverOptions& opt) {
  auto prev_event = opt.on_event;
  opt.on_event = [this, prev_event](const ksm::KsmEvent& e, uint64_t t) {
    OnEvent(e, t);
    if (prev_event) prev_event(e, t);
  };
  auto prev_batch = opt.after_batch;
  opt.after_batch = [this, prev_batch](uint64_t start, uint64_t end) {
    AfterBatch(start, end);
    if (prev_batch) prev_batch(start, end);
  };
  auto prev_step = opt.after_step;
  opt.after_step = [this, prev_step](const workloads::FlatStep& fs) {
    if (d_) SampleCounters(std::max(d_->queue().now(), last_t_));
    if (prev_step) prev_step(fs);
  };
}

void PerfettoTrace::Emit(const std::string& json) {
  if (!first_) out_ << ",\n";
  first_ = false;
  out_ << json;
}

void PerfettoTrace::Metadata(uint64_t pid, std::optional<uint64_t> tid, std::string_view what,
                             std::string_view name) {
  Emit(fmt::format("{{\"ph\":\"M\",\"pid\":{}{},\"name\":\"{}\",\"args\":{{\"name\":{}}}}}", pid,
                   tid ? fmt::format(",\"tid\":{}", *tid) : "", what, Quoted(name)));
}

uint64_t PerfettoTrace::ProcessPid(const mmu::Mm* mm) {
  uint64_t pid = kFirstProcPid + mm->id;
  if (pids_.insert(pid).second) {
    Metadata(pid, std::nullopt, "process_name", mm->name);
    Metadata(pid, pid, "thread_name", mm->name);
    Emit(
        fmt::format("{{\"ph\":\"M\",\"pid\":{},\"name\":\"process_sort_index\",\"args\":"
                    "{{\"sort_index\":{}}}}}",
                    pid, pid));
  }
  return pid;
}

void PerfettoTrace::Instant(const ksm::KsmEvent& e, uint64_t t, std::string_view name) {
  uint64_t pid = ProcessPid(e.mm);
  std::string args = fmt::format("\"addr\":\"{:#x}\"", e.addr);
  if (d_) {
    if (auto loc = d_->LocateAddress(e.mm, e.addr))
      args += ",\"page\":" + Quoted(fmt::format("{}:{}[{}]", *loc->proc, *loc->region, loc->index));
  }
  if (e.pfn >= 0) args += fmt::format(",\"pfn\":{}", e.pfn);
  if (e.other_pfn >= 0) args += fmt::format(",\"kpfn\":{}", e.other_pfn);
  if (e.new_pfn >= 0) args += fmt::format(",\"new_pfn\":{}", e.new_pfn);
  if (e.name == "ksmsim_migrate") args += fmt::format(",\"nid\":{}", e.nid);
  if (e.name == "ksmsim_swapin") args += e.swap_read ? ",\"read\":true" : ",\"read\":false";
  Emit(fmt::format(
      "{{\"ph\":\"i\",\"s\":\"t\",\"pid\":{},\"tid\":{},\"ts\":{},\"name\":\"{}\",\"cat\":"
      "\"{}\",\"args\":{{{}}}}}",
      pid, pid, Us(t), name, e.name, args));
}

void PerfettoTrace::OnEvent(const ksm::KsmEvent& e, uint64_t t) {
  Seen(t);
  if (e.name == "ksm_start_scan") {
    pass_start_ = t;
    pass_seq_ = e.seq;
  } else if (e.name == "ksm_stop_scan") {
    uint64_t start = pass_start_.value_or(t);
    Emit(fmt::format(
        "{{\"ph\":\"X\",\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{},\"name\":\"pass "
        "{}\",\"cat\":\"pass\",\"args\":{{\"full_scans\":{},\"rmap_items\":{}}}}}",
        kKsmdPid, kPassTid, Us(start), Us(t - start), PassOf(e.seq), e.seq + 1, e.rmap_num));
    pass_start_.reset();
  } else if (e.name == "ksm_merge_one_page" && e.err == 0 && e.mm) {
    Instant(e, t, "merge");
  } else if (e.name == "ksmsim_cow_ksm") {
    Instant(e, t, "cow break");
  } else if (e.name == "ksmsim_swapin") {
    Instant(e, t, "swap-in");
  } else if (e.name == "ksmsim_migrate") {
    Instant(e, t, "migration");
  } else if (e.name == "ksm_advisor") {  // 6.12's scan-time advisor, on the passes' thread
    Emit(fmt::format(
        "{{\"ph\":\"i\",\"s\":\"t\",\"pid\":{},\"tid\":{},\"ts\":{},\"name\":\"advisor\","
        "\"cat\":\"ksm_advisor\",\"args\":{{\"scan_time\":{},\"pages_to_scan\":{},"
        "\"cpu_percent\":{}}}}}",
        kKsmdPid, kPassTid, Us(t), e.scan_time, e.pages_to_scan, e.cpu_percent));
  }
}

void PerfettoTrace::AfterBatch(uint64_t start, uint64_t end) {
  Seen(end);
  ++batch_;
  std::string args;
  if (d_) {
    const ksm::Ksm::Work& w = d_->ksm().last_work();
    args = fmt::format(
        "\"pages\":{},\"checksums\":{},\"compares\":{},\"merges\":{},\"faults\":{},"
        "\"full_scans\":{}",
        w.pages, w.checksums, w.compares, w.merges, w.faults, d_->ksm().full_scans());
  }
  Emit(
      fmt::format("{{\"ph\":\"X\",\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{},\"name\":\"batch "
                  "{}\",\"cat\":\"batch\",\"args\":{{{}}}}}",
                  kKsmdPid, kBatchTid, Us(start), Us(end - start), batch_, args));
  SampleCounters(end);
}

void PerfettoTrace::Counter(uint64_t pid, const std::string& name, int64_t value, uint64_t t) {
  std::string key = fmt::format("{}/{}", pid, name);
  auto it = counters_.find(key);
  if (it != counters_.end() && it->second == value) return;
  counters_[key] = value;
  Emit(fmt::format("{{\"ph\":\"C\",\"pid\":{},\"ts\":{},\"name\":{},\"args\":{{\"value\":{}}}}}",
                   pid, Us(t), Quoted(name), value));
}

void PerfettoTrace::SampleCounters(uint64_t t) {
  if (!d_) return;
  Seen(t);
  for (const auto& [name, value] : d_->ksm().SysfsValues()) Counter(kSysfsPid, name, value, t);
  const mmu::Vmstat& vm = d_->machine().vmstat();
  Counter(kVmstatPid, "cow_ksm", static_cast<int64_t>(vm.cow_ksm), t);
  Counter(kVmstatPid, "ksm_swpin_copy", static_cast<int64_t>(vm.ksm_swpin_copy), t);
  Counter(kVmstatPid, "pswpin", static_cast<int64_t>(vm.pswpin), t);
  Counter(kVmstatPid, "pswpout", static_cast<int64_t>(vm.pswpout), t);
  for (const auto& [id, mm] : d_->machine().mms()) {
    if (mm->ksm_rmap_items == 0 && mm->ksm_merging_pages == 0 &&
        !pids_.count(kFirstProcPid + mm->id))
      continue;  // a process KSM never saw gets no track
    uint64_t pid = ProcessPid(mm);
    Counter(pid, "ksm_merging_pages", mm->ksm_merging_pages, t);
    Counter(pid, "ksm_rmap_items", mm->ksm_rmap_items, t);
  }
}

void PerfettoTrace::Finish() {
  if (pass_start_) {
    Emit(fmt::format(
        "{{\"ph\":\"X\",\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{},\"name\":\"pass "
        "{} (unfinished)\",\"cat\":\"pass_unfinished\",\"args\":{{}}}}",
        kKsmdPid, kPassTid, Us(*pass_start_), Us(last_t_ - *pass_start_), PassOf(pass_seq_)));
  }
  if (d_) SampleCounters(std::max(last_t_, d_->queue().now()));
  out_ << "\n]}\n";
  out_.flush();
}

}  // namespace ksmsim::tools::teach
