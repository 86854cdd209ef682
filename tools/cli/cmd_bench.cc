// `ksmsim bench`: how fast and how small the simulator is (docs/PERFORMANCE.md).
// Each scenario drives mmu::Machine + ksm::Ksm directly (no workload parsing, no ksmd
// cost model) in a child process of its own, so that its peak RSS (VmHWM) is its own.
// Throughputs are simulated pages scanned (Ksm::Work::pages summed over ksm_do_scan calls)
// per wall second, and each is also given as a ratio to the baseline: XXH64 over distinct
// materialised 4 KiB buffers per second on the same machine in the same run.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#define XXH_INLINE_ALL  // header-only: libxxhash is linked privately into mmu
#include <xxhash.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tools/cli/bench_sim.h"
#include "tools/cli/cli_checks.h"
#include "tools/cli/command.h"
#include "tools/cli/io.h"

namespace ksmsim::tools {
namespace {

using namespace bench;  // NOLINT: the scenarios' shared parts

// What a scenario reports; filled in the child, sent to the parent as JSON over a pipe.
using ScenarioFn = std::function<Json(Json& out)>;

// Runs fn in a forked child; the result carries the child's peak RSS and its RSS at start.
Json RunInChild(const std::string& name, const ScenarioFn& fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    Json out;
    out["name"] = name;
    out["rss_start_bytes"] = ProcStatusBytes("VmRSS");
    try {
      fn(out);
    } catch (const std::exception& e) {
      out["error"] = e.what();
    }
    out["peak_rss_bytes"] = ProcStatusBytes("VmHWM");
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    out["ru_maxrss_bytes"] = uint64_t(ru.ru_maxrss) * 1024;
    std::string s = out.dump();
    size_t off = 0;
    while (off < s.size()) {
      ssize_t w = write(fds[1], s.data() + off, s.size() - off);
      if (w <= 0) break;
      off += size_t(w);
    }
    close(fds[1]);
    _exit(0);  // skip destructors: the figures are taken
  }
  close(fds[1]);
  std::string s;
  char buf[4096];
  ssize_t r;
  while ((r = read(fds[0], buf, sizeof buf)) > 0) s.append(buf, size_t(r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (s.empty()) {
    Json j;
    j["name"] = name;
    j["error"] = "child died (status " + std::to_string(status) + ")";
    return j;
  }
  return Json::parse(s);
}

// The four throughput scenarios: `procs` processes of `pages_per_proc` pages.
enum class Kind { kIdentical, kUnique, kPool, kRewrite };

Json Throughput(Json& out, Kind kind, int procs, uint64_t pages_per_proc, int passes) {
  uint64_t total = uint64_t(procs) * pages_per_proc;
  Sim sim(total);
  mmu::ContentStore& cs = sim.machine.contents();
  auto t0 = Clock::now();
  uint64_t unique_x = 1ULL << 40;
  for (int p = 0; p < procs; ++p) sim.AddProcess("p" + std::to_string(p), pages_per_proc);
  for (int p = 0; p < procs; ++p) {
    for (uint64_t i = 0; i < pages_per_proc; ++i) {
      mmu::ContentId c;
      switch (kind) {
        case Kind::kIdentical:
          c = cs.Fill(0x41);
          break;
        case Kind::kUnique:
          c = cs.Gen(unique_x++);
          break;
        case Kind::kPool:
        case Kind::kRewrite:
          c = cs.Gen(Mix64(p * pages_per_proc + i) % 1000);
          break;
      }
      sim.Write(p, i, c);
    }
  }
  auto t1 = Clock::now();
  sim.Start(total);
  uint64_t scanned = 0, rewritten = 0;
  double scan_s = 0, first_s = 0, steady_s = 0;
  uint64_t first_pages = 0, steady_pages = 0;
  for (int pass = 0; pass < passes; ++pass) {
    if (kind == Kind::kRewrite && pass > 0) {
      // 10% of the pages (a different tenth each pass) get a fresh unique content.
      for (int p = 0; p < procs; ++p) {
        for (uint64_t i = 0; i < pages_per_proc; ++i) {
          if (Mix64(i * 31 + p * 7 + uint64_t(pass) * 1000003) % 10 == 0) {
            sim.Write(p, i, cs.Gen(unique_x++));
            ++rewritten;
          }
        }
      }
    }
    auto a = Clock::now();
    uint64_t n = sim.ScanFull(1);
    auto b = Clock::now();
    scanned += n;
    scan_s += Seconds(a, b);
    if (pass == 0) first_s = Seconds(a, b), first_pages = n;
    if (pass == passes - 1) steady_s = Seconds(a, b), steady_pages = n;
  }
  out["simulated_pages"] = total;
  out["passes"] = passes;
  out["setup_s"] = Seconds(t0, t1);
  out["scan_s"] = scan_s;
  out["pages_scanned"] = scanned;
  out["pages_rewritten"] = rewritten;
  out["pages_per_s"] = scan_s > 0 ? double(scanned) / scan_s : 0;
  out["first_pass_pages_per_s"] = first_s > 0 ? double(first_pages) / first_s : 0;
  out["last_pass_pages_per_s"] = steady_s > 0 ? double(steady_pages) / steady_s : 0;
  AddMemory(out, sim);
  return out;
}

// The classic KSM regression test: three processes of 128 MiB; phases 'c'/'a'/'a',
// 'c'/'b'/'a', all 'd', one byte changed; each phase waited for 3 full scans.
Json Regression(Json& out, uint64_t pages_per_proc) {
  auto t0 = Clock::now();
  Sim sim(3 * pages_per_proc);
  mmu::ContentStore& cs = sim.machine.contents();
  for (int p = 0; p < 3; ++p) sim.AddProcess("p" + std::to_string(p), pages_per_proc);
  sim.Start(3 * pages_per_proc);
  Json phases = Json::array();
  auto phase = [&](const std::string& name, const std::function<void()>& writes) {
    auto a = Clock::now();
    writes();
    uint64_t n = sim.ScanFull(3);
    auto b = Clock::now();
    phases.push_back({{"phase", name},
                      {"wall_s", Seconds(a, b)},
                      {"pages_scanned", n},
                      {"pages_shared", sim.ksm.pages_shared()},
                      {"pages_sharing", sim.ksm.pages_sharing()},
                      {"pages_unshared", sim.ksm.pages_unshared()}});
    return n;
  };
  auto fill = [&](const char* bytes) {
    return [&, bytes] {
      for (int p = 0; p < 3; ++p)
        for (uint64_t i = 0; i < pages_per_proc; ++i) sim.Write(p, i, cs.Fill(uint8_t(bytes[p])));
    };
  };
  uint64_t scanned = 0;
  scanned += phase("c/a/a", fill("caa"));
  scanned += phase("c/b/a", fill("cba"));
  scanned += phase("d/d/d", fill("ddd"));
  scanned += phase("one byte changed", [&] {
    mmu::ContentId d = cs.Fill('d');
    sim.Write(0, pages_per_proc / 2, cs.Patch(d, 100, 'e'));
    cs.Unref(d);
  });
  auto t1 = Clock::now();
  out["simulated_pages"] = 3 * pages_per_proc;
  out["wall_s"] = Seconds(t0, t1);
  out["pages_scanned"] = scanned;
  out["pages_per_s"] = double(scanned) / Seconds(t0, t1);
  out["phases"] = phases;
  AddMemory(out, sim);
  return out;
}

// 16 VMs (processes) of `pages_per_vm` pages; 40% of each VM's pages from a shared pool of
// `pool` "OS image" contents, the rest unique; two full scans.
Json Scale(Json& out, int vms, uint64_t pages_per_vm, uint64_t pool) {
  auto t0 = Clock::now();
  uint64_t total = uint64_t(vms) * pages_per_vm;
  Sim sim(total);
  mmu::ContentStore& cs = sim.machine.contents();
  for (int v = 0; v < vms; ++v) sim.AddProcess("vm" + std::to_string(v), pages_per_vm);
  uint64_t unique_x = 1ULL << 40;
  for (int v = 0; v < vms; ++v) {
    for (uint64_t i = 0; i < pages_per_vm; ++i) {
      uint64_t h = Mix64(uint64_t(v) * pages_per_vm + i);
      mmu::ContentId c = h % 100 < 40 ? cs.Gen((h >> 8) % pool) : cs.Gen(unique_x++);
      sim.Write(v, i, c);
    }
  }
  auto t1 = Clock::now();
  sim.Start(total);
  // Each pass timed on its own, as host1t's: the first only checksums, the second fills
  // both trees.
  uint64_t scanned = 0;
  double pass_s[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    const auto a = Clock::now();
    scanned += sim.ScanFull(1);
    pass_s[pass] = Seconds(a, Clock::now());
  }
  auto t2 = Clock::now();
  out["simulated_pages"] = total;
  out["simulated_gib"] = double(total) * 4096 / (1ULL << 30);
  out["setup_s"] = Seconds(t0, t1);
  out["pass1_s"] = pass_s[0];
  out["pass2_s"] = pass_s[1];
  out["scan_s"] = Seconds(t1, t2);
  out["wall_s"] = Seconds(t0, t2);
  out["pages_scanned"] = scanned;
  out["pages_per_s"] = double(scanned) / Seconds(t1, t2);
  AddMemory(out, sim);
  return out;
}

// XXH64 over `n` distinct materialised 4 KiB buffers (each hashed once), per second.
Json Baseline(Json& out, uint64_t n) {
  std::vector<uint8_t> bufs(n * 4096);
  for (uint64_t i = 0; i < n * 512; ++i) {
    uint64_t v = Mix64(i);
    std::memcpy(&bufs[i * 8], &v, 8);
  }
  uint64_t sink = 0;
  int reps = 0;
  auto a = Clock::now();
  double s = 0;
  do {
    for (uint64_t i = 0; i < n; ++i) sink ^= XXH64(&bufs[i * 4096], 4096, 0);
    ++reps;
    s = Seconds(a, Clock::now());
  } while (s < 0.5);
  out["buffers"] = n;
  out["hashes"] = uint64_t(reps) * n;
  out["pages_per_s"] = double(reps) * double(n) / s;
  out["gb_per_s"] = double(reps) * double(n) * 4096 / s / 1e9;
  out["sink"] = sink & 1;
  return out;
}

struct BenchOptions {
  bool short_run = false;
  std::string json;
  std::string only;
  bool force = false;
  uint64_t scale_pages = 0;   // pages per VM of the scale scenario (0: the default)
  int host1t_guests = 0;      // host1t's guests (0: the default)
  uint64_t host1t_pages = 0;  // host1t's pages per guest (0: the default)
};

std::string Human(double v) {
  char b[64];
  if (v >= 1e6)
    std::snprintf(b, sizeof b, "%.2fM", v / 1e6);
  else if (v >= 1e3)
    std::snprintf(b, sizeof b, "%.1fk", v / 1e3);
  else
    std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

int RunBench(const BenchOptions& o) {
  if (!CheckOutputs({o.json}, o.force)) return 2;
  // The table goes to stderr when the JSON takes stdout.
  FILE* table = o.json == kStdio ? stderr : stdout;
  const bool s = o.short_run;
  // Sizes: full (the issue's) and --short (CI: a few seconds in all).
  const int tp_procs = 4;
  const uint64_t tp_pages = s ? 16384 : 262144;  // per process: 256 MiB or 1 GiB
  const int tp_passes = 4;
  const uint64_t reg_pages = s ? 4096 : 32768;  // 128 MiB per process in full
  const int scale_vms = 16;
  const uint64_t scale_pages = o.scale_pages ? o.scale_pages : s ? 16384 : 1048576;  // 4 GiB
  const uint64_t scale_pool = s ? 2000 : 50000;
  const int host1t_guests = o.host1t_guests ? o.host1t_guests : 128;
  const uint64_t host1t_pages = o.host1t_pages ? o.host1t_pages : s ? 2048 : 2097152;  // 8 GiB

  std::vector<Json> results;
  // The baseline runs with every scenario: each figure is a ratio to it in the same run.
  auto want = [&](const std::string& n) {
    return o.only.empty() || o.only == n || n == "baseline_xxh64";
  };
  auto run = [&](const std::string& name, const ScenarioFn& fn) {
    if (!want(name)) return;
    std::cerr << "bench: " << name << " ..." << std::endl;
    results.push_back(RunInChild(name, fn));
    if (results.back().contains("error")) {
      std::cerr << "bench: " << name << ": " << results.back()["error"].get<std::string>() << "\n";
    }
  };
  run("baseline_xxh64", [&](Json& j) { return Baseline(j, 65536); });
  run("identical",
      [&](Json& j) { return Throughput(j, Kind::kIdentical, tp_procs, tp_pages, tp_passes); });
  run("unique",
      [&](Json& j) { return Throughput(j, Kind::kUnique, tp_procs, tp_pages, tp_passes); });
  run("pool1000",
      [&](Json& j) { return Throughput(j, Kind::kPool, tp_procs, tp_pages, tp_passes); });
  run("rewrite10",
      [&](Json& j) { return Throughput(j, Kind::kRewrite, tp_procs, tp_pages, tp_passes); });
  run("regression", [&](Json& j) { return Regression(j, reg_pages); });
  run("scale", [&](Json& j) { return Scale(j, scale_vms, scale_pages, scale_pool); });
  run("host1t", [&](Json& j) { return Host1t(j, host1t_guests, host1t_pages); });

  double base = 0;
  for (auto& r : results)
    if (r["name"] == "baseline_xxh64" && r.contains("pages_per_s"))
      base = r["pages_per_s"].get<double>();
  for (auto& r : results) {
    if (r.contains("pages_per_s") && base > 0)
      r["ratio_to_xxh64"] = r["pages_per_s"].get<double>() / base;
    if (r.contains("resident_pages") && r["resident_pages"].get<uint64_t>() > 0) {
      double grown = double(r["peak_rss_bytes"].get<uint64_t>()) -
                     double(r["rss_start_bytes"].get<uint64_t>());
      r["host_bytes_per_resident_page"] = grown / double(r["resident_pages"].get<uint64_t>());
    }
  }

  std::fprintf(table, "%-15s %10s %8s %12s %8s %8s %10s %9s\n", "scenario", "sim pages", "passes",
               "pages/s", "x xxh64", "wall s", "peak RSS", "B/page");
  for (auto& r : results) {
    if (r.contains("error")) {
      std::fprintf(table, "%-15s ERROR %s\n", r["name"].get<std::string>().c_str(),
                   r["error"].get<std::string>().c_str());
      continue;
    }
    if (r.contains("skipped")) {
      std::fprintf(table, "%-15s skipped: %s\n", r["name"].get<std::string>().c_str(),
                   r["skipped"].get<std::string>().c_str());
      continue;
    }
    auto num = [&](const char* k) { return r.contains(k) ? r[k].get<double>() : 0.0; };
    double wall = r.contains("wall_s") ? num("wall_s") : num("scan_s");
    std::string passes = r.contains("passes")        ? std::to_string(r["passes"].get<int>())
                         : r["name"] == "regression" ? "4x3"
                         : r["name"] == "scale"      ? "2"
                                                     : "-";
    std::fprintf(table, "%-15s %10s %8s %12s %8.3f %8.2f %9.0fM %9.1f\n",
                 r["name"].get<std::string>().c_str(),
                 r.contains("simulated_pages") ? Human(num("simulated_pages")).c_str()
                                               : Human(num("buffers")).c_str(),
                 passes.c_str(), Human(num("pages_per_s")).c_str(),
                 r.contains("ratio_to_xxh64") ? num("ratio_to_xxh64") : 1.0, wall,
                 num("peak_rss_bytes") / 1048576.0, num("host_bytes_per_resident_page"));
  }
  std::fprintf(
      table,
      "pages/s: simulated pages scanned by ksm_do_scan per wall second (scan time only for\n"
      "the throughput rows and host1t; regression and scale include the writes). B/page: peak RSS\n"
      "growth of the scenario's child process over resident simulated pages.\n");
  if (!o.json.empty()) {
    Json doc;
    doc["short"] = s;
    doc["nproc"] = sysconf(_SC_NPROCESSORS_ONLN);
    std::ifstream ci("/proc/cpuinfo");
    std::string line;
    while (std::getline(ci, line)) {
      if (line.rfind("model name", 0) == 0) {
        doc["cpu"] = line.substr(line.find(':') + 2);
        break;
      }
    }
    doc["scenarios"] = results;
    if (!WriteOutput(o.json, doc.dump(2) + "\n")) return 1;
  }
  for (auto& r : results)
    if (r.contains("error")) return 1;
  return 0;
}

RegisterCommand reg{{"bench", "measure scan throughput, host memory per page and scale",
                     [](CLI::App* sub) -> std::function<int()> {
                       auto o = std::make_shared<BenchOptions>();
                       sub->add_flag("--short", o->short_run, "small sizes for CI (seconds)");
                       AddOutputOption(sub, "--json", &o->json, "also write the figures as JSON");
                       AddForceFlag(sub, &o->force);
                       sub->add_option("--only", o->only,
                                       "one scenario (and the baseline): baseline_xxh64, "
                                       "identical, unique, "
                                       "pool1000, rewrite10, regression, scale, host1t")
                           ->check(CLI::Validator(
                               [](std::string& v) -> std::string {
                                 std::vector<std::string> names = {
                                     "baseline_xxh64", "identical",  "unique", "pool1000",
                                     "rewrite10",      "regression", "scale",  "host1t"};
                                 for (const auto& n : names)
                                   if (n == v) return {};
                                 return UnknownName("scenario", "scenarios", v, names);
                               },
                               ""));
                       sub->add_option("--scale-pages", o->scale_pages,
                                       "pages per VM in the scale scenario (default 1048576)")
                           ->check(UnsignedIn(1));
                       sub->add_option("--host1t-guests", o->host1t_guests,
                                       "guests in the host1t scenario (default 128)")
                           ->check(UnsignedIn(1, 4096));
                       sub->add_option("--host1t-pages", o->host1t_pages,
                                       "pages per guest in the host1t scenario (default "
                                       "2097152: 8 GiB)")
                           ->check(UnsignedIn(1));
                       return [o] { return RunBench(*o); };
                     }}};

}  // namespace
}  // namespace ksmsim::tools
