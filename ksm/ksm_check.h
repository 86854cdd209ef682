// KSM's invariant checker: the counters agree with a recount of the trees and rmap_lists,
// every KSM page's stable node points back to it, and (6.12) ksm_zero_pages counts the
// KSM-placed zero-page PTEs.
#pragma once

#include <string>
#include <vector>

#include "ksm/ksm.h"

namespace ksmsim::ksm {

std::vector<std::string> CheckKsm(const Ksm& ksm, mmu::Machine& machine);

}  // namespace ksmsim::ksm
