#include "tools/cli/load_workload.h"

#include "fmt/format.h"
#include "tools/cli/io.h"
#include "workloads/parse.h"

namespace ksmsim::tools {

std::optional<workloads::Workload> LoadWorkloadOrReport(
    const std::string& file, std::ostream& err, std::string* source,
    std::optional<workloads::KernelProfile> kernel) {
  workloads::ParseOutcome parsed;
  if (file == kStdio || source != nullptr) {
    std::string text;
    if (!ReadInput(file, &text, err)) {
      err << fmt::format("{}: invalid workload, nothing was run\n", InputName(file));
      return std::nullopt;
    }
    parsed = workloads::ParseWorkloadText(text, InputName(file), kernel);
    if (source != nullptr) *source = std::move(text);
  } else {
    parsed = workloads::ParseWorkloadFile(file, kernel);
  }
  if (!parsed.ok()) {
    for (const auto& e : parsed.errors) err << e.ToString() << "\n";
    err << fmt::format("{}: invalid workload, nothing was run\n", InputName(file));
    return std::nullopt;
  }
  return std::move(*parsed.workload);
}

}  // namespace ksmsim::tools
