// Tests for the port of Linux's lib/rbtree.c: red-black invariants under randomized
// workloads, iteration, rb_replace_node, and exact kernel shapes for small hand-traced cases.
#include "ksm/rbtree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ksm/slab.h"

namespace ksmsim::ksm {
namespace {

// Nodes live in the KSM arena, 16-byte aligned, as every RbNode must (ksm/rbtree.h).
struct alignas(16) TestNode : RbNode {
  int key = 0;
};

KmemCache<TestNode>& TestNodes() {
  static KmemCache<TestNode> cache;
  return cache;
}
struct FreeTestNode {
  void operator()(TestNode* n) const { TestNodes().free(n); }
};
using NodePtr = std::unique_ptr<TestNode, FreeTestNode>;

TestNode* AsTest(RbNode* n) { return static_cast<TestNode*>(n); }
const TestNode* AsTest(const RbNode* n) { return static_cast<const TestNode*>(n); }

bool IsBlack(const RbNode* n) { return (n->rb_parent_color & RB_BLACK) == RB_BLACK; }

// Kernel-style insertion: descend by key (equal keys go right), link, then rebalance.
void Insert(RbRoot* root, TestNode* node) {
  RbLink* link = &root->rb_node;
  RbNode* parent = nullptr;
  while (*link != nullptr) {
    parent = *link;
    if (node->key < AsTest(parent)->key) {
      link = &parent->rb_left;
    } else {
      link = &parent->rb_right;
    }
  }
  rb_link_node(node, parent, link);
  rb_insert_color(node, root);
}

// Serializes the tree as key+colour(left,right), e.g. "2B(1B,3R)"; "-" is an empty child.
std::string Shape(const RbNode* n) {
  if (n == nullptr) return "-";
  std::string s = std::to_string(AsTest(n)->key) + (IsBlack(n) ? "B" : "R");
  if (n->rb_left != nullptr || n->rb_right != nullptr) {
    // Appended piece by piece: GCC 12 at -O3 misreports "(" + ... as overlapping memcpy.
    s += '(';
    s += Shape(n->rb_left);
    s += ',';
    s += Shape(n->rb_right);
    s += ')';
  }
  return s;
}

// Checks the subtree at n, appending violations to *errors and in-order keys to *keys;
// returns its black height (counting null leaves as 1). Plain checks instead of gtest
// assertions per node keep the randomized tests fast.
int CheckSubtree(const RbNode* n, const RbNode* expected_parent, std::vector<int>* keys,
                 std::string* errors) {
  if (n == nullptr) return 1;
  auto at = [n] { return " at key " + std::to_string(AsTest(n)->key) + "; "; };
  // Only bit 0 is the colour: the rest is the parent's arena reference (ksm/rbtree.h).
  if (expected_parent != nullptr && (n->rb_parent_color & ~RB_BLACK) != ArenaRef(expected_parent))
    *errors += "rb_parent_color does not hold the parent's reference" + at();
  if (rb_parent(n) != expected_parent) *errors += "bad parent pointer" + at();
  if (!IsBlack(n) && ((n->rb_left != nullptr && !IsBlack(n->rb_left)) ||
                      (n->rb_right != nullptr && !IsBlack(n->rb_right)))) {
    *errors += "red node with a red child" + at();
  }
  int lh = CheckSubtree(n->rb_left, n, keys, errors);
  keys->push_back(AsTest(n)->key);
  int rh = CheckSubtree(n->rb_right, n, keys, errors);
  if (lh != rh) *errors += "unequal black heights" + at();
  return lh + (IsBlack(n) ? 1 : 0);
}

// Verifies all red-black invariants and that the in-order keys equal `expected`.
void CheckTree(const RbRoot& root, const std::multiset<int>& expected) {
  std::vector<int> keys;
  std::string errors;
  if (root.rb_node != nullptr && !IsBlack(root.rb_node)) errors += "red root; ";
  CheckSubtree(root.rb_node, nullptr, &keys, &errors);
  EXPECT_EQ(errors, "");
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys, std::vector<int>(expected.begin(), expected.end()));
}

std::vector<NodePtr> MakeNodes(int n) {
  std::vector<NodePtr> nodes;
  for (int i = 0; i < n; ++i) {
    nodes.push_back(NodePtr(TestNodes().alloc()));
    nodes.back()->key = i;
    RB_CLEAR_NODE(nodes.back().get());
  }
  return nodes;
}

// Inserts nodes with the given keys into root; nodes[k] holds key k.
void InsertKeys(RbRoot* root, const std::vector<NodePtr>& nodes, std::initializer_list<int> keys) {
  for (int k : keys) Insert(root, nodes[k].get());
}

TEST(RbTreeTest, EmptyTree) {
  RbRoot root;
  EXPECT_EQ(rb_first(&root), nullptr);
  CheckTree(root, {});
}

TEST(RbTreeTest, SingleNode) {
  auto nodes = MakeNodes(2);
  RbRoot root;
  Insert(&root, nodes[1].get());
  EXPECT_EQ(Shape(root.rb_node), "1B");
  EXPECT_EQ(rb_parent(nodes[1].get()), nullptr);
  EXPECT_EQ(rb_first(&root), nodes[1].get());
  EXPECT_EQ(rb_next(nodes[1].get()), nullptr);
  EXPECT_EQ(rb_prev(nodes[1].get()), nullptr);
  rb_erase(nodes[1].get(), &root);
  EXPECT_EQ(root.rb_node, nullptr);
}

// Traced through __rb_insert by hand: 3 takes the Case 3 rotation at 1, 4 is a colour flip
// up to the root, 5 rotates at 3, 6 flips at 4 (stopping at black 2), 7 rotates at 5.
TEST(RbTreeTest, ShapeAscending1To7) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  const char* expected[] = {
      "1B",
      "1B(-,2R)",
      "2B(1R,3R)",
      "2B(1B,3B(-,4R))",
      "2B(1B,4B(3R,5R))",
      "2B(1B,4R(3B,5B(-,6R)))",
      "2B(1B,4R(3B,6B(5R,7R)))",
  };
  for (int k = 1; k <= 7; ++k) {
    Insert(&root, nodes[k].get());
    EXPECT_EQ(Shape(root.rb_node), expected[k - 1]) << "after inserting " << k;
  }
  EXPECT_EQ(AsTest(root.rb_node)->key, 2);
}

