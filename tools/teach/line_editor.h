// Line editing and history for the stepper's prompt (`ksmsim step` on a terminal).
//
// Our own, not libedit or readline: readline is GPL-3 and ksmsim GPL-2.0-only; libedit
// would be one more build and package dependency for a dozen keys; and a key handler that
// takes bytes and gives back the line and what to draw is tested with scripted input, no
// terminal needed. Keys: printable characters insert; Left/Right (and Ctrl-B/Ctrl-F),
// Home/End (Ctrl-A/Ctrl-E) move; Backspace and Delete (Ctrl-D on a non-empty line) erase;
// Ctrl-K, Ctrl-U and Ctrl-W kill to the end, to the start, the word before; Up/Down
// (Ctrl-P/Ctrl-N) walk the history (the session's lines, not kept on disk); Enter ends the
// line; Ctrl-D on an empty line is the end of the input; Ctrl-C drops the line.
// Other escape sequences are swallowed whole. When stdin is not a terminal, the stepper
// reads plain lines (ReadLine below) and none of this applies.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ksmsim::tools::teach {

class LineEditor {
 public:
  enum class Result { kEditing, kDone, kEof, kCancelled };
  // Starts a new line (empty buffer, history position at the end).
  void Start();
  // One byte of input. kDone: the line is complete (Take() it); kEof: Ctrl-D on an empty
  // line; kCancelled: Ctrl-C (the line is dropped).
  Result Feed(char c);
  // The line completed by kDone, added to the history when not blank and not a repeat of
  // the last entry.
  std::string Take();
  const std::string& buffer() const { return buf_; }
  size_t cursor() const { return cur_; }  // a byte offset into buffer()
  const std::vector<std::string>& history() const { return history_; }
  // The bytes that redraw the line after the prompt on a VT100 terminal.
  std::string Render(std::string_view prompt) const;

 private:
  Result Key(std::string_view seq);  // a complete key: one byte or an escape sequence
  void Recall(size_t pos);
  void Left();
  void Right();

  std::string buf_;
  size_t cur_ = 0;
  std::string esc_;  // an escape sequence being read
  std::vector<std::string> history_;
  size_t hist_pos_ = 0;  // == history_.size(): the line being edited
  std::string edited_;   // that line, kept while walking the history
};

// Reads one line: on a terminal (in_fd is a tty and `editor` given) with the editor, the
// terminal in raw mode for the time of the line; otherwise a plain getline from `in`, the
// prompt written only when `prompt_plain`. nullopt at the end of the input.
std::optional<std::string> ReadLine(std::istream& in, int in_fd, std::ostream& out,
                                    std::string_view prompt, LineEditor* editor, bool prompt_plain);

}  // namespace ksmsim::tools::teach
