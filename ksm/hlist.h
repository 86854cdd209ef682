// Intrusive singly-headed doubly-linked lists (the kernel's hlist_head/hlist_node), with the
// kernel's insertion order: KSM's walk orders depend on it. (The mm_slot list is MmSlot's
// own next/prev, ksm_types.h; migrate_nodes a std::list.)
#pragma once

namespace ksmsim::ksm {

// struct hlist_node, embedded in T. No member initialisers, so that it can sit in a union
// (RmapItem's): its owner is value-initialised (KmemCache::alloc), which zeroes it.
template <class T>
struct HNode {
  T* next;
  T** pprev;
};

// struct hlist_head over the HNode member `Link` of T.
template <class T, HNode<T> T::*Link>
struct HList {
  T* first = nullptr;

  bool empty() const { return first == nullptr; }
  // hlist_add_head()
  void add_head(T* n) {
    HNode<T>& l = n->*Link;
    l.next = first;
    if (first) (first->*Link).pprev = &l.next;
    first = n;
    l.pprev = &first;
  }
  // hlist_del()
  static void del(T* n) {
    HNode<T>& l = n->*Link;
    *l.pprev = l.next;
    if (l.next) (l.next->*Link).pprev = l.pprev;
    l.next = nullptr;
    l.pprev = nullptr;
  }
  static T* next(const T* n) { return (n->*Link).next; }
};

}  // namespace ksmsim::ksm