// Mirror image of the ascending case (exercises the gparent->rb_right == parent branch's twin).
TEST(RbTreeTest, ShapeDescending7To1) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  InsertKeys(&root, nodes, {7, 6, 5, 4, 3, 2, 1});
  EXPECT_EQ(Shape(root.rb_node), "6B(4R(2B(1R,3R),5B),7B)");
}

// Insert Case 2 (zig-zag): rotate at parent, then at grandparent.
TEST(RbTreeTest, ShapeInsertZigZag) {
  auto nodes = MakeNodes(4);
  RbRoot root;
  InsertKeys(&root, nodes, {3, 1, 2});
  EXPECT_EQ(Shape(root.rb_node), "2B(1R,3R)");

  RbRoot root2;
  auto nodes2 = MakeNodes(4);
  InsertKeys(&root2, nodes2, {1, 3, 2});
  EXPECT_EQ(Shape(root2.rb_node), "2B(1R,3R)");
}

// Erase of a black leaf whose sibling is red (erase_color Case 1 then Case 2 with a red
// parent), then erase of the root with a non-adjacent successor (__rb_erase Case 3).
TEST(RbTreeTest, ShapeAfterErase) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  InsertKeys(&root, nodes, {1, 2, 3, 4, 5, 6, 7});
  ASSERT_EQ(Shape(root.rb_node), "2B(1B,4R(3B,6B(5R,7R)))");

  rb_erase(nodes[1].get(), &root);
  EXPECT_EQ(Shape(root.rb_node), "4B(2B(-,3R),6B(5R,7R))");

  rb_erase(nodes[4].get(), &root);
  EXPECT_EQ(Shape(root.rb_node), "5B(2B(-,3R),6B(-,7R))");
  CheckTree(root, {2, 3, 5, 6, 7});
}

// erase_color Case 4 directly (sibling black with a red far nephew).
TEST(RbTreeTest, ShapeEraseCase4) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  InsertKeys(&root, nodes, {1, 2, 3, 4, 5, 6, 7});
  rb_erase(nodes[3].get(), &root);
  EXPECT_EQ(Shape(root.rb_node), "2B(1B,6R(4B(-,5R),7B))");
}

// erase_color Case 3 then Case 4 (sibling black with only a red near nephew).
TEST(RbTreeTest, ShapeEraseCase3) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  InsertKeys(&root, nodes, {1, 2, 3, 4, 6, 5});
  ASSERT_EQ(Shape(root.rb_node), "2B(1B,4R(3B,6B(5R,-)))");
  rb_erase(nodes[3].get(), &root);
  EXPECT_EQ(Shape(root.rb_node), "2B(1B,5R(4B,6B))");
}

// erase_color Case 2 propagating to the root.
TEST(RbTreeTest, ShapeEraseCase2ToRoot) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  InsertKeys(&root, nodes, {1, 2, 3, 4});
  rb_erase(nodes[4].get(), &root);  // red leaf: no rebalancing
  EXPECT_EQ(Shape(root.rb_node), "2B(1B,3B)");
  rb_erase(nodes[1].get(), &root);
  EXPECT_EQ(Shape(root.rb_node), "2B(-,3R)");
}

// Erasing a node with only a left child, and one whose successor is its right child.
TEST(RbTreeTest, ShapeEraseOneChildAndAdjacentSuccessor) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  InsertKeys(&root, nodes, {2, 3, 1, 0});
  ASSERT_EQ(Shape(root.rb_node), "2B(1B(0R,-),3B)");
  rb_erase(nodes[1].get(), &root);  // only a left child: it takes 1's place and colour
  EXPECT_EQ(Shape(root.rb_node), "2B(0B,3B)");
  rb_erase(nodes[2].get(), &root);  // successor 3 is the right child
  EXPECT_EQ(Shape(root.rb_node), "3B(0R,-)");
}

