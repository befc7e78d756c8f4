// multipart/form-data (RFC 7578), as Exotel may send status callbacks:
// only what a webhook needs, the text fields by name. Pure.
#pragma once

#include "http/form/form_codec.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace callgate::http {

// The boundary parameter of a multipart/form-data Content-Type, unquoted;
// nothing if absent or not a legal boundary (1 to 70 characters).
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Every part's name (from Content-Disposition: form-data; name="...") and
// body, in order. Nothing if the body is not well-formed multipart with
// that boundary (no closing delimiter, a part without a name, ...).
std::optional<FormFields> parse_multipart_form(std::string_view body, std::string_view boundary);

}  // namespace callgate::http
