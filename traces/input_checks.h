// Checks the trace readers apply to untrusted input before handing it to the JSON library
// (found by fuzzing, docs/TRACE-FORMAT.md "Fuzzing"): nesting depth and UTF-8 validity.
#pragma once

#include <string_view>

namespace ksmsim::traces {

// JSON nested deeper than this is refused before parsing: copying, comparing and printing a
// JSON value recurse, so a line of a million '[' would exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;

// Whether the JSON text nests arrays/objects deeper than kMaxJsonDepth (strings skipped).
bool TooDeep(std::string_view json);

// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), as the JSON
// library requires of every string it prints: a binary trace's strings must convert to JSON.
bool ValidUtf8(std::string_view s);

}  // namespace ksmsim::traces
