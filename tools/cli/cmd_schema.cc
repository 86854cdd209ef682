// `ksmsim schema`: prints the JSON Schema of the workload format (docs/workload.schema.json,
// built into the binary), for editors and validators of workload files.
#include <memory>
#include <string>

#include "tools/cli/command.h"
#include "tools/cli/embedded.h"
#include "tools/cli/io.h"

namespace ksmsim::tools {
namespace {

struct SchemaArgs {
  std::string out = "-";
  bool force = false;
};

int WriteSchema(const SchemaArgs& a) {
  if (!CheckOutputs({a.out}, a.force)) return 2;
  return WriteOutput(a.out, WorkloadSchemaText()) ? 0 : 2;
}

std::function<int()> SetupSchema(CLI::App* sub) {
  auto a = std::make_shared<SchemaArgs>();
  AddOutputOption(sub, "-o,--out", &a->out, "write the schema to this file (default: stdout)");
  AddForceFlag(sub, &a->force);
  sub->footer(
      "Prints the JSON Schema (draft 2020-12) of the workload format, the same bytes as "
      "docs/workload.schema.json in the sources this ksmsim was built from. Editors that read "
      "JSON "
      "Schema complete and check workload files with it; it describes the structure only, "
      "`ksmsim validate` checks the rest (names, ranges, the order of steps).\n"
      "Example: ksmsim schema -o workload.schema.json\n"
      "Exit status: 0 written, 2 the output file exists (without --force) or cannot be "
      "written.");
  return [a] { return WriteSchema(*a); };
}

RegisterCommand reg{{"schema",
                     "print the JSON Schema of the workload format (docs/workload.schema.json)",
                     SetupSchema}};

}  // namespace
}  // namespace ksmsim::tools
