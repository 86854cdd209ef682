// libFuzzer target of the workload path: parse and validate the bytes as a workload file;
// a valid one is estimated against a small host budget (64 MiB) and, when it fits, run
// with a step and a batch limit and the invariant checkers after every step. Any crash,
// sanitizer report, allocation failure (-rss_limit_mb, -malloc_limit_mb) or hang
// (-timeout) is a bug: whatever validate accepts must run or stop with a clear error.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "workloads/budget.h"
#include "workloads/driver.h"
#include "workloads/parse.h"

namespace {
constexpr uint64_t kHostBudget = 64ull << 20;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ksmsim::workloads;
  std::string text(reinterpret_cast<const char*>(data), size);
  ParseOutcome parsed = ParseWorkloadText(text, "fuzz.json");
  if (!parsed.ok()) {
    // Every refusal names where: a JSON path or the file.
    for (const auto& e : parsed.errors)
      if (e.ToString().empty()) std::abort();
    return 0;
  }
  const Workload& w = *parsed.workload;
  if (EstimateHostMemory(w, kHostBudget).over_step) return 0;  // exit 3 in the tool
  DriverOptions opt;
  opt.check = true;
  opt.max_steps = 200;
  opt.max_batches = 200;
  Driver driver(w, opt);
  nlohmann::ordered_json doc = driver.Run();
  int status = driver.exit_status();
  if (status < 0 || status > 3) std::abort();
  // The invariant checkers held after every step (a violation would be an error).
  for (const auto& e : doc["errors"])
    if (e.get<std::string>().find("invariant violated") != std::string::npos) std::abort();
  return 0;
}
