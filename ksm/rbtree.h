// An intrusive red-black tree with the operations of Linux's lib/rbtree.c (rb_link_node,
// rb_insert_color, rb_erase, rb_replace_node, rb_first, rb_next), so the stable and
// unstable trees have exactly the kernel's shape even when the unstable tree's order breaks.
#pragma once

#include <cstdint>

namespace ksmsim::ksm {

// struct rb_node: embed by deriving from it. The parent pointer and the colour share a word.
struct RbNode {
  uintptr_t rb_parent_color = 0;
  RbNode* rb_right = nullptr;
  RbNode* rb_left = nullptr;
};

// struct rb_root
struct RbRoot {
  RbNode* rb_node = nullptr;
};

inline constexpr uintptr_t RB_RED = 0;
inline constexpr uintptr_t RB_BLACK = 1;

inline RbNode* rb_parent(const RbNode* n) {
  return reinterpret_cast<RbNode*>(n->rb_parent_color & ~uintptr_t{3});
}
// RB_EMPTY_NODE / RB_CLEAR_NODE: a node not in any tree points to itself.
inline bool RB_EMPTY_NODE(const RbNode* n) {
  return n->rb_parent_color == reinterpret_cast<uintptr_t>(n);
}
inline void RB_CLEAR_NODE(RbNode* n) { n->rb_parent_color = reinterpret_cast<uintptr_t>(n); }

// Links node as a red leaf at *rb_link below parent (call rb_insert_color next).
void rb_link_node(RbNode* node, RbNode* parent, RbNode** rb_link);
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
