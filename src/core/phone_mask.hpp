// Phone numbers never reach the logs whole: anything that looks like one keeps
// only its last three digits ("+91 98765 43210" -> "+** ***** **210").
#pragma once

#include <string>
#include <string_view>

namespace callgate {

// Masks every phone-like run in text: 7 to 15 digits, optionally led by '+'
// (or its URL escape %2B), with spaces, dashes, brackets or URL-escaped
// separators between digits, standing alone (not inside a longer word such
// as a hexadecimal id). Dots do not join digits: they make IP addresses and
// version numbers, which must stay readable.
std::string mask_phone_numbers(std::string_view text);

// Appends the masked text to out; the logger's hot path, with no allocation
// beyond out's own growth.
void append_masked_phone_numbers(std::string& out, std::string_view text);

}  // namespace callgate
