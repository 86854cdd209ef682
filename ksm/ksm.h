// Kernel samepage merging: the port of Linux 6.1 mm/ksm.c (seed 000, with the seed-001
// zero-page unsharing as a profile). Function and counter names are the kernel's.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "ksm/ksm_decision.h"
#include "ksm/ksm_types.h"
#include "ksm/profile.h"
#include "ksm/slab.h"
#include "mmu/machine.h"

namespace ksmsim::ksm {

// One KSM tracepoint event (include/trace/events/ksm.h), for the event log.
struct KsmEvent {
  std::string_view name;  // ksm_start_scan, ksm_merge_one_page, ...
  uint64_t seq = 0;       // full_scans at the time
  const mmu::Mm* mm = nullptr;
  uint64_t addr = 0;
  int64_t pfn = -1;
  int64_t other_pfn = -1;  // the KSM page merged with, where it applies
  int err = 0;
  uint64_t rmap_num = 0;  // ksm_stop_scan / ksm_remove_ksm_page
  // "ksmsim_decision" events (no kernel tracepoint; for `ksmsim explain`): `decision`
  // (ksm/ksm_decision.h), and its name: which function decided (`func`, the kernel's name)
  // and what (`what`, a short code). A "scan" decision opens each cmp_and_merge_page call
  // with the page's mm/addr/pfn; the decisions that follow (until the next "scan") are
  // about that page.
  Decision decision = Decision::kScan;
  std::string_view func{};
  std::string_view what{};
  uint32_t oldchecksum = 0, checksum = 0;  // calc_checksum: the previous and new values
  const mmu::Mm* other_mm = nullptr;       // the unstable tree's page that matched
  uint64_t other_addr = 0;
  uint64_t node_id = 0;  // StableNode::id of the node (or chain) concerned
  int nid = -1;          // the tree's NUMA node id (a migration: the node moved to)
  // (simulator) The machine's page events, named "ksmsim_cow_ksm", "ksmsim_swapin" and
  // "ksmsim_migrate" (workloads::Driver turns mmu::PageEvent into these): the new frame.
  int64_t new_pfn = -1;
  bool swap_read = false;  // a swap-in read the page from the device (pswpin)
  // 6.12 smart scan. A kSmartScanSkip decision: the rmap_item's age after this visit and
  // the visits still to skip after this one. "ksmsim_smart_scan_skip" (one per pass that
  // skipped pages, before its ksm_stop_scan): the pages skipped in the pass.
  uint8_t skip_age = 0, remaining_skips = 0;
  uint64_t skipped = 0;
  // ksm_advisor (6.12, after scan_time_advisor): the last scan's time in seconds, the new
  // pages_to_scan and ksmd's CPU percent over that scan (TP_PROTO's three arguments).
  int64_t scan_time = 0;
  uint64_t pages_to_scan = 0;
  unsigned cpu_percent = 0;
};
inline constexpr std::string_view kDecisionEvent = "ksmsim_decision";
inline constexpr std::string_view kSmartScanSkipEvent = "ksmsim_smart_scan_skip";

// 6.12's advisors (enum ksm_advisor_type): the values of advisor_mode.
enum ksm_advisor_type { KSM_ADVISOR_NONE, KSM_ADVISOR_SCAN_TIME };

// The knobs of /sys/kernel/mm/ksm.
struct KsmKnobs {
  unsigned long run = 0;  // KSM_RUN_STOP
  unsigned pages_to_scan = 100;
  unsigned sleep_millisecs = 20;
  int max_page_sharing = 256;
  unsigned merge_across_nodes = 1;
  bool use_zero_pages = false;
  unsigned stable_node_chains_prune_millisecs = 2000;
  // 6.12 (ProfileFeatures::smart_scan, sysfs_6_12)
  bool smart_scan = true;
  unsigned advisor_max_cpu = 70;                    // KSM_ADVISOR_MAX_CPU
  unsigned long advisor_min_pages_to_scan = 500;    // KSM_ADVISOR_MIN_PAGES
  unsigned long advisor_max_pages_to_scan = 30000;  // KSM_ADVISOR_MAX_PAGES
  unsigned long advisor_target_scan_time = 200;     // KSM_ADVISOR_TARGET_SCAN_TIME (s)
  ksm_advisor_type ksm_advisor = KSM_ADVISOR_NONE;  // advisor_mode
};

// ksmd's clocks as 6.12's scan_time_advisor() reads them, in ns: ktime_get() (the
// simulated time, inside a batch its start plus the cost of the work done so far) and
// task_sched_runtime() of ksmd (its CPU time by the cost model). ksm::Ksmd provides them.
class KsmdClock {
 public:
  virtual uint64_t ktime_get() const = 0;
  virtual uint64_t task_sched_runtime() const = 0;

