#include "tools/difftest/shrink.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "workloads/driver.h"
#include "workloads/parse.h"

namespace ksmsim::tools::difftest {
namespace {

namespace fs = std::filesystem;

// Runs argv, returns the exit status; stdout into `out` when given.
int RunProcess(const std::vector<std::string>& argv, std::string* out,
               const std::string& err_file) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    if (!err_file.empty()) {
      FILE* f = freopen(err_file.c_str(), "w", stderr);
      (void)f;
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string text;
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = read(pipefd[0], buf.data(), buf.size())) > 0) text.append(buf.data(), n);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (out) *out = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool Runner::Simulate(const Json& w, Json& result, std::string& problem) const {
  workloads::ParseOutcome parsed = workloads::ParseWorkloadJson(w, "candidate");
  if (!parsed.ok()) {
    problem = parsed.errors.empty() ? "invalid" : parsed.errors[0].ToString();
    return false;
  }
  workloads::Driver driver(*parsed.workload);
  result = driver.Run();
  if (driver.exit_status() != 0 || !result["errors"].empty()) {
    problem = result["errors"].empty() ? "failed" : result["errors"][0].get<std::string>();
    return false;
  }
  return true;
}

Verdict Runner::Judge(const Json& w) {
  Verdict v;
  if (!Simulate(w, v.sim, v.problem)) {
    v.kind = Verdict::kSimInvalid;
    return v;
  }
  std::string wp = work_dir + "/candidate.json";
  std::string sp = work_dir + "/candidate.sim.json";
  std::string kp = work_dir + "/candidate.kernel.json";
  WriteFile(wp, w.dump(2) + "\n");
  WriteFile(sp, v.sim.dump(2) + "\n");
  fs::remove(kp);
  ++oracle_runs;
  int rc = RunProcess({self, "oracle", wp, "--out", kp, "--timeout-s", std::to_string(timeout_s)},
                      nullptr, work_dir + "/oracle.err");
  if (rc == 2 || rc == 3 || rc < 0 || !fs::exists(kp)) {
    v.kind = Verdict::kOracleFailed;
    v.problem = ReadFile(work_dir + "/oracle.err");
    return v;
  }
  try {
    v.kernel = Json::parse(ReadFile(kp));
  } catch (const std::exception& e) {
    v.kind = Verdict::kOracleFailed;
    v.problem = e.what();
    return v;
  }
  // A wait the kernel overshot (ksmd scanned past the pass the wait asked for: a loaded
  // host; docs/ORACLE.md) is not comparable: a failure of the oracle, not a difference.
  if (v.kernel.contains("errors") && v.kernel["errors"].is_array()) {
    for (const Json& e : v.kernel["errors"]) {
      if (e.is_string() && e.get<std::string>().find("ksmd overshot") != std::string::npos) {
        v.kind = Verdict::kOracleFailed;
        v.problem = e.get<std::string>();
        return v;
      }
    }
  }
  std::string out;
  int crc = RunProcess({self, "compare", "-q", sp, kp}, &out, "/dev/null");
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.find("difference(s) between") != std::string::npos) continue;
    if (line.find("ksm.sleep_millisecs") != std::string::npos) continue;
    v.diffs.push_back(line);
  }
  if (crc == 2) {
    v.kind = Verdict::kOracleFailed;
    v.problem = "compare could not read the documents";
    return v;
  }
  v.kind = v.diffs.empty() ? Verdict::kAgree : Verdict::kDiffer;
  return v;
}

std::string Signature(const std::vector<std::string>& diffs) {
  // A difference line reads `step N (snapshot "S"): COUNTER A vs B`; the signature keeps
  // COUNTER with the process name replaced by `*` (procs.p3.x -> procs.*.x).
  std::set<std::string> keys;
  for (const std::string& d : diffs) {
    size_t at = d.find("): ");
    if (at != std::string::npos) {
      std::string name = d.substr(at + 3, d.find(' ', at + 3) - (at + 3));
      if (name.rfind("procs.", 0) == 0) {
        size_t dot = name.find('.', 6);
        if (dot != std::string::npos) name = "procs.*" + name.substr(dot);
      }
      keys.insert(name);
    } else if (d.rfind("errors", 0) == 0) {
      keys.insert("errors");
    } else {
      keys.insert("other");
    }
  }
  std::string s;
  for (const std::string& k : keys) s += (s.empty() ? "" : " ") + k;
  return s;
}

