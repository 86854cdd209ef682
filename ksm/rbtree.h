// An intrusive red-black tree with the operations of Linux's lib/rbtree.c (rb_link_node,
// rb_insert_color, rb_erase, rb_replace_node, rb_first, rb_next), so the stable and
// unstable trees have exactly the kernel's shape even when the unstable tree's order breaks.
#pragma once

#include <cstdint>

#include "sim/arena.h"

namespace ksmsim::ksm {

// The arena is the simulator's (sim/arena.h); KSM names its parts unqualified.
using sim::Arena;
using sim::ArenaPtr;
using sim::ArenaRef;
using sim::Ref32;

// struct rb_node: embed by deriving from it; nodes live in the arena (sim/arena.h). The
// links are 32-bit arena references (12 bytes instead of the kernel's 24); the parent's
// reference and the colour share a word, as in the kernel (the arena's references are below
// 2^31, so the top bit is free for the colour).
struct RbNode {
  uint32_t rb_parent_color = 0;
  Ref32<RbNode> rb_right{};
  Ref32<RbNode> rb_left{};
};
// A link to a child: where rb_link_node() stores a new node (&parent->rb_left, ...).
using RbLink = Ref32<RbNode>;

// struct rb_root
struct RbRoot {
  RbLink rb_node{};
};

inline constexpr uint32_t RB_RED = 0;
inline constexpr uint32_t RB_BLACK = uint32_t{1} << 31;
static_assert(sim::Arena::kReserve / sim::Arena::kGranule <= RB_BLACK, "the colour bit is free");

inline RbNode* rb_parent(const RbNode* n) {
  return static_cast<RbNode*>(ArenaPtr(n->rb_parent_color & ~RB_BLACK));
}
// RB_EMPTY_NODE / RB_CLEAR_NODE: a node not in any tree points to itself.
inline bool RB_EMPTY_NODE(const RbNode* n) { return n->rb_parent_color == ArenaRef(n); }
inline void RB_CLEAR_NODE(RbNode* n) { n->rb_parent_color = ArenaRef(n); }

// Links node as a red leaf at *rb_link below parent (call rb_insert_color next).
void rb_link_node(RbNode* node, RbNode* parent, RbLink* rb_link);
// Rebalances after rb_link_node (lib/rbtree.c __rb_insert).
void rb_insert_color(RbNode* node, RbRoot* root);
// Removes node and rebalances (lib/rbtree.c rb_erase / ____rb_erase_color).
void rb_erase(RbNode* node, RbRoot* root);
// Puts neu where victim is, with victim's colour and children; no rebalancing.
void rb_replace_node(RbNode* victim, RbNode* neu, RbRoot* root);
RbNode* rb_first(const RbRoot* root);
RbNode* rb_next(const RbNode* node);
RbNode* rb_prev(const RbNode* node);

}  // namespace ksmsim::ksm
