// The process `ksmsim capture` samples in tests/traces/capture_test.cc: maps 300 anonymous
// private pages, fills 100 with one identical pattern and 200 with distinct contents, prints
// "ready <address>" on stdout, then sleeps until SIGTERM/SIGINT or the timeout (argv[1]
// seconds, default 30) and exits 0.
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

volatile std::sig_atomic_t g_stop = 0;
extern "C" void OnSignal(int) { g_stop = 1; }

uint64_t Mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

int main(int argc, char** argv) {
  double timeout_s = argc > 1 ? std::strtod(argv[1], nullptr) : 30;
  constexpr size_t kPage = 4096, kPages = 300, kIdentical = 100;
  void* mem =
      mmap(nullptr, kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  auto* words = static_cast<uint64_t*>(mem);
  const uint64_t nonce =
      Mix64(static_cast<uint64_t>(getpid()) ^ static_cast<uint64_t>(time(nullptr)));
  for (size_t p = 0; p < kPages; ++p) {
    uint64_t* w = words + p * (kPage / 8);
    for (size_t i = 0; i < kPage / 8; ++i) {
      // Pages 0..99: one pattern; pages 100..299: each its own.
      w[i] = p < kIdentical ? Mix64(0x6b736d73696dULL + i) : Mix64(nonce + p * 4096 + i);
    }
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::printf("ready %p\n", mem);
  std::fflush(stdout);
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (!g_stop) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = static_cast<double>(now.tv_sec - start.tv_sec) +
                     static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9;
    if (elapsed >= timeout_s) break;
    timespec ten_ms{0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, nullptr);
  }
  return 0;
}
