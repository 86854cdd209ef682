// Strict JSON reading for workload files: syntax errors with line and column, duplicate
// keys reported (not silently overwritten), key order kept; and JSON-path spelling.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksmsim::workloads {

// A problem found while reading the text. `line`/`column` (1-based, column in bytes) are
// set for syntax errors and 0 otherwise; `path` is set for problems inside a value.
struct JsonProblem {
  uint64_t line = 0;
  uint64_t column = 0;
  std::string path;
  std::string message;
};

struct StrictJson {
  // The document, unless the text is not JSON (a syntax error or nesting too deep). A
  // document with duplicate keys is returned (the last value wins) with a problem each.
  std::optional<nlohmann::ordered_json> value;
  std::vector<JsonProblem> problems;
};

// Deepest nesting of objects and arrays accepted.
inline constexpr int kMaxJsonDepth = 128;

StrictJson ParseStrictJson(std::string_view text);

// Reads the whole file into `text`; returns 0, or the errno that made it fail (ENOENT,
// EISDIR, EACCES, ...).
int ReadTextFile(const std::string& path, std::string& text);

// 1-based line and byte column of byte `offset` of `text`.
std::pair<uint64_t, uint64_t> LineColumn(std::string_view text, uint64_t offset);

// JSON paths as used in error messages: JoinKey("steps[4]", "data") = "steps[4].data",
// JoinKey("", "ksm") = "ksm"; a key that is not an identifier is quoted:
// JoinKey("expect.procs", "my proc") = "expect.procs[\"my proc\"]".
std::string JoinKey(std::string_view path, std::string_view key);
std::string JoinIndex(std::string_view path, uint64_t index);  // "steps[4]"

// A short rendering of a JSON value for messages: scalars as JSON text (cut after 40
// characters), containers as "an object" / "an array".
std::string DescribeJson(const nlohmann::ordered_json& value);

}  // namespace ksmsim::workloads
