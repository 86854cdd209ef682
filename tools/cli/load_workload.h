// The one way a subcommand loads a workload file: parse and validate it, or report every
// problem and "FILE: invalid workload, nothing was run" so that the subcommand exits 2
// (`run`, `explain`, `report`, `step`).
#pragma once

#include <iostream>
#include <optional>
#include <string>

#include "workloads/workload.h"

namespace ksmsim::tools {

// The exit status of a subcommand whose input the user must change (an invalid workload,
// a usage error).
inline constexpr int kExitInvalidInput = 2;

// The workload in `file` ("-": stdin, named <stdin> in messages); on a problem, one line per
// problem and the closing line go to `err` and the result is empty: return
// kExitInvalidInput. With `source`, the file's text is kept there too. `kernel` replaces
// the workload's own profile (`--profile`).
std::optional<workloads::Workload> LoadWorkloadOrReport(
    const std::string& file, std::ostream& err = std::cerr, std::string* source = nullptr,
    std::optional<workloads::KernelProfile> kernel = std::nullopt);

}  // namespace ksmsim::tools
