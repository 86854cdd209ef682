// Files the ksmsim binary carries inside itself, so that an installed ksmsim has them
// without the source tree (generated at build time by cmake/EmbedFile.cmake).
#pragma once

#include <string_view>

namespace ksmsim::tools {

// docs/workload.schema.json, byte for byte, as it was when ksmsim was built.
std::string_view WorkloadSchemaText();

}  // namespace ksmsim::tools
