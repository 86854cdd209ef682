#include "tools/sweep/results_dir.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "fmt/format.h"

namespace ksmsim::tools::sweep {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

char g_temporary[4096] = {0};

bool WriteAtomically(const std::string& path, const std::string& text, std::string* error) {
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  std::snprintf(g_temporary, sizeof g_temporary, "%s", tmp.c_str());
  {
    std::ofstream f(tmp, std::ios::binary);
    f << text;
    f.flush();
    if (!f) {
      *error = fmt::format("{}: cannot write", tmp);
      g_temporary[0] = 0;
      std::remove(tmp.c_str());
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  g_temporary[0] = 0;
  if (ec) {
    *error = fmt::format("{}: cannot rename to {}: {}", tmp, path, ec.message());
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

// The grid of a spec.json without the absolute paths (another checkout may hold the same
// inputs elsewhere).
Json Grid(Json j) {
  for (auto& in : j["inputs"]) in.erase("path");
  return j;
}

}  // namespace

const char* CurrentTemporary() { return g_temporary; }

bool ResultsDir::Prepare(const SweepSpec& spec, std::string* error) const {
  std::error_code ec;
  fs::create_directories(fs::path(dir_) / "points", ec);
  if (ec) {
    *error = fmt::format("{}: cannot create the results directory: {}", dir_, ec.message());
    return false;
  }
  Json want = SpecToJson(spec);
  std::string path = (fs::path(dir_) / "spec.json").string();
  if (fs::exists(path)) {
    std::ifstream f(path);
    Json have;
    try {
      have = Json::parse(f);
    } catch (const std::exception& e) {
      *error = fmt::format("{}: not JSON: {}", path, e.what());
      return false;
    }
    if (Grid(have) != Grid(want)) {
      *error = fmt::format(
          "{}: the directory holds the results of another grid; use another directory (or "
          "remove it)",
          dir_);
      return false;
    }
    return true;
  }
  return WriteAtomically(path, want.dump(2) + "\n", error);
}

bool ResultsDir::LoadSpec(SweepSpec& spec, std::string* error) const {
  std::string path = (fs::path(dir_) / "spec.json").string();
  std::ifstream f(path);
  if (!f) {
    *error = fmt::format("{}: cannot read (not a sweep's results directory?)", path);
    return false;
  }
  try {
    Json j = Json::parse(f);
    if (!SpecFromJson(j, spec, error)) {
      *error = fmt::format("{}: {}", path, *error);
      return false;
    }
  } catch (const std::exception& e) {
    *error = fmt::format("{}: not JSON: {}", path, e.what());
    return false;
  }
  return true;
}

std::string ResultsDir::PointPath(uint64_t index) const {
  return (fs::path(dir_) / "points" / fmt::format("{:06}.json", index)).string();
}

bool ResultsDir::HasPoint(uint64_t index) const { return fs::exists(PointPath(index)); }

bool ResultsDir::WritePoint(uint64_t index, const Json& result, std::string* error) const {
  return WriteAtomically(PointPath(index), result.dump(1) + "\n", error);
}

std::optional<Json> ResultsDir::ReadPoint(uint64_t index, std::string* error) const {
  std::ifstream f(PointPath(index));
  if (!f) {
    *error = fmt::format("{}: missing", PointPath(index));
    return std::nullopt;
  }
  try {
    return Json::parse(f);
  } catch (const std::exception& e) {
    *error = fmt::format("{}: not JSON: {}", PointPath(index), e.what());
    return std::nullopt;
  }
}

std::vector<uint64_t> ResultsDir::Missing(uint64_t n) const {
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < n; ++i)
    if (!HasPoint(i)) out.push_back(i);
  return out;
}

void ResultsDir::RemoveStaleTemporaries() const {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / "points", ec)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path(), ec);
  }
}

}  // namespace ksmsim::tools::sweep
