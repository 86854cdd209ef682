// ksmsim-guest: the /init of the kernel oracle's initramfs. Mounts the basics, reads
// /workload.json with the workload parser (workloads/parse.h), runs it as real processes
// and system calls, reports counters as "@@KSMSIM {json}" lines on the second serial port,
// and powers the machine off.
#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "tools/oracle/guest/executor.h"
#include "tools/oracle/guest/kernel_io.h"
#include "tools/oracle/guest/plan.h"
#include "workloads/parse.h"

namespace {

using ksmsim::oracle::Emitter;
using ksmsim::oracle::Json;

// The report channel: /dev/ttyS1 in raw mode, or the console when there is none.
int OpenReportChannel() {
  int fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return STDOUT_FILENO;
  termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    cfsetospeed(&t, B115200);
    tcsetattr(fd, TCSANOW, &t);
  }
  return fd;
}

void PowerOff(int fd) {
  tcdrain(fd);
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

}  // namespace

int main() {
  int fd = STDOUT_FILENO;
  try {
    ksmsim::oracle::MountBasics();
    fd = OpenReportChannel();
  } catch (const std::exception& e) {
    Emitter(fd).Emit(Json{{"type", "fatal"}, {"message", e.what()}});
    PowerOff(fd);
  }
  Emitter out(fd);
  try {
    utsname u;
    uname(&u);
    int ksmd_pid = ksmsim::oracle::PinToCpuZero();
    out.Emit(Json{{"type", "start"}, {"uname", u.release}, {"ksmd_pid", ksmd_pid}});
    // The host validated the workload with the same parser; an error here is a broken copy.
    ksmsim::workloads::ParseOutcome parsed = ksmsim::workloads::ParseWorkloadText(
        ksmsim::oracle::ReadFile("/workload.json"), "/workload.json");
    if (!parsed.ok()) {
      out.Emit(Json{{"type", "invalid"}, {"message", parsed.errors.front().ToString()}});
      PowerOff(fd);
    }
    ksmsim::oracle::Plan plan;
    try {
      plan = ksmsim::oracle::MakePlan(*parsed.workload);
    } catch (const ksmsim::oracle::PlanError& e) {
      out.Emit(Json{{"type", "invalid"}, {"message", e.what()}});
      PowerOff(fd);
    }
    // The workload's profile must be the running kernel's series (6.1 is not 6.12).
    std::string release = u.release;
    if (release.compare(0, plan.kernel.size() + 1, plan.kernel + ".") != 0 ||
        release.size() <= plan.kernel.size() + 1 || !isdigit(release[plan.kernel.size() + 1])) {
      throw std::runtime_error("the workload's kernel is \"" + plan.kernel + "\" but Linux " +
                               release + " was booted (give --kernel a " + plan.kernel + " image)");
    }
    rlimit nofile{1 << 20, 1 << 20};
    setrlimit(RLIMIT_NOFILE, &nofile);
    if (plan.swap_mib > 0) {
      ksmsim::oracle::LoadModules("/modules");
      ksmsim::oracle::SetupZramSwap(plan.swap_mib);
    }
    const char* limit = getenv("ksmsim_wait_s");
    unsigned wait_limit_s = limit != nullptr ? static_cast<unsigned>(atoi(limit)) : 600;
    ksmsim::oracle::Executor executor(plan, out, wait_limit_s);
    bool failed = executor.Run();
    out.Emit(Json{{"type", "end"}, {"failed", failed}});
  } catch (const std::exception& e) {
    out.Emit(Json{{"type", "fatal"}, {"message", e.what()}});
  }
  PowerOff(fd);
}
