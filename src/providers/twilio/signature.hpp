// X-Twilio-Signature: HMAC-SHA1 with the Auth Token over the full URL Twilio
// requested, followed (for form POSTs) by every parameter name and value,
// names sorted byte-wise, a repeated name's values de-duplicated and sorted.
// JSON bodies are covered instead by a bodySHA256 query parameter.
#pragma once

#include "http/form/form_codec.hpp"

#include <string>
#include <string_view>

namespace callgate::providers::twilio {

// Base64 of the HMAC-SHA1 Twilio would send for this URL and these fields.
std::string compute_signature(std::string_view auth_token, std::string_view url, const http::FormFields& fields);

// Checks a form (or bodiless GET) request. The URL is tried as given, then
// with the default port added or removed (":443" for https, ":80" for http),
// because Twilio signs some requests with it and some without.
// Compared in constant time.
bool is_valid_signature(std::string_view auth_token, std::string_view url, const http::FormFields& fields,
                        std::string_view signature);

// Checks a request with a JSON body: the signature covers the URL alone, and
// the URL's bodySHA256 must be the lowercase hex SHA-256 of the raw body.
bool is_valid_json_signature(std::string_view auth_token, std::string_view url, std::string_view body,
                             std::string_view signature);

// The URL with its default port toggled (added if absent, removed if
// present), or nothing when the port is not the scheme's default.
std::optional<std::string> url_with_default_port_toggled(std::string_view url);

}  // namespace callgate::providers::twilio
