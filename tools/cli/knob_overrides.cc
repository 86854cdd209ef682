#include "tools/cli/knob_overrides.h"

#include <algorithm>

#include "fmt/format.h"
#include "tools/cli/cli_checks.h"
#include "workloads/counters.h"

namespace ksmsim::tools {

CLI::Option* AddKnobOverrideOption(CLI::App* sub, std::vector<std::string>* set) {
  return sub
      ->add_option("--set", *set,
                   "start with this KSM knob value instead of the workload's: KNOB=VALUE (or "
                   "ksm.KNOB=VALUE), e.g. --set max_page_sharing=2 (repeatable)")
      ->type_name("KNOB=VALUE");
}

bool ParseKnobOverrides(const std::vector<std::string>& items, workloads::KnobList* out,
                        std::ostream& err) {
  bool ok = true;
  std::vector<std::string> knobs;
  for (std::string_view k : workloads::KsmKnobNames()) knobs.emplace_back(k);
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      err << fmt::format("--set {}: expected KNOB=VALUE\n", item);
      ok = false;
      continue;
    }
    std::string key = item.substr(0, eq);
    if (key.rfind("ksm.", 0) == 0) key.erase(0, 4);
    std::optional<workloads::KnobRange> range = workloads::KnobValueRange(key);
    if (!range) {
      err << fmt::format("--set {}: {}\n", item, UnknownName("knob", "knobs", key, knobs));
      ok = false;
      continue;
    }
    std::string value = item.substr(eq + 1);
    std::string why = IntegerIn(range->min, range->max)(value);
    if (!why.empty()) {
      err << fmt::format("--set {}: {} for {}\n", item, why, key);
      ok = false;
      continue;
    }
    out->emplace_back(key, std::stoll(value));
  }
  return ok;
}

void ApplyKnobOverrides(const workloads::KnobList& overrides, workloads::KnobList* knobs) {
  for (const auto& [key, value] : overrides) {
    auto it =
        std::find_if(knobs->begin(), knobs->end(), [&](const auto& kv) { return kv.first == key; });
    if (it != knobs->end()) {
      it->second = value;
    } else {
      knobs->emplace_back(key, value);
    }
  }
}

}  // namespace ksmsim::tools
