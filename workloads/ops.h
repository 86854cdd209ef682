// The op table of the workload format (WORKLOAD-FORMAT.md "Steps"), derived from the
// payloads of step.h: each op's name and its required and optional fields (fields.h: JSON
// type, range, trace id). The parser takes the fields a step may have from here, the trace
// encodings their field table, and tests keep docs/workload.schema.json equal to it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "workloads/fields.h"
#include "workloads/step.h"

namespace ksmsim::workloads {

struct OpSpec {
  Op op;
  std::string_view name;                   // the `op` string of the file
  std::vector<const FieldSpec*> required;  // in the order the parser reads them
  std::vector<const FieldSpec*> optional;  // besides "label", which every op accepts
  std::string_view kernels;                // profiles that have it ("6.12"); empty: all

  // Whether a workload of kernel profile `kernel` (its name, "6.1") may use the op.
  bool InKernel(std::string_view kernel) const;
  // The field called `name` (required or optional), or null.
  const FieldSpec* Find(std::string_view name) const;
};

// Every op, in the order of the Op enum (the record types of binary traces follow it).
const std::vector<OpSpec>& OpTable();
const OpSpec& SpecOf(Op op);

std::string_view OpName(Op op);  // the `op` string of the file, e.g. "mmap"
std::optional<Op> OpFromName(std::string_view name);
const std::vector<Op>& AllOps();

// Every field of any op, label included, each once, in the order of their trace ids (the
// canonical key order of trace records) and then of first appearance in the table.
const std::vector<const FieldSpec*>& AllFields();

}  // namespace ksmsim::workloads
