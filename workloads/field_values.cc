// The names the workload file uses for the values of step fields (field_values.h).
#include "workloads/field_values.h"

#include <array>
#include <cerrno>

namespace ksmsim::workloads {
namespace {

constexpr std::array<std::pair<Advice, std::string_view>, 4> kAdviceNames = {{
    {Advice::kMergeable, "mergeable"},
    {Advice::kUnmergeable, "unmergeable"},
    {Advice::kDontneed, "dontneed"},
    {Advice::kPageout, "pageout"},
}};

constexpr std::array<std::pair<int, std::string_view>, 15> kErrnoNames = {{
    {0, "none"},
    {EBUSY, "EBUSY"},
    {EINVAL, "EINVAL"},
    {ERANGE, "ERANGE"},
    {ENOMEM, "ENOMEM"},
    {EFAULT, "EFAULT"},
    {ENOENT, "ENOENT"},
    {EPERM, "EPERM"},
    {EBADF, "EBADF"},
    {EINTR, "EINTR"},
    {EAGAIN, "EAGAIN"},
    {EIO, "EIO"},
    {ENOSPC, "ENOSPC"},
    {EEXIST, "EEXIST"},
    {EACCES, "EACCES"},
}};

constexpr std::array<std::pair<ExpectedError, std::string_view>, 6> kErrorNames = {{
    {ExpectedError::kNone, "none"},
    {ExpectedError::kEBUSY, "EBUSY"},
    {ExpectedError::kEINVAL, "EINVAL"},
    {ExpectedError::kEFAULT, "EFAULT"},
    {ExpectedError::kEPERM, "EPERM"},
    {ExpectedError::kEBADF, "EBADF"},
}};

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> ValueOf(const std::array<std::pair<E, std::string_view>, N>& table,
                         std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view AdviceName(Advice advice) { return NameOf(kAdviceNames, advice); }
std::optional<Advice> AdviceFromName(std::string_view name) { return ValueOf(kAdviceNames, name); }

std::string_view ExpectedErrorName(ExpectedError error) { return NameOf(kErrorNames, error); }
std::optional<ExpectedError> ExpectedErrorFromName(std::string_view name) {
  return ValueOf(kErrorNames, name);
}
const std::vector<std::string_view>& ExpectedErrorNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> v;
    for (const auto& [e, name] : kErrorNames) v.push_back(name);
    return v;
  }();
  return names;
}

std::string ErrnoName(int err) {
  for (const auto& [e, name] : kErrnoNames) {
    if (e == err) return std::string(name);
  }
  return "errno " + std::to_string(err);
}

std::string_view DataKindName(DataSpec::Kind kind) {
  switch (kind) {
    case DataSpec::Kind::kFill:
      return "fill";
    case DataSpec::Kind::kUnique:
      return "unique";
    case DataSpec::Kind::kKey:
      return "key";
    case DataSpec::Kind::kCycle:
      return "cycle";
    case DataSpec::Kind::kPool:
      return "pool";
    case DataSpec::Kind::kPatch:
      return "patch";
  }
  return "?";
}

}  // namespace ksmsim::workloads
