#include "tools/cli/io.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <sstream>

#include "fmt/format.h"

namespace ksmsim::tools {

namespace fs = std::filesystem;

CLI::Option* AddOutputOption(CLI::App* sub, const std::string& names, std::string* path,
                             const std::string& help) {
  return sub->add_option(names, *path, help + " ('-': stdout)")->type_name("OUTPUT");
}

CLI::Option* AddOutputDirOption(CLI::App* sub, const std::string& names, std::string* path,
                                const std::string& help) {
  return sub->add_option(names, *path, help)->type_name("DIR");
}

CLI::Option* AddForceFlag(CLI::App* sub, bool* force) {
  return sub->add_flag("--force", *force, "replace existing output files");
}

bool CheckOutputs(const std::vector<std::string>& files, bool force,
                  const std::vector<std::string>& dirs, std::ostream& err) {
  bool ok = true;
  int stdouts = 0;
  for (const std::string& p : files) {
    if (p.empty()) continue;
    if (p == kStdio) {
      ++stdouts;
      continue;
    }
    std::error_code ec;
    // Only regular files are protected: /dev/null, a FIFO or a terminal may be written.
    if (fs::is_directory(p, ec)) {
      err << fmt::format("{}: is a directory; give a file name\n", p);
      ok = false;
    } else if (fs::is_regular_file(p, ec) && !force) {
      err << fmt::format("{}: already exists; pass --force to overwrite it\n", p);
      ok = false;
    }
  }
  for (const std::string& d : dirs) {
    if (d.empty()) continue;
    std::error_code ec;
    if (d == kStdio) {
      err << "-: a directory is needed here, not stdout\n";
      ok = false;
    } else if (fs::exists(d, ec) && !fs::is_directory(d, ec)) {
      err << fmt::format("{}: exists and is not a directory\n", d);
      ok = false;
    } else if (fs::is_directory(d, ec) && !fs::is_empty(d, ec) && !force) {
      err << fmt::format("{}: is a directory that is not empty; pass --force to write into it\n",
                         d);
      ok = false;
    }
  }
  if (stdouts > 1) {
    err << "only one output can be '-' (stdout)\n";
    ok = false;
  }
  return ok;
}

bool AnyStdout(const std::vector<std::string>& paths) {
  for (const std::string& p : paths)
    if (p == kStdio) return true;
  return false;
}

bool WriteOutput(const std::string& path, std::string_view bytes, std::ostream& err) {
  if (path == kStdio) {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    if (!std::cout) {
      err << "-: cannot write to stdout\n";
      return false;
    }
    return true;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    err << fmt::format("{}: cannot open for writing: {}\n", path, std::strerror(errno));
    return false;
  }
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    err << fmt::format("{}: cannot write\n", path);
    return false;
  }
  return true;
}

bool OutputStream::Open(const std::string& path, std::ostream& err) {
  path_ = path;
  if (path == kStdio) return true;
  file_ = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
  if (!*file_) {
    err << fmt::format("{}: cannot open for writing: {}\n", path, std::strerror(errno));
    return false;
  }
  return true;
}

bool OutputStream::Close(std::ostream& err) {
  stream().flush();
  if (file_) file_->close();
  if (!stream()) {
    err << fmt::format("{}: cannot write\n", path_ == kStdio ? "stdout" : path_);
    return false;
  }
  return true;
}

bool ReadInput(const std::string& path, std::string* bytes, std::ostream& err) {
  if (path == kStdio) {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    *bytes = ss.str();
    if (std::cin.bad()) {
      err << fmt::format("{}: cannot read\n", kStdinName);
      return false;
    }
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    err << fmt::format("{}: cannot read: {}\n", path, std::strerror(errno));
    return false;
  }
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    err << fmt::format("{}: cannot read\n", path);
    return false;
  }
  return true;
}

std::string InputName(const std::string& path) {
  return path == kStdio ? std::string(kStdinName) : path;
}

}  // namespace ksmsim::tools
