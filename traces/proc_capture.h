// Reading a live process's anonymous private memory from /proc for `ksmsim capture`:
// /proc/PID/maps (which VMAs), /proc/PID/pagemap (which pages are present or swapped; the
// present bit only, no PFNs) and /proc/PID/mem (the bytes, hashed with XXH3-128 and then
// dropped: nothing but the hashes leaves this file).
#pragma once

#include <string>

#include "traces/capture.h"

namespace ksmsim::traces {

// A /proc file could not be read. `permission` is set for EACCES/EPERM: the message then
// names the file, the errno text, and says that capture must run as root.
struct ProcError {
  std::string message;
  bool permission = false;
};

// One sample of process `pid`: its anonymous private VMAs (no path, [heap], [stack] or
// [anon:NAME]; private, readable) with each page's state and, for present pages, the hash.
// A process that has exited or is a zombie comes back with alive = false. Throws ProcError.
ProcessSample SampleProcess(int pid);

}  // namespace ksmsim::traces
