// KsmTestPeer: the tests' door to Ksm's simulator-only internals (Ksm names it a friend).
// One definition for the whole ksm_test executable.
#pragma once

#include "ksm/ksm.h"

namespace ksmsim::ksm {

class KsmTestPeer {
 public:
  static int walk_lookahead(Ksm& k) { return k.walk_lookahead(); }
  // The tree size from which the lookahead walks the trees (Ksm::kLookaheadMinNodes).
  static void set_lookahead_min_nodes(Ksm& k, unsigned long n) { k.lookahead_min_nodes_ = n; }
  // Turns the chains' recorded tails of full dups (Ksm::DupsTail) on or off.
  static void set_dups_tails(Ksm& k, bool on) { k.dups_tails_enabled_ = on; }
  static size_t dups_tails(const Ksm& k) { return k.dups_tails_.size(); }
};

}  // namespace ksmsim::ksm
