// Text and attribute values for XML and HTML documents (TwiML, the enquiry
// page). Pure.
#pragma once

#include <string>
#include <string_view>

namespace callgate {

// &, <, >, " and ' escaped, and the bytes XML 1.0 forbids (control
// characters other than tab, LF, CR) left out; everything else, UTF-8
// included, as it is.
std::string escape_markup(std::string_view text);

}  // namespace callgate
