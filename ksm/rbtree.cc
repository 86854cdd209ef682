// Port of Linux v6.1 lib/rbtree.c (non-augmented paths) and the inline helpers of
// include/linux/rbtree.h and include/linux/rbtree_augmented.h. The rotations, colour
// changes and their order follow the kernel exactly, so tree shapes match the kernel's.
#include "ksm/rbtree.h"

namespace ksmsim::ksm {
namespace {

// __rb_parent(pc)
RbNode* __rb_parent(uint32_t pc) { return static_cast<RbNode*>(ArenaPtr(pc & ~RB_BLACK)); }
// __rb_color / __rb_is_black / __rb_is_red
uint32_t __rb_color(uint32_t pc) { return pc & RB_BLACK; }
bool __rb_is_black(uint32_t pc) { return __rb_color(pc) != 0; }
bool __rb_is_red(uint32_t pc) { return __rb_color(pc) == 0; }
// rb_color / rb_is_red / rb_is_black
uint32_t rb_color(const RbNode* rb) { return __rb_color(rb->rb_parent_color); }
bool rb_is_red(const RbNode* rb) { return __rb_is_red(rb->rb_parent_color); }
bool rb_is_black(const RbNode* rb) { return __rb_is_black(rb->rb_parent_color); }

// rb_set_black
void rb_set_black(RbNode* rb) { rb->rb_parent_color |= RB_BLACK; }

// rb_set_parent
void rb_set_parent(RbNode* rb, RbNode* p) { rb->rb_parent_color = rb_color(rb) | ArenaRef(p); }

// rb_set_parent_color
void rb_set_parent_color(RbNode* rb, RbNode* p, uint32_t color) {
  rb->rb_parent_color = ArenaRef(p) | color;
}

// rb_red_parent: a red node's colour bit is 0, so the word is the parent pointer.
RbNode* rb_red_parent(RbNode* red) { return static_cast<RbNode*>(ArenaPtr(red->rb_parent_color)); }

// __rb_change_child
void __rb_change_child(RbNode* old, RbNode* neu, RbNode* parent, RbRoot* root) {
  if (parent != nullptr) {
    if (parent->rb_left == old) {
      parent->rb_left = neu;
    } else {
      parent->rb_right = neu;
    }
  } else {
    root->rb_node = neu;
  }
}

// __rb_rotate_set_parents: neu takes old's parent and colour; old gets neu as parent
// and `color` as colour.
void __rb_rotate_set_parents(RbNode* old, RbNode* neu, RbRoot* root, uint32_t color) {
  RbNode* parent = rb_parent(old);
  neu->rb_parent_color = old->rb_parent_color;
  rb_set_parent_color(old, neu, color);
  __rb_change_child(old, neu, parent, root);
}

// __rb_insert with dummy_rotate (augment callbacks are no-ops and omitted).
void __rb_insert(RbNode* node, RbRoot* root) {
  RbNode* parent = rb_red_parent(node);
  RbNode* gparent;
  RbNode* tmp;

  while (true) {
    // Loop invariant: node is red.
    if (parent == nullptr) {
      rb_set_parent_color(node, nullptr, RB_BLACK);
      break;
    }
    if (rb_is_black(parent)) break;

    gparent = rb_red_parent(parent);

    tmp = gparent->rb_right;
    if (parent != tmp) {  // parent == gparent->rb_left
      if (tmp != nullptr && rb_is_red(tmp)) {
        // Case 1: colour flips, recurse at gparent.
        rb_set_parent_color(tmp, gparent, RB_BLACK);
        rb_set_parent_color(parent, gparent, RB_BLACK);
        node = gparent;
        parent = rb_parent(node);
        rb_set_parent_color(node, parent, RB_RED);
        continue;
      }

      tmp = parent->rb_right;
      if (node == tmp) {
        // Case 2: left rotate at parent.
        tmp = node->rb_left;
        parent->rb_right = tmp;
        node->rb_left = parent;
        if (tmp != nullptr) rb_set_parent_color(tmp, parent, RB_BLACK);
        rb_set_parent_color(parent, node, RB_RED);
        parent = node;
        tmp = node->rb_right;
      }

      // Case 3: right rotate at gparent.
      gparent->rb_left = tmp;  // == parent->rb_right
      parent->rb_right = gparent;
      if (tmp != nullptr) rb_set_parent_color(tmp, gparent, RB_BLACK);
      __rb_rotate_set_parents(gparent, parent, root, RB_RED);
      break;
    } else {
      tmp = gparent->rb_left;
      if (tmp != nullptr && rb_is_red(tmp)) {
        // Case 1: colour flips, recurse at gparent.
        rb_set_parent_color(tmp, gparent, RB_BLACK);
        rb_set_parent_color(parent, gparent, RB_BLACK);
        node = gparent;
        parent = rb_parent(node);
        rb_set_parent_color(node, parent, RB_RED);
        continue;
      }

      tmp = parent->rb_left;
      if (node == tmp) {
        // Case 2: right rotate at parent.
        tmp = node->rb_right;
        parent->rb_left = tmp;
        node->rb_right = parent;
        if (tmp != nullptr) rb_set_parent_color(tmp, parent, RB_BLACK);
        rb_set_parent_color(parent, node, RB_RED);
        parent = node;
        tmp = node->rb_left;
      }

      // Case 3: left rotate at gparent.
      gparent->rb_right = tmp;  // == parent->rb_left
      parent->rb_left = gparent;
      if (tmp != nullptr) rb_set_parent_color(tmp, gparent, RB_BLACK);
      __rb_rotate_set_parents(gparent, parent, root, RB_RED);
      break;
    }
  }
}

// ____rb_erase_color with dummy_rotate. Called with the parent of a removed black leaf.
void ____rb_erase_color(RbNode* parent, RbRoot* root) {
  RbNode* node = nullptr;
  RbNode* sibling;
  RbNode* tmp1;
  RbNode* tmp2;

  while (true) {
    // Loop invariants: node is black (or null on the first iteration), node is not the
    // root, and paths through parent and node are one black node short.
    sibling = parent->rb_right;
    if (node != sibling) {  // node == parent->rb_left
      if (rb_is_red(sibling)) {
        // Case 1: left rotate at parent.
        tmp1 = sibling->rb_left;
        parent->rb_right = tmp1;
        sibling->rb_left = parent;
        rb_set_parent_color(tmp1, parent, RB_BLACK);
        __rb_rotate_set_parents(parent, sibling, root, RB_RED);
        sibling = tmp1;
      }
      tmp1 = sibling->rb_right;
      if (tmp1 == nullptr || rb_is_black(tmp1)) {
        tmp2 = sibling->rb_left;
        if (tmp2 == nullptr || rb_is_black(tmp2)) {
          // Case 2: sibling colour flip.
          rb_set_parent_color(sibling, parent, RB_RED);
          if (rb_is_red(parent)) {
            rb_set_black(parent);
          } else {
            node = parent;
            parent = rb_parent(node);
            if (parent != nullptr) continue;
          }
          break;
        }
        // Case 3: right rotate at sibling.
        tmp1 = tmp2->rb_right;
        sibling->rb_left = tmp1;
        tmp2->rb_right = sibling;
        parent->rb_right = tmp2;
        if (tmp1 != nullptr) rb_set_parent_color(tmp1, sibling, RB_BLACK);
        tmp1 = sibling;
        sibling = tmp2;
      }
      // Case 4: left rotate at parent + colour flips.
      tmp2 = sibling->rb_left;
      parent->rb_right = tmp2;
      sibling->rb_left = parent;
      rb_set_parent_color(tmp1, sibling, RB_BLACK);
      if (tmp2 != nullptr) rb_set_parent(tmp2, parent);
      __rb_rotate_set_parents(parent, sibling, root, RB_BLACK);
      break;
    } else {
      sibling = parent->rb_left;
      if (rb_is_red(sibling)) {
        // Case 1: right rotate at parent.
        tmp1 = sibling->rb_right;
        parent->rb_left = tmp1;
        sibling->rb_right = parent;
        rb_set_parent_color(tmp1, parent, RB_BLACK);
        __rb_rotate_set_parents(parent, sibling, root, RB_RED);
        sibling = tmp1;
      }
      tmp1 = sibling->rb_left;
      if (tmp1 == nullptr || rb_is_black(tmp1)) {
        tmp2 = sibling->rb_right;
        if (tmp2 == nullptr || rb_is_black(tmp2)) {
          // Case 2: sibling colour flip.
          rb_set_parent_color(sibling, parent, RB_RED);
          if (rb_is_red(parent)) {
            rb_set_black(parent);
          } else {
            node = parent;
            parent = rb_parent(node);
            if (parent != nullptr) continue;
          }
          break;
        }
        // Case 3: left rotate at sibling.
        tmp1 = tmp2->rb_left;
        sibling->rb_right = tmp1;
        tmp2->rb_left = sibling;
        parent->rb_left = tmp2;
        if (tmp1 != nullptr) rb_set_parent_color(tmp1, sibling, RB_BLACK);
        tmp1 = sibling;
        sibling = tmp2;
      }
      // Case 4: right rotate at parent + colour flips.
      tmp2 = sibling->rb_right;
      parent->rb_left = tmp2;
      sibling->rb_right = parent;
      rb_set_parent_color(tmp1, sibling, RB_BLACK);
      if (tmp2 != nullptr) rb_set_parent(tmp2, parent);
      __rb_rotate_set_parents(parent, sibling, root, RB_BLACK);
      break;
    }
  }
}

// __rb_erase_augmented with dummy callbacks. Returns the node to rebalance from, or null.
RbNode* __rb_erase_augmented(RbNode* node, RbRoot* root) {
  RbNode* child = node->rb_right;
  RbNode* tmp = node->rb_left;
  RbNode* parent;
  RbNode* rebalance;
  uint32_t pc;

  if (tmp == nullptr) {
    // Case 1: at most one child (the right one). A lone child must be red and node black.
    pc = node->rb_parent_color;
    parent = __rb_parent(pc);
    __rb_change_child(node, child, parent, root);
    if (child != nullptr) {
      child->rb_parent_color = pc;
      rebalance = nullptr;
    } else {
      rebalance = __rb_is_black(pc) ? parent : nullptr;
    }
  } else if (child == nullptr) {
    // Still case 1, but the child is node->rb_left.
    pc = node->rb_parent_color;
    tmp->rb_parent_color = pc;
    parent = __rb_parent(pc);
    __rb_change_child(node, tmp, parent, root);
    rebalance = nullptr;
  } else {
    RbNode* successor = child;
    RbNode* child2;

    tmp = child->rb_left;
    if (tmp == nullptr) {
      // Case 2: node's successor is its right child.
      parent = successor;
      child2 = successor->rb_right;
    } else {
      // Case 3: node's successor is the leftmost node under its right child.
      do {
        parent = successor;
        successor = tmp;
        tmp = tmp->rb_left;
      } while (tmp != nullptr);
      child2 = successor->rb_right;
      parent->rb_left = child2;
      successor->rb_right = child;
      rb_set_parent(child, successor);
    }

    tmp = node->rb_left;
    successor->rb_left = tmp;
    rb_set_parent(tmp, successor);

    pc = node->rb_parent_color;
    tmp = __rb_parent(pc);
    __rb_change_child(node, successor, tmp, root);

    if (child2 != nullptr) {
      rb_set_parent_color(child2, parent, RB_BLACK);
      rebalance = nullptr;
    } else {
      rebalance = rb_is_black(successor) ? parent : nullptr;
    }
    successor->rb_parent_color = pc;
  }

  return rebalance;
}

}  // namespace

// include/linux/rbtree.h rb_link_node
void rb_link_node(RbNode* node, RbNode* parent, RbLink* rb_link) {
  node->rb_parent_color = ArenaRef(parent);
  node->rb_left = node->rb_right = nullptr;
  *rb_link = node;
}

// rb_insert_color
void rb_insert_color(RbNode* node, RbRoot* root) { __rb_insert(node, root); }

// rb_erase
void rb_erase(RbNode* node, RbRoot* root) {
  RbNode* rebalance = __rb_erase_augmented(node, root);
  if (rebalance != nullptr) ____rb_erase_color(rebalance, root);
}

// rb_replace_node
void rb_replace_node(RbNode* victim, RbNode* neu, RbRoot* root) {
  RbNode* parent = rb_parent(victim);

  // Copy the pointers and colour from the victim to the replacement.
  neu->rb_parent_color = victim->rb_parent_color;
  neu->rb_right = victim->rb_right;
  neu->rb_left = victim->rb_left;

  if (victim->rb_left != nullptr) rb_set_parent(victim->rb_left, neu);
  if (victim->rb_right != nullptr) rb_set_parent(victim->rb_right, neu);
  __rb_change_child(victim, neu, parent, root);
}

// rb_first
RbNode* rb_first(const RbRoot* root) {
  RbNode* n = root->rb_node;
  if (n == nullptr) return nullptr;
  while (n->rb_left != nullptr) n = n->rb_left;
  return n;
}

// rb_next
RbNode* rb_next(const RbNode* node) {
  if (RB_EMPTY_NODE(node)) return nullptr;

  // With a right child, go down once right then as far left as possible.
  if (node->rb_right != nullptr) {
    RbNode* n = node->rb_right;
    while (n->rb_left != nullptr) n = n->rb_left;
    return n;
  }

  // Otherwise go up until we come from a left child; that parent is next.
  RbNode* parent;
  while ((parent = rb_parent(node)) != nullptr && node == parent->rb_right) node = parent;
  return parent;
}

// rb_prev
RbNode* rb_prev(const RbNode* node) {
  if (RB_EMPTY_NODE(node)) return nullptr;

  if (node->rb_left != nullptr) {
    RbNode* n = node->rb_left;
    while (n->rb_right != nullptr) n = n->rb_right;
    return n;
  }

  RbNode* parent;
  while ((parent = rb_parent(node)) != nullptr && node == parent->rb_left) node = parent;
  return parent;
}

}  // namespace ksmsim::ksm
