// The one convention every subcommand follows for the files it reads and writes:
// - an output never replaces an existing regular file (or fills an existing non-empty directory)
//   unless --force is given; the check runs before any work starts;
// - "-" as an output is stdout, "-" as an input is stdin (at most one of each per command);
// - output options are added with AddOutputOption (type OUTPUT or DIR in --help), so that
//   tests and completions find them.
#pragma once

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksmsim::tools {

// "-": stdout for an output, stdin for an input.
inline constexpr std::string_view kStdio = "-";
// How stdin is named in messages ("<stdin>: steps[3]...").
inline constexpr std::string_view kStdinName = "<stdin>";

// Adds an output file option (shown as OUTPUT; "-" is stdout) and returns it.
CLI::Option* AddOutputOption(CLI::App* sub, const std::string& names, std::string* path,
                             const std::string& help);
// Adds an output directory option (shown as DIR; "-" is refused).
CLI::Option* AddOutputDirOption(CLI::App* sub, const std::string& names, std::string* path,
                                const std::string& help);
// Adds --force ("replace existing output files").
CLI::Option* AddForceFlag(CLI::App* sub, bool* force);

// Checks the outputs of one command before it starts: an existing file (or non-empty
// directory, for `dirs`) without `force`, or "-" given twice, prints one line per problem
// to `err` and returns false (the command exits 2). Empty paths are ignored.
bool CheckOutputs(const std::vector<std::string>& files, bool force,
                  const std::vector<std::string>& dirs = {}, std::ostream& err = std::cerr);
// Whether any of `paths` is "-" (the command's stdout is taken: print no summary there).
bool AnyStdout(const std::vector<std::string>& paths);

// Writes `bytes` to `path` ("-": stdout); false after "PATH: cannot write: REASON" on `err`.
bool WriteOutput(const std::string& path, std::string_view bytes, std::ostream& err = std::cerr);

// An output written as the command runs (an event log): a file, or stdout for "-".
class OutputStream {
 public:
  // Opens `path`; false after "PATH: cannot open for writing: REASON" on `err`.
  bool Open(const std::string& path, std::ostream& err = std::cerr);
  std::ostream& stream() { return file_ ? *file_ : std::cout; }
  // Flushes; false after "PATH: cannot write" on `err`.
  bool Close(std::ostream& err = std::cerr);

 private:
  std::string path_;
  std::unique_ptr<std::ofstream> file_;
};

// The whole of an input file ("-": stdin) in `bytes`; false after "NAME: cannot read:
// REASON" on `err`.
bool ReadInput(const std::string& path, std::string* bytes, std::ostream& err = std::cerr);
// The name of an input in messages: the path, or <stdin> for "-".
std::string InputName(const std::string& path);

}  // namespace ksmsim::tools
