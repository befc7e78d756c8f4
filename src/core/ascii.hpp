// ASCII case folding for protocol tokens (header names, media types,
// parameter names). Boost 1.81's beast::iequals reads one byte past both
// strings whenever they differ only in case (fuzz/form_codecs found it:
// "multIpart/form-data"), which can fault at the end of a page; callgate
// compares with this instead.
#pragma once

#include <string_view>

namespace callgate {

constexpr char to_lower_ascii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t index = 0; index < a.size(); ++index)
    if (to_lower_ascii(a[index]) != to_lower_ascii(b[index])) return false;
  return true;
}

}  // namespace callgate
