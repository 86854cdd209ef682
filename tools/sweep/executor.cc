#include "tools/sweep/executor.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>

#include "fmt/format.h"
#include "tools/sweep/run_point.h"

extern char** environ;

namespace ksmsim::tools::sweep {
namespace {

volatile sig_atomic_t g_stop = 0;

void OnStop(int) { g_stop = 1; }

void OnWorkerTerm(int) {
  const char* tmp = CurrentTemporary();
  if (tmp[0]) unlink(tmp);
  _exit(143);
}

struct Worker {
  pid_t pid = -1;
  int to = -1;    // its stdin
  int from = -1;  // its stdout
  std::string buf;
  bool busy = false;
};

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool Spawn(const std::string& self, const std::string& dir, Worker& w, std::string* error) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) {
    *error = fmt::format("pipe: {}", std::strerror(errno));
    return false;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, in[1]);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  posix_spawn_file_actions_addclose(&fa, in[0]);
  posix_spawn_file_actions_addclose(&fa, out[1]);
  std::vector<std::string> args = {self, "sweep", "chunk", dir, "--stdin"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int rc = posix_spawn(&w.pid, self.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    *error = fmt::format("{}: cannot start a worker: {}", self, std::strerror(rc));
    return false;
  }
  w.to = in[1];
  w.from = out[0];
  return true;
}

}  // namespace

std::string SelfExecutable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

std::vector<uint64_t> TaskPoints(uint64_t n, uint64_t task, uint64_t tasks) {
  std::vector<uint64_t> out;
  for (uint64_t i = task; tasks > 0 && i < n; i += tasks) out.push_back(i);
  return out;
}

int RunChunk(const ResultsDir& dir, const SweepSpec& spec, const std::vector<uint64_t>& indexes,
             bool report, std::string* error) {
  std::vector<Point> points = ExpandGrid(spec);
  for (uint64_t i : indexes) {
    if (i >= points.size()) {
      *error = fmt::format("point {} is not in the grid (it has {} points)", i, points.size());
      return 2;
    }
    if (!dir.HasPoint(i) && !dir.WritePoint(i, RunPoint(spec, points[i]), error)) return 2;
    if (report) {
      std::printf("%llu\n", static_cast<unsigned long long>(i));
      std::fflush(stdout);
    }
  }
  return 0;
}

int RunWorker(const ResultsDir& dir, const SweepSpec& spec, std::string* error) {
  std::signal(SIGINT, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = OnWorkerTerm;
  sigaction(SIGTERM, &sa, nullptr);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    uint64_t i = std::stoull(line);
    int rc = RunChunk(dir, spec, {i}, true, error);
    if (rc != 0) return rc;
  }
  return 0;
}

int RunLocal(const ResultsDir& dir, const SweepSpec& spec, const LocalOptions& opt,
             std::string* error) {
  const uint64_t total = GridSize(spec);
  dir.RemoveStaleTemporaries();
  std::deque<uint64_t> todo;
  for (uint64_t i : dir.Missing(total)) todo.push_back(i);
  const uint64_t at_start = total - todo.size();
  if (todo.empty()) return 0;
  g_stop = 0;
  struct sigaction sa {
  }, old_int{}, old_term{};
  sa.sa_handler = OnStop;  // no SA_RESTART: poll returns EINTR
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::signal(SIGPIPE, SIG_IGN);
  unsigned n = std::max(1u, std::min<unsigned>(opt.workers, static_cast<unsigned>(todo.size())));
  std::vector<Worker> workers(n);
  int status = 0;
  uint64_t done = 0;
  auto start = std::chrono::steady_clock::now();
  auto progress = [&](bool last) {
    if (!opt.progress) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double rate = s > 0 ? static_cast<double>(done) / s : 0;
    uint64_t left = total - at_start - done;
    std::fprintf(stderr, "\rsweep: %llu/%llu points, %u workers, %.1f points/s%s\033[K%s",
                 static_cast<unsigned long long>(at_start + done),
                 static_cast<unsigned long long>(total), n, rate,
                 rate > 0 && left ? fmt::format(", {:.0f} s left", left / rate).c_str() : "",
                 last ? "\n" : "");
  };
  auto feed = [&](Worker& w) {
    if (g_stop || todo.empty()) {
      if (w.to >= 0) close(w.to);
      w.to = -1;
      return;
    }
    uint64_t i = todo.front();
    todo.pop_front();
    w.busy = WriteAll(w.to, fmt::format("{}\n", i));
  };
  for (Worker& w : workers) {
    if (!Spawn(opt.self, dir.dir(), w, error)) {
      status = 2;
      g_stop = 1;
      break;
    }
    feed(w);
  }
  progress(false);
  while (true) {
    if (g_stop) break;
    std::vector<pollfd> fds;
    std::vector<Worker*> who;
    for (Worker& w : workers)
      if (w.from >= 0) {
        fds.push_back({w.from, POLLIN, 0});
        who.push_back(&w);
      }
    if (fds.empty()) break;
    int r = poll(fds.data(), fds.size(), 1000);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Worker& w = *who[k];
      char buf[256];
      ssize_t got = read(w.from, buf, sizeof buf);
      if (got <= 0) {
        close(w.from);
        w.from = -1;
        if (w.to >= 0) close(w.to);
        w.to = -1;
        continue;
      }
      w.buf.append(buf, static_cast<size_t>(got));
      size_t nl;
      while ((nl = w.buf.find('\n')) != std::string::npos) {
        w.buf.erase(0, nl + 1);
        ++done;
        if (opt.stop_after && done >= opt.stop_after) g_stop = 1;
        feed(w);
      }
    }
    progress(false);
  }
  bool stopped = g_stop != 0;
  for (Worker& w : workers) {
    if (w.pid <= 0) continue;
    if (stopped) kill(w.pid, SIGTERM);
    if (w.to >= 0) close(w.to);
    int ws = 0;
    while (waitpid(w.pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (w.from >= 0) close(w.from);
    if (!stopped && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) && status == 0) {
      status = 2;
      *error = fmt::format("a worker (pid {}) failed{}", w.pid,
                           WIFEXITED(ws) ? fmt::format(" with exit status {}", WEXITSTATUS(ws))
                                         : fmt::format(" on signal {}", WTERMSIG(ws)));
    }
  }
  progress(true);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (status != 0) return status;
  if (!dir.Missing(total).empty()) return stopped ? kExitInterrupted : 2;
  return 0;
}

}  // namespace ksmsim::tools::sweep
