// The stepper's line editor (tools/teach/line_editor.h) fed scripted bytes: keys, escape
// sequences, history; and ReadLine's plain path when stdin is not a terminal.
#include "tools/teach/line_editor.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace ksmsim::tools::teach {
namespace {

// Feeds `keys` until a line ends; returns it ("<eof>" / "<cancel>" otherwise).
std::string Type(LineEditor& ed, const std::string& keys) {
  ed.Start();
  for (char c : keys) {
    switch (ed.Feed(c)) {
      case LineEditor::Result::kDone:
        return ed.Take();
      case LineEditor::Result::kEof:
        return "<eof>";
      case LineEditor::Result::kCancelled:
        return "<cancel>";
      case LineEditor::Result::kEditing:
        break;
    }
  }
  return "<unfinished:" + ed.buffer() + ">";
}

TEST(LineEditorTest, ArrowsMoveTheCursorAndTypingInserts) {
  LineEditor ed;
  // "sep" then Left Left, insert "t", End, " 2", Enter: "step 2".
  EXPECT_EQ(Type(ed, "sep\x1b[D\x1b[Dt\x1b[F 2\r"), "step 2");
  // Home (ESC O H) and Ctrl-E, Backspace, Delete (ESC [ 3 ~).
  EXPECT_EQ(Type(ed,
                 "xbatch\x1bOH\x1b[3~\x05\x7f\x7f"
                 "ch\n"),
            "batch");
  // Ctrl-A, Ctrl-K kills to the end; Ctrl-U kills to the start; Ctrl-W the word before.
  EXPECT_EQ(Type(ed, "page 3\x01\x0bwhere\r"), "where");
  EXPECT_EQ(Type(ed, "junk\x15trees\r"), "trees");
  EXPECT_EQ(Type(ed, "event ksm_exit\x17ksm_enter\r"), "event ksm_enter");
}

TEST(LineEditorTest, UpAndDownWalkTheHistory) {
  LineEditor ed;
  EXPECT_EQ(Type(ed, "step 2\r"), "step 2");
  EXPECT_EQ(Type(ed, "counters\r"), "counters");
  EXPECT_EQ(Type(ed, "counters\r"), "counters");  // a repeat is kept once
  EXPECT_EQ(ed.history().size(), 2u);
  // Up recalls the last line, Up again the one before; Down comes back.
  EXPECT_EQ(Type(ed, "\x1b[A\x1b[A\x1b[B\r"), "counters");
  EXPECT_EQ(Type(ed, "\x1b[A\r"), "counters");
  EXPECT_EQ(ed.history().size(), 2u);
  EXPECT_EQ(Type(ed, "\x1b[A\x1b[A\r"), "step 2");  // a recalled line is a new entry
  EXPECT_EQ(ed.history().size(), 3u);
  // What was being typed comes back below the newest entry; Up at the oldest stays.
  EXPECT_EQ(Type(ed, "wh\x1b[A\x1b[Bere\r"), "where");
  EXPECT_EQ(Type(ed, "\x1b[A\x1b[A\x1b[A\x1b[A\x1b[A\r"), "step 2");
  // Ctrl-P / Ctrl-N too; recalled lines can be edited.
  EXPECT_EQ(Type(ed, "\x10\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7fstep 3\r"), "step 3");
}

TEST(LineEditorTest, ControlKeysAndUnknownSequences) {
  LineEditor ed;
  EXPECT_EQ(Type(ed, "\x04"), "<eof>");              // Ctrl-D on an empty line
  EXPECT_EQ(Type(ed, "ab\x03"), "<cancel>");         // Ctrl-C drops the line
  EXPECT_EQ(Type(ed, "a\x1b[15~b\x1bxc\r"), "abc");  // F5 and Alt-x are swallowed
  EXPECT_EQ(Type(ed, "ab\x02\x04\r"), "a");          // Ctrl-B, then Ctrl-D deletes
  EXPECT_EQ(Type(ed, "   \r"), "   ");
  EXPECT_TRUE(ed.history().empty() || ed.history().back() != "   ");
}

TEST(LineEditorTest, RenderRedrawsAndPutsTheCursorBack) {
  LineEditor ed;
  ed.Start();
  for (char c : std::string("step\x1b[D\x1b[D")) ed.Feed(c);
  EXPECT_EQ(ed.cursor(), 2u);
  EXPECT_EQ(ed.Render("(ksmsim) "), "\r(ksmsim) step\x1b[K\x1b[2D");
}

TEST(LineEditorTest, ReadLineWithoutATerminalReadsPlainLines) {
  std::istringstream in("step 2\n\x1b[A\n");
  std::ostringstream out;
  LineEditor ed;
  EXPECT_EQ(ReadLine(in, -1, out, "(ksmsim) ", &ed, false), "step 2");
  EXPECT_EQ(ReadLine(in, -1, out, "(ksmsim) ", &ed, false), "\x1b[A");  // left to the caller
  EXPECT_EQ(ReadLine(in, -1, out, "(ksmsim) ", &ed, false), std::nullopt);
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace ksmsim::tools::teach
