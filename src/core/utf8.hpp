// UTF-8 well-formedness (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF). Whatever callgate stores from a visitor and later serves
// as JSON must pass this; bytes that do not are refused at the door.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace callgate {

// The length of the well-formed UTF-8 sequence that starts text, or 0 when
// text is empty or does not start with one.
std::size_t utf8_sequence_length(std::string_view text);

bool is_valid_utf8(std::string_view text);

// text with every byte that is not part of well-formed UTF-8 replaced by
// U+FFFD, for echoing untrusted bytes (a request's path) in a JSON answer.
std::string to_valid_utf8(std::string_view text);

}  // namespace callgate
