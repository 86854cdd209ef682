// KSM's own objects (mm/ksm.c): rmap_items, stable tree nodes (regular, chain, dup),
// mm_slots and the scan cursor.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ksm/hlist.h"
#include "ksm/rbtree.h"
#include "mmu/mm.h"
#include "mmu/page.h"
#include "sim/arena.h"

namespace ksmsim::ksm {

inline constexpr uint64_t SEQNR_MASK = 0x0ff;      // low bits of unstable tree seqnr
inline constexpr uint64_t UNSTABLE_FLAG = 0x100;   // is a node of the unstable tree
inline constexpr uint64_t STABLE_FLAG = 0x200;     // is listed from the stable tree
inline constexpr uint64_t ZERO_PAGE_FLAG = 0x400;  // zero page placed by KSM (seed 001)
inline constexpr uint64_t PAGE_MASK = ~uint64_t{0xfff};
inline constexpr int STABLE_NODE_CHAIN = -1024;
inline constexpr int NUMA_NO_NODE = -1;

struct StableNode;

// struct ksm_rmap_item: one scanned virtual page of one mm, with the kernel's union: `rb`
// (its node in the unstable tree) shares its space with `head`/`hlist` (listed from a
// stable node once merged). The unstable tree reaches an item through
// rb_entry_rmap_item().
//
// 40 bytes, not the kernel's 64 (docs/PERFORMANCE.md): every pointer (rb, head, hlist,
// rmap_list, anon_vma, mm) is a 32-bit arena reference (sim/arena.h: the mm_structs and
// anon_vmas live there too), and `nid` shares `address`'s word (an address has 48 bits);
// what the unstable tree walk reads is in its first 24 bytes.
//
// snapshot_tag/snapshot_prefix are the simulator's own: what get_mergeable_page() found for
// this node of this pass's unstable tree when it last looked (the page's first 4 bytes),
// valid while Ksm::unstable_snapshot_tag() of its mm is unchanged; see ksm/snapshot.h.
struct RmapItem {
  // What a level of the unstable tree walk reads (rb, snapshot_tag, snapshot_prefix, mm)
  // is in the first 24 bytes.
  union {
    RbNode rb{};  // when in the unstable tree
    struct {      // when stable
      HNode<RmapItem> hlist;
      Ref32<StableNode> head;
    };
  };
  uint32_t snapshot_tag = 0;  // (simulator) Ksm::unstable_snapshot_tag() when taken
  union {
    Ref32<mmu::AnonVma> anon_vma;  // when stable
    uint32_t snapshot_prefix = 0;  // (simulator, unstable) the page's first 4 bytes, LE
  };
  Ref32<mmu::Mm> mm{};
  Ref32<RmapItem> rmap_list{};  // next in the mm_slot's list, ascending address
  uint32_t oldchecksum = 0;     // when unstable
  uint64_t address : 48 = 0;    // + SEQNR/UNSTABLE/STABLE/ZERO_PAGE flags in low bits
  int64_t nid : 16 = 0;         // when in the unstable tree
};
static_assert(sizeof(RmapItem) == 40, "one rmap_item per scanned page: 40 bytes");
static_assert(offsetof(RmapItem, hlist) % sim::Arena::kGranule == 0, "a pprev target");
static_assert(offsetof(RmapItem, mm) + sizeof(uint32_t) == 24, "the walk reads 24 bytes");

// rb_entry(node, struct ksm_rmap_item, node): `rb` is the first member of its union, which
// is RmapItem's first member, so the addresses are the same.
inline RmapItem* rb_entry_rmap_item(RbNode* node) { return reinterpret_cast<RmapItem*>(node); }
inline const RmapItem* rb_entry_rmap_item(const RbNode* node) {
  return reinterpret_cast<const RmapItem*>(node);
}

// Where a stable node currently is (the kernel encodes this in the `head` union).
enum class StablePlace : uint8_t { kTree, kDup, kMigrate };

// struct ksm_stable_node: a KSM page's node in the stable tree; or a chain (in the tree,
// heading dups of one content); or a dup (in a chain's list); or on migrate_nodes.
//
// 64 bytes, one cache line (the kernel's is 64 too): a dup's `kpfn` and a chain's
// `chain_prune_time` share a word as in the kernel, `nid` is 16 bits, and the position on
// migrate_nodes lives beside the node (Ksm::migrate_its_): few nodes are ever there.
struct alignas(64) StableNode : RbNode {
  int rmap_hlist_len = 0;  // or STABLE_NODE_CHAIN
  // The simulator's own (not the kernel's): the first 4 bytes of this node's KSM page when
  // get_ksm_page() last found it, valid while Ksm::stable_snapshot_tag() equals
  // snapshot_tag (0: none). See ksm/snapshot.h.
  uint64_t snapshot_tag = 0;
  union {
    mmu::Pfn kpfn = 0;          // a node's or dup's KSM page
    uint64_t chain_prune_time;  // a chain's (jiffies)
  };
  // (The three lists' links are where pprev pointers point: each at an 8-byte offset.)
  HNode<StableNode> hlist_dup;                     // when a dup: link in chain->dups
  HList<RmapItem, &RmapItem::hlist> hlist;         // rmap_items using this KSM page
  uint32_t snapshot_prefix = 0;                    // (simulator) see snapshot_tag
  HList<StableNode, &StableNode::hlist_dup> dups;  // when a chain
  int16_t nid = 0;
  StablePlace place = StablePlace::kTree;
  uint64_t id = 0;  // allocation order, for dumps and events
};
static_assert(sizeof(StableNode) == 64, "one stable node per KSM page: one cache line");
// pprev targets (ksm/hlist.h) sit at 8-byte aligned offsets of a 64-byte aligned node.
// (StableNode derives from RbNode, so it is not standard-layout; GCC and clang give
// offsetof its plain meaning for a single non-virtual base.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
static_assert(offsetof(StableNode, hlist_dup) % sim::Arena::kGranule == 0);
static_assert(offsetof(StableNode, hlist) % sim::Arena::kGranule == 0);
static_assert(offsetof(StableNode, dups) % sim::Arena::kGranule == 0);
#pragma GCC diagnostic pop

// struct ksm_mm_slot: an mm registered with KSM, on the circular mm list.
struct MmSlot {
  mmu::Mm* mm = nullptr;
  Ref32<RmapItem> rmap_list{};
  MmSlot* next = this;
  MmSlot* prev = this;
};

// struct ksm_scan: the one scanning cursor.
struct KsmScan {
  MmSlot* mm_slot = nullptr;
  uint64_t address = 0;
  Ref32<RmapItem>* rmap_list = nullptr;  // &mm_slot->rmap_list or &item->rmap_list
  uint64_t seqnr = 0;                    // completed full scans
};

inline bool is_stable_node_chain(const StableNode* chain) {
  return chain->rmap_hlist_len == STABLE_NODE_CHAIN;
}
inline bool is_stable_node_dup(const StableNode* dup) { return dup->place == StablePlace::kDup; }

}  // namespace ksmsim::ksm