TEST(RbTreeTest, IterationForwardAndBackward) {
  constexpr int kN = 200;
  auto nodes = MakeNodes(kN);
  std::vector<int> order(kN);
  for (int i = 0; i < kN; ++i) order[i] = i;
  std::mt19937 rng(7);
  std::shuffle(order.begin(), order.end(), rng);
  RbRoot root;
  for (int k : order) Insert(&root, nodes[k].get());

  int expected = 0;
  RbNode* last = nullptr;
  for (RbNode* n = rb_first(&root); n != nullptr; n = rb_next(n)) {
    EXPECT_EQ(AsTest(n)->key, expected++);
    last = n;
  }
  EXPECT_EQ(expected, kN);
  ASSERT_NE(last, nullptr);
  for (RbNode* n = last; n != nullptr; n = rb_prev(n)) EXPECT_EQ(AsTest(n)->key, --expected);
  EXPECT_EQ(expected, 0);
  EXPECT_EQ(rb_prev(rb_first(&root)), nullptr);
}

TEST(RbTreeTest, NextPrevOfClearedNodeIsNull) {
  NodePtr n(TestNodes().alloc());
  RB_CLEAR_NODE(n.get());
  EXPECT_TRUE(RB_EMPTY_NODE(n.get()));
  EXPECT_EQ(rb_next(n.get()), nullptr);
  EXPECT_EQ(rb_prev(n.get()), nullptr);
}

TEST(RbTreeTest, ReplaceNode) {
  auto nodes = MakeNodes(8);
  RbRoot root;
  InsertKeys(&root, nodes, {1, 2, 3, 4, 5, 6, 7});
  const std::string before = Shape(root.rb_node);

  // Replace an inner red node, the root, and a leaf with same-keyed nodes.
  for (int k : {4, 2, 7}) {
    NodePtr neu(TestNodes().alloc());
    neu->key = k;
    TestNode* victim = nodes[k].get();
    const uint32_t victim_pc = victim->rb_parent_color;
    rb_replace_node(victim, neu.get(), &root);
    EXPECT_EQ(neu->rb_parent_color, victim_pc);
    EXPECT_EQ(Shape(root.rb_node), before);
    CheckTree(root, {1, 2, 3, 4, 5, 6, 7});
    nodes[k] = std::move(neu);  // the victim is out of the tree; free it
  }
  EXPECT_EQ(root.rb_node, nodes[2].get());
  EXPECT_EQ(nodes[4]->rb_left, nodes[3].get());
  EXPECT_EQ(rb_parent(nodes[3].get()), nodes[4].get());
  EXPECT_EQ(rb_parent(nodes[7].get()), nodes[6].get());
  EXPECT_EQ(nodes[6]->rb_right, nodes[7].get());
}

// Randomized inserts and erases with invariant checks after every operation.
void RunRandomized(uint32_t seed, int pool, int ops, int key_range) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  auto nodes = MakeNodes(pool);
  std::vector<TestNode*> in_tree;
  std::vector<TestNode*> free_nodes;
  for (auto& n : nodes) free_nodes.push_back(n.get());
  std::multiset<int> expected;
  RbRoot root;

  for (int op = 0; op < ops; ++op) {
    // Bias towards insertion while the tree is small, towards erasure once it is large.
    const bool insert = !free_nodes.empty() &&
                        (in_tree.empty() || rng() % pool >= in_tree.size() * 3 / 4 + pool / 8);
    if (insert) {
      size_t i = rng() % free_nodes.size();
      TestNode* n = free_nodes[i];
      free_nodes[i] = free_nodes.back();
      free_nodes.pop_back();
      n->key = static_cast<int>(rng() % key_range);
      Insert(&root, n);
      in_tree.push_back(n);
      expected.insert(n->key);
    } else {
      size_t i = rng() % in_tree.size();
      TestNode* n = in_tree[i];
      in_tree[i] = in_tree.back();
      in_tree.pop_back();
      rb_erase(n, &root);
      RB_CLEAR_NODE(n);
      free_nodes.push_back(n);
      expected.erase(expected.find(n->key));
    }
    CheckTree(root, expected);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "first failure at op " << op;
      return;
    }
  }
  // Drain the tree.
  while (!in_tree.empty()) {
    TestNode* n = in_tree.back();
    in_tree.pop_back();
    rb_erase(n, &root);
    expected.erase(expected.find(n->key));
    CheckTree(root, expected);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_EQ(root.rb_node, nullptr);
}

TEST(RbTreeTest, RandomizedDistinctishKeys) {
  for (uint32_t seed : {1u, 2u, 3u, 42u}) RunRandomized(seed, 600, 4000, 1 << 30);
}

TEST(RbTreeTest, RandomizedManyDuplicates) {
  for (uint32_t seed : {5u, 6u}) RunRandomized(seed, 400, 4000, 16);
}

TEST(RbTreeTest, RandomizedSmallTrees) {
  for (uint32_t seed = 100; seed < 120; ++seed) RunRandomized(seed, 12, 500, 20);
}

}  // namespace
}  // namespace ksmsim::ksm
