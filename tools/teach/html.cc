// HTML text helpers for the report and the SVG tree pictures.
#include "tools/teach/html.h"

namespace ksmsim::tools::teach {

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace ksmsim::tools::teach
