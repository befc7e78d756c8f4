// application/x-www-form-urlencoded, as HTML forms and provider webhooks send it.
#pragma once

#include "core/form_fields.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callgate::http {

using callgate::form_value;
using callgate::FormFields;  // core/form_fields.hpp

// Percent-decodes text; nothing on a malformed escape. In form data '+' is
// a space; in a URL path it is itself.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// One form name or value: percent_decode with '+' as space.
std::optional<std::string> decode_form_component(std::string_view text);

// Parses a whole body or query string. Nothing if any escape is malformed.
// "a" alone (no '=') is a field with an empty value; empty pieces ("a=1&&b=2") are skipped.
std::optional<FormFields> parse_form(std::string_view body);

// Encodes for a request body: unreserved characters as they are, space as
// '+', everything else as %XX (upper-case hex).
std::string encode_form_component(std::string_view text);
std::string encode_form(const FormFields& fields);

}  // namespace callgate::http
