// cpio newc writing and module dependency resolution for the kernel oracle.
#include "tools/oracle/host/initramfs.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ksmsim::tools {
namespace {

std::string Hex8(uint32_t v) {
  char buf[9];
  snprintf(buf, sizeof buf, "%08X", v);
  return buf;
}

void Pad4(std::string& s) {
  while (s.size() % 4 != 0) s.push_back('\0');
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return base.substr(0, base.find('.'));
}

}  // namespace

void CpioArchive::Entry(const std::string& path, uint32_t mode, const std::string& data,
                        uint32_t rmajor, uint32_t rminor) {
  std::string h = "070701";
  h += Hex8(ino_++);
  h += Hex8(mode);
  h += Hex8(0) + Hex8(0);  // uid, gid
  h += Hex8(1);            // nlink
  h += Hex8(0);            // mtime
  h += Hex8(static_cast<uint32_t>(data.size()));
  h += Hex8(0) + Hex8(0);            // dev major/minor
  h += Hex8(rmajor) + Hex8(rminor);  // rdev
  h += Hex8(static_cast<uint32_t>(path.size() + 1));
  h += Hex8(0);  // check
  out_ += h;
  out_ += path;
  out_.push_back('\0');
  Pad4(out_);
  out_ += data;
  Pad4(out_);
}

void CpioArchive::AddDirectory(const std::string& path) { Entry(path, S_IFDIR | 0755, "", 0, 0); }

void CpioArchive::AddFile(const std::string& path, const std::string& contents, uint32_t mode) {
  Entry(path, S_IFREG | mode, contents, 0, 0);
}

void CpioArchive::AddCharDevice(const std::string& path, uint32_t major, uint32_t minor) {
  Entry(path, S_IFCHR | 0600, "", major, minor);
}

std::string CpioArchive::Finish() {
  Entry("TRAILER!!!", 0, "", 0, 0);
  std::string out = std::move(out_);
  out_.clear();
  return out;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ModuleLoadOrder(const std::string& modules_dir,
                                         const std::vector<std::string>& names) {
  std::ifstream dep(modules_dir + "/modules.dep");
  if (!dep) {
    throw std::runtime_error("cannot read " + modules_dir +
                             "/modules.dep (is the kernel's linux-image package installed?)");
  }
  std::map<std::string, std::vector<std::string>> deps;  // relative path -> its deps
  std::map<std::string, std::string> by_name;            // module name -> relative path
  std::string line;
  while (std::getline(dep, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string mod = line.substr(0, colon);
    std::istringstream rest(line.substr(colon + 1));
    std::string d;
    while (rest >> d) deps[mod].push_back(d);
    deps[mod];
    by_name[Basename(mod)] = mod;
  }
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::function<void(const std::string&)> visit = [&](const std::string& mod) {
    if (!seen.insert(mod).second) return;
    for (const std::string& d : deps[mod]) visit(d);
    order.push_back(modules_dir + "/" + mod);
  };
  for (const std::string& n : names) {
    auto it = by_name.find(n);
    if (it == by_name.end()) {
      // Built into the kernel, or missing: builtin modules are listed in modules.builtin.
      std::string builtin = ReadWholeFile(modules_dir + "/modules.builtin");
      if (builtin.find("/" + n + ".ko") != std::string::npos) continue;
      throw std::runtime_error("kernel module " + n + " is neither in " + modules_dir +
                               "/modules.dep nor built in");
    }
    visit(it->second);
  }
  return order;
}

std::string ReadModule(const std::string& path) {
  const char* tool = EndsWith(path, ".xz")    ? "xz -dc"
                     : EndsWith(path, ".zst") ? "zstd -dc"
                     : EndsWith(path, ".gz")  ? "gzip -dc"
                                              : nullptr;
  if (tool == nullptr) return ReadWholeFile(path);
  std::string cmd = std::string(tool) + " '" + path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (pclose(p) != 0 || out.empty()) {
    throw std::runtime_error("decompressing " + path + " with `" + cmd + "` failed");
  }
  return out;
}

}  // namespace ksmsim::tools