 protected:
  ~KsmdClock() = default;
};

inline constexpr unsigned long KSM_RUN_STOP = 0, KSM_RUN_MERGE = 1, KSM_RUN_UNMERGE = 2,
                               KSM_RUN_OFFLINE = 4;
inline constexpr uint64_t kHz = 250;  // CONFIG_HZ of Debian's kernel: jiffies are 4 ms
// The NUMA node of the CPU that ksmd, and the task writing the sysfs knobs, run on: their
// faults for other processes (break_cow, `run` 2's unmerging) allocate there when the VMA
// has no mbind policy. The oracle pins both to CPU 0, which is on node 0.
inline constexpr int kKsmdNode = 0;
inline constexpr int kSysfsWriterNode = 0;

class Ksm final : public mmu::KsmHooks {
 public:
  Ksm(mmu::Machine& machine, Profile profile);
  ~Ksm() override;

  // ---- mmu::KsmHooks ----
  int ksm_madvise(mmu::Vma& vma, uint64_t start, uint64_t end, mmu::Advice advice,
                  uint64_t* vm_flags) override;
  void ksm_fork(mmu::Mm& mm, mmu::Mm& oldmm) override;
  void ksm_exit(mmu::Mm& mm) override;
  mmu::Page* ksm_might_need_to_copy(mmu::Page* page, mmu::Vma& vma, uint64_t address) override;
  void rmap_walk_ksm(mmu::Page* page, mmu::RmapWalkControl& rwc) override;
  void folio_migrate_ksm(mmu::Page* newpage, mmu::Page* oldpage) override;
  void memory_callback(mmu::MemAction action, uint64_t start_pfn, uint64_t nr_pages) override;
  void ksm_might_unmap_zero_page(mmu::Mm& mm, mmu::Pte pte) override;
  void ksm_add_vma(mmu::Vma& vma) override;
  int ksm_enable_merge_any(mmu::Mm& mm) override;
  int ksm_disable_merge_any(mmu::Mm& mm) override;

  // ---- sysfs: /sys/kernel/mm/ksm ----
  // Writes a knob as sysfs would: 0, or -EINVAL / -EBUSY / -ENOENT (no such writable file).
  int StoreKnob(std::string_view name, int64_t value);
  // Every file of the directory with its value, by name (ksm_zero_pages in that profile).
  std::map<std::string, int64_t> SysfsValues() const;
  int64_t general_profit() const;
  int64_t ksm_process_profit(const mmu::Mm& mm) const;
  // /proc/PID/ksm_merging_pages and the lines of /proc/PID/ksm_stat, by name.
  std::map<std::string, int64_t> ProcValues(const mmu::Mm& mm) const;
  const KsmKnobs& knobs() const { return knobs_; }
  // 6.12's advisor_mode file: advisor_mode_store() takes "none" or "scan-time" (with
  // sysfs_streq: a trailing newline allowed), anything else is -EINVAL; advisor_mode_show()
  // is "[none] scan-time" or "none [scan-time]". -ENOENT without the file (6.1).
  int advisor_mode_store(std::string_view buf);
  std::string advisor_mode_show() const;

