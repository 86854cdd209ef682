// HTML text helpers for the report and the SVG pictures.
#pragma once

#include <string>

namespace ksmsim::tools::teach {

// The text with & < > " written as HTML entities.
std::string HtmlEscape(const std::string& s);

}  // namespace ksmsim::tools::teach
