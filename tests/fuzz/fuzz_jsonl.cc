// libFuzzer target: the JSON Lines trace reader (inputs that look binary are the other
// target's).
#include "tests/fuzz/fuzz_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (ksmsim::traces::DetectEncoding(bytes) != ksmsim::traces::Encoding::kJsonl) return 0;
  ksmsim::fuzz::CheckTrace(bytes);
  return 0;
}