  // ---- ksmd ----
  void ksm_do_scan(unsigned scan_npages);
  bool ksmd_should_run() const;
  uint64_t full_scans() const { return ksm_scan_.seqnr; }
  // The simulated time, for jiffies (chain pruning); set by ksmd and the driver.
  void set_now_ns(uint64_t ns) { now_ns_ = ns; }
  void set_event_sink(std::function<void(const KsmEvent&)> sink) { sink_ = std::move(sink); }
  // ksmd's clocks for the scan-time advisor (6.12); without one (unit tests of the port),
  // ktime_get() is the time set_now_ns gave and ksmd's CPU time is 0.
  void set_ksmd_clock(const KsmdClock* clock) { ksmd_clock_ = clock; }
  // Work done by the last ksm_do_scan, for ksmd's cost model.
  struct Work {
    uint64_t pages = 0, checksums = 0, compares = 0, merges = 0, faults = 0;
    // The simulator's own cost, not the kernel's (ksmd's cost model ignores it): tree
    // levels decided by a snapshot (of `compares`).
    uint64_t snapshot_compares = 0;
  };
  const Work& last_work() const { return work_; }

  // ---- counters ----
  unsigned long pages_shared() const { return ksm_pages_shared_; }
  unsigned long pages_sharing() const { return ksm_pages_sharing_; }
  unsigned long pages_unshared() const { return ksm_pages_unshared_; }
  unsigned long rmap_items() const { return ksm_rmap_items_; }
  long pages_volatile() const;
  unsigned long stable_node_chains() const { return ksm_stable_node_chains_; }
  unsigned long stable_node_dups() const { return ksm_stable_node_dups_; }
  unsigned long zero_pages() const { return ksm_zero_pages_; }
  Profile profile() const { return profile_; }
  const ProfileFeatures& features() const { return features_; }

  // ---- read-only views for the checker, dumps and teaching ----
  int nr_trees() const { return ksm_nr_node_ids_; }
  const RbRoot& stable_root(int nid) const { return root_stable_tree_[nid]; }
  const RbRoot& unstable_root(int nid) const { return root_unstable_tree_[nid]; }
  const std::list<StableNode*>& migrate_nodes() const { return migrate_nodes_; }
  // The mm_slots in list order (the scan order).
  std::vector<const MmSlot*> mm_slots() const;
  const KsmScan& scan_cursor() const { return ksm_scan_; }
  // ksmd is inside a pass: it started one (ksm_start_scan) and has not finished it.
  bool scan_in_pass() const { return ksm_scan_.mm_slot != &ksm_mm_head_; }
  StableNode* page_stable_node(const mmu::Page* page) const;
  // (simulator) Every tree-walk snapshot whose tag holds although what it describes changed
  // (ksm/snapshot.cc), one line each: for the checker.
  std::vector<std::string> stale_snapshots() const;

 private:
  friend class KsmTestPeer;
  enum GetKsmPageFlags { GET_KSM_PAGE_NOLOCK, GET_KSM_PAGE_LOCK, GET_KSM_PAGE_TRYLOCK };
  // The ERR_PTR(-EBUSY) of get_ksm_page(TRYLOCK) / stable_tree_search().
  static mmu::Page* ErrBusy() { return reinterpret_cast<mmu::Page*>(uintptr_t{1}); }

