// The op table (see ops.h), built from the payloads of step.h.
#include "workloads/ops.h"

#include <algorithm>

namespace ksmsim::workloads {
namespace {

template <class P>
OpSpec SpecOfPayload() {
  OpSpec spec{OpOf<P>(), P::kName, {}, {}, KernelsOf<P>()};
  if constexpr (LabelRequired<P>()) spec.required.push_back(&kLabelField);
  ForEachFieldOf<P>([&spec](const auto& field) {
    (field.required ? spec.required : spec.optional).push_back(field.spec);
  });
  return spec;
}

template <size_t... I>
std::vector<OpSpec> MakeTable(std::index_sequence<I...>) {
  return {SpecOfPayload<std::variant_alternative_t<I, StepPayload>>()...};
}

}  // namespace

bool OpSpec::InKernel(std::string_view kernel) const {
  if (kernels.empty()) return true;
  std::string_view rest = kernels;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    if (rest.substr(0, comma) == kernel) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

const FieldSpec* OpSpec::Find(std::string_view field) const {
  for (const auto* list : {&required, &optional}) {
    for (const FieldSpec* f : *list) {
      if (f->name == field) return f;
    }
  }
  return nullptr;
}

const std::vector<OpSpec>& OpTable() {
  static const std::vector<OpSpec> table = MakeTable(std::make_index_sequence<kNumOps>());
  return table;
}

const OpSpec& SpecOf(Op op) { return OpTable()[static_cast<size_t>(op)]; }

std::string_view OpName(Op op) {
  size_t i = static_cast<size_t>(op);
  return i < OpTable().size() ? OpTable()[i].name : "?";
}

std::optional<Op> OpFromName(std::string_view name) {
  for (const OpSpec& s : OpTable()) {
    if (s.name == name) return s.op;
  }
  return std::nullopt;
}

const std::vector<Op>& AllOps() {
  static const std::vector<Op> ops = [] {
    std::vector<Op> v;
    for (const OpSpec& s : OpTable()) v.push_back(s.op);
    return v;
  }();
  return ops;
}

const std::vector<const FieldSpec*>& AllFields() {
  static const std::vector<const FieldSpec*> fields = [] {
    std::vector<const FieldSpec*> v;
    auto add = [&v](const FieldSpec* f) {
      if (std::find(v.begin(), v.end(), f) == v.end()) v.push_back(f);
    };
    for (const OpSpec& s : OpTable()) {
      for (const auto* list : {&s.required, &s.optional}) {
        for (const FieldSpec* f : *list) add(f);
      }
    }
    add(&kLabelField);
    // Fields with a trace id first, by id; the others keep their order.
    std::stable_sort(v.begin(), v.end(), [](const FieldSpec* a, const FieldSpec* b) {
      auto key = [](const FieldSpec* f) {
        return f->trace_id == kNotInTraces ? 1 << 30 : f->trace_id;
      };
      return key(a) < key(b);
    });
    return v;
  }();
  return fields;
}

}  // namespace ksmsim::workloads
