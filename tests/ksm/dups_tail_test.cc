// A chain's recorded tail of full dups (Ksm::DupsTail, ksm/ksm.h): stable_node_dup counts
// the unchanged full dups at the end of a chain's list in one step instead of visiting
// each. The same program is run with the tails and without them (the walk visiting every
// dup, as the kernel does), with sharers leaving tail dups, pages unmapped and the limit
// changed between batches; every counter, every event and the stable tree must be the same
// after every batch, and the checker (which checks every tail still in use) must pass.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fmt/format.h"
#include "ksm/ksm.h"
#include "ksm/ksm_check.h"
#include "mmu/machine.h"
#include "tests/ksm/ksm_test_peer.h"

namespace ksmsim::ksm {
namespace {

// One machine and KSM, with the tails on or off, and everything KSM reported.
struct TailRun {
  explicit TailRun(bool tails) : m(Config()), k(m, Profile::k61) {
    m.set_ksm(&k);
    KsmTestPeer::set_dups_tails(k, tails);
    k.set_event_sink([this](const KsmEvent& e) {
      log += fmt::format("{} {} {} {} {} {} {}\n", e.name, e.seq, e.addr, e.pfn, e.other_pfn, e.err,
                         e.rmap_num);
    });
  }
  ~TailRun() { m.set_ksm(nullptr); }

  static mmu::MachineConfig Config() {
    mmu::MachineConfig c;
    c.node_pages = {8192};
    return c;
  }

  // pages holding gen(7) (one content: one chain), every tenth gen(1000 + i) instead.
  uint64_t Process(uint64_t pages) {
    mm = m.CreateMm("p", 0);
    const uint64_t start = m.Mmap(mm, "r", pages, 0, false);
    for (uint64_t i = 0; i < pages; ++i) Write(start + i * mmu::kPageSize, i % 10 ? 7 : 1000 + i);
    EXPECT_FALSE(m.Madvise(mm, start, start + pages * mmu::kPageSize, mmu::Advice::kMergeable));
    return start;
  }
  void Write(uint64_t addr, uint64_t x) {
    EXPECT_FALSE(m.WritePage(mm, addr, m.contents().Gen(x)));
  }

  // The counters, the last batch's work and the stable tree with each chain's dups in order.
  std::string State() const {
    std::string s = fmt::format(
        "shared {} sharing {} unshared {} volatile {} chains {} dups {} scans {} compares {} "
        "merges {}\n",
        k.pages_shared(), k.pages_sharing(), k.pages_unshared(), k.pages_volatile(),
        k.stable_node_chains(), k.stable_node_dups(), k.full_scans(), k.last_work().compares,
        k.last_work().merges);
    for (const RbNode* rb = rb_first(&k.stable_root(0)); rb; rb = rb_next(rb)) {
      const auto* n = static_cast<const StableNode*>(rb);
      s += fmt::format("node {} len {}:", n->id, n->rmap_hlist_len);
      for (const StableNode* d = n->dups.first; d; d = d->hlist_dup.next)
        s += fmt::format(" {}/{}/{}", d->id, d->kpfn, d->rmap_hlist_len);
      s += '\n';
    }
    return s;
  }

  mmu::Machine m;
  Ksm k;
  mmu::Mm* mm = nullptr;
  std::string log;
};

TEST(DupsTailTest, CountersEventsAndTreesAreTheSameWithAndWithoutTails) {
  TailRun with(true), without(false);
  std::vector<TailRun*> runs{&with, &without};
  uint64_t start = 0;
  for (TailRun* r : runs) {
    start = r->Process(1200);
    ASSERT_EQ(r->k.StoreKnob("max_page_sharing", 4), 0);
    ASSERT_EQ(r->k.StoreKnob("run", 1), 0);
  }
  auto step = [&](unsigned pages, const std::string& what) {
    for (TailRun* r : runs) {
      r->k.ksm_do_scan(pages);
      for (const std::string& p : CheckKsm(r->k, r->m)) ADD_FAILURE() << what << ": " << p;
    }
    ASSERT_EQ(with.State(), without.State()) << what;
    ASSERT_EQ(with.log, without.log) << what;
  };
  for (int batch = 0; batch < 60; ++batch) step(97, fmt::format("batch {}", batch));
  EXPECT_GT(with.k.stable_node_dups(), 100u);
  EXPECT_GT(KsmTestPeer::dups_tails(with.k), 0u) << "the program never recorded a tail";
  // Sharers leave dups of every age: copy-on-write of merged pages, then an unmap.
  for (TailRun* r : runs) {
    for (uint64_t i = 1; i < 1200; i += 53) r->Write(start + i * mmu::kPageSize, 5000 + i);
  }
  for (int batch = 0; batch < 30; ++batch) step(97, fmt::format("after writes, batch {}", batch));
  for (TailRun* r : runs)
    r->m.Munmap(r->mm, start + 300 * mmu::kPageSize, start + 420 * mmu::kPageSize);
  for (int batch = 0; batch < 30; ++batch) step(61, fmt::format("after munmap, batch {}", batch));
  // A new limit: every dup takes sharers again (the knob's store unmerges everything first).
  for (TailRun* r : runs) {
    ASSERT_EQ(r->k.StoreKnob("run", 2), 0);
    ASSERT_EQ(r->k.StoreKnob("max_page_sharing", 6), 0);
    ASSERT_EQ(r->k.StoreKnob("run", 1), 0);
  }
  for (int batch = 0; batch < 40; ++batch) step(113, fmt::format("new limit, batch {}", batch));
  EXPECT_GT(with.k.stable_node_dups(), 50u);
}

}  // namespace
}  // namespace ksmsim::ksm
