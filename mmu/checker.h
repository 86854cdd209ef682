// The machine's invariant checker (DESIGN.md "Checking the model"): mapcounts equal the
// PTEs that map each frame, refcounts equal mappings + swapcache + pins, swap counts equal
// swap PTEs, and no frame is in use without an owner.
#pragma once

#include <string>
#include <vector>

#include "mmu/machine.h"

namespace ksmsim::mmu {

// Every violated invariant, one line each; empty when all hold.
std::vector<std::string> CheckMachine(Machine& machine);

}  // namespace ksmsim::mmu
