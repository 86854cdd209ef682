// Helpers shared by the machine's unit tests: a Machine with the default NoKsm, and short
// ways to write, read and inspect pages of a process.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mmu/checker.h"
#include "mmu/machine.h"

namespace ksmsim::mmu::testing {

inline MachineConfig Config(std::vector<uint64_t> node_pages, uint64_t swap_pages = 0,
                            uint64_t block_pages = 32768) {
  MachineConfig c;
  c.node_pages = std::move(node_pages);
  c.swap_pages = swap_pages;
  c.block_pages = block_pages;
  return c;
}

inline uint64_t Addr(uint64_t start, uint64_t i) { return start + i * kPageSize; }

// Writes gen(seed) into page i of the region at `start`.
inline std::optional<MachineError> WriteGen(Machine& m, Mm* mm, uint64_t start, uint64_t i,
                                            uint64_t seed) {
  return m.WritePage(mm, Addr(start, i), m.contents().Gen(seed));
}

// True when page i reads back as gen(seed) (faulting it in as a read would).
inline bool HoldsGen(Machine& m, Mm* mm, uint64_t start, uint64_t i, uint64_t seed) {
  ContentId got = 0;
  if (m.ReadPage(mm, Addr(start, i), &got)) return false;
  ContentId want = m.contents().Gen(seed);
  bool same = m.contents().MemcmpPages(got, want) == 0;
  m.contents().Unref(want);
  return same;
}

inline Pte PteAt(Machine& /*m*/, Mm* mm, uint64_t addr) { return mm->page_table.Value(addr); }

inline Page* PageAt(Machine& m, Mm* mm, uint64_t addr) {
  Pte pte = PteAt(m, mm, addr);
  if (!pte.present()) return nullptr;
  return m.pfn_to_page(pte.pfn());
}

inline uint64_t UsedPages(Machine& m) {
  uint64_t n = 0;
  for (int nid = 0; nid < m.phys().num_nodes(); ++nid) n += m.phys().used_pages(nid);
  return n;
}

inline std::string Problems(Machine& m) {
  std::string out;
  for (const std::string& p : CheckMachine(m)) out += p + "\n";
  return out;
}

#define EXPECT_MACHINE_OK(m) EXPECT_EQ(::ksmsim::mmu::testing::Problems(m), "")

}  // namespace ksmsim::mmu::testing
