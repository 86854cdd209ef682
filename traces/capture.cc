// Converting samples of live processes (page hashes) into trace ops: see traces/capture.h.
#include "traces/capture.h"

#include "fmt/format.h"

namespace ksmsim::traces {

using Json = nlohmann::ordered_json;
using State = CapturedPage::State;

CaptureBuilder::CaptureBuilder(std::string name, std::string description, uint64_t interval_ms)
    : name_(std::move(name)), description_(std::move(description)), interval_ms_(interval_ms) {}

ContentRef CaptureBuilder::ContentOf(const CapturedPage& p) {
  ContentRef c;
  if (p.fill >= 0) {
    c.kind = ContentRef::Kind::kFill;
    c.value = static_cast<uint64_t>(p.fill);
    return c;
  }
  c.kind = ContentRef::Kind::kGen;
  auto it = gen_of_.find(p.hash);
  if (it != gen_of_.end()) {
    c.value = it->second;
    return c;
  }
  uint64_t x = p.hash.lo;
  while (hash_of_gen_.count(x)) ++x;  // another hash took x: distinct hashes, distinct x
  gen_of_.emplace(p.hash, x);
  hash_of_gen_.emplace(x, p.hash);
  c.value = x;
  return c;
}

void CaptureBuilder::Emit(Json fields, std::vector<ContentRun> contents) {
  TraceOp op;
  op.fields = Canonical(fields, "");
  op.contents = std::move(contents);
  ops_.push_back(std::move(op));
}

std::string CaptureBuilder::RegionName(Proc& p, const CapturedVma& v) {
  std::string base = v.kind == "anon" ? fmt::format("anon-{:x}", v.start) : v.kind;
  std::string name = base;
  for (int n = 2; p.used_names.count(name); ++n) name = fmt::format("{}.{}", base, n);
  p.used_names.insert(name);
  return name;
}

namespace {

// Calls f(first, end) for each maximal run of indexes i in [0, n) with pred(i).
template <typename Pred, typename F>
void ForRuns(size_t n, Pred pred, F f) {
  for (size_t i = 0; i < n;) {
    if (!pred(i)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && pred(j)) ++j;
    f(i, j);
    i = j;
  }
}

}  // namespace

void CaptureBuilder::SampleProcess(const ProcessSample& s) {
  const std::string path = fmt::format("samples[{}]", samples_);
  if (exited_.count(s.pid)) return;
  auto pit = procs_.find(s.pid);
  if (!s.alive) {
    if (pit != procs_.end()) {
      Emit({{"op", "exit"}, {"path", path}, {"proc", pit->second.name}});
      procs_.erase(pit);
      exited_.insert(s.pid);
    }
    return;
  }
  if (pit == procs_.end()) {
    pit = procs_.emplace(s.pid, Proc{}).first;
    pit->second.name = fmt::format("pid{}", s.pid);
    Emit({{"op", "spawn"}, {"path", path}, {"proc", pit->second.name}});
  }
  Proc& p = pit->second;
  // VMAs that vanished or changed bounds are unmapped; a VMA at new bounds is a new region.
  std::map<uint64_t, const CapturedVma*> now;
  for (const CapturedVma& v : s.vmas) now[v.start] = &v;
  for (auto it = p.regions.begin(); it != p.regions.end();) {
    auto n = now.find(it->first);
    if (n != now.end() && n->second->end == it->second.end) {
      ++it;
      continue;
    }
    Emit({{"op", "munmap"}, {"path", path}, {"proc", p.name}, {"region", it->second.name}});
    it = p.regions.erase(it);
  }
  for (const auto& entry : now) {
    const uint64_t start = entry.first;
    const CapturedVma* v = entry.second;
    uint64_t npages = v->pages.size();
    auto [it, fresh] = p.regions.try_emplace(start);
    Region& r = it->second;
    if (fresh) {
      r.name = RegionName(p, *v);
      r.start = v->start;
      r.end = v->end;
      r.pages.assign(npages, CapturedPage{});
      Emit({{"op", "mmap"},
            {"path", path},
            {"proc", p.name},
            {"region", r.name},
            {"pages", npages}});
      Emit({{"op", "madvise"},
            {"path", path},
            {"proc", p.name},
            {"region", r.name},
            {"advice", "mergeable"}});
    }
    // Present before, now neither present nor swapped: freed (MADV_DONTNEED, or the like).
    ForRuns(
        npages,
        [&](size_t i) {
          return r.pages[i].state == State::kPresent && v->pages[i].state == State::kAbsent;
        },
        [&](size_t a, size_t b) {
          Emit({{"op", "madvise"},
                {"path", path},
                {"proc", p.name},
                {"region", r.name},
                {"range", {a, b}},
                {"advice", "dontneed"}});
          for (size_t i = a; i < b; ++i) r.pages[i] = CapturedPage{};
        });
    // New or changed pages are written; a swapped-out page keeps its last known content.
    ForRuns(
        npages,
        [&](size_t i) {
          const CapturedPage& c = v->pages[i];
          return c.state == State::kPresent && !(r.pages[i] == c);
        },
        [&](size_t a, size_t b) {
          std::vector<ContentRun> runs;
          for (size_t i = a; i < b; ++i) {
            ContentRef c = ContentOf(v->pages[i]);
            if (!runs.empty() && runs.back().content == c) {
              ++runs.back().count;
            } else {
              runs.push_back({1, c});
            }
            r.pages[i] = v->pages[i];
          }
          Json f = {{"op", "write"}, {"path", path}, {"proc", p.name}, {"region", r.name}};
          if (a != 0 || b != npages) f["range"] = {a, b};
          Emit(std::move(f), std::move(runs));
        });
  }
}

void CaptureBuilder::AddSample(const std::vector<ProcessSample>& sample) {
  for (const ProcessSample& s : sample) SampleProcess(s);
  uint64_t present = 0;
  for (const auto& [pid, p] : procs_)
    for (const auto& [start, r] : p.regions)
      for (const CapturedPage& pg : r.pages) present += pg.state == State::kPresent;
  max_present_ = std::max(max_present_, present);
  const std::string path = fmt::format("samples[{}]", samples_);
  Emit({{"op", "wait"}, {"path", path}, {"ms", interval_ms_}});
  Emit({{"op", "snapshot"}, {"path", path}, {"label", fmt::format("sample {}", samples_)}});
  ++samples_;
}

uint64_t CaptureMachineMib(uint64_t max_present_pages) {
  uint64_t mib = (2 * max_present_pages * workloads::kPageSize + (1u << 20) - 1) >> 20;
  mib += 64;
  mib = (mib + 127) / 128 * 128;
  return std::max<uint64_t>(mib, 256);
}

Trace CaptureBuilder::Finish() const {
  Trace t;
  t.header.name = name_;
  t.header.description = description_;
  t.header.machine = {{"nodes", Json::array({{{"memory_mib", CaptureMachineMib(max_present_)}}})},
                      {"swap_mib", 0},
                      {"memory_block_mib", 128},
                      {"page_size", workloads::kPageSize}};
  t.header.ksm = {{"run", 1}, {"pages_to_scan", 100}, {"sleep_millisecs", 20}};
  t.ops = ops_;
  return t;
}

}  // namespace ksmsim::traces
