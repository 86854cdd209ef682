// `ksmsim validate FILE...`: checks workload files without running them.
#include <fmt/format.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tools/cli/command.h"
#include "tools/cli/io.h"
#include "workloads/parse.h"
#include "workloads/workload.h"

namespace ksmsim::tools {
namespace {

std::function<int()> SetupValidate(CLI::App* sub) {
  auto files = std::make_shared<std::vector<std::string>>();
  sub->add_option("FILE", *files, "workload files (JSON, docs/WORKLOAD-FORMAT.md; '-': stdin)")
      ->required();
  sub->footer(
      "Checks each workload file without running it: JSON syntax (with line:column), "
      "field names and types, value ranges, and that every step names a process, region "
      "and page range that exists at that point of the script.\n"
      "Prints `FILE: ok (N steps, M after repeat)` for a valid file (N step objects in the "
      "file, M steps executed once every repeat is expanded), or one line per problem: "
      "`FILE: JSON.path: what is wrong` (`FILE:LINE:COLUMN: ...` for JSON syntax errors).\n"
      "Example: ksmsim validate workloads/examples/*.json\n"
      "Exit status: 0 when every file is valid, 2 otherwise.");
  return [files] {
    bool all_ok = true;
    for (const std::string& file : *files) {
      workloads::ParseOutcome outcome;
      if (file == kStdio) {
        std::string text;
        if (!ReadInput(file, &text)) {
          all_ok = false;
          continue;
        }
        outcome = workloads::ParseWorkloadText(text, kStdinName);
      } else {
        outcome = workloads::ParseWorkloadFile(file);
      }
      if (outcome.ok()) {
        uint64_t written = workloads::NestedSize(*outcome.workload);
        uint64_t flat = workloads::FlattenedSize(*outcome.workload);
        fmt::print("{}: ok ({} step{}, {} after repeat)\n", InputName(file), written, written == 1 ? "" : "s",
                   flat);
        continue;
      }
      all_ok = false;
      for (const workloads::ValidationError& e : outcome.errors) {
        fmt::print("{}\n", e.ToString());
      }
    }
    std::fflush(stdout);
    return all_ok ? 0 : 2;
  };
}

RegisterCommand reg{{"validate",
                     "check workload files (syntax, fields, names) without running them",
                     SetupValidate}};

}  // namespace
}  // namespace ksmsim::tools
