// `ksmsim schema`: prints the JSON Schema of the workload format (docs/workload.schema.json,
// built into the binary), for editors and validators of workload files.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "tools/cli/command.h"
#include "tools/cli/embedded.h"

namespace ksmsim::tools {
namespace {

struct SchemaArgs {
  std::string out = "-";
  bool force = false;
};

int WriteSchema(const SchemaArgs& a) {
  std::string_view text = WorkloadSchemaText();
  if (a.out == "-") {
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cout.flush();
    return std::cout ? 0 : 2;
  }
  std::error_code ec;
  if (std::filesystem::exists(a.out, ec) && !a.force) {
    std::cerr << fmt::format("{}: already exists; pass --force to overwrite it\n", a.out);
    return 2;
  }
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  if (out) out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (out) out.close();
  if (!out) {
    std::cerr << fmt::format("{}: cannot write: {}\n", a.out, std::strerror(errno));
    return 2;
  }
  return 0;
}

std::function<int()> SetupSchema(CLI::App* sub) {
  auto a = std::make_shared<SchemaArgs>();
  sub->add_option("-o,--out", a->out, "write the schema to this file (\"-\": standard output)")
      ->type_name("FILE")
      ->capture_default_str();
  sub->add_flag("--force", a->force, "overwrite an existing output file");
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
