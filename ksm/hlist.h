// Intrusive singly-headed doubly-linked lists (the kernel's hlist_head/hlist_node), with the
// kernel's insertion order: KSM's walk orders depend on it. (The mm_slot list is MmSlot's
// own next/prev, ksm_types.h; migrate_nodes a std::list.)
#pragma once

#include "sim/arena.h"

namespace ksmsim::ksm {

// The arena is the simulator's (sim/arena.h); KSM names its parts unqualified.
using sim::Arena;
using sim::ArenaPtr;
using sim::ArenaRef;
using sim::Ref32;

// struct hlist_node, embedded in T. No member initialisers, so that it can sit in a union
// (RmapItem's): its owner is value-initialised (KmemCache::alloc), which zeroes it.
// The links are arena references (sim/arena.h): `next` and `first` are where a `pprev`
// points, so both must sit in the arena at an 8-byte aligned offset (ksm_types.h asserts
// it for every list).
template <class T>
struct HNode {
  Ref32<T> next;
  Ref32<Ref32<T>> pprev;
};

// struct hlist_head over the HNode member `Link` of T.
template <class T, HNode<T> T::*Link>
struct HList {
  Ref32<T> first{};

  bool empty() const { return first == nullptr; }
  // hlist_add_head()
  void add_head(T* n) {
    HNode<T>& l = n->*Link;
    l.next = first;
    if (T* f = first) (f->*Link).pprev = &l.next;
    first = n;
    l.pprev = &first;
  }
  // hlist_del()
  static void del(T* n) {
    HNode<T>& l = n->*Link;
    *l.pprev = l.next;
    if (T* nx = l.next) (nx->*Link).pprev = l.pprev;
    l.next = nullptr;
    l.pprev = nullptr;
  }
  static T* next(const T* n) { return (n->*Link).next; }
};

}  // namespace ksmsim::ksm
