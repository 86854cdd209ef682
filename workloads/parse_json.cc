// A SAX handler that builds an ordered_json while checking for duplicate keys and nesting
// depth, and turns nlohmann's byte offsets into line:column.
#include "workloads/parse_json.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <set>

namespace ksmsim::workloads {
namespace {

using Json = nlohmann::ordered_json;

// nlohmann stops at the last character of an unexpected complete token (a string, number
// or literal); point at its first character instead, where a reader looks for it.
uint64_t TokenStart(std::string_view text, uint64_t last, std::string_view reason) {
  if (last >= text.size()) return last;
  auto is_number = [](char c) {
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
  };
  auto is_alpha = [](char c) { return c >= 'a' && c <= 'z'; };
  if (reason.find("unexpected string literal") != std::string_view::npos && text[last] == '"') {
    for (uint64_t i = last; i-- > 0;) {
      uint64_t backslashes = 0;
      while (backslashes < i && text[i - 1 - backslashes] == '\\') ++backslashes;
      if (text[i] == '"' && backslashes % 2 == 0) return i;
    }
    return last;
  }
  bool number = reason.find("unexpected number literal") != std::string_view::npos;
  bool literal = reason.find("unexpected true literal") != std::string_view::npos ||
                 reason.find("unexpected false literal") != std::string_view::npos ||
                 reason.find("unexpected null literal") != std::string_view::npos;
  if (!number && !literal) return last;
  uint64_t i = last;
  while (i > 0 && (number ? is_number(text[i - 1]) : is_alpha(text[i - 1]))) --i;
  return i;
}

class StrictSax {
 public:
  explicit StrictSax(std::string_view text, StrictJson& out) : text_(text), out_(out) {}

  bool null() { return Add(Json(nullptr)); }
  bool boolean(bool v) { return Add(Json(v)); }
  bool number_integer(Json::number_integer_t v) { return Add(Json(v)); }
  bool number_unsigned(Json::number_unsigned_t v) { return Add(Json(v)); }
  bool number_float(Json::number_float_t v, const Json::string_t&) { return Add(Json(v)); }
  bool string(Json::string_t& v) { return Add(Json(std::move(v))); }
  bool binary(Json::binary_t& v) { return Add(Json::binary(std::move(v))); }

  bool start_object(std::size_t) { return Open(Json::object()); }
  bool start_array(std::size_t) { return Open(Json::array()); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(Json::string_t& k) {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second) {
      out_.problems.push_back(
          {0, 0, JoinKey(f.path, k),
           fmt::format("duplicate key \"{}\": a field may appear only once in an object", k)});
    }
    f.pending_key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    std::string what = ex.what();
    size_t colon = what.find(": ");
    std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
    // nlohmann's "last read" echo is not reliably the last token: leave it out.
    size_t last_read = reason.find("; last read: ");
    if (last_read != std::string::npos) {
      size_t expected = reason.find("; expected", last_read);
      reason.erase(last_read,
                   expected == std::string::npos ? std::string::npos : expected - last_read);
    }
    // The position counts the characters read, the offending one included.
    uint64_t offset = TokenStart(text_, position == 0 ? 0 : position - 1, reason);
    auto [line, column] = LineColumn(text_, offset);
    out_.problems.push_back({line, column, "", fmt::format("JSON syntax error: {}", reason)});
    syntax_error_ = true;
    return false;
  }

  bool failed() const { return syntax_error_ || too_deep_; }
  Json& root() { return root_; }

 private:
  struct Frame {
    Json* container;
    std::string path;
    std::set<std::string> keys;
    std::string pending_key;
    uint64_t next_index = 0;
  };

  // Places `v` in the current container; returns where it went and its path.
  std::pair<Json*, std::string> Place(Json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return {&root_, ""};
    }
    Frame& f = stack_.back();
    if (f.container->is_array()) {
      std::string path = JoinIndex(f.path, f.next_index++);
      f.container->push_back(std::move(v));
      return {&f.container->back(), std::move(path)};
    }
    Json& slot = (*f.container)[f.pending_key];
    slot = std::move(v);
    return {&slot, JoinKey(f.path, f.pending_key)};
  }

  bool Add(Json v) {
    Place(std::move(v));
    return true;
  }

  bool Open(Json container) {
    if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
      out_.problems.push_back({0, 0, stack_.back().path,
                               fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth)});
      too_deep_ = true;
      return false;
    }
    auto [where, path] = Place(std::move(container));
    stack_.push_back(Frame{where, std::move(path), {}, {}, 0});
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  std::string_view text_;
  StrictJson& out_;
  Json root_;
  std::vector<Frame> stack_;
  bool syntax_error_ = false;
  bool too_deep_ = false;
};

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

}  // namespace

StrictJson ParseStrictJson(std::string_view text) {
  StrictJson out;
  StrictSax sax(text, out);
  bool ok = Json::sax_parse(text.begin(), text.end(), &sax, nlohmann::detail::input_format_t::json,
                            /*strict=*/true, /*ignore_comments=*/false);
  if (ok && !sax.failed()) out.value = std::move(sax.root());
  return out;
}

int ReadTextFile(const std::string& path, std::string& text) {
  text.clear();
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return errno != 0 ? errno : ENOENT;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  int error = std::ferror(f) ? (errno != 0 ? errno : EIO) : 0;
  std::fclose(f);
  return error;
}

std::pair<uint64_t, uint64_t> LineColumn(std::string_view text, uint64_t offset) {
  if (offset > text.size()) offset = text.size();
  uint64_t line = 1;
  uint64_t line_start = 0;
  for (uint64_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, offset - line_start + 1};
}

std::string JoinKey(std::string_view path, std::string_view key) {
  if (IsIdentifier(key)) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  }
  return fmt::format("{}[{}]", path, Json(std::string(key)).dump());
}

std::string JoinIndex(std::string_view path, uint64_t index) {
  return fmt::format("{}[{}]", path, index);
}

std::string DescribeJson(const nlohmann::ordered_json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  std::string s = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

}  // namespace ksmsim::workloads
