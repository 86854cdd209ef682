#include "tools/cli/run_failures.h"

#include <cerrno>
#include <cstring>

#include "fmt/format.h"

namespace ksmsim::tools {
namespace {

using Json = nlohmann::ordered_json;

// "EBUSY (Device or resource busy)" for the errno names of the result document.
std::string DescribeErrno(const std::string& name) {
  static const std::map<std::string, int> codes = {
      {"EBUSY", EBUSY},   {"EINVAL", EINVAL}, {"ERANGE", ERANGE}, {"ENOMEM", ENOMEM},
      {"EFAULT", EFAULT}, {"ENOENT", ENOENT}, {"EPERM", EPERM},   {"EBADF", EBADF}};
  auto it = codes.find(name);
  if (it == codes.end()) return name;
  return fmt::format("{} ({})", name, std::strerror(it->second));
}

std::string Red(const std::string& s, bool color) {
  return color ? fmt::format("\033[31;1m{}\033[0m", s) : s;
}

}  // namespace

void StepExpectations::Note(const workloads::FlatStep& fs) {
  const std::optional<workloads::ExpectedError>* e = workloads::ExpectErrorOf(*fs.step);
  if (!e) return;
  steps_[fs.index] =
      *e ? std::optional<std::string>(std::string(workloads::ExpectedErrorName(**e)))
         : std::nullopt;
}

void StepExpectations::Set(uint64_t step, const std::string& expected) {
  steps_[step] = expected.empty() ? std::nullopt : std::optional<std::string>(expected);
}

bool StepExpectations::Unexpected(uint64_t step) const {
  auto it = steps_.find(step);
  return it != steps_.end() && !it->second;
}

std::string StepExpectations::Expected(uint64_t step) const {
  auto it = steps_.find(step);
  return it != steps_.end() && it->second ? *it->second : std::string();
}

FailureReport ReportFailures(std::ostream& err, const Json& doc, const std::string& file,
                             const StepExpectations& expect, bool strict, bool color) {
  FailureReport r;
  std::vector<std::string> strict_errors;
  if (doc.contains("outcomes")) {
    for (const Json& o : doc["outcomes"]) {
      uint64_t step = o.value("step", uint64_t{0});
      std::string op = o.value("op", "");
      std::vector<std::string> what;  // "max_page_sharing = 2: EBUSY (...)"
      if (o.contains("writes")) {
        for (const Json& w : o["writes"]) {
          std::string e = w.value("error", "none");
          if (e == "none") continue;
          what.push_back(fmt::format("{} = {} failed: {}", w.value("knob", "?"),
                                     w.contains("value") ? w["value"].dump() : "?",
                                     DescribeErrno(e)));
        }
      } else if (o.value("error", "none") != "none" && o.contains("fd")) {
        // kernel "2009": an ioctl of the /dev/ksm driver on the process's file
        what.push_back(fmt::format("ioctl on fd \"{}\" returned {}: {}", o["fd"].get<std::string>(),
                                   o.value("ret", int64_t{0}),
                                   DescribeErrno(o.value("error", ""))));
      } else if (o.value("error", "none") != "none") {
        what.push_back(fmt::format("node {} block {} failed: {}", o.value("node", 0),
                                   o.value("block", uint64_t{0}),
                                   DescribeErrno(o.value("error", ""))));
      }
      const bool knob = o.contains("writes");
      for (const std::string& w : what) {
        ++r.knob_failures;
        std::string note;
        if (!expect.Expected(step).empty()) {
          note = fmt::format(" (the step expects {})", expect.Expected(step));
        } else if (expect.Unexpected(step) && !knob) {
          note = " (the step has no expect_error)";
        } else if (expect.Unexpected(step)) {
          ++r.unexpected;
          note = strict ? " (no expect_error: fails the run under --strict)"
                        : " (no expect_error; --strict would fail the run)";
          if (strict)
            strict_errors.push_back(
                fmt::format("step {} ({}): {} and the step has no expect_error", step, op, w));
        }
        err << fmt::format("{}: step {} ({}): {}{}\n", file, step, op, w, note);
      }
    }
  }
  if (doc.contains("errors")) {
    for (const Json& e : doc["errors"]) {
      ++r.errors;
      err << fmt::format("{}: {} {}\n", file, Red("error:", color), e.get<std::string>());
    }
  }
  for (const std::string& e : strict_errors)
    err << fmt::format("{}: {} {}\n", file, Red("error:", color), e);
  int total = r.errors + static_cast<int>(strict_errors.size());
  if (total > 0)
    err << fmt::format("{}: {} ({} error{})\n", file, Red("FAILED", color), total,
                       total == 1 ? "" : "s");
  return r;
}

}  // namespace ksmsim::tools