namespace {

// Candidate transformations of a workload (each returns the shrunk steps or nothing).
using Steps = Json;

// Every process created (spawn or fork child) and the process it was forked from.
std::vector<std::string> Processes(const Steps& steps) {
  std::vector<std::string> out;
  for (const Json& s : steps) {
    if (s["op"] == "spawn") out.push_back(s["proc"]);
    if (s["op"] == "fork") out.push_back(s["child"]);
  }
  return out;
}

Steps DropProcess(const Steps& steps, const std::string& victim) {
  std::set<std::string> gone = {victim};
  Steps out = Json::array();
  for (const Json& s : steps) {
    if (s.contains("proc") && gone.count(s["proc"].get<std::string>())) {
      if (s["op"] == "fork") gone.insert(s["child"].get<std::string>());
      continue;
    }
    out.push_back(s);
  }
  return out;
}

// Halves every region (ranges clipped; steps whose range becomes empty are dropped).
Steps HalveRegions(const Steps& steps) {
  std::map<std::string, uint64_t> size;  // "proc/region" -> new size; forks copy
  std::map<std::string, std::vector<std::string>> regions_of;
  Steps out = Json::array();
  for (Json s : steps) {
    std::string op = s["op"];
    if (op == "fork") {
      std::string p = s["proc"], c = s["child"];
      for (const std::string& r : regions_of[p]) {
        size[c + "/" + r] = size[p + "/" + r];
        regions_of[c].push_back(r);
      }
    }
    if (op == "mmap") {
      uint64_t n = s["pages"];
      uint64_t half = std::max<uint64_t>(1, (n + 1) / 2);
      s["pages"] = half;
      size[s["proc"].get<std::string>() + "/" + s["region"].get<std::string>()] = half;
      regions_of[s["proc"]].push_back(s["region"]);
    } else if (s.contains("range") && s.contains("region")) {
      uint64_t n = size[s["proc"].get<std::string>() + "/" + s["region"].get<std::string>()];
      uint64_t a = std::min(s["range"][0].get<uint64_t>(), n);
      uint64_t b = std::min(s["range"][1].get<uint64_t>(), n);
      if (a >= b) continue;
      s["range"] = Json::array({a, b});
    }
    out.push_back(s);
  }
  return out;
}

// Every write's data becomes a fill (byte 1) or a key.
Steps SimplifyData(const Steps& steps, bool to_key) {
  Steps out = Json::array();
  for (Json s : steps) {
    if (s["op"] == "write" && !s["data"].contains("patch")) {
      if (to_key && (s["data"].contains("pool") || s["data"].contains("cycle") ||
                     s["data"].contains("unique"))) {
        s["data"] = Json{{"key", "k0"}};
      }
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace

ShrinkResult Shrink(Runner& runner, const Json& workload, const Verdict& original, int budget,
                    const std::function<void(const std::string&)>& log) {
  ShrinkResult best{workload, original, 0};
  int start = runner.oracle_runs;
  auto left = [&] { return budget - (runner.oracle_runs - start); };
  // Tries a candidate: keeps it when the simulator accepts it and the kernel still differs.
  auto attempt = [&](const Steps& steps, const std::string& what) {
    if (left() <= 0) return false;
    if (steps.size() >= best.workload["steps"].size() && what.rfind("halve", 0) != 0 &&
        what.rfind("simplify", 0) != 0) {
      return false;
    }
    bool has_snapshot = std::any_of(steps.begin(), steps.end(),
                                    [](const Json& s) { return s["op"] == "snapshot"; });
    if (!has_snapshot) return false;
    Json cand = best.workload;
    cand["steps"] = steps;
    Json sim;
    std::string problem;
    if (!runner.Simulate(cand, sim, problem)) return false;  // no oracle run spent
    if (sim["results"] == best.verdict.sim["results"] && what.rfind("halve", 0) != 0 &&
        steps.size() == best.workload["steps"].size()) {
      return false;
    }
    Verdict v = runner.Judge(cand);
    bool keep = v.kind == Verdict::kDiffer;
    log((keep ? "  kept: " : "  no:   ") + what + " (" + std::to_string(steps.size()) +
        " steps, oracle runs left " + std::to_string(left()) + ")");
    if (keep) {
      best.workload = cand;
      best.verdict = v;
    }
    return keep;
  };

  // 1. Drop whole processes (and what they forked).
  for (const std::string& p : Processes(best.workload["steps"])) {
    if (left() <= 0) break;
    Steps steps = DropProcess(best.workload["steps"], p);
    attempt(steps, "drop process " + p);
  }
  // 2. Remove chunks of steps, halving the chunk size.
  size_t n = best.workload["steps"].size();
  for (size_t chunk = std::max<size_t>(1, n / 2); chunk >= 1 && left() > 0; chunk /= 2) {
    for (size_t i = 0; i < best.workload["steps"].size() && left() > 0;) {
      const Steps& cur = best.workload["steps"];
      Steps steps = Json::array();
      for (size_t j = 0; j < cur.size(); ++j)
        if (j < i || j >= i + chunk) steps.push_back(cur[j]);
      if (!attempt(steps, "remove steps [" + std::to_string(i) + ", " +
                              std::to_string(std::min(i + chunk, cur.size())) + ")")) {
        i += chunk;
      }
    }
    if (chunk == 1) break;
  }
  // 3. Shorten regions while it still differs.
  for (int k = 0; k < 3 && left() > 0; ++k) {
    if (!attempt(HalveRegions(best.workload["steps"]), "halve every region")) break;
  }
  // 4. Simpler data.
  if (left() > 0) attempt(SimplifyData(best.workload["steps"], true), "simplify data to keys");
  best.oracle_runs = runner.oracle_runs - start;
  return best;
}

}  // namespace ksmsim::tools::difftest
