// libFuzzer target: the binary (KSMTRACE) trace reader. Inputs that lost the magic are given
// it back, so that mutations reach the sections.
#include <string>

#include "tests/fuzz/fuzz_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (ksmsim::traces::DetectEncoding(bytes) == ksmsim::traces::Encoding::kBinary) {
    ksmsim::fuzz::CheckTrace(bytes);
  } else {
    ksmsim::fuzz::CheckTrace(std::string("KSMTRACE") + std::string(bytes));
  }
  return 0;
}
