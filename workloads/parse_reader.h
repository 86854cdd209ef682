// Typed access to the values of a JSON document that records a ValidationError (with the
// value's JSON path) for every problem instead of throwing: the parser's building block.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workloads/parse.h"

namespace ksmsim::workloads {

class Reader {
 public:
  using Json = nlohmann::ordered_json;

  Reader(std::string_view file, std::vector<ValidationError>* errors)
      : file_(file), errors_(errors) {}

  void Error(std::string_view path, std::string message);
  size_t error_count() const { return errors_->size(); }
  const std::string& file() const { return file_; }

  // Reports every key of `object` not in `allowed` as `unknown field "k" in CONTEXT;
  // allowed: ...`. Returns false if there was one.
  bool CheckKnownKeys(const Json& object, std::string_view path,
                      const std::vector<std::string_view>& allowed, std::string_view context);

  // Reports `path: missing required field "name"` (with `hint` appended) if absent.
  bool Require(const Json& object, std::string_view path, std::string_view name,
               std::string_view hint = "");

  // "expected WHAT, got ..." unless `value` is an object.
  bool Object(const Json& value, std::string_view path, std::string_view what);

  // An integer in [min, max]; `note` is appended to the message in parentheses.
  std::optional<uint64_t> Uint(const Json& value, std::string_view path, uint64_t min, uint64_t max,
                               std::string_view note = "");
  std::optional<int64_t> Int(const Json& value, std::string_view path);
  std::optional<std::string> String(const Json& value, std::string_view path, bool non_empty);
  std::optional<bool> Bool(const Json& value, std::string_view path);

  // `unknown KIND "name"; allowed: a, b, c (did you mean "b"?)`.
  static std::string UnknownName(std::string_view kind, std::string_view name,
                                 const std::vector<std::string_view>& allowed);

 private:
  std::string file_;
  std::vector<ValidationError>* errors_;
};

}  // namespace ksmsim::workloads
