// The checks every subcommand's options share, so that errors read the same everywhere:
// numbers outside their range name the range in plain numbers ("an integer from 1 to 1000",
// "at least 1"), and a name that does not exist (a process, a step range, a plot series, a
// knob) lists the valid ones, with a "did you mean" for a likely typo.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ksmsim::tools {

// A validator for an integer option: digits only (a leading '-' only when min < 0), within
// [min, max]; the message says "expected an integer from MIN to MAX" (or "of at least MIN"
// when max is the type's largest value).
CLI::Validator IntegerIn(int64_t min, int64_t max);
CLI::Validator UnsignedIn(uint64_t min, uint64_t max = std::numeric_limits<uint64_t>::max());
// A validator for a decimal number option within [min, max] (max: +infinity when omitted).
CLI::Validator NumberIn(double min, double max = std::numeric_limits<double>::infinity());

// "WHAT 'name' does not exist; the PLURAL are: a, b, c" (+ "; did you mean 'b'?"), e.g.
// UnknownName("process", "processes", "nosuch", {"child", "parent"}). With no valid names:
// "there is no WHAT".
std::string UnknownName(std::string_view what, std::string_view plural, std::string_view name,
                        const std::vector<std::string>& valid);

}  // namespace ksmsim::tools
