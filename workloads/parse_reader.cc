// Reader: typed JSON access with error collection (see parse_reader.h).
#include "workloads/parse_reader.h"

#include <fmt/format.h>

#include <limits>

#include "workloads/counters.h"
#include "workloads/parse_json.h"

namespace ksmsim::workloads {
namespace {

std::string RangeText(uint64_t min, uint64_t max) {
  if (max == std::numeric_limits<uint64_t>::max()) {
    return min == 0 ? "a non-negative integer" : fmt::format("an integer >= {}", min);
  }
  return fmt::format("an integer {}..{}", min, max);
}

}  // namespace

void Reader::Error(std::string_view path, std::string message) {
  errors_->push_back(ValidationError{file_, std::string(path), std::move(message), 0, 0});
}

bool Reader::CheckKnownKeys(const Json& object, std::string_view path,
                            const std::vector<std::string_view>& allowed,
                            std::string_view context) {
  bool ok = true;
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == key;
    if (known) continue;
    ok = false;
    auto close = ClosestName(key, allowed);
    Error(JoinKey(path, key),
          fmt::format("unknown field \"{}\" in {}; allowed: {}{}", key, context, JoinNames(allowed),
                      close ? fmt::format(" (did you mean \"{}\"?)", *close) : std::string()));
  }
  return ok;
}

bool Reader::Require(const Json& object, std::string_view path, std::string_view name,
                     std::string_view hint) {
  if (object.contains(name)) return true;
  Error(path, fmt::format("missing required field \"{}\"{}", name, hint));
  return false;
}

bool Reader::Object(const Json& value, std::string_view path, std::string_view what) {
  if (value.is_object()) return true;
  Error(path, fmt::format("expected {}, got {}", what, DescribeJson(value)));
  return false;
}

std::optional<uint64_t> Reader::Uint(const Json& value, std::string_view path, uint64_t min,
                                     uint64_t max, std::string_view note) {
  std::optional<uint64_t> v;
  if (value.is_number_unsigned()) {
    v = value.get<uint64_t>();
  } else if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    v = static_cast<uint64_t>(value.get<int64_t>());
  }
  if (v && *v >= min && *v <= max) return v;
  Error(path, fmt::format("expected {}{}, got {}", RangeText(min, max),
                          note.empty() ? std::string() : fmt::format(" ({})", note),
                          DescribeJson(value)));
  return std::nullopt;
}

std::optional<int64_t> Reader::Int(const Json& value, std::string_view path) {
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(value.get<uint64_t>());
    }
  } else if (value.is_number_integer()) {
    return value.get<int64_t>();
  }
  Error(path, fmt::format("expected a 64-bit signed integer, got {}", DescribeJson(value)));
  return std::nullopt;
}

std::optional<std::string> Reader::String(const Json& value, std::string_view path,
                                          bool non_empty) {
  if (value.is_string() && !(non_empty && value.get_ref<const std::string&>().empty())) {
    return value.get<std::string>();
  }
  Error(path, fmt::format("expected a {}string, got {}", non_empty ? "non-empty " : "",
                          DescribeJson(value)));
  return std::nullopt;
}

std::optional<bool> Reader::Bool(const Json& value, std::string_view path) {
  if (value.is_boolean()) return value.get<bool>();
  Error(path, fmt::format("expected true or false, got {}", DescribeJson(value)));
  return std::nullopt;
}

std::string Reader::UnknownName(std::string_view kind, std::string_view name,
                                const std::vector<std::string_view>& allowed) {
  auto close = ClosestName(name, allowed);
  return fmt::format("unknown {} \"{}\"; allowed: {}{}", kind, name, JoinNames(allowed),
                     close ? fmt::format(" (did you mean \"{}\"?)", *close) : std::string());
}

}  // namespace ksmsim::workloads
