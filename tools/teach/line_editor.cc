// The stepper's line editor (line_editor.h): keys, history, redrawing, raw terminal mode.
#include "tools/teach/line_editor.h"

#include <termios.h>
#include <unistd.h>

#include <istream>
#include <ostream>

#include "fmt/format.h"

namespace ksmsim::tools::teach {
namespace {

constexpr char kEsc = 0x1b;
constexpr char Ctrl(char c) { return static_cast<char>(c & 0x1f); }
bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

}  // namespace

void LineEditor::Start() {
  buf_.clear();
  cur_ = 0;
  esc_.clear();
  hist_pos_ = history_.size();
  edited_.clear();
}

void LineEditor::Left() {
  while (cur_ > 0 && Continuation(buf_[--cur_])) {
  }
}

void LineEditor::Right() {
  if (cur_ < buf_.size()) ++cur_;
  while (cur_ < buf_.size() && Continuation(buf_[cur_])) ++cur_;
}

void LineEditor::Recall(size_t pos) {
  if (hist_pos_ == history_.size()) edited_ = buf_;
  hist_pos_ = pos;
  buf_ = pos == history_.size() ? edited_ : history_[pos];
  cur_ = buf_.size();
}

LineEditor::Result LineEditor::Feed(char c) {
  if (esc_.empty() && c != kEsc) return Key(std::string_view(&c, 1));
  esc_ += c;
  // ESC [ params final, ESC O final, or ESC and one other key (Alt-key).
  if (esc_.size() == 1) return Result::kEditing;
  if (esc_[1] != '[' && esc_[1] != 'O') {
    esc_.clear();
    return Result::kEditing;
  }
  if (esc_.size() == 2) return Result::kEditing;
  unsigned char last = static_cast<unsigned char>(esc_.back());
  if (esc_[1] == '[' && (last < 0x40 || last > 0x7e)) {
    if (esc_.size() > 16) esc_.clear();  // not a sequence we know: drop it
    return Result::kEditing;
  }
  std::string seq = std::move(esc_);
  esc_.clear();
  return Key(seq);
}

LineEditor::Result LineEditor::Key(std::string_view k) {
  auto is = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names)
      if (k == n) return true;
    return false;
  };
  const char c = k.size() == 1 ? k[0] : 0;
  if (c == '\r' || c == '\n') return Result::kDone;
  if (c == Ctrl('D') && buf_.empty()) return Result::kEof;
  if (c == Ctrl('C')) {
    Start();
    return Result::kCancelled;
  }
  if (is({"\x1b[D", "\x1bOD"}) || c == Ctrl('B')) {
    Left();
  } else if (is({"\x1b[C", "\x1bOC"}) || c == Ctrl('F')) {
    Right();
  } else if (is({"\x1b[H", "\x1bOH", "\x1b[1~", "\x1b[7~"}) || c == Ctrl('A')) {
    cur_ = 0;
  } else if (is({"\x1b[F", "\x1bOF", "\x1b[4~", "\x1b[8~"}) || c == Ctrl('E')) {
    cur_ = buf_.size();
  } else if (is({"\x1b[A", "\x1bOA"}) || c == Ctrl('P')) {
    if (hist_pos_ > 0) Recall(hist_pos_ - 1);
  } else if (is({"\x1b[B", "\x1bOB"}) || c == Ctrl('N')) {
    if (hist_pos_ < history_.size()) Recall(hist_pos_ + 1);
  } else if (c == 0x7f || c == Ctrl('H')) {
    size_t end = cur_;
    Left();
    buf_.erase(cur_, end - cur_);
  } else if (is({"\x1b[3~"}) || c == Ctrl('D')) {
    size_t start = cur_;
    Right();
    buf_.erase(start, cur_ - start);
    cur_ = start;
  } else if (c == Ctrl('K')) {
    buf_.erase(cur_);
  } else if (c == Ctrl('U')) {
    buf_.erase(0, cur_);
    cur_ = 0;
  } else if (c == Ctrl('W')) {
    size_t end = cur_;
    while (cur_ > 0 && buf_[cur_ - 1] == ' ') --cur_;
    while (cur_ > 0 && buf_[cur_ - 1] != ' ') --cur_;
    buf_.erase(cur_, end - cur_);
  } else if (k.size() == 1 && (static_cast<unsigned char>(c) >= 0x20 || c == '\t')) {
    buf_.insert(cur_, 1, c == '\t' ? ' ' : c);
    ++cur_;
  }
  // Any other control key or escape sequence: ignored.
  return Result::kEditing;
}

std::string LineEditor::Take() {
  std::string line = std::move(buf_);
  bool blank = line.find_first_not_of(' ') == std::string::npos;
  if (!blank && (history_.empty() || history_.back() != line)) history_.push_back(line);
  Start();
  return line;
}

std::string LineEditor::Render(std::string_view prompt) const {
  std::string out = "\r";
  out += prompt;
  out += buf_;
  out += "\x1b[K";
  size_t back = 0;
  for (size_t i = cur_; i < buf_.size(); ++i) back += !Continuation(buf_[i]);
  if (back) out += fmt::format("\x1b[{}D", back);
  return out;
}

namespace {

// The terminal in raw mode (no echo, byte by byte, no signals from Ctrl-C) while alive.
class RawMode {
 public:
  explicit RawMode(int fd) : fd_(fd) {
    ok_ = tcgetattr(fd_, &saved_) == 0;
    if (!ok_) return;
    termios raw = saved_;
    raw.c_iflag &= ~static_cast<tcflag_t>(ICRNL | IXON);
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO | ISIG | IEXTEN);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ok_ = tcsetattr(fd_, TCSAFLUSH, &raw) == 0;
  }
  ~RawMode() {
    if (ok_) tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  bool ok() const { return ok_; }

 private:
  int fd_;
  termios saved_{};
  bool ok_ = false;
};

}  // namespace

std::optional<std::string> ReadLine(std::istream& in, int in_fd, std::ostream& out,
                                    std::string_view prompt, LineEditor* editor,
                                    bool prompt_plain) {
  if (editor && isatty(in_fd)) {
    RawMode raw(in_fd);
    if (raw.ok()) {
      editor->Start();
      out << editor->Render(prompt) << std::flush;
      for (;;) {
        char c;
        if (read(in_fd, &c, 1) != 1) {
          out << "\n";
          return std::nullopt;
        }
        LineEditor::Result r = editor->Feed(c);
        if (r == LineEditor::Result::kEof) {
          out << "\n";
          return std::nullopt;
        }
        if (r == LineEditor::Result::kDone) {
          out << editor->Render(prompt) << "\n" << std::flush;
          return editor->Take();
        }
        if (r == LineEditor::Result::kCancelled) out << "^C\n";
        out << editor->Render(prompt) << std::flush;
      }
    }
  }
  if (prompt_plain) out << prompt << std::flush;
  std::string line;
  if (!std::getline(in, line)) {
    if (prompt_plain) out << "\n";
    return std::nullopt;
  }
  return line;
}

}  // namespace ksmsim::tools::teach
