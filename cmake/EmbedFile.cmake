# Script mode (cmake -P): turns a file into C++ source, so that the binary carries the file's
# exact bytes (docs/workload.schema.json for `ksmsim schema`).
#   cmake -DINPUT=FILE -DOUTPUT=FILE.cc -DFUNCTION=Name -DHEADER=path/to/decl.h -P EmbedFile.cmake
# writes FILE.cc defining `std::string_view ksmsim::tools::Name()` (declared in HEADER),
# which returns the bytes of INPUT.
foreach(var INPUT OUTPUT FUNCTION HEADER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "EmbedFile.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
# Two hex digits per byte -> "0x..," with a line break every 16 bytes.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n    " bytes "${bytes}")

file(WRITE "${OUTPUT}.tmp"
"// Generated at build time by cmake/EmbedFile.cmake from ${INPUT}; do not edit.
#include \"${HEADER}\"

namespace ksmsim::tools {
namespace {
const unsigned char kBytes[${size} + 1] = {
    ${bytes}0};
}  // namespace

std::string_view ${FUNCTION}() {
  return std::string_view(reinterpret_cast<const char*>(kBytes), ${size});
}

}  // namespace ksmsim::tools
")
# Keep the timestamp when nothing changed, so nothing recompiles.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
