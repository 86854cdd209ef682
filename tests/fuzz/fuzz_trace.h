// Shared body of the libFuzzer targets of the trace readers (tests/fuzz/): decode the bytes;
// a reader may only throw TraceError. What it accepts must convert losslessly both ways
// (docs/TRACE-FORMAT.md) and go through the replay's validation without any other exception.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "traces/replay.h"
#include "traces/trace.h"

namespace ksmsim::fuzz {

inline void CheckTrace(std::string_view bytes) {
  using traces::Trace;
  Trace t;
  try {
    t = traces::Decode(bytes);
  } catch (const traces::TraceError&) {
    return;  // rejected with a message: fine
  }
  // Lossless both ways: converting to the other encoding and back gives the same bytes.
  std::string jsonl = traces::EncodeJsonl(t);
  std::string binary = traces::EncodeBinary(t);
  try {
    if (traces::EncodeJsonl(traces::Decode(binary)) != jsonl) std::abort();
    if (traces::EncodeBinary(traces::Decode(jsonl)) != binary) std::abort();
    if (!(traces::Decode(jsonl) == t)) std::abort();
  } catch (const traces::TraceError&) {
    std::abort();  // an accepted trace must re-encode into a readable one
  }
  try {
    traces::TraceWorkload(t);
  } catch (const traces::TraceError&) {
  }
}

}  // namespace ksmsim::fuzz