  // allocation
  RmapItem* alloc_rmap_item();
  void free_rmap_item(RmapItem* rmap_item);
  StableNode* alloc_stable_node();
  void free_stable_node(StableNode* stable_node);
  // stable tree (ksm_stable.cc)
  int get_kpfn_nid(mmu::Pfn kpfn) const;
  int NUMA(int nid) const { return ksm_merge_across_nodes() ? 0 : nid; }
  bool ksm_merge_across_nodes() const { return knobs_.merge_across_nodes != 0; }
  void stable_node_chain_add_dup(StableNode* dup, StableNode* chain);
  // list_add(&stable_node->list, &migrate_nodes) and list_del(&stable_node->list).
  void migrate_nodes_add(StableNode* stable_node);
  void migrate_nodes_del(StableNode* stable_node);
  void __stable_node_dup_del(StableNode* dup);
  void stable_node_dup_del(StableNode* dup);
  StableNode* alloc_stable_node_chain(StableNode* dup, RbRoot* root);
  void free_stable_node_chain(StableNode* chain, RbRoot* root);
  void remove_node_from_stable_tree(StableNode* stable_node);
  mmu::Page* get_ksm_page(StableNode* stable_node, GetKsmPageFlags flags);
  void remove_rmap_item_from_tree(RmapItem* rmap_item);
  void remove_trailing_rmap_items(Ref32<RmapItem>* rmap_list);
  void set_page_stable_node(mmu::Page* page, StableNode* stable_node);
  int remove_stable_node(StableNode* stable_node);
  int remove_stable_node_chain(StableNode* stable_node, RbRoot* root);
  int remove_all_stable_nodes();
  bool __is_page_sharing_candidate(const StableNode* stable_node, int offset) const;
  bool is_page_sharing_candidate(const StableNode* s) const {
    return __is_page_sharing_candidate(s, 0);
  }
  mmu::Page* stable_node_dup(StableNode** _stable_node_dup, StableNode** _stable_node, RbRoot* root,
                             bool prune_stale_stable_nodes);
  StableNode* stable_node_dup_any(StableNode* stable_node, RbRoot* root);
  mmu::Page* __stable_node_chain(StableNode** _stable_node_dup, StableNode** _stable_node,
                                 RbRoot* root, bool prune_stale_stable_nodes);
  // the tree walks (ksm_tree.cc)
  mmu::Page* stable_tree_search(mmu::Page* page);
  StableNode* stable_tree_insert(mmu::Page* kpage);
  RmapItem* unstable_tree_search_insert(RmapItem* rmap_item, mmu::Page* page,
                                        mmu::Page** tree_pagep);
  // (simulator) The tree-walk snapshots (ksm/snapshot.h, inline; checks in snapshot.cc).
  static uint32_t unstable_snapshot_tag(const mmu::Machine& m, const mmu::Mm* mm);
  bool unstable_snapshots_usable() const;
  void start_unstable_snapshots();
  void take_unstable_snapshot(RmapItem* rmap_item, const mmu::Page* page);
  int unstable_snapshot_cmp(const RmapItem* tree_rmap_item, uint32_t prefix);
  bool unstable_snapshot_descend(RmapItem* tree_rmap_item, mmu::Page* page, uint32_t prefix,
                                 RbNode** parent, RbLink** new_link);
  void check_unstable_snapshot(RmapItem* tree_rmap_item, mmu::Page* page, int ret);
  uint64_t stable_snapshot_tag() const;
  void take_stable_snapshot(StableNode* stable_node, const mmu::Page* tree_page);
  int stable_snapshot_cmp(const StableNode* stable_node, uint32_t prefix) const;
  bool stable_snapshot_descend(StableNode* stable_node, mmu::Page* page, uint32_t prefix,
                               RbNode** parent, RbLink** new_link);
  bool stable_snapshot_skips_dup(StableNode* dup);
  void check_stable_snapshot(StableNode* stable_node, mmu::Page* page, int ret);
  // (simulator) get_ksm_page() would find stable_node's KSM page unchanged (not stale).
  bool ksm_page_fresh(const StableNode* stable_node) const;
  struct DupsTail;  // (below, with the state)
  // (simulator) tail is what chain's list holds: its first dup is in the list, and from
  // there to the list's end are tail.count dups, each full, fresh and snapshotted at
  // tail.tag. check_dups_tail aborts (KSMSIM_PARANOID) where it is not.
  bool dups_tail_holds(const StableNode* chain, const DupsTail& tail) const;
  void check_dups_tail(const StableNode* chain, const DupsTail& tail) const;
  void snapshot_descend(int ret, RbNode** parent, RbLink** new_link);
  // (simulator) The walk lookahead (ksm/walk_lookahead.cc): walks both trees for the next
  // pages the scan will reach, all together, one level of each in turn, following the
  // nodes' snapshot prefixes and prefetching each next level, so that the walks' cache
  // misses overlap instead of following one another; and fills the content store's
  // checksum cache for those pages in one batch (ContentStore::PrepareChecksums). Changes no
  // object, counter or event and no value any call returns (the trees are not modified
  // while it runs), so behaviour-neutral: the real walks then find their nodes in the
  // cache. Returns how many pages to scan before the next call (at least 1).
  int walk_lookahead();
  // Trees smaller than this (nodes of both) stay in the caches: their walks are not worth
  // starting early, and walking them twice costs more than it saves (pool1000: 7.9M pages/s
  // without, 6.1M with; rewrite10, whose tree reaches ~200k nodes, 4% slower at 2^17);
  // then the lookahead only batches first visits' checksums.
  static constexpr unsigned long kLookaheadMinNodes = 1UL << 18;
  unsigned long lookahead_min_nodes_ = kLookaheadMinNodes;  // (tests lower it)
  void stable_tree_append(RmapItem* rmap_item, StableNode* stable_node,
                          bool max_page_sharing_bypass);
  // merging (ksm_merge.cc)
  int break_ksm(mmu::Vma* vma, uint64_t addr, bool ksm_check_bypass);
  mmu::Vma* find_mergeable_vma(mmu::Mm* mm, uint64_t addr);
  void break_cow(RmapItem* rmap_item);
  int unshare_zero_pages(RmapItem* rmap_item);
  void ksm_map_zero_page(mmu::Mm* mm);
  mmu::Page* get_mergeable_page(RmapItem* rmap_item);
  int unmerge_ksm_pages(mmu::Vma* vma, uint64_t start, uint64_t end);
  int unmerge_and_remove_all_rmap_items();
  uint32_t calc_checksum(mmu::Page* page);
  int memcmp_pages(mmu::Page* a, mmu::Page* b);
  int write_protect_page(mmu::Vma* vma, mmu::Page* page, mmu::Pte* orig_pte);
  int replace_page(mmu::Vma* vma, mmu::Page* page, mmu::Page* kpage, mmu::Pte orig_pte);
  int try_to_merge_one_page(mmu::Vma* vma, mmu::Page* page, mmu::Page* kpage);
  int try_to_merge_with_ksm_page(RmapItem* rmap_item, mmu::Page* page, mmu::Page* kpage);
  int try_to_merge_with_kernel_zero_page(mmu::Mm* mm, RmapItem* rmap_item, mmu::Page* page);
  mmu::Page* try_to_merge_two_pages(RmapItem* rmap_item, mmu::Page* page, RmapItem* tree_rmap_item,
                                    mmu::Page* tree_page);
  // scanning (ksm_scan.cc)
  void cmp_and_merge_page(mmu::Page* page, RmapItem* rmap_item);
  bool checksum_gate_61(mmu::Page* page, RmapItem* rmap_item);
  int try_to_merge_with_zero_page(RmapItem* rmap_item, mmu::Page* page);
  void unstable_tree_merge(mmu::Page* page, RmapItem* rmap_item, StableNode* stable_node);
  RmapItem* try_to_get_old_rmap_item(uint64_t addr, Ref32<RmapItem>* rmap_list);
  RmapItem* get_next_rmap_item(MmSlot* mm_slot, Ref32<RmapItem>* rmap_list, uint64_t addr);
  RmapItem* scan_get_next_rmap_item(mmu::Page** page);
  bool should_skip_rmap_item(mmu::Page* page, RmapItem* rmap_item);
  // the scan-time advisor (6.12, ksm_advisor.cc)
  int store_advisor_knob(std::string_view name, int64_t value);
  void set_advisor_defaults();
  void advisor_start_scan();
  void scan_time_advisor();
  void advisor_stop_scan();
  uint64_t ktime_get() const { return ksmd_clock_ ? ksmd_clock_->ktime_get() : now_ns_; }
  // mm list
  int __ksm_enter(mmu::Mm* mm);
  void __ksm_exit(mmu::Mm* mm);
  int ksm_del_vmas(mmu::Mm& mm);
  void mm_slot_free(MmSlot* slot);
  static void list_del(MmSlot* s);
  static void list_add_after(MmSlot* s, MmSlot* pos);   // list_add(s, &pos->mm_node)
  static void list_add_before(MmSlot* s, MmSlot* pos);  // list_add_tail(s, &pos->mm_node)
  bool ksm_test_exit(const mmu::Mm* mm) const { return mm->mm_users == 0; }
  // hotplug
  bool stable_node_dup_remove_range(StableNode* stable_node, uint64_t start, uint64_t end);
  bool stable_node_chain_remove_range(StableNode* stable_node, uint64_t start, uint64_t end,
                                      RbRoot* root);
  void ksm_check_stable_tree(uint64_t start_pfn, uint64_t end_pfn);
  uint64_t jiffies() const { return now_ns_ / (1000000000 / kHz); }
  void emit(const KsmEvent& e) {
    if (sink_) sink_(e);
  }
  // An event sink is set: per-page paths test this first, so that without one they do not
  // even build the event (GCC does not sink the temporary's stores below emit's test).
  bool tracing() const { return static_cast<bool>(sink_); }
  // The decisions' events, one call where the port decides (ksm/decision_events.h: inline,
  // and without an event sink nothing is built). About the scanned page:
  void trace_scan(const RmapItem* rmap_item, const mmu::Page* page);
  // should_skip_rmap_item skipped the page (6.12 smart scan): it opens the page's decisions.
  void trace_smart_scan_skip(const RmapItem* rmap_item, const mmu::Page* page, uint8_t age,
                             uint8_t remaining_skips);
  void trace_page(Decision d, const RmapItem* rmap_item, const mmu::Page* page,
                  const StableNode* stable_node = nullptr);
  void trace_checksum_changed(const RmapItem* rmap_item, const mmu::Page* page, uint32_t checksum);
  void trace_zero_page_merge(int err, const RmapItem* rmap_item, const mmu::Page* page);
  // (with the ksm_merge_with_ksm_page tracepoint when merged)
  void trace_merge_with_ksm_page(int err, const RmapItem* rmap_item, const mmu::Page* page,
                                 const mmu::Page* kpage);
  void trace_merge_two_pages(const RmapItem* rmap_item, const mmu::Page* page,
                             const RmapItem* tree_rmap_item, const mmu::Page* kpage,
                             const StableNode* stable_node);
  // About a tree walk's node (NUMA_NO_NODE: no tree concerned yet):
  void trace_stable(Decision d, const StableNode* stable_node, int nid, int64_t kpfn = -1);
  void trace_unstable(Decision d, const RmapItem* tree_rmap_item, int nid,
                      const mmu::Page* tree_page = nullptr);
  // A decision's event with its name, the scan's sequence number and the scanned page
  // (traced_: set by trace_scan), other fields unset.
  KsmEvent decision_event(Decision d) const;
  struct TracedPage {
    const mmu::Mm* mm = nullptr;
    uint64_t addr = 0;
    int64_t pfn = -1;
  } traced_;  // the page cmp_and_merge_page is deciding about (only while tracing)

