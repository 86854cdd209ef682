#include "tools/cli/load_workload.h"

#include "fmt/format.h"
#include "workloads/parse.h"

namespace ksmsim::tools {

std::optional<workloads::Workload> LoadWorkloadOrReport(
    const std::string& file, std::ostream& err, std::optional<workloads::KernelProfile> kernel) {
  workloads::ParseOutcome parsed = workloads::ParseWorkloadFile(file, kernel);
  if (!parsed.ok()) {
    for (const auto& e : parsed.errors) err << e.ToString() << "\n";
    err << fmt::format("{}: invalid workload, nothing was run\n", file);
    return std::nullopt;
  }
  return std::move(*parsed.workload);
}

}  // namespace ksmsim::tools
