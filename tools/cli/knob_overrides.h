// --set KNOB=VALUE (what-if), shared by `run` and `replay`: initial KSM knob values that
// replace the workload's (or the trace's) own, checked like the workload's "ksm" object
// (a knob of /sys/kernel/mm/ksm, a value the kernel's store function accepts).
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "workloads/workload.h"

namespace ksmsim::tools {

// Adds the repeatable --set option to a subcommand.
CLI::Option* AddKnobOverrideOption(CLI::App* sub, std::vector<std::string>* set);

// Parses "KNOB=VALUE" or "ksm.KNOB=VALUE" items into `out` (in order); false after one line
// per problem on `err` (the command exits 2).
bool ParseKnobOverrides(const std::vector<std::string>& items, workloads::KnobList* out,
                        std::ostream& err = std::cerr);

// Applies overrides to initial knobs: a knob already listed keeps its place and takes the
// new value, another is appended.
void ApplyKnobOverrides(const workloads::KnobList& overrides, workloads::KnobList* knobs);

}  // namespace ksmsim::tools