  mmu::Machine& m_;
  Profile profile_;
  const ProfileFeatures& features_;
  KsmKnobs knobs_;
  int ksm_nr_node_ids_ = 1;
  std::vector<RbRoot> root_stable_tree_;
  std::vector<RbRoot> root_unstable_tree_;
  std::list<StableNode*> migrate_nodes_;
  // (simulator) The full dups at the end of a chain's list, as stable_node_dup last found
  // them: `count` dups from `from` to the list's end, each a full dup whose snapshot held,
  // which a walk only counts (nr) while stable_snapshot_tag() is `tag` and no dup's sharers
  // dropped and no dup left a list (`dups_changes_`: see stable_node_dup). Behaviour-neutral:
  // the walk then counts them in one step instead of visiting each. One entry per chain
  // whose list had such a tail; looked up only, never iterated; dropped when the chain is
  // freed.
  struct DupsTail {
    Ref32<StableNode> from;
    uint32_t count = 0;
    uint64_t tag = 0;
    uint64_t changes = 0;
  };
  static constexpr uint32_t kDupsTailMin = 16;  // shorter tails are walked
  bool dups_tails_enabled_ = true;              // (tests compare with and without)
  absl::flat_hash_map<const StableNode*, DupsTail> dups_tails_;
  uint64_t dups_changes_ = 0;
  // Each migrate node's position in migrate_nodes_ (the kernel's list_head in the node):
  // looked up only, never iterated.
  absl::flat_hash_map<const StableNode*, std::list<StableNode*>::iterator> migrate_its_;
  MmSlot ksm_mm_head_;
  KsmScan ksm_scan_;
  absl::flat_hash_map<const mmu::Mm*, MmSlot*> mm_slots_hash_;  // lookup only, never iterated
  uint32_t zero_checksum_ = 0;

