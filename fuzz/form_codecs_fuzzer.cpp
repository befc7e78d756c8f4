// The form-urlencoded and multipart/form-data codecs: whatever a body
// holds, parsing ends, and what parses encodes and parses back the same.
#include "http/form/form_codec.hpp"
#include "http/form/multipart_codec.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const auto fields = callgate::http::parse_form(input)) {
    const auto again = callgate::http::parse_form(callgate::http::encode_form(*fields));
    if (!again || *again != *fields) std::abort();  // encode then parse must give the fields back
  }
  // The first line is the Content-Type, the rest the body.
  const auto newline = input.find('\n');
  const auto content_type = input.substr(0, newline);
  const auto body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
  if (const auto boundary = callgate::http::multipart_boundary(content_type))
    (void)callgate::http::parse_multipart_form(body, *boundary);
  (void)callgate::http::percent_decode(input, true);
  return 0;
}
