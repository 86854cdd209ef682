// A sweep's results directory, shared by the local executor's workers, Slurm's array tasks
// and `sweep collect`: DIR/spec.json (the grid) and DIR/points/NNNNNN.json (one finished
// point each). A point's file is written to a temporary name and renamed, so a file that
// exists is complete: an interrupted sweep resumes by running the points without one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tools/sweep/spec.h"

namespace ksmsim::tools::sweep {

class ResultsDir {
 public:
  explicit ResultsDir(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // Creates the directory (and points/) and writes spec.json, or checks that the spec.json
  // already there is the same grid (a resumed sweep). False with a message otherwise.
  bool Prepare(const SweepSpec& spec, std::string* error) const;
  // Reads DIR/spec.json.
  bool LoadSpec(SweepSpec& spec, std::string* error) const;

  std::string PointPath(uint64_t index) const;
  bool HasPoint(uint64_t index) const;
  // Writes a point's result atomically (temporary file, then rename).
  bool WritePoint(uint64_t index, const nlohmann::ordered_json& result, std::string* error) const;
  std::optional<nlohmann::ordered_json> ReadPoint(uint64_t index, std::string* error) const;
  // The indexes below `n` that have no result yet, in order.
  std::vector<uint64_t> Missing(uint64_t n) const;
  // Removes temporary files left by a worker that was killed while writing.
  void RemoveStaleTemporaries() const;

 private:
  std::string dir_;
};

// The temporary file a worker is writing now ("" when none): a signal handler may unlink it.
const char* CurrentTemporary();

}  // namespace ksmsim::tools::sweep