  unsigned long ksm_pages_shared_ = 0;
  unsigned long ksm_pages_sharing_ = 0;
  unsigned long ksm_pages_unshared_ = 0;
  unsigned long ksm_rmap_items_ = 0;
  unsigned long ksm_stable_node_chains_ = 0;
  unsigned long ksm_stable_node_dups_ = 0;
  unsigned long ksm_zero_pages_ = 0;
  unsigned long ksm_pages_scanned_ = 0;  // 6.12
  unsigned long ksm_pages_skipped_ = 0;  // 6.12
  // (simulator) Pages should_skip_rmap_item skipped in this pass: the count of the pass's
  // "ksmsim_smart_scan_skip" event, for the event log only.
  uint64_t pass_skipped_ = 0;
  // 6.12's struct ksm_rmap_item fields `age` and `remaining_skips` (rmap_age_t, u8). The
  // simulator's RmapItem has no room left in its 48 bytes (the kernel used its padding,
  // the simulator its snapshot tag), so they live beside it, created on an rmap_item's first
  // visit with smart_scan on and dropped by free_rmap_item (a fresh rmap_item starts at 0,
  // as kmem_cache_zalloc gives it). Looked up only, never iterated.
  struct SkipAge {
    uint8_t age = 0;
    uint8_t remaining_skips = 0;
  };
  absl::flat_hash_map<const RmapItem*, SkipAge> skip_ages_;

  // struct advisor_ctx (6.12): the current scan's start (ns), the previous scan's time (s),
  // the smoothed change (percent) and ksmd's CPU time at the previous scan's end (ns).
  struct advisor_ctx {
    uint64_t start_scan = 0;
    unsigned long scan_time = 0;
    unsigned long change = 0;
    unsigned long long cpu_time = 0;
  } advisor_ctx_;
  const KsmdClock* ksmd_clock_ = nullptr;

  uint64_t now_ns_ = 0;
  uint64_t next_stable_node_id_ = 1;
  // KSM pages given another (or no) stable node: see stable_snapshot_tag (ksm/snapshot.h).
  uint64_t stable_remaps_ = 0;
  uint64_t unstable_snapshot_base_ = 0;  // change_count() when this pass's tree began
  Work work_;
  std::function<void(const KsmEvent&)> sink_;
  // Owners of every live object (kmem_cache stand-ins).
  KmemCache<RmapItem> rmap_item_cache_;
  KmemCache<StableNode> stable_node_cache_;
};

}  // namespace ksmsim::ksm
