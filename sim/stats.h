// The statistics registry: every counter or gauge has a dotted name, a unit and a
// one-line description (as gem5's ADD_STAT), and the whole set dumps as JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksmsim::sim {

// A non-negative event count owned by a StatsRegistry. Not copyable: keep the reference
// that AddCounter returns.
class Counter {
 public:
  explicit Counter(std::string name) : name_(std::move(name)) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Throws std::overflow_error when the counter would pass 2^64 - 1.
  void Inc(uint64_t n = 1);
  // Throws std::logic_error when the counter would go below zero (a model bug).
  void Dec(uint64_t n = 1);
  void Set(uint64_t v) { value_ = v; }
  uint64_t value() const { return value_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  uint64_t value_ = 0;
};

class StatsRegistry {
 public:
  StatsRegistry() = default;
  StatsRegistry(const StatsRegistry&) = delete;
  StatsRegistry& operator=(const StatsRegistry&) = delete;

  // Registers a counter starting at 0. The reference stays valid for the registry's
  // lifetime. `name` is dot-separated segments of [A-Za-z0-9_] ("ksm.pages_shared");
  // `unit` ("pages", "events", "ns") and `desc` (one line) must not be empty. Throws
  // std::logic_error on a duplicate or malformed name, or an empty unit or description.
  Counter& AddCounter(std::string name, std::string unit, std::string desc);

  // Registers a value computed on demand by `read`, under the same rules as AddCounter.
  void AddGauge(std::string name, std::string unit, std::string desc,
                std::function<int64_t()> read);

  bool Contains(std::string_view name) const;
  // The current value of a counter or gauge; nullopt for an unknown name. Throws
  // std::overflow_error for a counter above INT64_MAX.
  std::optional<int64_t> Read(std::string_view name) const;
  // Every registered name, sorted.
  std::vector<std::string> Names() const;

  // The statistics in sorted name order, whatever the registration order.
  // with_meta=false: {name: value, ...}
  // with_meta=true:  {name: {"value": v, "unit": u, "description": d}, ...}
  nlohmann::json ToJson(bool with_meta) const;

 private:
  struct Stat {
    std::string unit;
    std::string description;
    std::unique_ptr<Counter> counter;  // set for counters
    std::function<int64_t()> gauge;    // set for gauges
  };

  Stat& Insert(std::string name, std::string unit, std::string desc);
  static nlohmann::json ValueJson(const Stat& stat);

  std::map<std::string, Stat, std::less<>> stats_;
};

}  // namespace ksmsim::sim
