#include "tools/cli/cli_checks.h"

#include <cmath>
#include <cstdlib>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "workloads/counters.h"

namespace ksmsim::tools {
namespace {

std::string IntegerRangeText(std::string_view min, std::string_view max, bool unbounded) {
  if (unbounded) return fmt::format("an integer of at least {}", min);
  return fmt::format("an integer from {} to {}", min, max);
}

// Parses a decimal integer of digits only (and one leading '-').
bool ParseDigits(const std::string& s, bool* negative, std::string_view* digits) {
  std::string_view v = s;
  *negative = !v.empty() && v[0] == '-';
  if (*negative) v.remove_prefix(1);
  if (v.empty() || v.size() > 20) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  *digits = v;
  return true;
}

}  // namespace

CLI::Validator UnsignedIn(uint64_t min, uint64_t max) {
  std::string want = IntegerRangeText(std::to_string(min), std::to_string(max),
                                      max == std::numeric_limits<uint64_t>::max());
  return CLI::Validator(
      [min, max, want](std::string& s) -> std::string {
        bool negative = false;
        std::string_view digits;
        errno = 0;
        if (ParseDigits(s, &negative, &digits) && !negative) {
          uint64_t v = std::strtoull(std::string(digits).c_str(), nullptr, 10);
          if (errno == 0 && v >= min && v <= max) return {};
        }
        return fmt::format("{:?} is not {}", s, want);
      },
      "");
}

CLI::Validator IntegerIn(int64_t min, int64_t max) {
  std::string want = IntegerRangeText(std::to_string(min), std::to_string(max),
                                      max == std::numeric_limits<int64_t>::max());
  return CLI::Validator(
      [min, max, want](std::string& s) -> std::string {
        bool negative = false;
        std::string_view digits;
        errno = 0;
        if (ParseDigits(s, &negative, &digits) && (!negative || min < 0)) {
          long long v = std::strtoll(s.c_str(), nullptr, 10);
          if (errno == 0 && v >= min && v <= max) return {};
        }
        return fmt::format("{:?} is not {}", s, want);
      },
      "");
}

CLI::Validator NumberIn(double min, double max) {
  std::string want = std::isinf(max) ? fmt::format("a number of at least {}", min)
                                     : fmt::format("a number from {} to {}", min, max);
  return CLI::Validator(
      [min, max, want](std::string& s) -> std::string {
        char* end = nullptr;
        errno = 0;
        double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
        if (errno == 0 && end != nullptr && *end == '\0' && std::isfinite(v) && v >= min &&
            v <= max)
          return {};
        return fmt::format("{:?} is not {}", s, want);
      },
      "");
}

std::string UnknownName(std::string_view what, std::string_view plural, std::string_view name,
                        const std::vector<std::string>& valid) {
  if (valid.empty()) return fmt::format("{} '{}' does not exist; there is no {}", what, name, what);
  std::string text = fmt::format("{} '{}' does not exist; the {} are: {}", what, name, plural,
                                 fmt::join(valid, ", "));
  std::vector<std::string_view> views(valid.begin(), valid.end());
  if (auto close = workloads::ClosestName(name, views))
    text += fmt::format("; did you mean '{}'?", *close);
  return text;
}

}  // namespace ksmsim::tools
