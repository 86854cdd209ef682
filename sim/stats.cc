// The statistics registry: see stats.h.
#include "sim/stats.h"

#include <limits>
#include <stdexcept>

namespace ksmsim::sim {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Returns why `name` is malformed, or "" when it is fine.
std::string NameProblem(std::string_view name) {
  if (name.empty()) return "the name is empty";
  if (name.front() == '.' || name.back() == '.') return "it starts or ends with '.'";
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '.') {
      if (name[i + 1] == '.') return "it has an empty segment ('..')";
    } else if (!IsNameChar(c)) {
      return std::string("it contains '") + c + "' (allowed: letters, digits, '_', '.')";
    }
  }
  return "";
}

}  // namespace

void Counter::Inc(uint64_t n) {
  if (n > std::numeric_limits<uint64_t>::max() - value_) {
    throw std::overflow_error("counter " + name_ + " overflows: " + std::to_string(value_) + " + " +
                              std::to_string(n));
  }
  value_ += n;
}

void Counter::Dec(uint64_t n) {
  if (n > value_) {
    throw std::logic_error("counter " + name_ + " would go negative: " + std::to_string(value_) +
                           " - " + std::to_string(n));
  }
  value_ -= n;
}

StatsRegistry::Stat& StatsRegistry::Insert(std::string name, std::string unit, std::string desc) {
  if (std::string problem = NameProblem(name); !problem.empty()) {
    throw std::logic_error("statistic name \"" + name + "\" is malformed: " + problem);
  }
  if (unit.empty()) throw std::logic_error("statistic " + name + " has no unit");
  if (desc.empty()) throw std::logic_error("statistic " + name + " has no description");
  if (desc.find('\n') != std::string::npos) {
    throw std::logic_error("statistic " + name + ": the description must be one line");
  }
  auto [it, inserted] = stats_.try_emplace(name);
  if (!inserted) {
    throw std::logic_error("statistic " + name + " is registered twice");
  }
  it->second.unit = std::move(unit);
  it->second.description = std::move(desc);
  return it->second;
}

Counter& StatsRegistry::AddCounter(std::string name, std::string unit, std::string desc) {
  Stat& stat = Insert(name, std::move(unit), std::move(desc));
  stat.counter = std::make_unique<Counter>(std::move(name));
  return *stat.counter;
}

void StatsRegistry::AddGauge(std::string name, std::string unit, std::string desc,
                             std::function<int64_t()> read) {
  if (!read) throw std::logic_error("gauge " + name + " has no read function");
  Stat& stat = Insert(std::move(name), std::move(unit), std::move(desc));
  stat.gauge = std::move(read);
}

bool StatsRegistry::Contains(std::string_view name) const {
  return stats_.find(name) != stats_.end();
}

std::optional<int64_t> StatsRegistry::Read(std::string_view name) const {
  auto it = stats_.find(name);
  if (it == stats_.end()) return std::nullopt;
  const Stat& stat = it->second;
  if (stat.gauge) return stat.gauge();
  uint64_t v = stat.counter->value();
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw std::overflow_error("counter " + it->first + " = " + std::to_string(v) +
                              " does not fit in a signed 64-bit value");
  }
  return static_cast<int64_t>(v);
}

std::vector<std::string> StatsRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(stats_.size());
  for (const auto& [name, stat] : stats_) names.push_back(name);
  return names;
}

nlohmann::json StatsRegistry::ValueJson(const Stat& stat) {
  if (stat.gauge) return stat.gauge();
  return stat.counter->value();
}

nlohmann::json StatsRegistry::ToJson(bool with_meta) const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, stat] : stats_) {
    if (with_meta) {
      out[name] = {
          {"value", ValueJson(stat)}, {"unit", stat.unit}, {"description", stat.description}};
    } else {
      out[name] = ValueJson(stat);
    }
  }
  return out;
}

}  // namespace ksmsim::sim
